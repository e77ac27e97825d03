package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
	"github.com/kubernaut/kubernaut/pkg/shared/actions/preconditions"
	"github.com/kubernaut/kubernaut/pkg/shared/objdiff"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// Bounds of what one step's validation keeps in status.
const (
	maxDiff        = 32
	maxValueLength = 512
	maxEvictions   = 20
)

// Validator checks planned operations against the live cluster.
type Validator struct {
	// Reader reads targets live from the API server (never from a cache: a target deleted and
	// recreated must be seen).
	Reader client.Reader
	// Writer sends SubjectAccessReviews and the dry-run calls (dryRun=All only).
	Writer client.Client
	// Executor is the user name of the executor's ServiceAccount
	// (system:serviceaccount:<namespace>:<name>).
	Executor string
	// Now stamps rollout restarts (default time.Now).
	Now func() time.Time
	// Analyzed is the workload the analysis examined and its state then (the WorkflowExecution's
	// spec.analyzedTarget); an operation on it is refused StaleTarget when it runs another
	// template now. Nil: nothing to compare.
	Analyzed *workflowv1.AnalyzedTarget
}

// stepCheck accumulates one step's checks.
type stepCheck struct {
	result workflowv1.ValidationResult
}

func (s *stepCheck) pass(t workflowv1.CheckType, format string, args ...any) {
	s.result.Checks = append(s.result.Checks, workflowv1.Check{Type: t, Passed: true, Message: text.TruncateBytes(fmt.Sprintf(format, args...), 1024)})
}

func (s *stepCheck) fail(t workflowv1.CheckType, reason, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.result.Checks = append(s.result.Checks, workflowv1.Check{Type: t, Passed: false, Message: text.TruncateBytes(msg, 1024)})
	s.result.Valid = false
	if s.result.Reason == "" {
		s.result.Reason = reason
	}
	if s.result.Message != "" {
		s.result.Message += "; "
	}
	s.result.Message = text.TruncateBytes(s.result.Message+msg, 2048)
}

// transientError marks an error that a retry may clear (the API server unavailable, a conflict).
type transientError struct{ err error }

func (e transientError) Error() string { return e.err.Error() }
func (e transientError) Unwrap() error { return e.err }

// Validate checks op against the live cluster and records into it the target's UID and
// resourceVersion and the preconditions the executor holds the target to (generation, a
// Deployment's revision and the pod-template-hash of its current ReplicaSet). The result says what was checked; an error is returned only for failures a retry may
// clear.
func (v *Validator) Validate(ctx context.Context, op *common.Operation) (workflowv1.ValidationResult, error) {
	s := &stepCheck{result: workflowv1.ValidationResult{Step: op.Name, Valid: true}}
	a, ok := actions.Lookup(op.Action)
	if !ok { // planning rejects these; kept for safety
		s.fail(workflowv1.CheckTargetResolves, workflowv1.ReasonUnknownAction, "unknown action %q", op.Action)
		return s.result, nil
	}
	t := op.Target
	live := actions.NewObject(t.Kind)
	if live == nil {
		s.pass(workflowv1.CheckTargetExists, "%s changes nothing; the %s %s is not read", op.Action, t.Kind, t.Name)
		return s.result, nil
	}
	key := client.ObjectKey{Namespace: t.Namespace, Name: t.Name}
	if err := v.Reader.Get(ctx, key, live); err != nil {
		if apierrors.IsNotFound(err) {
			s.fail(workflowv1.CheckTargetExists, workflowv1.ReasonTargetNotFound, "%s %s not found", t.Kind, describe(key))
			return s.result, nil
		}
		return s.result, transientError{fmt.Errorf("reading %s %s: %w", t.Kind, describe(key), err)}
	}
	pre, err := preconditions.Capture(ctx, v.Reader, live)
	if err != nil {
		return s.result, transientError{err}
	}
	msg := fmt.Sprintf("%s %s exists (uid %s, resourceVersion %s%s)", t.Kind, describe(key), live.GetUID(), live.GetResourceVersion(), describePreconditions(pre))
	if op.TargetUID != "" && op.TargetUID != string(live.GetUID()) {
		msg += fmt.Sprintf("; recreated since it was last checked (uid was %s)", op.TargetUID)
	}
	if diffs := v.staleSinceAnalysis(t, pre); len(diffs) > 0 {
		s.fail(workflowv1.CheckTargetExists, workflowv1.ReasonStaleTarget,
			"%s %s changed since the analysis examined it (%s): the recommendation was made for a state that no longer runs, so it is not applied; a person must review it",
			t.Kind, describe(key), strings.Join(diffs, ", "))
		return s.result, nil
	}
	op.TargetUID, op.TargetResourceVersion = string(live.GetUID()), live.GetResourceVersion()
	op.Preconditions = pre
	s.pass(workflowv1.CheckTargetExists, "%s", msg)
	if a.Name == actions.NotifyOnly {
		return s.result, nil
	}
	if ref := actions.OtherController(live); ref != nil {
		s.fail(workflowv1.CheckTargetResolves, workflowv1.ReasonTargetControlled, "%s", actions.ControlledMessage(t.Kind, live, ref))
		return s.result, nil
	}

	// What the action touches, and the object it would send.
	r, err := v.resolve(ctx, a.Name, live, op.Parameters)
	if err != nil {
		return s.result, err
	}
	if r.problem != "" {
		s.fail(workflowv1.CheckTargetResolves, r.reason, "%s", r.problem)
		return s.result, nil
	}
	s.pass(workflowv1.CheckTargetResolves, "%s", r.Found)

	if err := v.checkPermissions(ctx, s, a, t); err != nil {
		return s.result, err
	}
	if err := v.dryRun(ctx, s, a.Name, live, r); err != nil {
		return s.result, err
	}
	return s.result, nil
}

// staleSinceAnalysis lists how the target's live state (pre) differs from the state the analysis
// examined, when t is the analyzed workload; nil otherwise.
func (v *Validator) staleSinceAnalysis(t common.TargetResource, pre *common.Preconditions) []string {
	a := v.Analyzed
	if a == nil || a.Kind != t.Kind || a.Namespace != t.Namespace || a.Name != t.Name {
		return nil
	}
	return preconditions.Changed(&a.Preconditions, pre)
}

// resolved is what an action touches in its target (actions.Resolve, the executor's own
// resolution), or why the action does not fit it.
type resolved struct {
	actions.Resolution
	// problem and reason say why the action does not fit the target.
	problem, reason string
}

// resolve asks pkg/shared/actions what the action touches and the object it sends: live objects
// through the Reader, the /scale through the Writer.
func (v *Validator) resolve(ctx context.Context, action actions.Name, live client.Object, params map[string]string) (*resolved, error) {
	res, err := actions.Resolve(ctx, cluster{Reader: v.Reader, sub: v.Writer}, action, live, params, v.now())
	if m, ok := actions.AsMismatch(err); ok {
		return mismatch(m), nil
	}
	if err != nil {
		return nil, transientError{err}
	}
	return &resolved{Resolution: *res}, nil
}

// cluster reads objects with a Reader and subresources with a client.
type cluster struct {
	client.Reader
	sub client.Client
}

func (c cluster) SubResource(subResource string) client.SubResourceClient {
	return c.sub.SubResource(subResource)
}

// mismatch turns an action that does not fit its target into the reason it stands for.
func mismatch(err error) *resolved {
	reason := workflowv1.ReasonTargetMismatch
	switch {
	case errors.Is(err, actions.ErrInvalidParameters):
		reason = workflowv1.ReasonInvalidParameters
	case errors.Is(err, actions.ErrUnsupportedTarget):
		reason = workflowv1.ReasonUnsupportedTarget
	case errors.Is(err, actions.ErrTargetNotFound):
		reason = workflowv1.ReasonTargetNotFound
	}
	return &resolved{problem: err.Error(), reason: reason}
}

// checkPermissions asks the API server, with one SubjectAccessReview per verb, whether the
// executor may use every verb the catalog lists for the action on this target.
func (v *Validator) checkPermissions(ctx context.Context, s *stepCheck, a actions.Action, t common.TargetResource) error {
	groups, err := ServiceAccountGroups(v.Executor)
	if err != nil {
		return err
	}
	targetResource := resourceOf(t.Kind)
	var attrs []authorizationv1.ResourceAttributes
	for _, verb := range a.Verbs {
		resource, sub, _ := strings.Cut(verb.Resource, "/")
		// Verbs on the other kinds the action accepts are not needed for this target.
		if resource != targetResource && acceptsResource(a, resource) {
			continue
		}
		namespace := t.Namespace
		switch {
		case a.ClusterScoped, resource == "nodes", resource == "namespaces", resource == "storageclasses":
			namespace = ""
		case t.Kind == actions.KindNamespace.Kind:
			namespace = t.Name
		}
		for _, vb := range verb.Verbs {
			ra := authorizationv1.ResourceAttributes{Namespace: namespace, Verb: vb, Group: verb.Group, Resource: resource, Subresource: sub}
			// Calls on the target itself name it, so that a role limited to resourceNames counts
			// (list and create name no object).
			if resource == targetResource && vb != "list" && vb != "create" {
				ra.Name = t.Name
			}
			attrs = append(attrs, ra)
		}
	}
	if len(attrs) == 0 {
		s.pass(workflowv1.CheckPermission, "the action needs no API verbs")
		return nil
	}
	denied := make([]string, len(attrs))
	errs := make([]error, len(attrs))
	var wg sync.WaitGroup
	for i, ra := range attrs {
		wg.Go(func() {
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User: v.Executor, Groups: groups, ResourceAttributes: &ra}}
			if err := v.Writer.Create(ctx, sar); err != nil {
				errs[i] = transientError{fmt.Errorf("asking whether %s may %s: %w", v.Executor, describeAttrs(ra), err)}
				return
			}
			if !sar.Status.Allowed {
				denied[i] = describeAttrs(ra)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	denied = slices.DeleteFunc(denied, func(d string) bool { return d == "" })
	if len(denied) > 0 {
		s.fail(workflowv1.CheckPermission, workflowv1.ReasonPermissionDenied, "the executor %s may not %s", v.Executor, strings.Join(denied, ", "))
		return nil
	}
	s.pass(workflowv1.CheckPermission, "the executor %s may use the %d verbs the action needs", v.Executor, len(attrs))
	return nil
}

func describeAttrs(ra authorizationv1.ResourceAttributes) string {
	res := ra.Resource
	if ra.Subresource != "" {
		res += "/" + ra.Subresource
	}
	if ra.Group != "" {
		res = ra.Group + "/" + res
	}
	where := "cluster-wide"
	if ra.Namespace != "" {
		where = "in " + ra.Namespace
	}
	if ra.Name != "" {
		res += " " + ra.Name
	}
	return ra.Verb + " " + res + " " + where
}

// dryRun sends the executor's call with dryRun=All and keeps the diff it reports.
func (v *Validator) dryRun(ctx context.Context, s *stepCheck, action actions.Name, target client.Object, r *resolved) error {
	var notes []string
	if r.Desired != nil {
		before := r.Live.DeepCopyObject().(client.Object)
		var err error
		if r.Subresource != "" {
			// The patch is computed from, and its result written into, the body.
			err = v.Writer.SubResource(r.Subresource).Patch(ctx, target, actions.Patch(r.Live), client.WithSubResourceBody(r.Desired), client.DryRunAll)
		} else {
			err = v.Writer.Patch(ctx, r.Desired, actions.Patch(r.Live), client.DryRunAll)
		}
		if err != nil {
			return v.rejected(s, err, "patching %s", describeObj(target))
		}
		changes, err := objdiff.Diff(before, r.Desired)
		if err != nil {
			return fmt.Errorf("diffing the dry-run of %s: %w", describeObj(target), err)
		}
		s.result.Diff, s.result.DiffOmitted = fieldChanges(changes)
		if len(changes) == 0 {
			notes = append(notes, "the API server accepts the change, which changes nothing")
		} else {
			notes = append(notes, fmt.Sprintf("the API server accepts the change of %d fields", len(changes)))
		}
	}
	for _, p := range r.Deletes {
		if err := v.Writer.Delete(ctx, &p, client.DryRunAll); err != nil && !apierrors.IsNotFound(err) {
			return v.rejected(s, err, "deleting Pod %s/%s", p.Namespace, p.Name)
		}
	}
	if len(r.Deletes) > 0 {
		notes = append(notes, fmt.Sprintf("the API server accepts deleting %d Pods", len(r.Deletes)))
	}
	var blocked []string
	for i, p := range r.Evictions {
		if i == maxEvictions {
			notes = append(notes, fmt.Sprintf("%d more Pods not dry-run", len(r.Evictions)-maxEvictions))
			break
		}
		ev := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace}}
		err := v.Writer.SubResource("eviction").Create(ctx, &p, ev, client.DryRunAll)
		switch {
		case err == nil, apierrors.IsNotFound(err):
		case apierrors.IsTooManyRequests(err):
			// A PodDisruptionBudget allows no disruption now; the drain waits for it.
			blocked = append(blocked, p.Namespace+"/"+p.Name)
		default:
			return v.rejected(s, err, "evicting Pod %s/%s", p.Namespace, p.Name)
		}
	}
	if n := len(r.Evictions); n > 0 {
		notes = append(notes, fmt.Sprintf("the API server accepts evicting %d Pods", min(n, maxEvictions)-len(blocked)))
	}
	if len(blocked) > 0 {
		notes = append(notes, "a PodDisruptionBudget blocks evicting "+strings.Join(blocked, ", ")+" for now; the drain waits for it up to its timeout")
	}
	if len(notes) == 0 {
		notes = append(notes, "nothing to dry-run")
	}
	s.pass(workflowv1.CheckDryRun, "dry-run: %s", strings.Join(notes, "; "))
	return nil
}

// rejected records a dry-run the API server refused, or returns the error when a retry may clear it.
func (v *Validator) rejected(s *stepCheck, err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if retryable(err) {
		return transientError{fmt.Errorf("dry-run %s: %w", what, err)}
	}
	s.fail(workflowv1.CheckDryRun, workflowv1.ReasonDryRunRejected, "the API server rejects the dry-run of %s: %s", what, apiMessage(err))
	return nil
}

func retryable(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return true
	}
	return apierrors.IsConflict(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsTooManyRequests(err) || apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) ||
		apierrors.IsUnexpectedServerError(err)
}

func apiMessage(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Message != "" {
		return status.Status().Message
	}
	return err.Error()
}

func fieldChanges(changes []objdiff.Change) ([]workflowv1.FieldChange, int32) {
	n := min(len(changes), maxDiff)
	out := make([]workflowv1.FieldChange, n)
	for i, c := range changes[:n] {
		out[i] = workflowv1.FieldChange{Path: text.TruncateBytes(c.Path, maxValueLength), Before: text.TruncateBytes(c.Before, maxValueLength), After: text.TruncateBytes(c.After, maxValueLength)}
	}
	return out, int32(len(changes) - n)
}

// resourceOf returns the plural resource of a kind the catalog knows.
func resourceOf(kind string) string {
	switch kind {
	case "Deployment", "StatefulSet", "DaemonSet", "Pod", "Node", "Namespace":
		return strings.ToLower(kind) + "s"
	case "PersistentVolumeClaim":
		return "persistentvolumeclaims"
	case "HorizontalPodAutoscaler":
		return "horizontalpodautoscalers"
	}
	return ""
}

func acceptsResource(a actions.Action, resource string) bool {
	for _, k := range a.TargetKinds {
		if resourceOf(k.Kind) == resource {
			return true
		}
	}
	return false
}

// describePreconditions says what the executor will hold the target to, beyond its UID.
func describePreconditions(p *common.Preconditions) string {
	var out string
	if p.Generation > 0 {
		out += fmt.Sprintf(", generation %d", p.Generation)
	}
	if p.Revision != "" {
		out += ", revision " + p.Revision
	}
	if p.PodTemplateHash != "" {
		out += ", pod-template-hash " + p.PodTemplateHash
	}
	return out
}

func describe(key client.ObjectKey) string {
	if key.Namespace == "" {
		return key.Name
	}
	return key.Namespace + "/" + key.Name
}

func describeObj(o client.Object) string { return describe(client.ObjectKeyFromObject(o)) }

func (v *Validator) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// ServiceAccountGroups returns the groups the API server gives the ServiceAccount user
// system:serviceaccount:<namespace>:<name>, which a SubjectAccessReview must carry for
// bindings to those groups to count.
func ServiceAccountGroups(user string) ([]string, error) {
	parts := strings.Split(user, ":")
	if len(parts) != 4 || parts[0] != "system" || parts[1] != "serviceaccount" || parts[2] == "" || parts[3] == "" {
		return nil, fmt.Errorf("%q is not a ServiceAccount user name (system:serviceaccount:<namespace>:<name>)", user)
	}
	return []string{"system:serviceaccounts", "system:serviceaccounts:" + parts[2], "system:authenticated"}, nil
}
