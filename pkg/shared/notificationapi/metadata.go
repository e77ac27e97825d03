package notificationapi

// Well-known NotificationRequest spec.metadata keys. The notification service shows them in
// every channel and uses some of them for routing: MetaSignalFingerprint is PagerDuty's
// dedup_key; the approval keys fill the Slack approval message.
const (
	MetaRemediationRequest = "remediationRequest"
	MetaSignalFingerprint  = "signalFingerprint"
	MetaSignalName         = "signalName"
	MetaSeverity           = "severity"
	MetaEnvironment        = "environment"
	MetaPriority           = "priority"
	MetaNamespace          = "namespace"
	MetaResource           = "resource"
	MetaAIAnalysis         = "aiAnalysis"
	MetaApprovalRequest    = "approvalRequest"
	MetaRecommendedAction  = "recommendedAction"
	MetaConfidence         = "confidence"
	MetaOutcome            = "outcome"
	MetaEscalationPhase    = "escalationPhase"
	MetaEscalationReason   = "escalationReason"
	MetaAlertmanagerURL    = "alertmanagerURL"
	MetaGrafanaURL         = "grafanaURL"
)
