package kubectlplugin_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/plugintest"
	"github.com/kubernaut/kubernaut/internal/testutil/services"
	"github.com/kubernaut/kubernaut/pkg/kubectlplugin"
	"github.com/kubernaut/kubernaut/pkg/orchestrator"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

// acknowledging plays datastorage and the notification service for the orchestrator: every
// audit record and escalation is accepted (their HTTP APIs are tested by their own services).
type acknowledging struct {
	mu     sync.Mutex
	audits []auditapi.RemediationAudit
}

func (a *acknowledging) PostRemediation(_ context.Context, r auditapi.RemediationAudit) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.audits = append(a.audits, r)
	return nil
}

func (a *acknowledging) SendEscalation(_ context.Context, req notificationapi.EscalationRequest) (notificationapi.EscalationResponse, error) {
	return notificationapi.EscalationResponse{NotificationName: notificationapi.EscalationName(req.RemediationRequestName, req.EscalationPhase)}, nil
}

// startOrchestrator runs the real orchestrator for ns under its generated RBAC.
func startOrchestrator(t *testing.T, ns string) {
	t.Helper()
	ack := &acknowledging{}
	services.Orchestrator(t, env, ns, func(r *orchestrator.Reconciler) {
		r.Config.VerificationWindow, r.Config.RetryMaxBackoff = time.Hour, time.Second
		r.Notifier, r.Audit = ack, ack
	})
}

// TestFollowAndApproveARealRemediation runs the real orchestrator and aianalysis controller
// (processing is played from the enriched signal the analysis fixture carries) and follows one
// request with the plugin: list and describe read what those services really write, and the
// plugin's approval moves the request on to Planning.
func TestFollowAndApproveARealRemediation(t *testing.T) {
	applyDecisionPolicy(t)
	ns := env.Namespace(t, nil)
	startOrchestrator(t, ns)
	plugintest.StartAIAnalysis(t, env, ns)
	ctx := context.Background()
	alice := asUser(t, ns, "alice", approverRules)
	viewer := asUser(t, ns, "victor", viewerRules) // reads everything, decides nothing

	// The gateway's part: a request with its spec only.
	rr, snapshot := oomAnalysis(ns, "rr-flow")
	rr.Status = remediationv1.RemediationRequestStatus{}
	rr.Spec.ReceivedTime = metav1.NewTime(time.Now().Truncate(time.Second))
	require.NoError(t, env.Client.Create(ctx, rr))

	// The processing service's part: complete the child the orchestrator created.
	var rp processingv1.RemediationProcessing
	assert.EventuallyWithT(t, func(ct *assert.CollectT) {
		var cur remediationv1.RemediationRequest
		if !assert.NoError(ct, env.Client.Get(ctx, client.ObjectKeyFromObject(rr), &cur)) || !assert.NotNil(ct, cur.Status.RemediationProcessingRef) {
			return
		}
		assert.NoError(ct, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: cur.Status.RemediationProcessingRef.Name}, &rp))
	}, 30*time.Second, 50*time.Millisecond)
	orig := rp.DeepCopy()
	ac := snapshot.Spec.AnalysisRequest.AlertContext
	now := metav1.Now()
	rp.Status.Phase, rp.Status.StartTime, rp.Status.CompletionTime = processingv1.PhaseCompleted, &now, &now
	rp.Status.EnrichedSignal = &processingv1.EnrichedSignal{
		Fingerprint: ac.Fingerprint, Severity: ac.Severity, Environment: ac.Environment, BusinessPriority: ac.BusinessPriority,
		Namespace: ac.Namespace, ResourceKind: ac.ResourceKind, ResourceName: ac.ResourceName, KubernetesContext: ac.KubernetesContext,
	}
	require.NoError(t, env.Client.Status().Patch(ctx, &rp, client.MergeFrom(orig)))

	// The orchestrator creates the analysis, aianalysis asks for approval, the orchestrator waits.
	assert.EventuallyWithT(t, func(ct *assert.CollectT) {
		res := run(t, invocation{cfg: viewer, now: time.Now}, "list", "-n", ns, "--phase", "AwaitingApproval")
		assert.Contains(ct, res.stdout, "rr-flow")
	}, 30*time.Second, 100*time.Millisecond)

	desc := run(t, invocation{cfg: viewer, now: time.Now}, "describe", "rr-flow", "-n", ns)
	require.Equal(t, kubectlplugin.ExitOK, desc.code, "%v", desc.err)
	for _, want := range []string{"Phase:         AwaitingApproval", "Received", "Processing", "Analyzing", "AwaitingApproval",
		"waiting for a decision", "increase_resources", "OOMKilled", "pending: kubectl kubernaut approve rr-flow"} {
		assert.Contains(t, desc.stdout, want)
	}
	assert.NotContains(t, desc.stdout, "Warnings:", "a viewer reads every child")

	// A person who may only read cannot decide; alice can.
	denied := run(t, invocation{cfg: viewer, now: time.Now}, "approve", "rr-flow", "-n", ns)
	assert.Equal(t, kubectlplugin.ExitForbidden, denied.code, "%v", denied.err)
	res := run(t, invocation{cfg: alice, now: time.Now}, "approve", "rr-flow", "-n", ns, "--reason", "limit is too low")
	require.Equal(t, kubectlplugin.ExitOK, res.code, "%v", res.err)

	// The orchestrator moves on to Planning with the approved recommendation.
	assert.EventuallyWithT(t, func(ct *assert.CollectT) {
		var cur remediationv1.RemediationRequest
		if assert.NoError(ct, env.Client.Get(ctx, client.ObjectKeyFromObject(rr), &cur)) {
			assert.Equal(ct, remediationv1.PhasePlanning, cur.Status.OverallPhase)
		}
	}, 30*time.Second, 50*time.Millisecond)
	var wfes workflowv1.WorkflowExecutionList
	require.NoError(t, env.Client.List(ctx, &wfes, client.InNamespace(ns)))
	assert.Len(t, wfes.Items, 1, "the orchestrator planned the approved recommendation")
	desc = run(t, invocation{cfg: viewer, now: time.Now}, "describe", "rr-flow", "-n", ns)
	require.Equal(t, kubectlplugin.ExitOK, desc.code, "%v", desc.err)
	timeline := desc.stdout[strings.Index(desc.stdout, "Timeline:"):strings.Index(desc.stdout, "Context:")]
	assert.Contains(t, timeline, "Approved by alice")
	assert.Contains(t, timeline, "Planning")
	assert.Contains(t, desc.stdout, "Decision:      Approved by alice")
	assert.Contains(t, desc.stdout, "Reason:        limit is too low")
}
