package executor_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/localcluster"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

// On a cluster whose pods run (controller-manager, scheduler, kwok): a bad release is rolled
// back and the workload scaled, and the executor completes only once the Deployment controller
// rolled the previous template out and its new pods are Running and available.
func TestRollbackPostConditionOnALocalCluster(t *testing.T) {
	cl := localcluster.StartT(t, localcluster.Options{Nodes: 2})
	ctx := context.Background()
	lenv := &testenv.Env{Config: cl.Config, Client: cl.Client}
	h := &harness{t: t, c: cl.Client}
	h.sys = lenv.Namespace(t, nil)
	h.app = lenv.Namespace(t, map[string]string{kev1.LabelManaged: "true"})
	h.cfg = lenv.AsService(t, "executor", h.sys)

	d := h.deployment("web", 2, nil)
	rolledOutWith := func(image string, replicas int32) {
		t.Helper()
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			cur := &appsv1.Deployment{}
			require.NoError(c, h.c.Get(ctx, client.ObjectKeyFromObject(d), cur))
			assert.Equal(c, image, cur.Spec.Template.Spec.Containers[0].Image)
			st := cur.Status
			assert.True(c, st.ObservedGeneration >= cur.Generation && st.UpdatedReplicas == replicas && st.AvailableReplicas == replicas && st.Replicas == replicas,
				"status %+v", st)
			n, err := runningWith(h, image)
			require.NoError(c, err)
			assert.Equal(c, replicas, n)
		}, 2*wait, tick)
	}
	rolledOutWith("registry.example/app:1", 2)
	// The bad release.
	require.NoError(t, h.c.Get(ctx, client.ObjectKeyFromObject(d), d))
	d.Spec.Template.Spec.Containers[0].Image = "registry.example/app:2"
	require.NoError(t, h.c.Update(ctx, d))
	rolledOutWith("registry.example/app:2", 2)

	h.start(nil)
	ke := h.execution(false,
		op("undo", "rollback_deployment", deploymentTarget(h.app, "web"), nil),
		op("scale", "scale_deployment", deploymentTarget(h.app, "web"), map[string]string{"replicas": "3"}))
	got := h.finished(ke)
	require.Equal(t, kev1.PhaseCompleted, got.Status.Phase, "%s %+v", got.Status.Message, got.Status.OperationResults)
	// Completed means the controller had already rolled it out: the state holds at once.
	cur := &appsv1.Deployment{}
	require.NoError(t, h.c.Get(ctx, client.ObjectKeyFromObject(d), cur))
	assert.Equal(t, "registry.example/app:1", cur.Spec.Template.Spec.Containers[0].Image)
	assert.Equal(t, int32(3), cur.Status.AvailableReplicas)
	n, err := runningWith(h, "registry.example/app:1")
	require.NoError(t, err)
	assert.Equal(t, int32(3), n)
}

// runningWith counts the Running, not terminating pods of the target namespace with image.
func runningWith(h *harness, image string) (int32, error) {
	pods := &corev1.PodList{}
	if err := h.c.List(context.Background(), pods, client.InNamespace(h.app)); err != nil {
		return 0, err
	}
	var n int32
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil && p.Spec.Containers[0].Image == image {
			n++
		}
	}
	return n, nil
}
