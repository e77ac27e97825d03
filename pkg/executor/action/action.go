// Package action carries out the catalog's actions (pkg/shared/actions) against the cluster: one
// file per action, each an Implementation registered under the catalog Name it implements.
//
// What an action means — how it resolves its target, which pods it selects, the change it makes
// and its post-condition — lives in its file in pkg/shared/actions, which the workflow's
// validation calls too; this package keeps running it: the blast-radius limits, the write with
// its preconditions and identity, waiting for the post-condition, the revert and status.
//
// Every implementation follows the same contract, which is what makes the executor safe:
//
//   - Plan reads the live target and computes the change without making it. It refuses, with a
//     *Refusal carrying a typed reason, a change beyond the configured blast radius.
//   - The Plan's Apply makes the change so that repeating it is harmless: absolute values, the
//     resourceVersion and UID of the object that was read as preconditions, and the
//     kubernaut.io/last-remediation annotation carrying the operation's identity written in the
//     same request as the change; deletes carry a UID precondition. With dryRun it asks the API
//     server for a server-side dry-run and changes nothing.
//   - Applied reports whether the live target already carries this operation's change (after a
//     crash between the change and the status write).
//   - Verify checks the post-condition (a rollout finished, a node unschedulable, replicas
//     reached); Revert re-applies the before-state recorded in the Plan.
//
// The RBAC markers of each file grant exactly the verbs its catalog entry lists.
package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// Limits bound what one operation may change (the blast radius). Zero values mean the
// defaults of DefaultLimits.
type Limits struct {
	// MaxReplicas is the largest replica count a scale may set.
	MaxReplicas int32
	// MaxScaleFactor is the largest ratio between the new and the current replica count, in
	// either direction (a scale from 0 or to 0 counts as from or to 1).
	MaxScaleFactor float64
	// MaxResourceFactor is the largest ratio between a new and the current resource amount
	// (requests, limits, a PVC size).
	MaxResourceFactor float64
	// MaxMemory and MaxCPU cap a container's new request or limit.
	MaxMemory, MaxCPU resource.Quantity
	// MaxDrainPods is the largest number of pods a drain may evict.
	MaxDrainPods int
	// MaxDeletePods is the largest number of pods delete_failed_pods may delete.
	MaxDeletePods int
}

// DefaultLimits returns the limits used when the safety ConfigMap sets none.
func DefaultLimits() Limits {
	return Limits{
		MaxReplicas:       20,
		MaxScaleFactor:    3,
		MaxResourceFactor: 4,
		MaxMemory:         resource.MustParse("16Gi"),
		MaxCPU:            resource.MustParse("8"),
		MaxDrainPods:      30,
		MaxDeletePods:     50,
	}
}

// Identity names one operation of one execution; it is what the last-remediation annotation
// carries.
type Identity struct {
	// Execution is the KubernetesExecution's namespace/name.
	Execution string `json:"execution"`
	// UID is the KubernetesExecution's UID.
	UID string `json:"uid"`
	// Operation is the operation's name.
	Operation string `json:"operation"`
	// Time is when the operation started, so that repeating the change writes the same value.
	Time time.Time `json:"time"`
}

// Encode returns the annotation value.
func (id Identity) Encode() string {
	raw, _ := json.Marshal(id) // a struct of strings and a time always marshals
	return string(raw)
}

// ParseIdentity decodes an annotation value.
func ParseIdentity(s string) (Identity, error) {
	var id Identity
	if err := json.Unmarshal([]byte(s), &id); err != nil {
		return id, fmt.Errorf("decoding %s: %w", kev1.AnnotationLastRemediation, err)
	}
	return id, nil
}

// Same reports whether both name the same operation of the same execution.
func (id Identity) Same(o Identity) bool {
	return id.UID == o.UID && id.Operation == o.Operation
}

// Op is one operation as an implementation sees it.
type Op struct {
	common.Operation
	// Params are the operation's parameters with the catalog defaults filled in.
	Params map[string]string
	// ID is the operation's identity.
	ID Identity
	// Deadline bounds the operation (its post-condition, a drain's evictions).
	Deadline time.Time
	// LiveUID is the UID of the target as read before the change (status), once recorded.
	LiveUID string
}

// Env is what implementations use to reach the cluster.
type Env struct {
	// Client reads live from the API server (never a cache) and writes.
	Client client.Client
	// Clientset makes the calls that must not be retried by the client: evictions, which a
	// PodDisruptionBudget answers 429 with Retry-After (the drain retries them itself).
	Clientset kubernetes.Interface
	// Limits bound the blast radius.
	Limits Limits
	// Now is the clock.
	Now func() time.Time
}

// Plan is a computed change, not yet made.
type Plan struct {
	// Target is the live target as read (nil for actions that change nothing). The executor
	// checks its labels, UID and annotations before any change.
	Target client.Object
	// Summary says in a few words what the change does, e.g. "replicas 2 → 4".
	Summary string
	// PreviousState is the before-state Revert needs (JSON); empty when not reversible.
	PreviousState string
	// Apply makes the change; with dryRun the API server only validates it. It returns a
	// one-line-per-field description of the change as the server computed it.
	Apply func(ctx context.Context, dryRun bool) (string, error)
	// NodeUnschedulable is set by node actions that leave their node unschedulable (cordon,
	// drain, a NoSchedule or NoExecute taint), for the executor's node-share check.
	NodeUnschedulable bool
	// CooldownKey is set by actions that delete rather than patch (restart_pod,
	// delete_failed_pods), whose target cannot keep the kubernaut.io/last-remediation
	// annotation: the object the cooldown applies to, "Kind/namespace/name". The executor keeps
	// it in the operation's result and refuses another such change within the cooldown.
	CooldownKey string
}

// CooldownKeyOf is the CooldownKey of an object.
func CooldownKeyOf(kind, namespace, name string) string {
	return kind + "/" + namespace + "/" + name
}

// Implementation carries out one catalog action.
type Implementation interface {
	// Plan reads the live target and computes the change; it changes nothing.
	Plan(ctx context.Context, env *Env, op *Op) (*Plan, error)
	// Applied reports whether the live target already carries the change of op (a restart
	// after the change, before the status write).
	Applied(ctx context.Context, env *Env, op *Op) (bool, error)
	// Verify checks the post-condition of an applied change: done, and a message about what it
	// waits for. Implementations without a post-condition return true.
	Verify(ctx context.Context, env *Env, op *Op) (done bool, waiting string, err error)
	// Revert restores the before-state recorded in Plan.PreviousState.
	Revert(ctx context.Context, env *Env, op *Op, previousState string) error
}

// ChangingVerifier is implemented by actions whose Verify changes the cluster (a drain evicts
// the pods left): the executor treats each such check as a change (kill switch, dry-run, chain).
type ChangingVerifier interface {
	VerifyChanges() bool
}

// TimeoutReasoner is implemented by actions whose unmet post-condition has its own reason.
type TimeoutReasoner interface {
	// TimeoutReason is the reason of the failure when the post-condition does not hold in time.
	TimeoutReason() string
}

// Refusal is a change the implementation will not make; nothing was changed.
type Refusal = actions.Refusal

func refuse(reason, format string, args ...any) error {
	return actions.Refuse(reason, format, args...)
}

// AsRefusal returns the refusal in err, if any.
func AsRefusal(err error) (*Refusal, bool) {
	var r *Refusal
	ok := errors.As(err, &r)
	return r, ok
}

// registry maps catalog names to implementations.
var registry = map[actions.Name]Implementation{}

func register(name actions.Name, impl Implementation) {
	if _, dup := registry[name]; dup {
		panic("action registered twice: " + name)
	}
	registry[name] = impl
}

// For returns the implementation of a catalog action.
func For(name string) (Implementation, bool) {
	impl, ok := registry[actions.Name(name)]
	return impl, ok
}
