package actions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Cluster is what resolving an action reads: live objects (never a cache: a target deleted and
// recreated must be seen) and the /scale subresource. A controller-runtime client.Client is one.
type Cluster interface {
	client.Reader
	SubResource(subResource string) client.SubResourceClient
}

// Resolution is what an action touches in its live target and the change it makes: what the
// workflow's validation shows for approval and dry-runs, and what the executor makes.
type Resolution struct {
	// Found says what was found, for a person.
	Found string
	// Live and Desired are the object the action changes as read and as it is sent (Desired nil
	// when the action changes no object). Send Patch(Live) with Desired.
	Live, Desired client.Object
	// Subresource is "scale" when Live and Desired are the target's /scale.
	Subresource string
	// Deletes and Evictions are the Pods the action deletes or evicts.
	Deletes, Evictions []corev1.Pod
}

// Ways an action fails to fit its live target, beyond the mutations' (mutation.go).
var (
	// ErrTargetNotFound: something the action acts on is gone (the target's /scale).
	ErrTargetNotFound = errors.New("target not found")
	// ErrNoController: a Pod without a controller, which nothing would recreate.
	ErrNoController = errors.New("no controller")
	// ErrProtected: the action would touch a Pod labelled kubernaut.io/protected=true.
	ErrProtected = errors.New("protected")
)

// Mismatch is an action that does not fit its live target (a container that does not exist, a
// Pod without a controller, protected Pods on a Node), as opposed to a failure to read the
// cluster. Err is or wraps one of the sentinel errors; Msg, when set, is the message.
type Mismatch struct {
	Err error
	Msg string
}

func (m *Mismatch) Error() string {
	if m.Msg != "" {
		return m.Msg
	}
	return m.Err.Error()
}
func (m *Mismatch) Unwrap() error { return m.Err }

// AsMismatch returns the Mismatch in err, if any.
func AsMismatch(err error) (*Mismatch, bool) {
	var m *Mismatch
	ok := errors.As(err, &m)
	return m, ok
}

func mismatchf(sentinel error, format string, args ...any) error {
	return &Mismatch{Err: sentinel, Msg: fmt.Sprintf(format, args...)}
}

// resolver says what an action touches in its live target (each in its action's file, listed in
// catalog.go's entries). Inputs it fills feed the action's mutation.
type resolver func(ctx context.Context, c Cluster, live client.Object, params map[string]string, r *Resolution, in *Inputs) error

// Resolve reads what the action touches besides its live target (the /scale, ReplicaSets,
// Pods), selects what it deletes or evicts, and computes the object it sends (Mutate on a copy
// of live): the one resolution both the workflow's validation and the executor use. An action
// that does not fit the target is a *Mismatch; any other error is a failure to read.
func Resolve(ctx context.Context, c Cluster, action Name, live client.Object, params map[string]string, now time.Time) (*Resolution, error) {
	resolve, ok := resolvers[action]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownAction, action)
	}
	r := &Resolution{Live: live}
	in := Inputs{Now: now}
	if err := resolve(ctx, c, live, params, r, &in); err != nil {
		return nil, err
	}
	if !Mutates(action) {
		return r, nil
	}
	desired := r.Live.DeepCopyObject().(client.Object)
	if err := Mutate(action, desired, params, in); err != nil {
		return nil, &Mismatch{Err: err}
	}
	r.Desired = desired
	return r, nil
}

// describeKey is namespace/name, or name for a cluster-scoped object.
func describeKey(o client.Object) string {
	if o.GetNamespace() == "" {
		return o.GetName()
	}
	return o.GetNamespace() + "/" + o.GetName()
}

// PodList names up to five Pods, " (ns/a, ns/b, … 3 more)"; "" for none.
func PodList(pods []corev1.Pod) string {
	if len(pods) == 0 {
		return ""
	}
	names := make([]string, 0, min(len(pods), 5))
	for _, p := range pods[:min(len(pods), 5)] {
		names = append(names, p.Namespace+"/"+p.Name)
	}
	if len(pods) > 5 {
		names = append(names, fmt.Sprintf("… %d more", len(pods)-5))
	}
	return " (" + strings.Join(names, ", ") + ")"
}
