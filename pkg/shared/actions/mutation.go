package actions

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The change an action makes to its live target. Two services send it and they must send the
// same thing: the workflow service as a server-side dry-run (dryRun=All) whose diff it shows for
// approval and audit, and the executor for real. Both call Mutate on a copy of the live object
// and send Patch(live), a JSON merge patch from the live object to the desired one carrying the
// live resourceVersion, so that a concurrent change makes the call fail instead of being
// overwritten. Each action's own mutation is in its file (<action>.go); errors that say the
// action does not fit the target wrap the sentinel errors below.

// The ways an action can fail to fit its target.
var (
	// ErrUnsupportedTarget: the object is not of a kind the action mutates.
	ErrUnsupportedTarget = errors.New("unsupported target")
	// ErrNotMutating: the action changes no object (restart_pod, delete_failed_pods, notify_only).
	ErrNotMutating = errors.New("action does not change its target")
	// ErrInvalidParameters: a parameter Apply needs is missing or unreadable (the catalog's
	// validation was skipped).
	ErrInvalidParameters = errors.New("invalid parameters")
	// ErrContainerNotFound: the named container is not in the Pod template.
	ErrContainerNotFound = errors.New("container not found")
	// ErrNoPreviousRevision: the Deployment has no earlier revision to roll back to.
	ErrNoPreviousRevision = errors.New("no previous revision")
	// ErrRevisionNotFound: the requested revision is not among the Deployment's ReplicaSets, or
	// is the current one.
	ErrRevisionNotFound = errors.New("revision not found")
	// ErrTaintNotFound: the Node has no taint to remove.
	ErrTaintNotFound = errors.New("taint not found")
	// ErrInvalidBounds: the HPA's resulting minReplicas would exceed maxReplicas.
	ErrInvalidBounds = errors.New("invalid replica bounds")
	// ErrNotAnIncrease: the PVC's requested size is not larger than its current size.
	ErrNotAnIncrease = errors.New("not an increase")
	// ErrNoCurrentValue: a container has neither a request nor a limit of the resource a
	// factor (memoryFactor, cpuFactor) would multiply.
	ErrNoCurrentValue = errors.New("no current value to multiply")
)

// Inputs are what some actions need beyond the target and the parameters.
type Inputs struct {
	// ReplicaSets the target's selector matches (rollback_deployment, ReplicaSetsOf); only those
	// the Deployment controls are considered.
	ReplicaSets []appsv1.ReplicaSet
	// Now stamps a rolling restart (rollout_restart); zero means time.Now().
	Now time.Time
}

// Patch returns the patch that turns live into the object a mutation produced from a copy of
// it: a JSON merge patch carrying live's resourceVersion (optimistic lock).
func Patch(live client.Object) client.Patch {
	return client.MergeFromWithOptions(live, client.MergeFromWithOptimisticLock{})
}

// mutation changes obj, a copy of the live target, into what the action makes of it (each in its
// action's file, listed in catalog.go's entries).
type mutation func(obj client.Object, params map[string]string, in Inputs) error

// Mutates reports whether the action changes its target object through Mutate.
func Mutates(action Name) bool {
	_, ok := mutations[action]
	return ok
}

// Mutate changes obj, a copy of the live target, into what the action makes of it. params are
// the step's parameters with catalog defaults filled in. For scale_deployment and
// scale_statefulset obj is the target's *autoscalingv1.Scale.
func Mutate(action Name, obj client.Object, params map[string]string, in Inputs) error {
	m, ok := mutations[action]
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotMutating, action)
	}
	return m(obj, params, in)
}

// PodTemplate returns the Pod template of a Deployment, StatefulSet or DaemonSet.
func PodTemplate(obj client.Object) (*corev1.PodTemplateSpec, error) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template, nil
	case *appsv1.StatefulSet:
		return &o.Spec.Template, nil
	case *appsv1.DaemonSet:
		return &o.Spec.Template, nil
	}
	return nil, fmt.Errorf("%w: %T has no Pod template", ErrUnsupportedTarget, obj)
}

func set(l corev1.ResourceList, name corev1.ResourceName, q resource.Quantity) corev1.ResourceList {
	if l == nil {
		l = corev1.ResourceList{}
	}
	l[name] = q.DeepCopy()
	return l
}

// intParam reads an integer parameter; absent optional parameters read as 0.
func intParam(params map[string]string, name string, required bool) (int64, error) {
	v, ok := params[name]
	if !ok || v == "" {
		if required {
			return 0, fmt.Errorf("%w: %s is required", ErrInvalidParameters, name)
		}
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrInvalidParameters, name, err)
	}
	return n, nil
}

// targetAs returns obj as T, or ErrUnsupportedTarget saying that action acts on kind (for
// example "a Node").
func targetAs[T client.Object](action Name, kind string, obj client.Object) (T, error) {
	t, ok := obj.(T)
	if !ok {
		return t, fmt.Errorf("%w: %s acts on %s, got %T", ErrUnsupportedTarget, action, kind, obj)
	}
	return t, nil
}

// liveAs is targetAs for a resolver: the live object not being a T is a Mismatch.
func liveAs[T client.Object](action Name, kind string, live client.Object) (T, error) {
	t, err := targetAs[T](action, kind, live)
	if err != nil {
		return t, &Mismatch{Err: err}
	}
	return t, nil
}
