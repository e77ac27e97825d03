package aianalysis_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/aianalysis"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
)

// TestProductionGate: a change in production waits for a person by default, with the action's
// verified record (read from a real datastorage) in the approval request; an action granted
// autonomy runs unattended only once that record qualifies.
func TestProductionGate(t *testing.T) {
	env := testenv.Start(t)
	ds := startDatastorage(t)
	// 40 verified successes of increase_resources in production, on other targets and signals.
	for i := range 40 {
		fp := fmt.Sprintf("%064x", 1000+i)
		ds.remediated(t, fp, fmt.Sprintf("rr-past-%d", i), time.Now().Add(-time.Duration(i+1)*time.Hour),
			increaseMemory(fmt.Sprintf("Deployment/shop/svc-%d", i), kev1.OperationSucceeded, false))
	}
	withRecords := func(r *aianalysis.Reconciler) { r.TrackRecords = ds.client }

	t.Run("by default production waits for a person, and the request shows the record", func(t *testing.T) {
		h := newHarness(t, env, investigator.NewBuiltin(), withRecords)
		h.createAnalysis("oom", oomSignal(), false)
		a := h.waitPhase("oom", aiv1.PhaseApproving)
		require.NotNil(t, a.Status.Approval)
		assert.Contains(t, a.Status.Approval.Reason, "every change in production needs a person (increase_resources has not been granted autonomy there)")
		ar := h.approvalRequest("oom")
		assert.Contains(t, ar.Spec.Reason, "every change in production needs a person")
	})

	t.Run("granted, with a qualifying record: unattended, and the record is in the evidence", func(t *testing.T) {
		h := newHarness(t, env, investigator.NewBuiltin(), withRecords)
		h.setPolicy("autonomy:\n  grants:\n    production: [increase_resources]\n")
		var name string
		require.EventuallyWithT(t, func(c *assert.CollectT) { // the policy ConfigMap reaches the cache
			name = strings.ReplaceAll("oom-"+time.Now().Format("150405.000000"), ".", "-")
			h.createAnalysis(name, oomSignal(), false)
			assert.EventuallyWithT(c, func(c *assert.CollectT) {
				assert.Contains(c, []aiv1.Phase{aiv1.PhaseApproving, aiv1.PhaseCompleted}, h.get(name).Status.Phase)
			}, wait, tick)
			assert.Equal(c, aiv1.PhaseCompleted, h.get(name).Status.Phase)
		}, wait, tick)
		a := h.get(name)
		assert.False(t, a.Status.Approval.Required)
		assert.Contains(t, strings.Join(a.Status.Evidence, "\n"), "autonomy earned: increase_resources in production: 40 verified outcome(s)")
	})

	t.Run("granted, but the record in production is too short: a person, told why", func(t *testing.T) {
		h := newHarness(t, env, investigator.NewBuiltin(), withRecords)
		h.setPolicy("autonomy:\n  grants:\n    production: [increase_resources]\n  minOutcomes: 50\n")
		var name string
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			name = strings.ReplaceAll("oom-"+time.Now().Format("150405.000000"), ".", "-")
			h.createAnalysis(name, oomSignal(), false)
			assert.EventuallyWithT(c, func(c *assert.CollectT) {
				assert.Contains(c, h.get(name).Status.Message, "not yet earned autonomy")
			}, wait, tick)
		}, wait, tick)
		a := h.get(name)
		assert.Equal(t, aiv1.PhaseApproving, a.Status.Phase)
		assert.Contains(t, a.Status.Approval.Reason, "40 verified outcome(s) in the last 720h0m0s (40 remediated, 0 ineffective; 0 inconclusive not counted), success lower bound 0.91; needs at least 50 outcomes")
	})
}
