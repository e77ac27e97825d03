package kubectlplugin

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
)

// maxDecisionAttempts bounds the retries when the approval request changed between the checks
// and the patch (for example the aianalysis controller wrote its status meanwhile).
const maxDecisionAttempts = 3

func newDecisionCommand(o *Options, approve bool) *cobra.Command {
	var reason string
	decision, verb := aiv1.DecisionApproved, "approve"
	if !approve {
		decision, verb = aiv1.DecisionRejected, "reject"
	}
	use := verb + " <request> [--reason TEXT]"
	if !approve {
		use = verb + " <request> --reason TEXT"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " the recommended action of a remediation awaiting approval",
		Long: `Record your decision (` + string(decision) + `) on the remediation's pending AIApprovalRequest: status.decision,
decidedBy (your username as the API server authenticates you), decidedAt and message (--reason).
The AIApprovalRequest is the one the AIAnalysis names in status.approval.approvalRequestRef.

Refused with exit code 4 when nothing is pending (no approval requested, already decided) or the
request expired (spec.requiredBy has passed), 3 when the remediation request does not exist, and
5 when RBAC does not allow you to update aiapprovalrequests/status.`,
		Example: "  kubectl kubernaut " + verb + " remediation-3f2a9c0d1e4b5a6f --reason \"checked the dashboard\"",
		Args:    exactlyOneRequest,
		RunE: func(cmd *cobra.Command, args []string) error {
			if decision == aiv1.DecisionRejected && strings.TrimSpace(reason) == "" {
				return usageErr("reject needs --reason")
			}
			return o.runDecision(cmd.Context(), args[0], decision, reason)
		},
	}
	if approve {
		cmd.Flags().StringVar(&reason, "reason", "", "Why you approve (recorded as the decision's message).")
	} else {
		cmd.Flags().StringVar(&reason, "reason", "", "Why you reject (required; recorded as the decision's message).")
	}
	return cmd
}

func (o *Options) runDecision(ctx context.Context, name string, decision aiv1.Decision, reason string) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	ns := o.namespace()
	user := ""
	for attempt := 1; ; attempt++ {
		now := metav1.NewTime(o.Now().UTC().Truncate(time.Second))
		ar, err := pendingApproval(ctx, c, ns, name, now)
		if err != nil {
			return err
		}
		if user == "" {
			if user, err = whoAmI(ctx, c); err != nil {
				return err
			}
		}
		orig := ar.DeepCopy()
		ar.Status.Decision = decision
		ar.Status.DecidedBy = user
		ar.Status.DecidedAt = &now
		ar.Status.Message = reason
		err = c.Status().Patch(ctx, ar, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{}))
		switch {
		case err == nil:
			return o.printDecision(ar)
		case apierrors.IsConflict(err) && attempt < maxDecisionAttempts:
			continue
		case apierrors.IsForbidden(err):
			return exitErr(ExitForbidden, "%s may not record the decision on AIApprovalRequest %s/%s: %w", user, ar.Namespace, ar.Name, err)
		default:
			return fmt.Errorf("recording the decision on AIApprovalRequest %s/%s: %w", ar.Namespace, ar.Name, err)
		}
	}
}

// pendingApproval finds the approval request a decision on remediation name would set, or says
// why there is nothing to decide.
func pendingApproval(ctx context.Context, c client.Client, ns, name string, now metav1.Time) (*aiv1.AIApprovalRequest, error) {
	rr, err := getRequest(ctx, c, ns, name)
	if err != nil {
		return nil, err
	}
	phase := orNone(string(rr.Status.OverallPhase))
	ref := rr.Status.AIAnalysisRef
	if ref == nil {
		return nil, exitErr(ExitNotPending, "remediation request %s (phase %s) has no analysis yet: no approval pending", name, phase)
	}
	var aia aiv1.AIAnalysis
	if err := c.Get(ctx, client.ObjectKey{Namespace: refNamespace(ref.Namespace, ns), Name: ref.Name}, &aia); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, exitErr(ExitNotPending, "remediation request %s (phase %s): its AIAnalysis %s no longer exists: no approval pending", name, phase, ref.Name)
		}
		return nil, fmt.Errorf("reading AIAnalysis %s/%s: %w", refNamespace(ref.Namespace, ns), ref.Name, err)
	}
	ap := aia.Status.Approval
	if ap == nil || ap.ApprovalRequestRef == nil {
		return nil, exitErr(ExitNotPending, "remediation request %s (phase %s) has no approval request: no approval pending", name, phase)
	}
	arNS := refNamespace(ap.ApprovalRequestRef.Namespace, aia.Namespace)
	var ar aiv1.AIApprovalRequest
	if err := c.Get(ctx, client.ObjectKey{Namespace: arNS, Name: ap.ApprovalRequestRef.Name}, &ar); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, exitErr(ExitNotPending, "remediation request %s (phase %s): AIApprovalRequest %s no longer exists: no approval pending", name, phase, ap.ApprovalRequestRef.Name)
		}
		return nil, fmt.Errorf("reading AIApprovalRequest %s/%s: %w", arNS, ap.ApprovalRequestRef.Name, err)
	}
	switch {
	case ar.Status.Decision == aiv1.DecisionExpired:
		return nil, exitErr(ExitNotPending, "the approval request %s of %s expired (required by %s): nothing to decide", ar.Name, name, timestamp(&ar.Spec.RequiredBy))
	case ar.Status.Decision != "":
		by := ""
		if ar.Status.DecidedBy != "" {
			by = " by " + ar.Status.DecidedBy
		}
		return nil, exitErr(ExitNotPending, "the approval request %s of %s was already decided: %s%s at %s", ar.Name, name, ar.Status.Decision, by, timestamp(ar.Status.DecidedAt))
	case !ar.Spec.RequiredBy.IsZero() && !now.Before(&ar.Spec.RequiredBy):
		return nil, exitErr(ExitNotPending, "the approval request %s of %s expired at %s (%s ago): nothing to decide", ar.Name, name, timestamp(&ar.Spec.RequiredBy), age(now.Time, ar.Spec.RequiredBy))
	case rr.Status.OverallPhase.IsTerminal():
		return nil, exitErr(ExitNotPending, "remediation request %s already ended (%s): nothing to decide", name, phase)
	}
	return &ar, nil
}

func refNamespace(ns, fallback string) string {
	if ns == "" {
		return fallback
	}
	return ns
}

// whoAmI asks the API server for the caller's username (a SelfSubjectReview), which is what
// the admission policy compares decidedBy with.
func whoAmI(ctx context.Context, c client.Client) (string, error) {
	review := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, review); err != nil {
		return "", fmt.Errorf("asking the API server who you are (SelfSubjectReview): %w", err)
	}
	if review.Status.UserInfo.Username == "" {
		return "", fmt.Errorf("the API server did not report your username (SelfSubjectReview)")
	}
	return review.Status.UserInfo.Username, nil
}

func (o *Options) printDecision(ar *aiv1.AIApprovalRequest) error {
	if o.structured() {
		stripMeta(&ar.ObjectMeta)
		ar.APIVersion, ar.Kind = aiv1.GroupVersion.String(), "AIApprovalRequest"
		return o.printStructured(ar)
	}
	_, err := fmt.Fprintf(o.Out, "%s: %s %s by %s (AIApprovalRequest %s/%s)\n", ar.Spec.RemediationRequestRef.Name,
		ar.Status.Decision, orNone(ar.Spec.Recommendation.Action), ar.Status.DecidedBy, ar.Namespace, ar.Name)
	return err
}
