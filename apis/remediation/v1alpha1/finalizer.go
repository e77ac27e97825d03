package v1alpha1

// FinalizerAudit holds the deletion of a RemediationRequest until the orchestrator has
// delivered its audit outbox (status.audit.pendingPhases) to datastorage, so that `kubectl
// delete` does not lose an unacknowledged record. The orchestrator removes it once the outbox
// is empty, after its --audit-flush-on-delete bound (a Warning event AuditRecordsLost names
// what was lost), or at once when the request carries AnnotationSkipAuditFlush="true". With
// the orchestrator stopped, remove it by hand:
//
//	kubectl -n kubernaut-system patch remediationrequest <name> --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]'
const FinalizerAudit = "remediation.kubernaut.io/audit"

// AnnotationSkipAuditFlush="true" lets a RemediationRequest be deleted without waiting for its
// audit outbox.
const AnnotationSkipAuditFlush = "kubernaut.io/skip-audit-flush"
