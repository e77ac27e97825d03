package workflow

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
)

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

func spec(limit int32, steps ...common.WorkflowStep) *workflowv1.WorkflowExecutionSpec {
	return &workflowv1.WorkflowExecutionSpec{
		TargetResource:     &common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"},
		WorkflowDefinition: workflowv1.WorkflowDefinition{Steps: steps},
		ExecutionConfig:    workflowv1.ExecutionConfig{StepTimeout: dur(5 * time.Minute), WorkflowTimeout: dur(20 * time.Minute), ConcurrencyLimit: limit},
	}
}

func node(name string) *common.TargetResource {
	return &common.TargetResource{Kind: "Node", Name: name}
}

func TestNewPlan(t *testing.T) {
	tests := map[string]struct {
		spec       *workflowv1.WorkflowExecutionSpec
		wantOrder  []string
		wantOps    []common.Operation
		wantEst    time.Duration
		wantReason string
		wantMsg    []string
		wantValid  map[string]bool
	}{
		"cordon then drain, defaults filled, node target resolved": {
			spec: spec(1,
				common.WorkflowStep{Name: "drain", Action: "drain_node", Target: node("n1"), DependsOn: []string{"cordon"}, MaxRetries: 2, Timeout: dur(10 * time.Minute)},
				common.WorkflowStep{Name: "cordon", Action: "cordon_node", Target: node("n1")},
			),
			wantOps: []common.Operation{
				{Name: "cordon", Action: "cordon_node", Target: common.TargetResource{APIVersion: "v1", Kind: "Node", Name: "n1"}, Timeout: dur(time.Minute)},
				{Name: "drain", Action: "drain_node", Target: common.TargetResource{APIVersion: "v1", Kind: "Node", Name: "n1"},
					Parameters: map[string]string{"timeout": "5m", "ignoreDaemonSets": "true", "deleteEmptyDirData": "false"},
					DependsOn:  []string{"cordon"}, Timeout: dur(10 * time.Minute), MaxRetries: 2},
			},
			wantEst: 11 * time.Minute,
		},
		"step timeouts from the catalog; stepTimeout is no cap": {
			spec: func() *workflowv1.WorkflowExecutionSpec {
				s := spec(1,
					common.WorkflowStep{Name: "cordon", Action: "cordon_node", Target: node("n1")},
					common.WorkflowStep{Name: "mem", Action: "increase_resources", Parameters: map[string]string{"memory": "512Mi"}},
					common.WorkflowStep{Name: "own", Action: "notify_only", Timeout: dur(7 * time.Minute)},
				)
				s.ExecutionConfig.StepTimeout = dur(3 * time.Minute)
				return s
			}(),
			wantOps: []common.Operation{
				{Name: "cordon", Action: "cordon_node", Target: common.TargetResource{APIVersion: "v1", Kind: "Node", Name: "n1"}, Timeout: dur(time.Minute)},
				{Name: "mem", Action: "increase_resources", Target: common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"},
					Parameters: map[string]string{"memory": "512Mi"}, Timeout: dur(5 * time.Minute)},
				{Name: "own", Action: "notify_only", Target: common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}, Timeout: dur(7 * time.Minute)},
			},
			wantEst: 13 * time.Minute,
		},
		"default target is the workflow's": {
			spec: spec(1, common.WorkflowStep{Name: "mem", Action: "increase_resources", Parameters: map[string]string{"memory": "512Mi"}}),
			wantOps: []common.Operation{{Name: "mem", Action: "increase_resources",
				Target: common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}, Parameters: map[string]string{"memory": "512Mi"}, Timeout: dur(5 * time.Minute)}},
			wantEst: 5 * time.Minute,
		},
		"concurrency two runs independent steps side by side": {
			spec: spec(2,
				common.WorkflowStep{Name: "a", Action: "notify_only"},
				common.WorkflowStep{Name: "b", Action: "notify_only"},
				common.WorkflowStep{Name: "c", Action: "notify_only", DependsOn: []string{"a"}},
				common.WorkflowStep{Name: "d", Action: "notify_only"},
			),
			wantOrder: []string{"a", "b", "c", "d"},
			wantEst:   time.Minute, // notify_only takes 30s
		},
		"concurrency one is sequential": {
			spec: spec(1,
				common.WorkflowStep{Name: "a", Action: "notify_only", DependsOn: []string{"b"}},
				common.WorkflowStep{Name: "b", Action: "notify_only"},
				common.WorkflowStep{Name: "c", Action: "notify_only"},
			),
			wantOrder: []string{"b", "a", "c"},
			wantEst:   90 * time.Second,
		},
		"cycle is named": {
			spec: spec(1,
				common.WorkflowStep{Name: "a", Action: "notify_only", DependsOn: []string{"c"}},
				common.WorkflowStep{Name: "b", Action: "notify_only", DependsOn: []string{"a"}},
				common.WorkflowStep{Name: "c", Action: "notify_only", DependsOn: []string{"b"}},
				common.WorkflowStep{Name: "d", Action: "notify_only"},
			),
			wantReason: workflowv1.ReasonDependencyCycle,
			wantMsg:    []string{"cycle: a → b → c → a"},
			wantValid:  map[string]bool{"a": false, "b": false, "c": false, "d": true},
		},
		"self dependency": {
			spec:       spec(1, common.WorkflowStep{Name: "a", Action: "notify_only", DependsOn: []string{"a"}}),
			wantReason: workflowv1.ReasonDependencyCycle,
			wantMsg:    []string{"depends on itself"},
		},
		"unknown action, unknown dependency and invalid parameters all reported": {
			spec: spec(1,
				common.WorkflowStep{Name: "a", Action: "reboot_cluster"},
				common.WorkflowStep{Name: "b", Action: "scale_deployment", DependsOn: []string{"zz"}, Parameters: map[string]string{"replicas": "1000", "color": "red"}},
				common.WorkflowStep{Name: "c", Action: "notify_only"},
			),
			wantReason: workflowv1.ReasonUnknownAction,
			wantMsg:    []string{`step a: unknown action "reboot_cluster"`, `dependsOn names "zz"`, "replicas: must be at most 100, got 1000", "color: unknown parameter"},
			wantValid:  map[string]bool{"a": false, "b": false, "c": true},
		},
		"target kind not accepted": {
			spec:       spec(1, common.WorkflowStep{Name: "a", Action: "cordon_node"}),
			wantReason: workflowv1.ReasonUnsupportedTarget,
			wantMsg:    []string{"action cordon_node acts on v1 Node, not on apps/v1 Deployment web"},
		},
		"drain timeout longer than the step": {
			spec:       spec(1, common.WorkflowStep{Name: "drain", Action: "drain_node", Target: node("n1"), Timeout: dur(2 * time.Minute)}),
			wantReason: workflowv1.ReasonInvalidParameters,
			wantMsg:    []string{"parameter timeout 5m0s is longer than the step's timeout 2m0s"},
		},
		"duplicate names": {
			spec:       spec(1, common.WorkflowStep{Name: "a", Action: "notify_only"}, common.WorkflowStep{Name: "a", Action: "notify_only"}),
			wantReason: workflowv1.ReasonInvalidWorkflow,
			wantMsg:    []string{`the name "a" is used by an earlier step`},
		},
		"critical path longer than the workflow timeout": {
			spec: spec(1,
				common.WorkflowStep{Name: "a", Action: "notify_only", Timeout: dur(15 * time.Minute)},
				common.WorkflowStep{Name: "b", Action: "notify_only", DependsOn: []string{"a"}, Timeout: dur(10 * time.Minute)},
			),
			wantReason: workflowv1.ReasonExceedsWorkflowTimeout,
			wantMsg:    []string{"may take up to 25m0s (a → b, at most 1 at once), more than workflowTimeout 20m0s"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := NewPlan(tc.spec)
			if tc.wantReason != "" {
				var pe *PlanError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, tc.wantReason, pe.Reason)
				for _, m := range tc.wantMsg {
					assert.Contains(t, pe.Message, m)
				}
				for _, r := range pe.Results {
					if want, ok := tc.wantValid[r.Step]; ok {
						assert.Equal(t, want, r.Valid, r.Step)
					}
				}
				return
			}
			require.NoError(t, err)
			if tc.wantOps != nil {
				if d := cmp.Diff(tc.wantOps, p.Operations); d != "" {
					t.Errorf("operations (-want +got):\n%s", d)
				}
			}
			if tc.wantOrder != nil {
				var got []string
				for _, op := range p.Operations {
					got = append(got, op.Name)
				}
				assert.Equal(t, tc.wantOrder, got)
			}
			assert.Equal(t, tc.wantEst, p.Estimated)
		})
	}
}
