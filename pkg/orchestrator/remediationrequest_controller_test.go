package orchestrator_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/metricvalue"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/orchestrator"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

func isController(t testing.TB, obj client.Object, rr string) {
	t.Helper()
	ref := metav1.GetControllerOf(obj)
	if assert.NotNil(t, ref, "%s should have a controller owner", obj.GetName()) {
		assert.Equal(t, "RemediationRequest", ref.Kind)
		assert.Equal(t, rr, ref.Name)
	}
}

func TestOrchestrator(t *testing.T) {
	env := testenv.Start(t)

	t.Run("an alert the gateway could not resolve ends in manual review at once, with its reason", func(t *testing.T) {
		h := newHarness(t, env, nil)
		reason := `label "pod" names Pod shop/web-1, which does not exist`
		h.createRR("rr", func(rr *remediationv1.RemediationRequest) {
			rr.Spec.TargetResource = common.TargetResource{Kind: "Alert", Namespace: "shop", Name: "KubePodCrashLooping-0a1b2c3d4e"}
			rr.Spec.TargetResolution = &remediationv1.TargetResolution{Source: "pod", UnresolvedReason: reason}
		})
		rr := h.waitPhase("rr", remediationv1.PhaseCompleted)
		assert.Equal(t, remediationv1.OutcomeManualReviewRequired, rr.Status.Outcome)
		assert.Contains(t, rr.Status.Message, reason)
		nr := child(h, "rr-manual-review", &notificationv1.NotificationRequest{})
		assert.Equal(t, notificationv1.TypeManualReview, nr.Spec.Type)
		assert.Contains(t, nr.Spec.Body, reason, "the person is told why")
		assert.False(t, h.exists(&processingv1.RemediationProcessing{}, "rr-processing"), "nothing is enriched, analysed or changed")
		assert.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.Equal(c, []string{"Completed"}, h.ds.phases("rr"), "the audit trail records it")
		}, wait, tick)
	})

	t.Run("an execution refused because the target changed since approval ends in manual review", func(t *testing.T) {
		for _, reason := range kev1.ManualReviewReasons {
			t.Run(reason, func(t *testing.T) {
				h := newHarness(t, env, nil)
				h.createRR("rr", nil)
				h.completeProcessing("rr")
				h.analyze("rr", aiv1.PhaseCompleted, nil)
				h.completeWorkflow("rr")
				h.waitPhase("rr", remediationv1.PhaseExecuting)
				k := child(h, "rr-execution", &kev1.KubernetesExecution{})
				patchStatus(h, k, func(k *kev1.KubernetesExecution) {
					k.Status.Phase = kev1.PhaseFailed
					k.Status.StartTime, k.Status.CompletionTime = started(), started()
					k.Status.OperationResults = []kev1.OperationResult{{Name: "raise-memory", Phase: kev1.OperationRefused, Reason: reason, Message: "Deployment shop/web changed since validation"}}
					k.Status.Message = "refused"
				})
				rr := h.waitPhase("rr", remediationv1.PhaseCompleted)
				assert.Equal(t, remediationv1.OutcomeManualReviewRequired, rr.Status.Outcome)
				assert.Contains(t, rr.Status.Message, "the executor refused operation raise-memory ("+reason+"): Deployment shop/web changed since validation")
				nr := child(h, "rr-manual-review", &notificationv1.NotificationRequest{})
				assert.Equal(t, notificationv1.TypeManualReview, nr.Spec.Type)
			})
		}
	})

	t.Run("happy path to Completed/Remediated", func(t *testing.T) {
		h := newHarness(t, env, nil)
		h.createRR("rr", nil)
		h.waitPhase("rr", remediationv1.PhaseProcessing)

		rp := child(h, "rr-processing", &processingv1.RemediationProcessing{})
		isController(t, rp, "rr")
		assert.Equal(t, common.ObjectReference{Name: "rr", Namespace: h.ns}, rp.Spec.RemediationRequestRef)
		assert.Contains(t, string(rp.Spec.Alert.Payload), "HighMemoryUsage", "the original payload is snapshotted")
		assert.Equal(t, "Deployment", rp.Spec.Alert.TargetResource.Kind)

		h.completeProcessing("rr")
		rr := h.waitPhase("rr", remediationv1.PhaseAnalyzing)
		assert.Equal(t, "rr-processing", rr.Status.RemediationProcessingRef.Name)
		a := child(h, "rr-analysis", &aiv1.AIAnalysis{})
		isController(t, a, "rr")
		ar := a.Spec.AnalysisRequest
		assert.Equal(t, "Deployment", ar.AlertContext.ResourceKind)
		assert.Equal(t, "P0", ar.AlertContext.BusinessPriority)
		if assert.NotNil(t, ar.AlertContext.KubernetesContext, "the Kubernetes context is snapshotted") {
			assert.Equal(t, "OOMKilled", ar.AlertContext.KubernetesContext.Pods[0].Containers[0].LastTerminationReason)
		}
		assert.Equal(t, "24h", ar.InvestigationScope.TimeWindow)
		assert.Equal(t, []aiv1.ResourceScopeItem{{Kind: "Deployment", Namespace: "shop", Name: "web"}}, ar.InvestigationScope.ResourceScope)
		assert.Equal(t, aiv1.CorrelationDepth("detailed"), ar.InvestigationScope.CorrelationDepth)
		assert.True(t, ar.InvestigationScope.IncludeHistoricalPatterns)
		assert.Equal(t, map[string]string{"alertname": "HighMemoryUsage"}, ar.AlertContext.SignalLabels, "the alert's labels reach the investigator")
		if assert.NotNil(t, ar.AlertContext.FiringTime) {
			assert.True(t, rr.Spec.FiringTime.Equal(ar.AlertContext.FiringTime), "the alert's startsAt reaches the investigator")
		}

		h.analyze("rr", aiv1.PhaseCompleted, nil)
		rr = h.waitPhase("rr", remediationv1.PhasePlanning)
		assert.Equal(t, "rr-analysis", rr.Status.AIAnalysisRef.Name)
		w := child(h, "rr-workflow", &workflowv1.WorkflowExecution{})
		isController(t, w, "rr")
		assert.Equal(t, recommendation().WorkflowSteps, w.Spec.WorkflowDefinition.Steps)
		assert.Equal(t, 5*time.Minute, w.Spec.ExecutionConfig.StepTimeout.Duration)
		assert.Equal(t, 20*time.Minute, w.Spec.ExecutionConfig.WorkflowTimeout.Duration)
		assert.Equal(t, int32(1), w.Spec.ExecutionConfig.ConcurrencyLimit)
		assert.False(t, w.Spec.ExecutionConfig.DryRun)

		h.completeWorkflow("rr")
		rr = h.waitPhase("rr", remediationv1.PhaseExecuting)
		assert.Equal(t, "rr-workflow", rr.Status.WorkflowExecutionRef.Name)
		k := child(h, "rr-execution", &kev1.KubernetesExecution{})
		isController(t, k, "rr")
		assert.Len(t, k.Spec.Operations, 1)
		assert.True(t, *k.Spec.ExecutionConfig.SafetyValidation)
		assert.Equal(t, 10*time.Minute, k.Spec.ExecutionConfig.Timeout.Duration)

		h.finishExecution("rr", kev1.PhaseCompleted)
		rr = h.waitPhase("rr", remediationv1.PhaseVerifying)
		assert.Equal(t, "rr-execution", rr.Status.KubernetesExecutionRef.Name)
		h.resolve("rr")
		rr = h.waitPhase("rr", remediationv1.PhaseCompleted)
		assert.Equal(t, remediationv1.OutcomeRemediated, rr.Status.Outcome)
		assert.NotNil(t, rr.Status.CompletionTime)
		cond := metaCondition(rr.Status.Conditions, remediationv1.ConditionReady)
		if assert.NotNil(t, cond) {
			assert.Equal(t, metav1.ConditionTrue, cond.Status)
		}

		nr := child(h, "rr-completion", &notificationv1.NotificationRequest{})
		assert.Equal(t, notificationv1.TypeCompletion, nr.Spec.Type)
		isController(t, nr, "rr")

		assert.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.Equal(c, []string{"Processing", "Analyzing", "Planning", "Executing", "Verifying", "Completed"}, h.ds.phases("rr"))
			rr := h.getRR("rr")
			assert.Empty(c, rr.Status.Audit.PendingPhases)
			assert.Equal(c, remediationv1.PhaseCompleted, rr.Status.Audit.LastAcknowledgedPhase)
		}, wait, tick)
		row, ok := h.ds.row("rr")
		require.True(t, ok)
		assert.Equal(t, "Completed", row.OverallPhase)
		assert.Equal(t, "Remediated", row.Outcome)
		assert.Len(t, row.ServiceCRDStatuses, 4)
		assert.Len(t, row.Operations, 1)
		assert.Empty(t, h.notif.escalations("rr"), "a successful remediation is not escalated")

		// Finished children leave the orchestrator's cache (field selector on status.phase);
		// their final state was read from the API server instead.
		for name, obj := range map[string]client.Object{"rr-processing": &processingv1.RemediationProcessing{}, "rr-analysis": &aiv1.AIAnalysis{},
			"rr-workflow": &workflowv1.WorkflowExecution{}, "rr-execution": &kev1.KubernetesExecution{}} {
			assert.EventuallyWithT(t, func(c *assert.CollectT) {
				err := h.cache.Get(context.Background(), h.key(name), obj)
				assert.True(c, apierrors.IsNotFound(err), "%s is still cached: %v", name, err)
			}, wait, tick)
		}
		reads, _ := gauge(t, "kubernaut_orchestrator_child_reads_total", nil)
		assert.GreaterOrEqual(t, reads, 4.0, "finished children are read from the API server")
	})

	t.Run("approval path", func(t *testing.T) {
		h := newHarness(t, env, nil)
		h.createRR("rr", nil)
		h.waitPhase("rr", remediationv1.PhaseProcessing)
		h.completeProcessing("rr")
		h.waitPhase("rr", remediationv1.PhaseAnalyzing)
		h.analyze("rr", aiv1.PhaseApproving, func(a *aiv1.AIAnalysis) {
			a.Status.Approval = &aiv1.ApprovalStatus{Required: true, Reason: "production environment with medium risk",
				ApprovalRequestRef: &common.ObjectReference{Name: "rr-analysis-approval", Namespace: h.ns}}
		})
		rr := h.waitPhase("rr", remediationv1.PhaseAwaitingApproval)
		nr := child(h, "rr-approval", &notificationv1.NotificationRequest{})
		isController(t, nr, "rr")
		assert.Equal(t, notificationv1.TypeApproval, nr.Spec.Type)
		assert.Equal(t, "🚨 Approval Required: production environment with medium risk", nr.Spec.Subject)
		assert.Equal(t, notificationv1.PriorityHigh, nr.Spec.Priority)
		assert.Equal(t, []notificationv1.Channel{notificationv1.ChannelSlack, notificationv1.ChannelConsole}, nr.Spec.Channels)
		assert.Contains(t, nr.Spec.Recipients, notificationv1.Recipient{Channel: notificationv1.ChannelSlack, Address: "#kubernaut-approvals"})
		for key, want := range map[string]string{notificationapi.MetaRemediationRequest: "rr", notificationapi.MetaAIAnalysis: "rr-analysis",
			notificationapi.MetaApprovalRequest: "rr-analysis-approval", notificationapi.MetaRecommendedAction: "increase_resources",
			notificationapi.MetaConfidence: "0.82"} {
			assert.Equal(t, want, nr.Spec.Metadata[key], "metadata %s", key)
		}
		requireRenderedApproval(t, nr, "rr-analysis-approval", "increase_resources")
		for _, want := range []string{"web pods are OOMKilled", "4 OOMKilled restarts", "increase_resources", "Alternatives", "restart_pod", "Why approval is required: production environment"} {
			assert.Contains(t, nr.Spec.Body, want)
		}
		assert.Contains(t, rr.Status.NotificationRequestRefs, common.ObjectReference{Name: "rr-approval", Namespace: h.ns})

		h.analyze("rr", aiv1.PhaseCompleted, func(a *aiv1.AIAnalysis) {
			now := metav1.Now()
			a.Status.Approval = &aiv1.ApprovalStatus{Required: true, Reason: "production", Decision: aiv1.DecisionApproved, DecidedBy: "alice@example.com", DecidedAt: &now}
		})
		h.waitPhase("rr", remediationv1.PhasePlanning)
		child(h, "rr-workflow", &workflowv1.WorkflowExecution{})
		assert.EventuallyWithT(t, func(c *assert.CollectT) {
			row, ok := h.ds.row("rr")
			if assert.True(c, ok) && assert.NotNil(c, row.Approval) {
				assert.Equal(c, "alice@example.com", row.Approval.DecidedBy)
			}
			assert.Contains(c, h.ds.phases("rr"), "AwaitingApproval")
		}, wait, tick)
	})

	t.Run("rejection fails the request and escalates once", func(t *testing.T) {
		h := newHarness(t, env, nil)
		h.createRR("rr", nil)
		h.waitPhase("rr", remediationv1.PhaseProcessing)
		h.completeProcessing("rr")
		h.waitPhase("rr", remediationv1.PhaseAnalyzing)
		h.analyze("rr", aiv1.PhaseApproving, func(a *aiv1.AIAnalysis) { a.Status.Approval = &aiv1.ApprovalStatus{Required: true, Reason: "risky"} })
		h.waitPhase("rr", remediationv1.PhaseAwaitingApproval)
		h.analyze("rr", aiv1.PhaseRejected, func(a *aiv1.AIAnalysis) {
			a.Status.Approval = &aiv1.ApprovalStatus{Required: true, Reason: "risky", Decision: aiv1.DecisionRejected, DecidedBy: "bob"}
		})
		rr := h.waitPhase("rr", remediationv1.PhaseFailed)
		assert.Equal(t, remediationv1.OutcomeRejected, rr.Status.Outcome)
		assert.Equal(t, remediationv1.PhaseAwaitingApproval, rr.Status.FailedPhase)
		assert.EventuallyWithT(t, func(c *assert.CollectT) {
			esc := h.notif.escalations("rr")
			if assert.Len(c, esc, 1) {
				assert.Equal(c, "rejection", esc[0].EscalationReason)
				assert.Equal(c, "awaiting-approval", esc[0].EscalationPhase)
			}
			assert.Len(c, h.getRR("rr").Status.Escalations, 1)
		}, wait, tick)
		assert.False(t, h.exists(&workflowv1.WorkflowExecution{}, "rr-workflow"))
	})

	t.Run("child failures", func(t *testing.T) {
		h := newHarness(t, env, nil)
		cases := map[string]struct {
			drive      func(h *harness, rr string)
			wantPhase  remediationv1.Phase
			wantReason string
		}{
			"processing": {func(h *harness, rr string) {
				rp := child(h, rr+"-processing", &processingv1.RemediationProcessing{})
				patchStatus(h, rp, func(rp *processingv1.RemediationProcessing) {
					rp.Status.Phase, rp.Status.Message = processingv1.PhaseFailed, "target not found"
				})
			}, remediationv1.PhaseProcessing, "target not found"},
			"analysis": {func(h *harness, rr string) {
				h.completeProcessing(rr)
				h.analyze(rr, aiv1.PhaseFailed, func(a *aiv1.AIAnalysis) { a.Status.Message = "provider unavailable" })
			}, remediationv1.PhaseAnalyzing, "provider unavailable"},
			"workflow": {func(h *harness, rr string) {
				h.completeProcessing(rr)
				h.analyze(rr, aiv1.PhaseCompleted, nil)
				w := child(h, rr+"-workflow", &workflowv1.WorkflowExecution{})
				patchStatus(h, w, func(w *workflowv1.WorkflowExecution) {
					w.Status.Phase, w.Status.Message = workflowv1.PhaseFailed, "dependency cycle"
				})
			}, remediationv1.PhasePlanning, "dependency cycle"},
			"execution": {func(h *harness, rr string) {
				h.completeProcessing(rr)
				h.analyze(rr, aiv1.PhaseCompleted, nil)
				h.completeWorkflow(rr)
				h.finishExecution(rr, kev1.PhaseRolledBack)
			}, remediationv1.PhaseExecuting, "rolledback"},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				rrName := "fail-" + name
				h.createRR(rrName, nil)
				tc.drive(h, rrName)
				rr := h.waitPhase(rrName, remediationv1.PhaseFailed)
				assert.Equal(t, tc.wantPhase, rr.Status.FailedPhase)
				assert.Contains(t, rr.Status.FailureReason, tc.wantReason)
				assert.EventuallyWithT(t, func(c *assert.CollectT) {
					esc := h.notif.escalations(rrName)
					if assert.Len(c, esc, 1) {
						assert.Equal(c, "failure", esc[0].EscalationReason)
						assert.Equal(c, []string{"pagerduty", "slack", "email"}, esc[0].Channels)
						assert.Equal(c, "critical", esc[0].Urgency)
						assert.Equal(c, "http://alertmanager:9093", esc[0].AlertmanagerURL)
					}
					last := h.ds.phases(rrName)
					if assert.NotEmpty(c, last) {
						assert.Equal(c, "Failed", last[len(last)-1])
					}
				}, wait, tick)
			})
		}
	})

	t.Run("timeout per phase escalates once", func(t *testing.T) {
		short := &metav1.Duration{Duration: 2 * time.Second}
		cases := map[string]struct {
			timeouts func(*remediationv1.Timeouts)
			drive    func(h *harness)
			phase    remediationv1.Phase
			esc      string
		}{
			"processing": {func(t *remediationv1.Timeouts) { t.Processing = short }, func(*harness) {}, remediationv1.PhaseProcessing, "processing"},
			"analysis":   {func(t *remediationv1.Timeouts) { t.Analysis = short }, func(h *harness) { h.completeProcessing("rr") }, remediationv1.PhaseAnalyzing, "analyzing"},
			"awaitingApproval": {func(t *remediationv1.Timeouts) { t.AwaitingApproval = short }, func(h *harness) {
				h.completeProcessing("rr")
				h.analyze("rr", aiv1.PhaseApproving, func(a *aiv1.AIAnalysis) { a.Status.Approval = &aiv1.ApprovalStatus{Required: true, Reason: "policy"} })
			}, remediationv1.PhaseAwaitingApproval, "awaiting-approval"},
			"planning": {func(t *remediationv1.Timeouts) { t.Planning = short }, func(h *harness) {
				h.completeProcessing("rr")
				h.analyze("rr", aiv1.PhaseCompleted, nil)
			}, remediationv1.PhasePlanning, "planning"},
			"execution": {func(t *remediationv1.Timeouts) { t.Execution = short }, func(h *harness) {
				h.completeProcessing("rr")
				h.analyze("rr", aiv1.PhaseCompleted, nil)
				h.completeWorkflow("rr")
			}, remediationv1.PhaseExecuting, "executing"},
			"overall": {func(t *remediationv1.Timeouts) { t.Overall = &metav1.Duration{Duration: 3 * time.Second} }, func(h *harness) {
				h.completeProcessing("rr")
			}, remediationv1.PhaseAnalyzing, "analyzing"},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, env, nil)
				h.createRR("rr", func(rr *remediationv1.RemediationRequest) {
					rr.Spec.Timeouts = &remediationv1.Timeouts{}
					tc.timeouts(rr.Spec.Timeouts)
				})
				h.waitPhase("rr", remediationv1.PhaseProcessing)
				tc.drive(h)
				rr := h.waitPhase("rr", remediationv1.PhaseTimedOut)
				assert.Equal(t, tc.phase, rr.Status.TimeoutPhase)
				assert.EventuallyWithT(t, func(c *assert.CollectT) {
					rr := h.getRR("rr")
					assert.Len(c, rr.Status.Escalations, 1)
					esc := h.notif.escalations("rr")
					if assert.Len(c, esc, 1, "exactly one escalation") {
						assert.Equal(c, "timeout", esc[0].EscalationReason)
						assert.Equal(c, tc.esc, esc[0].EscalationPhase)
						assert.NotEmpty(c, esc[0].EscalationDetails.TimeoutDuration)
					}
				}, wait, tick)
				// Later events on the request never send a second escalation.
				h.resolve("rr")
				assert.Never(t, func() bool { return len(h.notif.escalations("rr")) > 1 }, time.Second, 100*time.Millisecond)
			})
		}
	})

	t.Run("escalation retried while the notification service is down", func(t *testing.T) {
		h := newHarness(t, env, nil)
		h.notif.down.Store(true)
		h.createRR("rr", func(rr *remediationv1.RemediationRequest) {
			rr.Spec.Timeouts = &remediationv1.Timeouts{Processing: &metav1.Duration{Duration: time.Second}}
		})
		h.waitPhase("rr", remediationv1.PhaseTimedOut)
		assert.Never(t, func() bool { return len(h.getRR("rr").Status.Escalations) > 0 }, time.Second, 100*time.Millisecond)
		h.notif.down.Store(false)
		assert.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.Len(c, h.notif.escalations("rr"), 1)
			assert.Len(c, h.getRR("rr").Status.Escalations, 1)
		}, 30*time.Second, tick)
	})

	t.Run("no action required and manual review", func(t *testing.T) {
		h := newHarness(t, env, nil)
		h.createRR("noop", nil)
		h.completeProcessing("noop")
		h.analyze("noop", aiv1.PhaseCompleted, func(a *aiv1.AIAnalysis) {
			a.Status.Recommendations = nil
			a.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: aiv1.ReasonNoActionRequired, Message: "transient", LastTransitionTime: metav1.Now()}}
		})
		rr := h.waitPhase("noop", remediationv1.PhaseCompleted)
		assert.Equal(t, remediationv1.OutcomeNoActionRequired, rr.Status.Outcome)

		h.createRR("manual", nil)
		h.completeProcessing("manual")
		h.analyze("manual", aiv1.PhaseCompleted, func(a *aiv1.AIAnalysis) { a.Status.Recommendations = nil })
		rr = h.waitPhase("manual", remediationv1.PhaseCompleted)
		assert.Equal(t, remediationv1.OutcomeManualReviewRequired, rr.Status.Outcome)
		nr := child(h, "manual-manual-review", &notificationv1.NotificationRequest{})
		assert.Equal(t, notificationv1.TypeManualReview, nr.Spec.Type)
	})

	t.Run("dry run", func(t *testing.T) {
		h := newHarness(t, env, func(c *orchestrator.Config) { c.DryRun = true })
		h.createRR("rr", nil)
		h.completeProcessing("rr")
		h.analyze("rr", aiv1.PhaseCompleted, nil)
		w := child(h, "rr-workflow", &workflowv1.WorkflowExecution{})
		assert.True(t, w.Spec.ExecutionConfig.DryRun)
		h.completeWorkflow("rr")
		k := child(h, "rr-execution", &kev1.KubernetesExecution{})
		assert.True(t, k.Spec.ExecutionConfig.DryRun)
		h.finishExecution("rr", kev1.PhaseCompleted)
		rr := h.waitPhase("rr", remediationv1.PhaseCompleted)
		assert.Equal(t, remediationv1.OutcomeDryRun, rr.Status.Outcome)
	})

	t.Run("restart mid-flight", func(t *testing.T) {
		h := newHarness(t, env, nil)
		h.createRR("rr", nil)
		h.completeProcessing("rr")
		h.waitPhase("rr", remediationv1.PhaseAnalyzing)
		h.ds.down.Store(true)
		h.analyze("rr", aiv1.PhaseCompleted, nil)
		assert.EventuallyWithT(t, func(c *assert.CollectT) {
			rr := h.getRR("rr")
			assert.Equal(c, remediationv1.PhasePlanning, rr.Status.OverallPhase)
			assert.NotEmpty(c, rr.Status.Audit.PendingPhases)
		}, wait, tick)
		h.stop()
		// While the orchestrator is down, the workflow finishes and datastorage recovers.
		h.completeWorkflow("rr")
		h.ds.down.Store(false)
		h.start()
		h.waitPhase("rr", remediationv1.PhaseExecuting)
		h.finishExecution("rr", kev1.PhaseCompleted)
		h.waitPhase("rr", remediationv1.PhaseVerifying)
		for _, list := range []client.ObjectList{&processingv1.RemediationProcessingList{}, &aiv1.AIAnalysisList{}, &workflowv1.WorkflowExecutionList{}, &kev1.KubernetesExecutionList{}} {
			require.NoError(t, h.c.List(context.Background(), list, client.InNamespace(h.ns)))
			assert.Equal(t, 1, meta_len(list), "one child of each kind: %T", list)
		}
		assert.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.Equal(c, []string{"Processing", "Analyzing", "Planning", "Executing", "Verifying"}, h.ds.phases("rr"))
		}, wait, tick)
	})

	t.Run("datastorage down then up", func(t *testing.T) {
		h := newHarness(t, env, nil)
		h.ds.down.Store(true)
		h.createRR("rr", nil)
		h.completeProcessing("rr")
		h.analyze("rr", aiv1.PhaseCompleted, nil)
		h.completeWorkflow("rr")
		h.finishExecution("rr", kev1.PhaseCompleted)
		h.waitPhase("rr", remediationv1.PhaseVerifying)
		h.resolve("rr")
		rr := h.waitPhase("rr", remediationv1.PhaseCompleted)
		assert.Len(t, rr.Status.Audit.PendingPhases, 6, "every phase change waits in the outbox")
		assert.Empty(t, h.ds.phases("rr"))
		cond := metaCondition(rr.Status.Conditions, remediationv1.ConditionAudited)
		if assert.NotNil(t, cond) {
			assert.Equal(t, metav1.ConditionFalse, cond.Status)
		}
		h.ds.down.Store(false)
		assert.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.Equal(c, []string{"Processing", "Analyzing", "Planning", "Executing", "Verifying", "Completed"}, h.ds.phases("rr"))
			rr := h.getRR("rr")
			assert.Empty(c, rr.Status.Audit.PendingPhases)
			row, _ := h.ds.row("rr")
			assert.Equal(c, "Completed", row.OverallPhase, "the newest phase wins the upsert")
		}, 60*time.Second, tick)
	})

	t.Run("kubectl delete waits for the audit outbox", func(t *testing.T) {
		h := newHarness(t, env, nil)
		h.ds.down.Store(true)
		h.createRR("rr", nil)
		h.waitPhase("rr", remediationv1.PhaseProcessing)
		require.NoError(t, h.c.Delete(context.Background(), h.getRR("rr")))
		assert.Never(t, func() bool { return !h.exists(&remediationv1.RemediationRequest{}, "rr") }, 2*time.Second, tick,
			"deleted with an unacknowledged audit record")
		h.ds.down.Store(false)
		assert.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.False(c, h.exists(&remediationv1.RemediationRequest{}, "rr"), "deleted once the outbox is flushed")
		}, wait, tick)
		assert.Equal(t, []string{"Processing"}, h.ds.phases("rr"))
	})

	t.Run("deletion stops waiting for datastorage after the bound", func(t *testing.T) {
		h := newHarness(t, env, func(c *orchestrator.Config) { c.AuditFlushOnDelete = 3 * time.Second })
		h.ds.down.Store(true)
		h.createRR("rr", nil)
		h.waitPhase("rr", remediationv1.PhaseProcessing)
		start := time.Now()
		require.NoError(t, h.c.Delete(context.Background(), h.getRR("rr")))
		assert.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.False(c, h.exists(&remediationv1.RemediationRequest{}, "rr"))
		}, wait, tick)
		// deletionTimestamp has whole seconds: the bound counts from up to a second before start.
		assert.GreaterOrEqual(t, time.Since(start), 2*time.Second, "the bound is waited for")
	})

	t.Run("deletion does not wait for datastorage when told to", func(t *testing.T) {
		h := newHarness(t, env, func(c *orchestrator.Config) { c.AuditFlushOnDelete = time.Hour })
		h.ds.down.Store(true)
		h.createRR("rr", nil)
		h.waitPhase("rr", remediationv1.PhaseProcessing)
		rr := h.getRR("rr")
		rr.Annotations = map[string]string{remediationv1.AnnotationSkipAuditFlush: "true"}
		require.NoError(t, h.c.Update(context.Background(), rr))
		require.NoError(t, h.c.Delete(context.Background(), rr))
		assert.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.False(c, h.exists(&remediationv1.RemediationRequest{}, "rr"))
		}, wait, tick)
	})

	t.Run("a long request name labels every child validly", func(t *testing.T) {
		h := newHarness(t, env, nil)
		name := "remediation-" + strings.Repeat("long", 40) // 172 characters: a valid name, too long for a label
		h.createRR(name, nil)
		rp := child(h, name+"-processing", &processingv1.RemediationProcessing{})
		assert.Equal(t, common.LabelValue(name), rp.Labels[common.LabelRemediationRequest])
		h.completeProcessing(name)
		h.waitPhase(name, remediationv1.PhaseAnalyzing)
		a := child(h, name+"-analysis", &aiv1.AIAnalysis{})
		assert.Equal(t, common.LabelValue(name), a.Labels[common.LabelRemediationRequest])
	})

	t.Run("a child the API server refuses as invalid fails the request at once", func(t *testing.T) {
		h := newHarness(t, env, nil)
		name := "remediation-" + strings.Repeat("x", 235) // 247 characters: "-processing" makes the child's name too long
		h.createRR(name, nil)
		rr := h.waitPhase(name, remediationv1.PhaseFailed)
		assert.Equal(t, remediationv1.PhaseProcessing, rr.Status.FailedPhase)
		assert.Contains(t, rr.Status.FailureReason, "must be no more than 253 characters", "the API server's message")
		cond := metaCondition(rr.Status.Conditions, remediationv1.ConditionReady)
		if assert.NotNil(t, cond) {
			assert.Equal(t, metav1.ConditionFalse, cond.Status)
			assert.Equal(t, remediationv1.ReasonChildInvalid, cond.Reason)
			assert.Contains(t, cond.Message, "refused RemediationProcessing "+name+"-processing as invalid: metadata.name: ")
		}
	})

	t.Run("concurrency cap", func(t *testing.T) {
		h := newHarness(t, env, func(c *orchestrator.Config) { c.MaxActive, c.MaxActivePerNamespace = 2, 0 })
		h.createRR("a", nil)
		h.waitPhase("a", remediationv1.PhaseProcessing)
		h.createRR("b", nil)
		h.waitPhase("b", remediationv1.PhaseProcessing)
		h.createRR("c", nil)
		rr := h.waitPhase("c", remediationv1.PhaseBlocked)
		cond := metaCondition(rr.Status.Conditions, remediationv1.ConditionReady)
		if assert.NotNil(t, cond) {
			assert.Equal(t, remediationv1.ReasonConcurrencyLimit, cond.Reason)
		}
		assert.False(t, h.exists(&processingv1.RemediationProcessing{}, "c-processing"))
		rp := child(h, "a-processing", &processingv1.RemediationProcessing{})
		patchStatus(h, rp, func(rp *processingv1.RemediationProcessing) { rp.Status.Phase = processingv1.PhaseFailed })
		h.waitPhase("a", remediationv1.PhaseFailed)
		h.waitPhase("c", remediationv1.PhaseProcessing)
	})

	t.Run("a request deleted while admitted frees its slot", func(t *testing.T) {
		h := newHarness(t, env, func(c *orchestrator.Config) { c.MaxActive, c.MaxActivePerNamespace = 1, 0 })
		// "gone" was admitted, then deleted before the cache showed it active.
		gone := h.key("gone")
		h.r.AdmitForTest(gone, "shop")
		h.createRR("b", nil)
		h.waitPhase("b", remediationv1.PhaseBlocked)
		_, err := h.r.Reconcile(context.Background(), reconcile.Request{NamespacedName: gone})
		require.NoError(t, err)
		h.waitPhase("b", remediationv1.PhaseProcessing)
	})

	t.Run("per-namespace cap", func(t *testing.T) {
		h := newHarness(t, env, func(c *orchestrator.Config) { c.MaxActive, c.MaxActivePerNamespace = 0, 1 })
		h.createRR("a", nil)
		h.waitPhase("a", remediationv1.PhaseProcessing)
		h.createRR("b", nil)
		h.waitPhase("b", remediationv1.PhaseBlocked)
		h.createRR("other", func(rr *remediationv1.RemediationRequest) { rr.Spec.TargetResource.Namespace = "billing" })
		h.waitPhase("other", remediationv1.PhaseProcessing)
	})

	t.Run("consecutive failures block the fingerprint", func(t *testing.T) {
		h := newHarness(t, env, func(c *orchestrator.Config) { c.FailureThreshold, c.FailureBlock = 3, 4*time.Second })
		fp := fingerprint("flapping")
		same := func(rr *remediationv1.RemediationRequest) {
			rr.Spec.SignalFingerprint = fp
			rr.Labels[remediationv1.LabelSignalFingerprint] = fp[:63]
		}
		for _, name := range []string{"f1", "f2", "f3"} {
			h.createRR(name, same)
			rp := child(h, name+"-processing", &processingv1.RemediationProcessing{})
			patchStatus(h, rp, func(rp *processingv1.RemediationProcessing) { rp.Status.Phase = processingv1.PhaseFailed })
			h.waitPhase(name, remediationv1.PhaseFailed)
		}
		h.createRR("f4", same)
		rr := h.waitPhase("f4", remediationv1.PhaseBlocked)
		cond := metaCondition(rr.Status.Conditions, remediationv1.ConditionReady)
		if assert.NotNil(t, cond) {
			assert.Equal(t, remediationv1.ReasonConsecutiveFailures, cond.Reason)
		}
		h.createRR("other", nil)
		h.waitPhase("other", remediationv1.PhaseProcessing)
		h.waitPhase("f4", remediationv1.PhaseProcessing) // the block lifts
	})

	t.Run("metrics", func(t *testing.T) {
		h := newHarness(t, env, nil)
		h.ds.down.Store(true)
		h.createRR("rr", nil)
		h.completeProcessing("rr")
		h.analyze("rr", aiv1.PhaseApproving, func(a *aiv1.AIAnalysis) { a.Status.Approval = &aiv1.ApprovalStatus{Required: true, Reason: "policy"} })
		h.waitPhase("rr", remediationv1.PhaseAwaitingApproval)
		assert.EventuallyWithT(t, func(c *assert.CollectT) {
			v, ok := gauge(t, "kubernaut_orchestrator_active_requests", map[string]string{"phase": "AwaitingApproval"})
			assert.True(c, ok)
			assert.Equal(c, 1.0, v)
			v, ok = gauge(t, "kubernaut_orchestrator_audit_backlog", nil)
			assert.True(c, ok)
			assert.Equal(c, 3.0, v, "Processing, Analyzing and AwaitingApproval wait for datastorage")
		}, wait, tick)
		n, ok := gauge(t, "kubernaut_orchestrator_approval_notification_latency_seconds", nil)
		assert.True(t, ok)
		assert.GreaterOrEqual(t, n, 1.0)
		h.ds.down.Store(false)
		assert.EventuallyWithT(t, func(c *assert.CollectT) {
			v, _ := gauge(t, "kubernaut_orchestrator_audit_backlog", nil)
			assert.Equal(c, 0.0, v)
		}, 60*time.Second, tick)
	})

	t.Run("retention", func(t *testing.T) {
		h := newHarness(t, env, func(c *orchestrator.Config) { c.Retention = 2 * time.Second })
		h.createRR("rr", nil)
		rp := child(h, "rr-processing", &processingv1.RemediationProcessing{})
		patchStatus(h, rp, func(rp *processingv1.RemediationProcessing) { rp.Status.Phase = processingv1.PhaseFailed })
		h.waitPhase("rr", remediationv1.PhaseFailed)
		assert.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.False(c, h.exists(&remediationv1.RemediationRequest{}, "rr"), "deleted after retention")
			assert.Equal(c, []string{"Processing", "Failed"}, h.ds.phases("rr"), "audited before deletion")
		}, wait, tick)
	})

	t.Run("settled requests are skipped at start-up and deleted by the retention sweep", func(t *testing.T) {
		h := newHarness(t, env, func(c *orchestrator.Config) {
			c.Retention = 4 * time.Second
			c.RetentionSweep = 200 * time.Millisecond
		})
		h.createRR("rr", nil)
		rp := child(h, "rr-processing", &processingv1.RemediationProcessing{})
		patchStatus(h, rp, func(rp *processingv1.RemediationProcessing) { rp.Status.Phase = processingv1.PhaseFailed })
		h.waitPhase("rr", remediationv1.PhaseFailed)
		assert.EventuallyWithT(t, func(c *assert.CollectT) {
			rr := h.getRR("rr")
			assert.Empty(c, rr.Status.Audit.PendingPhases)
			assert.NotEmpty(c, rr.Status.Escalations)
			assert.Equal(c, rr.Generation, rr.Status.ObservedGeneration)
		}, wait, tick, "settled: audited and escalated")
		// Restart: the informer reports the settled request as created, which is not reconciled;
		// only the sweep can delete it once its retention is over.
		h.stop()
		h.start()
		assert.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.False(c, h.exists(&remediationv1.RemediationRequest{}, "rr"), "deleted after retention")
		}, wait, tick)
		assert.Len(t, h.notif.escalations("rr"), 1, "escalated once, not again after the restart")
	})
}

func gauge(t *testing.T, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	return metricvalue.Get(t, name, labels)
}

func metaCondition(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

func meta_len(list client.ObjectList) int {
	switch l := list.(type) {
	case *processingv1.RemediationProcessingList:
		return len(l.Items)
	case *aiv1.AIAnalysisList:
		return len(l.Items)
	case *workflowv1.WorkflowExecutionList:
		return len(l.Items)
	case *kev1.KubernetesExecutionList:
		return len(l.Items)
	}
	return -1
}
