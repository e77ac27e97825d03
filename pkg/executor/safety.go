package executor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/executor/action"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// checked is an operation that passed every check: its plan and the server's dry-run diff.
type checked struct {
	plan   *action.Plan
	dryRun string
	// start is the operation start time the plan's identity carries.
	start time.Time
}

// refusal builds a refusal.
func refusal(reason, format string, args ...any) *action.Refusal {
	return &action.Refusal{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// catalogChecks are the checks that need no API call: a catalog action with an implementation,
// a target kind it accepts, valid parameters.
func catalogChecks(op *common.Operation) (actions.Action, action.Implementation, *action.Refusal) {
	cat, ok := actions.Lookup(op.Action)
	if !ok {
		return cat, nil, refusal(kev1.ReasonNotCatalogAction, "action %q is not in the catalog (known: %s)", op.Action, strings.Join(actions.Names(), ", "))
	}
	impl, ok := action.For(op.Action)
	if !ok {
		return cat, nil, refusal(kev1.ReasonNotCatalogAction, "action %q has no implementation in this executor", op.Action)
	}
	if !acceptsKind(cat, op.Target.APIVersion, op.Target.Kind) {
		return cat, nil, refusal(kev1.ReasonTargetKind, "action %s does not act on %s %s", op.Action, op.Target.APIVersion, op.Target.Kind)
	}
	if cat.ClusterScoped != (op.Target.Namespace == "") && !slices.Contains(cat.TargetKinds, actions.AnyKind) {
		if cat.ClusterScoped {
			return cat, nil, refusal(kev1.ReasonInvalidParameters, "%s targets a cluster-scoped %s; the target must have no namespace", op.Action, op.Target.Kind)
		}
		if op.Target.Kind != actions.KindNamespace.Kind {
			return cat, nil, refusal(kev1.ReasonInvalidParameters, "%s needs the target's namespace", op.Action)
		}
	}
	if problems := cat.Validate(op.Parameters); len(problems) > 0 {
		msgs := make([]string, len(problems))
		for i, p := range problems {
			msgs[i] = p.Error()
		}
		return cat, nil, refusal(kev1.ReasonInvalidParameters, "invalid parameters for %s: %s", op.Action, strings.Join(msgs, "; "))
	}
	return cat, impl, nil
}

// acceptsKind matches the target kind; an empty apiVersion matches on the kind alone.
func acceptsKind(cat actions.Action, apiVersion, kind string) bool {
	if apiVersion != "" {
		return cat.AcceptsKind(apiVersion, kind)
	}
	for _, k := range cat.TargetKinds {
		if k.Kind == actions.Wildcard || k.Kind == kind {
			return true
		}
	}
	return false
}

// policyChecks are the safety checks on the live state: namespace managed, not denied, not
// protected; node managed, the share of unavailable nodes and one node action at a time; the
// per-target cooldown (the only one safetyValidation turns off). A nil refusal and nil error
// mean the operation may proceed.
func (r *Reconciler) policyChecks(ctx context.Context, s *scope, cat actions.Action, op *action.Op, plan *action.Plan) (*action.Refusal, error) {
	cfg := s.cfg
	target := plan.Target
	if target == nil {
		return nil, nil // notify_only changes nothing
	}
	if target.GetLabels()[kev1.LabelProtected] == "true" {
		return refusal(kev1.ReasonProtected, "%s %s is labelled %s=true", op.Target.Kind, objName(op), kev1.LabelProtected), nil
	}
	if ref := actions.OtherController(target); ref != nil {
		return refusal(kev1.ReasonTargetControlled, "%s", actions.ControlledMessage(op.Target.Kind, target, ref)), nil
	}
	if cat.ClusterScoped {
		if rf, err := r.nodeChecks(ctx, s, op, plan); rf != nil || err != nil {
			return rf, err
		}
	} else {
		ns := op.Target.Namespace
		if op.Target.Kind == actions.KindNamespace.Kind {
			ns = op.Target.Name
		}
		if denied := r.deniedNamespaces(cfg); slices.Contains(denied, ns) {
			return refusal(kev1.ReasonDeniedNamespace, "namespace %s is denied (denied: %s)", ns, strings.Join(denied, ", ")), nil
		}
		// The namespace's labels from the cache (metadata only), not a read per operation; a
		// namespace the cache does not have yet (created a moment ago) is read live.
		nsObj := &metav1.PartialObjectMetadata{}
		nsObj.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
		err := r.Client.Get(ctx, types.NamespacedName{Name: ns}, nsObj)
		if apierrors.IsNotFound(err) {
			err = s.env.Client.Get(ctx, types.NamespacedName{Name: ns}, nsObj)
		}
		if err != nil {
			if apierrors.IsNotFound(err) {
				return refusal(kev1.ReasonTargetNotFound, "namespace %s not found", ns), nil
			}
			return nil, fmt.Errorf("reading namespace %s: %w", ns, err)
		}
		if nsObj.Labels[kev1.LabelProtected] == "true" {
			return refusal(kev1.ReasonProtected, "namespace %s is labelled %s=true", ns, kev1.LabelProtected), nil
		}
		if cfg.RequireManagedNamespace && nsObj.Labels[kev1.LabelManaged] != "true" {
			return refusal(kev1.ReasonUnmanagedNS, "namespace %s is not labelled %s=true", ns, kev1.LabelManaged), nil
		}
	}
	if !s.cooldownChecks() || cfg.Cooldown <= 0 {
		return nil, nil
	}
	if plan.CooldownKey != "" {
		if rf, err := r.recentChangeOf(ctx, s, plan.CooldownKey); rf != nil || err != nil {
			return rf, err
		}
	}
	if v, ok := target.GetAnnotations()[kev1.AnnotationLastRemediation]; ok {
		last, err := action.ParseIdentity(v)
		if err == nil && last.UID != op.ID.UID {
			if since := s.now.Sub(last.Time); since < cfg.Cooldown {
				return refusal(kev1.ReasonCooldown, "%s %s was changed by Kubernaut %s ago (%s, operation %s); cooldown is %s",
					op.Target.Kind, objName(op), since.Round(1e9), last.Execution, last.Operation, cfg.Cooldown), nil
			}
		}
	}
	return nil, nil
}

// nodeChecks: the node is managed (label or configuration), and a node action that leaves its
// node unschedulable keeps the share of unavailable nodes within the limit and never takes
// the last available node. The share is counted on every such action, whatever the target
// already is: a node Kubernetes tainted NotReady or under pressure counts as unavailable, and
// a cluster-wide blip (many nodes NotReady) therefore blocks cordons instead of letting
// Kubernaut cordon every node.
func (r *Reconciler) nodeChecks(ctx context.Context, s *scope, op *action.Op, plan *action.Plan) (*action.Refusal, error) {
	node, ok := plan.Target.(*corev1.Node)
	if !ok {
		return nil, nil
	}
	if !s.cfg.NodeActionsEnabled && node.Labels[kev1.LabelManaged] != "true" {
		return refusal(kev1.ReasonNodeNotManaged, "node %s is not labelled %s=true and node actions are not enabled (%s)", node.Name, kev1.LabelManaged, KeyNodeActionsEnabled), nil
	}
	if !plan.NodeUnschedulable {
		return nil, nil
	}
	nodes := &corev1.NodeList{}
	if err := s.env.Client.List(ctx, nodes); err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	total, down := len(nodes.Items), 1
	var others []string
	for i := range nodes.Items {
		if n := &nodes.Items[i]; n.Name != node.Name && action.NodeUnavailable(n) {
			down++
			others = append(others, n.Name)
		}
	}
	allowed := int(math.Floor(s.cfg.MaxUnschedulableShare * float64(total)))
	if down >= total {
		return refusal(kev1.ReasonNodeShare, "node %s is the last available node of %d (unavailable: %s)", node.Name, total, strings.Join(others, ", ")), nil
	}
	if down > allowed {
		return refusal(kev1.ReasonNodeShare, "%d of %d nodes would be unavailable (already: %s); at most %d (%s %.2f)",
			down, total, strings.Join(orNone(others), ", "), allowed, KeyMaxUnschedulableShare, s.cfg.MaxUnschedulableShare), nil
	}
	return nil, nil
}

func orNone(s []string) []string {
	if len(s) == 0 {
		return []string{"none"}
	}
	return s
}

func objName(op *action.Op) string {
	if op.Target.Namespace == "" {
		return op.Target.Name
	}
	return op.Target.Namespace + "/" + op.Target.Name
}

// check runs every check of operation i, in order: catalog, plan (target read, blast radius),
// target UID, preconditions (StaleTarget), policy (namespace, node, cooldown), one node action
// at a time and the change budgets (from the cached executions; counted again live right
// before the change), server-side dry-run. It changes nothing.
func (r *Reconciler) check(ctx context.Context, s *scope, i int, op *action.Op) (*checked, *action.Refusal, error) {
	cat, impl, rf := catalogChecks(&op.Operation)
	if rf != nil {
		return nil, rf, nil
	}
	plan, err := impl.Plan(ctx, s.env, op)
	if err != nil {
		if rf, ok := action.AsRefusal(err); ok {
			return nil, rf, nil
		}
		return nil, nil, err
	}
	if plan.Target != nil {
		if op.TargetUID != "" && string(plan.Target.GetUID()) != op.TargetUID {
			return nil, refusal(kev1.ReasonTargetReplaced, "%s %s has UID %s, the workflow validated %s (replaced in between)",
				op.Target.Kind, objName(op), plan.Target.GetUID(), op.TargetUID), nil
		}
		if rf, err := r.staleRefusal(ctx, s, i, op, plan.Target); rf != nil || err != nil {
			return nil, rf, err
		}
	}
	if rf, err := r.policyChecks(ctx, s, cat, op, plan); rf != nil || err != nil {
		return nil, rf, err
	}
	if plan.Apply != nil && !s.dryRun() {
		var list kev1.KubernetesExecutionList
		if err := r.Client.List(ctx, &list, client.InNamespace(r.Namespace), client.UnsafeDisableDeepCopy); err != nil {
			return nil, nil, fmt.Errorf("listing the executions for the change budgets: %w", err)
		}
		if rf := r.budgetRefusal(s, i, list.Items, nil); rf != nil {
			return nil, rf, nil
		}
		if cat.ClusterScoped {
			if rf := nodeActionRunning(s, list.Items); rf != nil {
				return nil, rf, nil
			}
		}
	}
	c := &checked{plan: plan}
	if plan.Apply != nil {
		out, err := plan.Apply(ctx, true)
		if err != nil {
			if transient(err) {
				return nil, nil, err
			}
			return nil, refusal(kev1.ReasonDryRunFailed, "server-side dry-run failed: %v", err), nil
		}
		c.dryRun = out
	}
	return c, nil, nil
}

// transient errors are retried; every other error is final.
func transient(err error) bool {
	return apierrors.IsConflict(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsTooManyRequests(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err) ||
		apierrors.IsUnexpectedServerError(err) || !isStatus(err)
}

// isStatus reports whether the API server answered (as opposed to a network error).
func isStatus(err error) bool {
	var st apierrors.APIStatus
	return errors.As(err, &st)
}

// recentChangeOf refuses a change counted against key (Plan.CooldownKey) when another execution
// applied one within the cooldown: the executions of the namespace (the manager's cache) keep
// what deleting actions cannot annotate on their target.
func (r *Reconciler) recentChangeOf(ctx context.Context, s *scope, key string) (*action.Refusal, error) {
	var list kev1.KubernetesExecutionList
	if err := r.Client.List(ctx, &list, client.InNamespace(s.ke.Namespace)); err != nil {
		return nil, fmt.Errorf("listing the executions for the cooldown of %s: %w", key, err)
	}
	for _, ke := range list.Items {
		if ke.UID == s.ke.UID {
			continue
		}
		for _, res := range ke.Status.OperationResults {
			if res.CooldownKey != key || res.AppliedTime == nil {
				continue
			}
			if since := s.now.Sub(res.AppliedTime.Time); since < s.cfg.Cooldown {
				return refusal(kev1.ReasonCooldown, "%s was changed by Kubernaut %s ago (%s/%s, operation %s); cooldown is %s",
					key, since.Round(time.Second), ke.Namespace, ke.Name, res.Name, s.cfg.Cooldown), nil
			}
		}
	}
	return nil, nil
}
