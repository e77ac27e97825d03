// Package orchestrator is the RemediationRequest controller: it drives each request through its
// children (RemediationProcessing → AIAnalysis → approval NotificationRequest → WorkflowExecution →
// KubernetesExecution), verifies the result, escalates timeouts, failures and rejections to the
// notification service, and posts an audit record of every phase change to datastorage through
// an outbox kept in the request's status.
//
// # API writes
//
// A remediation that runs to Completed costs the orchestrator 13 API writes, none of which can be
// dropped or merged further: one create per child (RemediationProcessing, AIAnalysis,
// WorkflowExecution, KubernetesExecution), one status merge patch per phase change (Processing,
// Analyzing, Planning, Executing, Verifying, Completed), the completion NotificationRequest, the
// completion event, and the audit finalizer (remediationv1.FinalizerAudit, one more patch removes
// it at deletion: a deleted request waits for its audit outbox, at most Config.AuditFlushOnDelete). Each reconcile writes the status at most once, as a merge patch without a
// resourceVersion (no conflicts): the child it created, the phase change, the conditions and the
// audit acknowledgement (datastorage is called before the patch) all go into that one patch, and
// a reconcile that changes nothing writes nothing. Live reads fetch what the cache does not hold:
// the request's payload for the RemediationProcessing, and each child once it has finished (see
// Memory). BenchmarkLifecycle and BenchmarkLifecycleVsCeiling count
// these requests exactly at the HTTP transport.
//
// # Memory
//
// The cache holds only what reconciles read (see CacheOptions): requests without their payload,
// labels, annotations (but the audit-skip annotation), signal labels and annotations or providerData (read from the API server
// when needed), children without their spec (except the parent reference and what the next
// child or the audit record needs), NotificationRequests as metadata only, and only objects
// labelled kubernaut.io/remediation-request. Requests of one fingerprint are found through a map
// fed by an informer handler rather than a field index (about 100 instead of 900 bytes per request).
//
// Children are cached only until they finish: status.phase is a selectable field of the four
// child CRDs, and each child informer selects the phases that are not final. When a child
// finishes, the watch reports it deleted, which wakes its request; that reconcile reads the
// child's final state once from the API server and keeps it in memory while the request still
// needs it (until it is finished and its audit trail stored). Reconciles of finished, audited
// requests (retention, the outcome notification) read no children at all. A cluster with
// 10,000 finished remediations therefore costs the orchestrator its 10,000 slim requests and
// nothing for their 40,000 children; memory grows with the remediations in flight. The cost is
// one read per finished child (kubernaut_orchestrator_child_reads_total), four per remediation,
// against the eighteen writes it makes the API server absorb; the processing read also supplies
// the Kubernetes context the AIAnalysis snapshot needs, which used to be a read of its own.
//
// # Verification
//
// After the change, Verifying concludes the outcome from evidence (verify.go, verify_cluster.go,
// docs/orchestrator.md): the alert's resolution or re-fire (startsAt newer than the change; a
// re-send with the same startsAt is not a re-fire), the cluster per action (rollout and new
// pods, HPA, node, PVC, deleted pods) read on demand through the API reader at each
// Config.VerificationInterval, and Alertmanager (Config.Alertmanager) at the end of the window.
// Remediated needs positive evidence, a failed check is Ineffective, anything else at the end
// of the window Inconclusive; the evidence is kept in status.verification, the audit record
// and the outcome notification. No informer is added: a request in Verifying costs a few
// bounded reads per interval (the workload, its ReplicaSets, the pods of its new revision) and
// nothing once finished; a check's status entry is rewritten only when its result (or, once
// settled, what it saw) changes, so a remediation that resolves writes no more than before.
//
// Metrics (on controller-runtime's registry):
//
//   - kubernaut_orchestrator_phase_duration_seconds{phase}: histogram of the time requests spent in a phase.
//   - kubernaut_orchestrator_active_requests{phase}: gauge of non-terminal requests by phase, counted from
//     the informer cache at scrape time (never stale).
//   - kubernaut_orchestrator_remediations_total{phase,outcome}: counter of requests that reached a terminal phase.
//   - kubernaut_orchestrator_unresolved_targets_total: counter of requests ended in manual review at once because
//     the gateway could not resolve the alert's labels to an object to act on (spec.targetResolution.unresolvedReason).
//   - kubernaut_orchestrator_timeouts_total{phase}: counter of phase and overall timeouts.
//   - kubernaut_orchestrator_escalations_total{reason,result}: counter of escalation attempts (result sent|error).
//   - kubernaut_orchestrator_audit_posts_total{result}: counter of audit deliveries (result acknowledged|error).
//   - kubernaut_orchestrator_audit_backlog: gauge of phase changes not yet acknowledged by datastorage,
//     counted from the cache at scrape time.
//   - kubernaut_orchestrator_approval_notification_latency_seconds: histogram of the time from the
//     orchestrator observing an AIAnalysis in Approving to its approval NotificationRequest existing.
//   - kubernaut_orchestrator_blocked_total{reason}: counter of requests held in Blocked by a safety valve.
//   - kubernaut_orchestrator_alertmanager_queries_total{result}: questions to Alertmanager at the end
//     of a verification window (result ok|error).
//   - kubernaut_orchestrator_child_reads_total: children read from the API server because they had
//     finished and left the cache.
package orchestrator
