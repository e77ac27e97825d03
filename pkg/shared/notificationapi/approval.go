package notificationapi

import "fmt"

// Approval decisions, as written to an AIApprovalRequest's status.decision.
const (
	DecisionApproved = "Approved"
	DecisionRejected = "Rejected"
)

// DecisionCommand is the shell command that records decision ("Approved" or "Rejected") on the
// AIApprovalRequest namespace/approvalRequestName. It sets status.decidedBy to the caller's
// authenticated username (`kubectl auth whoami`), which is the only value the admission policy
// on AIApprovalRequest accepts. Every channel that shows approval commands prints this string.
func DecisionCommand(namespace, approvalRequestName, decision string) string {
	return fmt.Sprintf(`kubectl -n %s patch aiapprovalrequest %s --subresource=status --type=merge -p "{\"status\":{\"decision\":\"%s\",\"decidedBy\":\"$(kubectl auth whoami -o jsonpath='{.status.userInfo.username}')\"}}"`,
		namespace, approvalRequestName, decision)
}
