// Package aianalysis is the AIAnalysis controller: it investigates the signal of each analysis
// the orchestrator creates (`<rr>-analysis`), records root cause, evidence, confidence, risk and
// recommendations whose workflow steps name concrete targets, and gates them on a human decision
// when the approval policy says so.
//
// Phases: Pending → Investigating → Recommending → (Approving) → Completed | Failed | Rejected.
// On its first reconcile the controller fills spec.holmesGPTConfig from its defaults (provider
// endpoint and model). The investigation runs the configured provider (package investigator:
// builtin rules; package llm: HolmesGPT or an OpenAI-compatible model) through the guardrails.
// It reasons from the alert it was given (alertContext.signalName, signalLabels, firingTime):
// the alert selects which builtin rules may apply (investigator.SignalTable), its `container`
// label restricts the evidence, only the current revision's pods and facts from at most an hour
// before the alert began firing count, and a truncated context lowers confidence or abstains
// (docs/aianalysis.md has the tables).
//
// Kubernaut's own recent changes are evidence: before investigating, the controller reads the
// remediations of the signal's fingerprint from datastorage's audit trail (ChangeHistory,
// DatastorageHistory: GET /api/v1/audit/remediation?fingerprint=&since=) within RepeatWindow
// (--repeat-action-window, default 6h). Whatever the provider, a top recommendation that repeats
// an action Kubernaut ran on the same target within the window ends as ManualReviewRequired
// saying what was done when (investigator.CheckRepeat): never a ×1.5 ratchet per cycle. When
// the trail cannot be read, the recommendation's evidence says so and the approval policy
// requires a person.
//
// After the guardrails, with includeHistoricalPatterns, datastorage's past success rate of each
// recommended action for the signal is blended into its confidence (0.7 × model + 0.3 × history, from 3 past
// remediations) and cited; an unreachable datastorage is cited instead. The result is read by the
// orchestrator (pkg/orchestrator/phases.go) this way:
//
//   - Completed, Ready reason NoActionRequired (outcome NoActionRequired): nothing to do.
//   - Completed, Ready reason ManualReviewRequired (outcome ManualReviewRequired, no
//     recommendations, status.manualReviewReason says why): a person must look.
//   - Completed, Ready reason Analyzed or Approved: recommendations[0].workflowSteps are planned.
//   - Failed (reason ProviderFailed) after the provider's retries; Rejected (reason Rejected, or
//     ApprovalExpired with approval.decision Expired).
//
// Approval (ApprovalPolicy, read from a ConfigMap and applied as soon as it changes): confidence
// below minConfidence, a high-risk action in a listed environment, an always-approve action
// (drain_node), an LLM provider or an unread change history send the analysis to Approving with
// an AIApprovalRequest `<analysis>-approval` (owned by the analysis, requiredBy = now +
// approvalTimeout). A person records the decision in its status with
// notificationapi.DecisionCommand; the ValidatingAdmissionPolicy in deploy/base/policies makes the
// API server refuse a decidedBy other than the caller's authenticated username. Without a decision by requiredBy the controller
// records Expired under its own identity (SelfSubjectReview) and rejects the analysis.
//
// Metrics (controller-runtime registry):
//   - kubernaut_aianalysis_investigations_total{provider,outcome}: outcome action_recommended,
//     no_action_required, manual_review_required or failed.
//   - kubernaut_aianalysis_investigation_duration_seconds{provider}.
//   - kubernaut_aianalysis_confidence{provider}: top recommendation's confidence.
//   - kubernaut_aianalysis_guardrail_refusals_total{reason}: UnknownAction, InvalidParameters,
//     TargetKindNotAccepted, TargetOtherNamespace, TargetNotInContext, MalformedAnswer.
//   - kubernaut_aianalysis_approvals_total{decision}: not_required, Approved, Rejected, Expired.
//   - kubernaut_aianalysis_environment_gate_total{environment,result}: recommendations for a gated
//     environment; result person (a person must approve) or earned (autonomy earned from the
//     actions' verified records).
//   - kubernaut_aianalysis_tokens_total{provider}: LLM tokens, when the provider reports them.
//   - kubernaut_aianalysis_repeat_actions_total{provider,action}: recommendations turned into
//     manual review because Kubernaut ran the same action on the same target within the window.
//   - kubernaut_aianalysis_history_unavailable_total: investigations whose recent changes to the
//     target could not be read (a recommendation then needs approval).
package aianalysis
