package skeleton_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/skeleton"
)

func TestSlimCache(t *testing.T) {
	var opts cache.Options
	skeleton.SlimCache(&opts, "kubernaut-system", &workflowv1.WorkflowExecution{}, &notificationv1.NotificationRequest{})
	assert.Contains(t, opts.DefaultNamespaces, "kubernaut-system")
	require.Len(t, opts.ByObject, 2)

	wfe := &workflowv1.WorkflowExecution{
		TypeMeta:   metav1.TypeMeta{Kind: "WorkflowExecution", APIVersion: workflowv1.GroupVersion.String()},
		ObjectMeta: metav1.ObjectMeta{Name: "rr-1-workflow", Namespace: "kubernaut-system", Generation: 3, Labels: map[string]string{"a": "b"}, ResourceVersion: "7"},
		Status:     workflowv1.WorkflowExecutionStatus{Phase: workflowv1.PhaseValidating, ObservedGeneration: 3, Message: "validating"},
	}
	wfe.Spec.RemediationRequestRef.Name = "rr-1"
	for obj, by := range opts.ByObject {
		if _, ok := obj.(*workflowv1.WorkflowExecution); !ok {
			other, err := by.Transform(wfe)
			require.NoError(t, err)
			assert.Same(t, wfe, other, "another kind passes unchanged")
			continue
		}
		out, err := by.Transform(wfe)
		require.NoError(t, err)
		got := out.(*workflowv1.WorkflowExecution)
		assert.Equal(t, &workflowv1.WorkflowExecution{
			TypeMeta:   wfe.TypeMeta,
			ObjectMeta: metav1.ObjectMeta{Name: "rr-1-workflow", Namespace: "kubernaut-system", Generation: 3, ResourceVersion: "7"},
			Status:     workflowv1.WorkflowExecutionStatus{Phase: workflowv1.PhaseValidating, ObservedGeneration: 3},
		}, got)
	}
}
