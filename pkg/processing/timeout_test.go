package processing_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/processing"
)

// stuckReader is the API reader with its event reads hanging, as a read waiting on an API
// server that does not answer would.
type stuckReader struct{ client.Reader }

func (s stuckReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if _, ok := list.(*corev1.EventList); ok {
		<-ctx.Done()
		return ctx.Err()
	}
	return s.Reader.List(ctx, list, opts...)
}

// A stuck read fails the processing with a reason instead of hanging until the orchestrator's timeout.
func testStuckRead(t *testing.T, env *testenv.Env) {
	h := startProcessing(t, env, func(r *processing.Reconciler, mgr manager.Manager) {
		r.Reader = stuckReader{mgr.GetAPIReader()}
		r.EnrichmentTimeout = 300 * time.Millisecond
	})
	ns := env.Namespace(t, nil)
	h.deployment(ns, "web", "web:1", 1)
	rp := h.process(deployTarget(ns, "web"), nil)
	require.Equal(t, processingv1.PhaseFailed, rp.Status.Phase)
	c := ready(t, rp)
	assert.Equal(t, metav1.ConditionFalse, c.Status)
	assert.Equal(t, processingv1.ReasonEnrichmentTimedOut, c.Reason)
	assert.Contains(t, rp.Status.Message, "did not finish within 300ms")
	assert.NotNil(t, rp.Status.CompletionTime)
	assert.Nil(t, rp.Status.EnrichedSignal)
}
