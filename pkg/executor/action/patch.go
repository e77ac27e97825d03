package action

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions/mutate"
	"github.com/kubernaut/kubernaut/pkg/shared/objdiff"
)

// maxPreviousState is the bound of status.operationResults[].rollback.previousState.
const maxPreviousState = 16384

// maxDiff bounds the recorded diff (status.operationResults[].dryRunResult is 4096).
const maxDiff = 4000

// patchAction is an action that changes one object with a single JSON merge patch: mutate
// computes the desired object from a copy of the live one (with pkg/shared/actions/mutate, the
// function the workflow's dry-run uses), and the patch from live to desired (mutate.Patch, as
// the workflow sends it) carries the live object's resourceVersion and UID as preconditions and
// the last-remediation annotation. Its reverse patch, from desired back to live, is the recorded
// before-state.
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
	forward, err := patchData(mutate.Patch(live), desired)
	if err != nil {
		return nil, err
	}
	forward = withPreconditions(forward, string(live.GetUID()), live.GetResourceVersion())
	p := &Plan{Target: live, Summary: summary}
	if a.unschedulable != nil {
		p.NodeUnschedulable = a.unschedulable(desired)
	}
	if a.reversible {
		restored := live.DeepCopyObject().(T)
		rb := op.ID
		rb.Operation = "rollback:" + op.ID.Operation
		setAnnotation(restored, rb.Encode())
		reverse, err := patchData(client.MergeFrom(desired), restored)
		if err != nil {
			return nil, err
		}
		reverse = withPreconditions(reverse, string(live.GetUID()), "")
		if raw, _ := json.Marshal(reverse); len(raw) <= maxPreviousState {
			p.PreviousState = string(raw)
		}
	}
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
		return diff(live, out), nil
	}
	return p, nil
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

func (a *patchAction[T]) Revert(ctx context.Context, env *Env, op *Op, previousState string) error {
	if previousState == "" {
		return fmt.Errorf("no recorded before-state for %s", op.Name)
	}
	obj := a.newObj()
	obj.SetNamespace(op.Target.Namespace)
	obj.SetName(op.Target.Name)
	if err := env.Client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(previousState))); err != nil {
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
