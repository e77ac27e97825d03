// Package kubectlplugin implements kubectl-kubernaut, the kubectl plugin people use to follow,
// approve and reject remediations:
//
//	kubectl kubernaut list [--phase P] [-A]
//	kubectl kubernaut describe <request> [--watch]
//	kubectl kubernaut approve <request> [--reason TEXT]
//	kubectl kubernaut reject <request> --reason TEXT
//	kubectl kubernaut send-alert [--file payload.json | --deployment D] [--gateway-url URL] [--token-file F]
//
// The standard kubeconfig flags (--kubeconfig, --context, --as, …) come from k8s.io/cli-runtime.
// RemediationRequests and their children live in the system namespace: --namespace when given,
// otherwise kubernaut-system (not the kubeconfig context's namespace). Every command prints a
// table or text by default and JSON or YAML with -o json|yaml.
//
// # Exit codes
//
//	0  success
//	1  any other error (API server unreachable, request refused by admission, gateway error, …)
//	2  usage error (unknown flag or command, missing argument, invalid flag value)
//	3  not found (the remediation request does not exist)
//	4  nothing to decide: no approval pending, already decided, or the approval request expired
//	5  forbidden or unauthorized (RBAC refused the caller; the gateway answered 401/403)
//
// Approve and reject set status.decision, decidedBy, decidedAt and message of the request's
// AIApprovalRequest with one merge patch of the status subresource, guarded by the
// resourceVersion that was checked. The AIApprovalRequest is found through the AIAnalysis's
// status.approval.approvalRequestRef, never by guessing its name. decidedBy is the caller's
// authenticated username as the API server reports it (a SelfSubjectReview), which is what the
// admission policy in deploy/ requires.
package kubectlplugin
