package executor_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/executor"
)

func resources(d *appsv1.Deployment) (memRequest, memLimit, cpuRequest string) {
	r := d.Spec.Template.Spec.Containers[0].Resources
	mr, ml, cr := r.Requests[corev1.ResourceMemory], r.Limits[corev1.ResourceMemory], r.Requests[corev1.ResourceCPU]
	return mr.String(), ml.String(), cr.String()
}

// A factor step multiplies the live request and limit exactly once: the executor stops after the
// change and before the status write, and the executor that takes over recognises the change
// instead of multiplying the already multiplied values again. A step by exactly the configured
// maximum factor is not refused for rounding up to a whole Mi (100M·2 is 190.7Mi, written 191Mi).
func TestIncreaseResourcesByFactorAppliedOnce(t *testing.T) {
	h := newHarness(t, map[string]string{executor.KeyPostConditions: "false", executor.KeyMaxResourceFactor: "2"})
	d := h.Deployment("web", 2, func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.Containers[0].Resources = corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("100M"), corev1.ResourceCPU: resource.MustParse("100m")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("200M")},
		}
	})
	crashed, stop := h.startCrashingAfterChange(d)
	ke := h.execution(false, op("grow", "increase_resources", deploymentTarget(h.App, "web"),
		map[string]string{"memoryFactor": "2", "cpuFactor": "1.5"}))
	var changedRV string
	select {
	case changedRV = <-crashed:
	case <-time.After(wait):
		t.Fatal("the change was never made")
	}
	stop()
	h.StartExecutor(nil)

	got := h.Finished(ke)
	completed(t, got)
	res := got.Status.OperationResults[0]
	assert.Contains(t, res.Message, "recognised on the target after a restart")
	after := h.get(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: h.App}}).(*appsv1.Deployment)
	assert.Equal(t, changedRV, after.ResourceVersion, "the Deployment was written again after the restart")
	assert.Equal(t, d.Generation+1, after.Generation, "one change, not two")
	memRequest, memLimit, cpuRequest := resources(after)
	assert.Equal(t, "191Mi", memRequest)
	assert.Equal(t, "382Mi", memLimit)
	assert.Equal(t, "150m", cpuRequest)
	_, hasCPULimit := after.Spec.Template.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU]
	assert.False(t, hasCPULimit, "a factor sets no limit the container did not have")
	require.NotNil(t, res.Rollback)
	assert.True(t, res.Rollback.Available, "the values before the factor are recorded for the rollback")
}

// The executor's limits apply to what a factor computes, and a factor of an amount the container
// does not have is refused; each refusal leaves the Deployment (memory 128Mi/256Mi, cpu 100m
// request, no cpu limit) as it was.
func TestIncreaseResourcesByFactorRefusals(t *testing.T) {
	tests := map[string]struct {
		safety map[string]string
		// change, when set, changes the Deployment before it is created.
		change  func(*appsv1.Deployment)
		params  map[string]string
		reason  string
		message string
	}{
		"the limit times the factor above the memory cap": {
			safety:  map[string]string{executor.KeyMaxMemory: "300Mi"},
			params:  map[string]string{"memoryFactor": "2"},
			reason:  kev1.ReasonBlastRadius,
			message: "container app: memory limit 512Mi exceeds the cap 300Mi",
		},
		"the request times the factor above the cpu cap": {
			safety:  map[string]string{executor.KeyMaxCPU: "250m"},
			params:  map[string]string{"container": "app", "cpuFactor": "3"},
			reason:  kev1.ReasonBlastRadius,
			message: "container app: cpu request 300m exceeds the cap 250m",
		},
		"a factor above the configured maximum factor": {
			safety:  map[string]string{executor.KeyMaxResourceFactor: "1.5"},
			params:  map[string]string{"memoryFactor": "1.75"},
			reason:  kev1.ReasonBlastRadius,
			message: "is a factor of 1.75, above the limit 1.50",
		},
		"a factor of a resource the container lacks": {
			change: func(d *appsv1.Deployment) {
				delete(d.Spec.Template.Spec.Containers[0].Resources.Requests, corev1.ResourceCPU)
			},
			params:  map[string]string{"memoryFactor": "1.5", "cpuFactor": "2"},
			reason:  kev1.ReasonInvalidParameters,
			message: "cpuFactor multiplies the current cpu request and limit, and container app has",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, tc.safety)
			d := h.Deployment("web", 2, tc.change)
			h.StartExecutor(nil)
			got := h.Finished(h.execution(false, common.Operation{Name: "grow", Action: "increase_resources",
				Target: deploymentTarget(h.App, "web"), Parameters: tc.params}))
			assert.Equal(t, kev1.PhaseFailed, got.Status.Phase)
			res := got.Status.OperationResults[0]
			assert.Equal(t, kev1.OperationRefused, res.Phase, res.Message)
			assert.Equal(t, tc.reason, res.Reason, res.Message)
			assert.Contains(t, res.Message, tc.message)
			after := h.get(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: h.App}}).(*appsv1.Deployment)
			assert.Equal(t, d.ResourceVersion, after.ResourceVersion, "the Deployment was written")
		})
	}
}
