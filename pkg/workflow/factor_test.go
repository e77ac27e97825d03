package workflow_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
)

// A factor step's server-side dry-run shows the live request and limit multiplied (rounded up to
// a whole Mi), and the operation carries the factor, not the values it computed: the executor
// multiplies the live values it reads itself.
func TestIncreaseResourcesByFactorDryRunDiff(t *testing.T) {
	f := start(t, nil, true)
	d := f.deployment(t, "web", "100M", "256Mi")
	step := common.WorkflowStep{Name: "grow", Action: "increase_resources", Parameters: map[string]string{"container": "app", "memoryFactor": "1.5"}}
	w := f.finished(t, f.workflowOf("factor", deploymentTarget(f.ns, "web"), step))

	require.Equal(t, workflowv1.PhaseCompleted, w.Status.Phase, w.Status.Message)
	want := []workflowv1.FieldChange{
		{Path: "spec.template.spec.containers[name=app].resources.limits.memory", Before: `"256Mi"`, After: `"384Mi"`},
		{Path: "spec.template.spec.containers[name=app].resources.requests.memory", Before: `"100M"`, After: `"144Mi"`},
	}
	if diff := cmp.Diff(want, result(t, w, "grow").Diff); diff != "" {
		t.Errorf("dry-run diff (-want +got):\n%s", diff)
	}
	require.Len(t, w.Status.Operations, 1)
	assert.Equal(t, map[string]string{"container": "app", "memoryFactor": "1.5"}, w.Status.Operations[0].Parameters)

	live := &appsv1.Deployment{}
	require.NoError(t, f.c.Get(context.Background(), client.ObjectKeyFromObject(d), live))
	assert.Equal(t, "100M", ptrQ(live.Spec.Template.Spec.Containers[0].Resources.Requests, corev1.ResourceMemory), "the dry-run changed the Deployment")
}

func TestIncreaseResourcesByFactorFailures(t *testing.T) {
	f := start(t, nil, true)
	f.deployment(t, "web", "128Mi", "256Mi") // no cpu request or limit
	tests := map[string]struct {
		params     map[string]string
		wantReason string
		wantMsg    string
	}{
		"a factor of a resource the container lacks": {
			params:     map[string]string{"cpuFactor": "2"},
			wantReason: workflowv1.ReasonTargetMismatch,
			wantMsg:    "cpuFactor multiplies the current cpu request and limit, and container app has neither; name a container that has one, or give cpu instead",
		},
		"a factor with a new value of the same resource": {
			params:     map[string]string{"memoryFactor": "2", "memory": "1Gi"},
			wantReason: workflowv1.ReasonInvalidParameters,
			wantMsg:    "memoryFactor: must not be combined with memory",
		},
		"a factor above the catalog's bound": {
			params:     map[string]string{"memoryFactor": "5"},
			wantReason: workflowv1.ReasonInvalidParameters,
			wantMsg:    `memoryFactor: must be at most 4, got "5"`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := f.finished(t, f.workflowOf(objectName(name), deploymentTarget(f.ns, "web"),
				common.WorkflowStep{Name: "grow", Action: "increase_resources", Parameters: tc.params}))
			require.Equal(t, workflowv1.PhaseFailed, w.Status.Phase)
			assert.Contains(t, w.Status.Message, tc.wantMsg)
			require.NotNil(t, ready(w))
			assert.Equal(t, tc.wantReason, ready(w).Reason)
		})
	}
}
