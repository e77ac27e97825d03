package action

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
	"github.com/kubernaut/kubernaut/pkg/shared/objdiff"
)

// maxPreviousState is the bound of status.operationResults[].rollback.previousState.
const maxPreviousState = 16384

// maxDiff bounds the recorded diff (status.operationResults[].dryRunResult is 4096).
const maxDiff = 4000

// patchAction is an action that changes one object with a single JSON merge patch: mutate
// computes the desired object from a copy of the live one (with pkg/shared/actions/mutate, the
// function the workflow's dry-run uses), and the patch from live to desired (actions.Patch, as
// the workflow sends it) carries the live object's resourceVersion and UID as preconditions and
// the last-remediation annotation. The fields it changes, before and after, are the recorded
// before-state (State), from which Revert puts back those fields only.
type patchAction[T client.Object] struct {
	newObj func() T
	// mutate changes obj (a copy of the live object) into the desired object and says what it
	// did; it returns a *Refusal for a change beyond the limits.
	mutate func(ctx context.Context, env *Env, op *Op, obj T) (string, error)
	// verify checks the post-condition on the live object; nil means none.
	verify func(obj T) (bool, string)
	// reversible says whether the reverse patch is recorded.
	reversible bool
	// unschedulable reports whether the desired node is unschedulable (node actions).
	unschedulable func(obj T) bool
}

func (a *patchAction[T]) get(ctx context.Context, env *Env, op *Op) (T, error) {
	obj := a.newObj()
	key := types.NamespacedName{Namespace: op.Target.Namespace, Name: op.Target.Name}
	if err := env.Client.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return obj, refuse(kev1.ReasonTargetNotFound, "%s %s not found", op.Target.Kind, key)
		}
		return obj, fmt.Errorf("reading %s %s: %w", op.Target.Kind, key, err)
	}
	return obj, nil
}

func (a *patchAction[T]) Plan(ctx context.Context, env *Env, op *Op) (*Plan, error) {
	live, err := a.get(ctx, env, op)
	if err != nil {
		return nil, err
	}
	desired := live.DeepCopyObject().(T)
	summary, err := a.mutate(ctx, env, op, desired)
	if err != nil {
		return &Plan{Target: live}, err
	}
	setAnnotation(desired, op.ID.Encode())
	forward, err := patchData(actions.Patch(live), desired)
	if err != nil {
		return nil, err
	}
	forward = withPreconditions(forward, string(live.GetUID()), live.GetResourceVersion())
	p := &Plan{Target: live, Summary: summary}
	if a.unschedulable != nil {
		p.NodeUnschedulable = a.unschedulable(desired)
	}
	st, err := NewState(live, desired)
	if err != nil {
		return nil, err
	}
	p.PreviousState = boundedState(st)
	p.Apply = func(ctx context.Context, dryRun bool) (string, error) {
		raw, _ := json.Marshal(forward)
		out := live.DeepCopyObject().(T)
		var opts []client.PatchOption
		if dryRun {
			opts = append(opts, client.DryRunAll)
		}
		if err := env.Client.Patch(ctx, out, client.RawPatch(types.MergePatchType, raw), opts...); err != nil {
			return "", fmt.Errorf("patching %s %s/%s: %w", op.Target.Kind, op.Target.Namespace, op.Target.Name, err)
		}
		if !dryRun {
			// What the API server stored is the after-state a revert tests for (quantities in
			// their canonical spelling), and its generation the one a later operation of the
			// same execution on this object expects.
			if st, err := NewState(live, out); err == nil {
				st.Generation = out.GetGeneration()
				p.PreviousState = boundedState(st)
			} else {
				p.PreviousState = WithGeneration(p.PreviousState, out.GetGeneration())
			}
		}
		return diff(live, out), nil
	}
	return p, nil
}

// boundedState encodes a state within the bound of status; a state too large keeps its UID and
// generation and drops its fields (the change can then not be reverted).
func boundedState(st *State) string {
	if s := st.Encode(); len(s) <= maxPreviousState {
		return s
	}
	return (&State{UID: st.UID, Generation: st.Generation, Truncated: true}).Encode()
}

func (a *patchAction[T]) Applied(ctx context.Context, env *Env, op *Op) (bool, error) {
	live, err := a.get(ctx, env, op)
	if err != nil {
		return false, err
	}
	return carries(live, op.ID), nil
}

func (a *patchAction[T]) Verify(ctx context.Context, env *Env, op *Op) (bool, string, error) {
	if a.verify == nil {
		return true, "", nil
	}
	live, err := a.get(ctx, env, op)
	if err != nil {
		return false, "", err
	}
	done, waiting := a.verify(live)
	return done, waiting, nil
}

// Revert puts back the fields the change wrote, and only those, while they still hold what it
// wrote: the JSON patch tests each of them (and the UID) in the same request, so that a change
// anyone made since, to these fields, is never overwritten (the revert is refused instead), and a
// change made since to any other field is kept.
func (a *patchAction[T]) Revert(ctx context.Context, env *Env, op *Op, previousState string) error {
	if previousState == "" {
		return fmt.Errorf("no recorded before-state for %s", op.Name)
	}
	st, err := ParseState(previousState)
	if err != nil {
		return err
	}
	if st.Truncated {
		return refuse(kev1.ReasonRollbackFailed, "the before-state of %s was too large to record", op.Name)
	}
	live, err := a.get(ctx, env, op)
	if err != nil {
		if _, ok := AsRefusal(err); ok {
			return refuse(kev1.ReasonRollbackFailed, "%s %s/%s is gone: nothing to revert", op.Target.Kind, op.Target.Namespace, op.Target.Name)
		}
		return err
	}
	if string(live.GetUID()) != st.UID {
		return refuse(kev1.ReasonRollbackFailed, "%s %s/%s was replaced since the change (uid %s, changed %s): not reverted",
			op.Target.Kind, op.Target.Namespace, op.Target.Name, live.GetUID(), st.UID)
	}
	m, err := toJSONMap(live)
	if err != nil {
		return err
	}
	rb := op.ID
	rb.Operation = "rollback:" + op.ID.Operation
	ops, changed := revertOps(m, st, rb.Encode())
	if len(changed) > 0 {
		return refuse(kev1.ReasonRollbackFailed, "%s %s/%s was changed since by someone else at %s: not reverted",
			op.Target.Kind, op.Target.Namespace, op.Target.Name, strings.Join(changed, ", "))
	}
	if len(ops) == 0 {
		return nil
	}
	body, err := json.Marshal(ops)
	if err != nil {
		return fmt.Errorf("encoding the revert of %s: %w", op.Name, err)
	}
	obj := a.newObj()
	obj.SetNamespace(op.Target.Namespace)
	obj.SetName(op.Target.Name)
	if err := env.Client.Patch(ctx, obj, client.RawPatch(types.JSONPatchType, body)); err != nil {
		if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
			// A test of the patch failed: the object changed between the read and the revert.
			return refuse(kev1.ReasonRollbackFailed, "reverting %s %s/%s: %v", op.Target.Kind, op.Target.Namespace, op.Target.Name, err)
		}
		return fmt.Errorf("reverting %s %s/%s: %w", op.Target.Kind, op.Target.Namespace, op.Target.Name, err)
	}
	return nil
}

// patchData returns the patch as a map.
func patchData(p client.Patch, obj client.Object) (map[string]any, error) {
	raw, err := p.Data(obj)
	if err != nil {
		return nil, fmt.Errorf("computing the patch: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// mutateErr turns an error of pkg/shared/actions/mutate (the action does not fit the target)
// into a refusal.
func mutateErr(err error) error {
	if err == nil {
		return nil
	}
	return refuse(kev1.ReasonInvalidParameters, "%v", err)
}

// withPreconditions adds metadata.uid (and resourceVersion when not empty) to a patch: the API
// server refuses the patch with a conflict when the live object differs.
func withPreconditions(patch map[string]any, uid, resourceVersion string) map[string]any {
	md, _ := patch["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
	}
	md["uid"] = uid
	if resourceVersion != "" {
		md["resourceVersion"] = resourceVersion
	}
	patch["metadata"] = md
	return patch
}

func setAnnotation(obj client.Object, value string) {
	ann := maps.Clone(obj.GetAnnotations())
	if ann == nil {
		ann = map[string]string{}
	}
	ann[kev1.AnnotationLastRemediation] = value
	obj.SetAnnotations(ann)
}

// carries reports whether obj's last-remediation annotation names op.
func carries(obj client.Object, id Identity) bool {
	v, ok := obj.GetAnnotations()[kev1.AnnotationLastRemediation]
	if !ok {
		return false
	}
	got, err := ParseIdentity(v)
	return err == nil && got.Same(id)
}

// diff renders the fields that differ between two versions of an object.
func diff(before, after any) string {
	changes, err := objdiff.Diff(before, after)
	if err != nil {
		return "diff unavailable: " + err.Error()
	}
	if len(changes) == 0 {
		return "no change"
	}
	return objdiff.Format(changes, maxDiff)
}
