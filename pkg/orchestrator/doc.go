// Package orchestrator is the RemediationRequest controller: it drives each request through its
// children (RemediationProcessing → AIAnalysis → approval NotificationRequest → WorkflowExecution →
// KubernetesExecution), verifies the result, escalates timeouts, failures and rejections to the
// notification service, and posts an audit record of every phase change to datastorage through
// an outbox kept in the request's status.
//
// Metrics (on controller-runtime's registry):
//
//   - kubernaut_orchestrator_phase_duration_seconds{phase}: histogram of the time requests spent in a phase.
//   - kubernaut_orchestrator_active_requests{phase}: gauge of non-terminal requests by phase, counted from
//     the informer cache at scrape time (never stale).
//   - kubernaut_orchestrator_remediations_total{phase,outcome}: counter of requests that reached a terminal phase.
//   - kubernaut_orchestrator_timeouts_total{phase}: counter of phase and overall timeouts.
//   - kubernaut_orchestrator_escalations_total{reason,result}: counter of escalation attempts (result sent|error).
//   - kubernaut_orchestrator_audit_posts_total{result}: counter of audit deliveries (result acknowledged|error).
//   - kubernaut_orchestrator_audit_backlog: gauge of phase changes not yet acknowledged by datastorage,
//     counted from the cache at scrape time.
//   - kubernaut_orchestrator_approval_notification_latency_seconds: histogram of the time from the
//     orchestrator observing an AIAnalysis in Approving to its approval NotificationRequest existing.
//   - kubernaut_orchestrator_blocked_total{reason}: counter of requests held in Blocked by a safety valve.
package orchestrator
