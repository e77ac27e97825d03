package v1alpha1

// LabelNotificationType carries a NotificationRequest's spec.type (Approval, Escalation, ...),
// set by whoever creates it (the orchestrator, the escalation API), so that a cache can select
// the types it follows up.
const LabelNotificationType = "kubernaut.io/notification-type"
