package actions_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

func lookup(t *testing.T, name actions.Name) actions.Action {
	t.Helper()
	a, ok := actions.Lookup(string(name))
	require.True(t, ok, "action %s not in catalog", name)
	return a
}

func TestActionValidate(t *testing.T) {
	tests := map[string]struct {
		action actions.Name
		params map[string]string
		want   []actions.Problem
	}{
		// Valid parameters.
		"scale deployment valid": {
			action: actions.ScaleDeployment,
			params: map[string]string{"replicas": "3"},
		},
		"scale deployment to zero": {
			action: actions.ScaleDeployment,
			params: map[string]string{"replicas": "0"},
			want:   []actions.Problem{{Param: "replicas", Message: "must be at least 1, got 0"}},
		},
		"scale statefulset to zero": {
			action: actions.ScaleStatefulSet,
			params: map[string]string{"replicas": "0"},
			want:   []actions.Problem{{Param: "replicas", Message: "must be at least 1, got 0"}},
		},
		"taint with a key of Kubernetes": {
			action: actions.TaintNode,
			params: map[string]string{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
			want:   []actions.Problem{{Param: "key", Message: `"node.kubernetes.io/unschedulable" is a taint of Kubernetes (the kubernetes.io and k8s.io domains), which Kubernaut never adds or removes`}},
		},
		"untaint the control-plane taint": {
			action: actions.UntaintNode,
			params: map[string]string{"key": "node-role.kubernetes.io/control-plane"},
			want:   []actions.Problem{{Param: "key", Message: `"node-role.kubernetes.io/control-plane" is a taint of Kubernetes (the kubernetes.io and k8s.io domains), which Kubernaut never adds or removes`}},
		},
		"untaint a key of our own domain": {
			action: actions.UntaintNode,
			params: map[string]string{"key": "example.com/degraded"},
		},
		"scale statefulset at max": {
			action: actions.ScaleStatefulSet,
			params: map[string]string{"replicas": "100"},
		},
		"restart pod without params": {
			action: actions.RestartPod,
		},
		"restart pod with grace period": {
			action: actions.RestartPod,
			params: map[string]string{"gracePeriodSeconds": "30"},
		},
		"rollout restart with empty map": {
			action: actions.RolloutRestart,
			params: map[string]string{},
		},
		"increase resources memory only": {
			action: actions.IncreaseResources,
			params: map[string]string{"memory": "512Mi"},
		},
		"increase resources everything": {
			action: actions.IncreaseResources,
			params: map[string]string{"container": "app", "memory": "512Mi", "memoryLimit": "1Gi", "cpu": "250m", "cpuLimit": "1"},
		},
		"increase resources limit equal to request": {
			action: actions.IncreaseResources,
			params: map[string]string{"cpu": "500m", "cpuLimit": "0.5"},
		},
		"increase resources memory factor only": {
			action: actions.IncreaseResources,
			params: map[string]string{"memoryFactor": "1.5"},
		},
		"increase resources factor at the maximum": {
			action: actions.IncreaseResources,
			params: map[string]string{"container": "app", "cpuFactor": "4", "memoryFactor": "4.000"},
		},
		"increase resources factor of one resource, new value of the other": {
			action: actions.IncreaseResources,
			params: map[string]string{"memoryFactor": "2", "cpu": "500m", "cpuLimit": "1"},
		},
		"increase resources empty container means all": {
			action: actions.IncreaseResources,
			params: map[string]string{"container": "", "cpu": "1"},
		},
		"rollback to revision": {
			action: actions.RollbackDeployment,
			params: map[string]string{"revision": "4"},
		},
		"drain node with every param": {
			action: actions.DrainNode,
			params: map[string]string{"gracePeriodSeconds": "0", "timeout": "1h", "ignoreDaemonSets": "false", "deleteEmptyDirData": "true"},
		},
		"taint node valid": {
			action: actions.TaintNode,
			params: map[string]string{"key": "kubernaut.io/degraded", "value": "disk-pressure", "effect": "NoSchedule"},
		},
		"taint node without value": {
			action: actions.TaintNode,
			params: map[string]string{"key": "degraded", "effect": "NoExecute"},
		},
		"untaint node without effect": {
			action: actions.UntaintNode,
			params: map[string]string{"key": "degraded"},
		},
		"update hpa both bounds equal": {
			action: actions.UpdateHPA,
			params: map[string]string{"minReplicas": "4", "maxReplicas": "4"},
		},
		"update hpa max only": {
			action: actions.UpdateHPA,
			params: map[string]string{"maxReplicas": "1000"},
		},
		"expand pvc valid": {
			action: actions.ExpandPVC,
			params: map[string]string{"size": "20Gi"},
		},
		"delete failed pods with selector": {
			action: actions.DeleteFailedPods,
			params: map[string]string{"labelSelector": "app=web,tier in (front,back),!canary", "maxPods": "100"},
		},
		"notify only with message at max length": {
			action: actions.NotifyOnly,
			params: map[string]string{"message": strings.Repeat("é", 1024)},
		},

		// Missing required parameters.
		"scale deployment missing replicas": {
			action: actions.ScaleDeployment,
			params: map[string]string{},
			want:   []actions.Problem{{Param: "replicas", Message: "is required"}},
		},
		"expand pvc nil params": {
			action: actions.ExpandPVC,
			want:   []actions.Problem{{Param: "size", Message: "is required"}},
		},
		"taint node empty key": {
			action: actions.TaintNode,
			params: map[string]string{"key": "", "effect": "NoSchedule"},
			want:   []actions.Problem{{Param: "key", Message: "is required and must not be empty"}},
		},

		// Wrong types.
		"replicas not a number": {
			action: actions.ScaleDeployment,
			params: map[string]string{"replicas": "three"},
			want:   []actions.Problem{{Param: "replicas", Message: `must be an integer, got "three"`}},
		},
		"replicas fractional": {
			action: actions.ScaleStatefulSet,
			params: map[string]string{"replicas": "2.5"},
			want:   []actions.Problem{{Param: "replicas", Message: `must be an integer, got "2.5"`}},
		},
		"replicas empty": {
			action: actions.ScaleStatefulSet,
			params: map[string]string{"replicas": ""},
			want:   []actions.Problem{{Param: "replicas", Message: `must be an integer, got ""`}},
		},
		"very long bad value is shortened": {
			action: actions.ScaleDeployment,
			params: map[string]string{"replicas": strings.Repeat("x", 200)},
			want:   []actions.Problem{{Param: "replicas", Message: `must be an integer, got "` + strings.Repeat("x", 64) + `"...`}},
		},
		"bool not true or false": {
			action: actions.DrainNode,
			params: map[string]string{"ignoreDaemonSets": "yes"},
			want:   []actions.Problem{{Param: "ignoreDaemonSets", Message: `must be "true" or "false", got "yes"`}},
		},

		// Out of range.
		"replicas negative": {
			action: actions.ScaleDeployment,
			params: map[string]string{"replicas": "-1"},
			want:   []actions.Problem{{Param: "replicas", Message: "must be at least 1, got -1"}},
		},
		"replicas above max": {
			action: actions.ScaleDeployment,
			params: map[string]string{"replicas": "101"},
			want:   []actions.Problem{{Param: "replicas", Message: "must be at most 100, got 101"}},
		},
		"grace period above max": {
			action: actions.RestartPod,
			params: map[string]string{"gracePeriodSeconds": "3601"},
			want:   []actions.Problem{{Param: "gracePeriodSeconds", Message: "must be at most 3600, got 3601"}},
		},
		"revision zero": {
			action: actions.RollbackDeployment,
			params: map[string]string{"revision": "0"},
			want:   []actions.Problem{{Param: "revision", Message: "must be at least 1, got 0"}},
		},
		"max pods zero": {
			action: actions.DeleteFailedPods,
			params: map[string]string{"maxPods": "0"},
			want:   []actions.Problem{{Param: "maxPods", Message: "must be at least 1, got 0"}},
		},
		"hpa max above 1000": {
			action: actions.UpdateHPA,
			params: map[string]string{"maxReplicas": "1001"},
			want:   []actions.Problem{{Param: "maxReplicas", Message: "must be at most 1000, got 1001"}},
		},
		"message too long": {
			action: actions.NotifyOnly,
			params: map[string]string{"message": strings.Repeat("a", 1025)},
			want:   []actions.Problem{{Param: "message", Message: "must be at most 1024 characters long, got 1025"}},
		},

		// Unknown parameters.
		"unknown parameter": {
			action: actions.ScaleDeployment,
			params: map[string]string{"replicas": "3", "replica": "4"},
			want:   []actions.Problem{{Param: "replica", Message: "unknown parameter (accepted: replicas)"}},
		},
		"parameter on action without parameters": {
			action: actions.CordonNode,
			params: map[string]string{"force": "true"},
			want:   []actions.Problem{{Param: "force", Message: "unknown parameter (the action takes no parameters)"}},
		},
		"parameter names are case-sensitive": {
			action: actions.ExpandPVC,
			params: map[string]string{"Size": "20Gi"},
			want: []actions.Problem{
				{Param: "Size", Message: "unknown parameter (accepted: size)"},
				{Param: "size", Message: "is required"},
			},
		},

		// Bad enum values.
		"bad taint effect": {
			action: actions.TaintNode,
			params: map[string]string{"key": "degraded", "effect": "Never"},
			want:   []actions.Problem{{Param: "effect", Message: `must be one of NoSchedule, PreferNoSchedule, NoExecute, got "Never"`}},
		},
		"enum is case-sensitive": {
			action: actions.UntaintNode,
			params: map[string]string{"key": "degraded", "effect": "noschedule"},
			want:   []actions.Problem{{Param: "effect", Message: `must be one of NoSchedule, PreferNoSchedule, NoExecute, got "noschedule"`}},
		},

		// Bad quantities.
		"size not a quantity": {
			action: actions.ExpandPVC,
			params: map[string]string{"size": "lots"},
			want:   []actions.Problem{{Param: "size", Message: `must be a Kubernetes quantity such as "256Mi", "1Gi" or "500m", got "lots"`}},
		},
		"size with wrong unit case": {
			action: actions.ExpandPVC,
			params: map[string]string{"size": "20gi"},
			want:   []actions.Problem{{Param: "size", Message: `must be a Kubernetes quantity such as "256Mi", "1Gi" or "500m", got "20gi"`}},
		},
		"size zero": {
			action: actions.ExpandPVC,
			params: map[string]string{"size": "0"},
			want:   []actions.Problem{{Param: "size", Message: `must be greater than zero, got "0"`}},
		},
		"cpu negative": {
			action: actions.IncreaseResources,
			params: map[string]string{"cpu": "-500m"},
			want:   []actions.Problem{{Param: "cpu", Message: `must be greater than zero, got "-500m"`}},
		},

		// Bad factors.
		"factor of one": {
			action: actions.IncreaseResources,
			params: map[string]string{"memoryFactor": "1"},
			want:   []actions.Problem{{Param: "memoryFactor", Message: `must be greater than 1, got "1"`}},
		},
		"factor below one": {
			action: actions.IncreaseResources,
			params: map[string]string{"cpuFactor": "0.5"},
			want:   []actions.Problem{{Param: "cpuFactor", Message: `must be greater than 1, got "0.5"`}},
		},
		"factor just above the maximum": {
			action: actions.IncreaseResources,
			params: map[string]string{"memoryFactor": "4.000001"},
			want:   []actions.Problem{{Param: "memoryFactor", Message: `must be at most 4, got "4.000001"`}},
		},
		"factor spelled as a quantity": {
			action: actions.IncreaseResources,
			params: map[string]string{"memoryFactor": "2Gi"},
			want:   []actions.Problem{{Param: "memoryFactor", Message: `must be a decimal number such as "1.5", with at most 6 decimal places, got "2Gi"`}},
		},
		"factor with an exponent, a sign or a comma": {
			action: actions.IncreaseResources,
			params: map[string]string{"memoryFactor": "15e-1", "cpuFactor": "+2"},
			want: []actions.Problem{
				{Param: "cpuFactor", Message: `must be a decimal number such as "1.5", with at most 6 decimal places, got "+2"`},
				{Param: "memoryFactor", Message: `must be a decimal number such as "1.5", with at most 6 decimal places, got "15e-1"`},
			},
		},
		"factor as a percentage": {
			action: actions.IncreaseResources,
			params: map[string]string{"memoryFactor": "150%"},
			want:   []actions.Problem{{Param: "memoryFactor", Message: `must be a decimal number such as "1.5", with at most 6 decimal places, got "150%"`}},
		},
		"factor empty": {
			action: actions.IncreaseResources,
			params: map[string]string{"memory": "1Gi", "cpuFactor": ""},
			want:   []actions.Problem{{Param: "cpuFactor", Message: `must be a decimal number such as "1.5", with at most 6 decimal places, got ""`}},
		},

		// Bad durations.
		"timeout not a duration": {
			action: actions.DrainNode,
			params: map[string]string{"timeout": "soon"},
			want:   []actions.Problem{{Param: "timeout", Message: `must be a duration such as "30s" or "5m", got "soon"`}},
		},
		"timeout without unit": {
			action: actions.DrainNode,
			params: map[string]string{"timeout": "300"},
			want:   []actions.Problem{{Param: "timeout", Message: `must be a duration such as "30s" or "5m", got "300"`}},
		},
		"timeout zero": {
			action: actions.DrainNode,
			params: map[string]string{"timeout": "0s"},
			want:   []actions.Problem{{Param: "timeout", Message: `must be greater than zero, got "0s"`}},
		},
		"timeout above max": {
			action: actions.DrainNode,
			params: map[string]string{"timeout": "2h"},
			want:   []actions.Problem{{Param: "timeout", Message: `must be at most 1h0m0s, got "2h"`}},
		},

		// Cross-field rules.
		"increase resources without cpu or memory": {
			action: actions.IncreaseResources,
			params: map[string]string{"container": "app", "memoryLimit": "1Gi"},
			want:   []actions.Problem{{Message: "at least one of cpu, cpuFactor, memory, memoryFactor is required"}},
		},
		"increase resources factor with a new value of the same resource": {
			action: actions.IncreaseResources,
			params: map[string]string{"memoryFactor": "2", "memory": "1Gi", "memoryLimit": "2Gi", "cpuFactor": "1.5", "cpuLimit": "1"},
			want: []actions.Problem{
				{Param: "cpuFactor", Message: "must not be combined with cpuLimit: a factor multiplies the current cpu request and limit, give either a factor or new values"},
				{Param: "memoryFactor", Message: "must not be combined with memory and memoryLimit: a factor multiplies the current memory request and limit, give either a factor or new values"},
			},
		},
		"increase resources factor and a limit both invalid": {
			action: actions.IncreaseResources,
			params: map[string]string{"cpuFactor": "5", "cpu": "1"},
			want: []actions.Problem{
				{Param: "cpuFactor", Message: `must be at most 4, got "5"`},
				{Param: "cpuFactor", Message: "must not be combined with cpu: a factor multiplies the current cpu request and limit, give either a factor or new values"},
			},
		},
		"increase resources limit below request": {
			action: actions.IncreaseResources,
			params: map[string]string{"memory": "1Gi", "memoryLimit": "512Mi", "cpu": "2", "cpuLimit": "1500m"},
			want: []actions.Problem{
				{Param: "cpuLimit", Message: `must not be below cpu (2), got "1500m"`},
				{Param: "memoryLimit", Message: `must not be below memory (1Gi), got "512Mi"`},
			},
		},
		"update hpa without bounds": {
			action: actions.UpdateHPA,
			params: map[string]string{},
			want:   []actions.Problem{{Message: "at least one of minReplicas, maxReplicas is required"}},
		},
		"update hpa min above max": {
			action: actions.UpdateHPA,
			params: map[string]string{"minReplicas": "5", "maxReplicas": "3"},
			want:   []actions.Problem{{Param: "minReplicas", Message: "must not exceed maxReplicas (3), got 5"}},
		},
		"cross-field rule skips unparsable values": {
			action: actions.UpdateHPA,
			params: map[string]string{"minReplicas": "five", "maxReplicas": "3"},
			want:   []actions.Problem{{Param: "minReplicas", Message: `must be an integer, got "five"`}},
		},

		// Several problems at once, all reported and sorted by parameter.
		"drain node with many problems": {
			action: actions.DrainNode,
			params: map[string]string{"timeout": "soon", "gracePeriodSeconds": "-5", "ignoreDaemonSets": "yes", "force": "true"},
			want: []actions.Problem{
				{Param: "force", Message: "unknown parameter (accepted: deleteEmptyDirData, gracePeriodSeconds, ignoreDaemonSets, timeout)"},
				{Param: "gracePeriodSeconds", Message: "must be at least 0, got -5"},
				{Param: "ignoreDaemonSets", Message: `must be "true" or "false", got "yes"`},
				{Param: "timeout", Message: `must be a duration such as "30s" or "5m", got "soon"`},
			},
		},
		"increase resources with per-field and cross-field problems": {
			action: actions.IncreaseResources,
			params: map[string]string{"container": "Main_Container", "cpu": "lots", "memory": "2Gi", "memoryLimit": "1Gi", "replicas": "2"},
			want: []actions.Problem{
				{Param: "container", Message: `must be a valid DNS label (at most 63 lower-case alphanumerics or '-', starting and ending with an alphanumeric), got "Main_Container"`},
				{Param: "cpu", Message: `must be a Kubernetes quantity such as "256Mi", "1Gi" or "500m", got "lots"`},
				{Param: "memoryLimit", Message: `must not be below memory (2Gi), got "1Gi"`},
				{Param: "replicas", Message: "unknown parameter (accepted: container, cpu, cpuFactor, cpuLimit, memory, memoryFactor, memoryLimit)"},
			},
		},
		"taint node missing everything plus unknowns": {
			action: actions.TaintNode,
			params: map[string]string{"operator": "Exists", "Effect": "NoSchedule"},
			want: []actions.Problem{
				{Param: "Effect", Message: "unknown parameter (accepted: effect, key, value)"},
				{Param: "effect", Message: "is required"},
				{Param: "key", Message: "is required"},
				{Param: "operator", Message: "unknown parameter (accepted: effect, key, value)"},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			a := lookup(t, tc.action)
			got := a.Validate(tc.params)
			assert.Equal(t, tc.want, got)
		})
	}
}

// Messages of string formats partly come from apimachinery, so only their
// parameter and start are pinned down.
func TestActionValidateFormats(t *testing.T) {
	tests := map[string]struct {
		action     actions.Name
		params     map[string]string
		wantParam  string
		wantPrefix string
	}{
		"taint key with spaces": {
			action:     actions.TaintNode,
			params:     map[string]string{"key": "bad key", "effect": "NoSchedule"},
			wantParam:  "key",
			wantPrefix: "must be a valid label key: ",
		},
		"taint key with empty prefix": {
			action:     actions.TaintNode,
			params:     map[string]string{"key": "/degraded", "effect": "NoSchedule"},
			wantParam:  "key",
			wantPrefix: "must be a valid label key: ",
		},
		"taint key name too long": {
			action:     actions.UntaintNode,
			params:     map[string]string{"key": strings.Repeat("k", 64)},
			wantParam:  "key",
			wantPrefix: "must be a valid label key: ",
		},
		"taint value with slash": {
			action:     actions.TaintNode,
			params:     map[string]string{"key": "degraded", "value": "a/b", "effect": "NoSchedule"},
			wantParam:  "value",
			wantPrefix: "must be a valid label value: ",
		},
		"bad label selector": {
			action:     actions.DeleteFailedPods,
			params:     map[string]string{"labelSelector": "app in (web"},
			wantParam:  "labelSelector",
			wantPrefix: `must be a valid label selector such as "app=web,tier!=cache": `,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := lookup(t, tc.action).Validate(tc.params)
			require.Len(t, got, 1, "problems: %v", got)
			assert.Equal(t, tc.wantParam, got[0].Param)
			assert.True(t, strings.HasPrefix(got[0].Message, tc.wantPrefix), "message %q does not start with %q", got[0].Message, tc.wantPrefix)
		})
	}
}

func TestValidate(t *testing.T) {
	t.Run("valid", func(t *testing.T) {
		require.NoError(t, actions.Validate("scale_deployment", map[string]string{"replicas": "2"}))
	})

	t.Run("unknown action", func(t *testing.T) {
		err := actions.Validate("reboot_cluster", nil)
		require.ErrorIs(t, err, actions.ErrUnknownAction)
		assert.Contains(t, err.Error(), `unknown action "reboot_cluster"`)
		assert.Contains(t, err.Error(), "scale_deployment")
		var verr *actions.ValidationError
		assert.False(t, errors.As(err, &verr))
	})

	t.Run("every problem in the error", func(t *testing.T) {
		err := actions.Validate("scale_deployment", map[string]string{"replicas": "x", "zone": "a"})
		require.Error(t, err)
		assert.NotErrorIs(t, err, actions.ErrUnknownAction)

		var verr *actions.ValidationError
		require.ErrorAs(t, err, &verr)
		assert.Equal(t, "scale_deployment", verr.Action)
		assert.Equal(t, []actions.Problem{
			{Param: "replicas", Message: `must be an integer, got "x"`},
			{Param: "zone", Message: "unknown parameter (accepted: replicas)"},
		}, verr.Problems)
		assert.Equal(t,
			`invalid parameters for action "scale_deployment": replicas: must be an integer, got "x"; zone: unknown parameter (accepted: replicas)`,
			err.Error())

		var p actions.Problem
		require.ErrorAs(t, err, &p)
		assert.Equal(t, "replicas", p.Param)
	})
}

func TestValidationErrorSortsProblems(t *testing.T) {
	err := &actions.ValidationError{
		Action: "update_hpa",
		Problems: []actions.Problem{
			{Param: "minReplicas", Message: "b"},
			{Param: "maxReplicas", Message: "c"},
			{Message: "rule"},
			{Param: "minReplicas", Message: "a"},
		},
	}
	assert.Equal(t, `invalid parameters for action "update_hpa": rule; maxReplicas: c; minReplicas: a; minReplicas: b`, err.Error())
	// Error must not reorder the caller's slice.
	assert.Equal(t, "b", err.Problems[0].Message)
}

func TestProblemError(t *testing.T) {
	assert.Equal(t, "replicas: is required", actions.Problem{Param: "replicas", Message: "is required"}.Error())
	assert.Equal(t, "at least one of cpu, memory is required", actions.Problem{Message: "at least one of cpu, memory is required"}.Error())
}

func TestWithDefaults(t *testing.T) {
	drain := lookup(t, actions.DrainNode)
	tests := map[string]struct {
		action actions.Action
		params map[string]string
		want   map[string]string
	}{
		"nil params": {
			action: drain,
			want:   map[string]string{"timeout": "5m", "ignoreDaemonSets": "true", "deleteEmptyDirData": "false"},
		},
		"explicit values win": {
			action: drain,
			params: map[string]string{"timeout": "10m", "ignoreDaemonSets": "false", "gracePeriodSeconds": "30"},
			want:   map[string]string{"timeout": "10m", "ignoreDaemonSets": "false", "deleteEmptyDirData": "false", "gracePeriodSeconds": "30"},
		},
		"present empty value is kept": {
			action: drain,
			params: map[string]string{"timeout": ""},
			want:   map[string]string{"timeout": "", "ignoreDaemonSets": "true", "deleteEmptyDirData": "false"},
		},
		"unknown parameters are kept": {
			action: lookup(t, actions.DeleteFailedPods),
			params: map[string]string{"bogus": "1"},
			want:   map[string]string{"bogus": "1", "maxPods": "20"},
		},
		"no defaults": {
			action: lookup(t, actions.ScaleDeployment),
			params: map[string]string{"replicas": "1"},
			want:   map[string]string{"replicas": "1"},
		},
		"no params and no defaults": {
			action: lookup(t, actions.CordonNode),
			want:   map[string]string{},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var before map[string]string
			if tc.params != nil {
				before = make(map[string]string, len(tc.params))
				for k, v := range tc.params {
					before[k] = v
				}
			}
			got := tc.action.WithDefaults(tc.params)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, before, tc.params, "input must not be modified")
			got["extra"] = "x"
			_, leaked := tc.params["extra"]
			assert.False(t, leaked, "result must be a new map")
		})
	}
}

func TestAcceptsKind(t *testing.T) {
	tests := map[string]struct {
		action     actions.Name
		apiVersion string
		kind       string
		want       bool
	}{
		"deployment scaled":              {actions.ScaleDeployment, "apps/v1", "Deployment", true},
		"deployment other version":       {actions.ScaleDeployment, "apps/v1beta1", "Deployment", false},
		"deployment without group":       {actions.ScaleDeployment, "v1", "Deployment", false},
		"statefulset not a deployment":   {actions.ScaleDeployment, "apps/v1", "StatefulSet", false},
		"kind is case-sensitive":         {actions.ScaleDeployment, "apps/v1", "deployment", false},
		"statefulset scaled":             {actions.ScaleStatefulSet, "apps/v1", "StatefulSet", true},
		"rollout restart daemonset":      {actions.RolloutRestart, "apps/v1", "DaemonSet", true},
		"rollout restart pod":            {actions.RolloutRestart, "v1", "Pod", false},
		"restart pod":                    {actions.RestartPod, "v1", "Pod", true},
		"cordon node":                    {actions.CordonNode, "v1", "Node", true},
		"drain pod rejected":             {actions.DrainNode, "v1", "Pod", false},
		"hpa v2":                         {actions.UpdateHPA, "autoscaling/v2", "HorizontalPodAutoscaler", true},
		"pvc":                            {actions.ExpandPVC, "v1", "PersistentVolumeClaim", true},
		"failed pods in namespace":       {actions.DeleteFailedPods, "v1", "Namespace", true},
		"failed pods of deployment":      {actions.DeleteFailedPods, "apps/v1", "Deployment", true},
		"failed pods of statefulset":     {actions.DeleteFailedPods, "apps/v1", "StatefulSet", false},
		"notify any kind":                {actions.NotifyOnly, "example.com/v1alpha1", "Widget", true},
		"notify core kind":               {actions.NotifyOnly, "v1", "Service", true},
		"notify requires a kind":         {actions.NotifyOnly, "v1", "", false},
		"malformed api version":          {actions.NotifyOnly, "a/b/c", "Widget", false},
		"empty group in api version":     {actions.RestartPod, "/v1", "Pod", false},
		"increase resources statefulset": {actions.IncreaseResources, "apps/v1", "StatefulSet", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, lookup(t, tc.action).AcceptsKind(tc.apiVersion, tc.kind))
		})
	}
}

func TestTargetKindStrings(t *testing.T) {
	assert.Equal(t, "apps/v1", actions.KindDeployment.APIVersion())
	assert.Equal(t, "v1", actions.KindPod.APIVersion())
	assert.Equal(t, "autoscaling/v2 HorizontalPodAutoscaler", actions.KindHorizontalPodAutoscaler.String())
}
