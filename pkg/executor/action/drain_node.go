package action

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;delete
// +kubebuilder:rbac:groups="",resources=pods/eviction,verbs=create
// +kubebuilder:rbac:groups=apps,resources=daemonsets,verbs=get

func init() { register(actions.DrainNode, drainNode{}) }

// drainNode cordons the node (the reversible part, undone by uncordon) and evicts its pods
// through the Eviction API, so that PodDisruptionBudgets hold: an eviction a budget refuses is
// retried until the operation's deadline, then the drain fails listing the pods left. Mirror
// pods and, with ignoreDaemonSets, DaemonSet pods are skipped; pods without a controller, pods
// with emptyDir data (unless deleteEmptyDirData) and more than Limits.MaxDrainPods pods are
// refused before anything changes, as `kubectl drain` refuses them.
type drainNode struct{}

func (drainNode) TimeoutReason() string { return kev1.ReasonDrainIncomplete }

func (d drainNode) Plan(ctx context.Context, env *Env, op *Op) (*Plan, error) {
	cordon, err := cordonAction.Plan(ctx, env, op)
	if err != nil {
		return cordon, err
	}
	pods, err := evictable(ctx, env, op.Target.Name, actions.DrainEvictOptions(op.Target.Name, op.Params))
	if err != nil {
		return &Plan{Target: cordon.Target}, err
	}
	grace, err := gracePeriod(op.Params)
	if err != nil {
		return nil, err
	}
	plan := *cordon
	plan.Summary = fmt.Sprintf("cordon node %s and evict %d pods: %s", op.Target.Name, len(pods), podNames(pods))
	plan.NodeUnschedulable = true
	p := &plan
	p.Apply = func(ctx context.Context, dryRun bool) (string, error) {
		out, err := cordon.Apply(ctx, dryRun)
		if err != nil {
			return "", err
		}
		p.PreviousState = cordon.PreviousState
		blocked, err := evict(ctx, env, pods, grace, dryRun)
		if err != nil {
			return "", err
		}
		lines := []string{out}
		for _, p := range pods {
			if reason, ok := blocked[p.Namespace+"/"+p.Name]; ok {
				lines = append(lines, fmt.Sprintf("evict %s/%s: %s", p.Namespace, p.Name, reason))
			} else {
				lines = append(lines, fmt.Sprintf("evict %s/%s", p.Namespace, p.Name))
			}
		}
		return strings.Join(lines, "\n"), nil
	}
	return p, nil
}

// evictable lists the pods the change would evict (actions.SelectEvictions, the selection the
// workflow's validation shows), refusing what the selection forbids and more than
// Limits.MaxDrainPods pods.
func evictable(ctx context.Context, env *Env, node string, o actions.EvictOptions) ([]corev1.Pod, error) {
	ev, err := actions.ListEvictions(ctx, env.Client, node, o)
	if err != nil {
		return nil, err
	}
	if rf := ev.Refusal(env.Limits.MaxDrainPods); rf != nil {
		return nil, rf
	}
	return ev.Pods, nil
}

// evict asks the Eviction API to evict each pod (with its UID as precondition) and returns the
// pods it refused, with why. A budget that refuses (429) is not an error: the drain retries.
func evict(ctx context.Context, env *Env, pods []corev1.Pod, grace *int64, dryRun bool) (map[string]string, error) {
	blocked := map[string]string{}
	for i := range pods {
		p := &pods[i]
		ev := &policyv1.Eviction{
			ObjectMeta:    metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace},
			DeleteOptions: &metav1.DeleteOptions{GracePeriodSeconds: grace, Preconditions: &metav1.Preconditions{UID: &p.UID}},
		}
		req := env.Clientset.CoreV1().RESTClient().Post().Namespace(p.Namespace).Resource("pods").Name(p.Name).
			SubResource("eviction").MaxRetries(0).Body(ev)
		if dryRun {
			req = req.VersionedParams(&metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}, scheme.ParameterCodec)
			ev.DeleteOptions.DryRun = []string{metav1.DryRunAll}
		}
		err := req.Do(ctx).Error()
		switch {
		case err == nil, apierrors.IsNotFound(err):
		case apierrors.IsTooManyRequests(err):
			blocked[p.Namespace+"/"+p.Name] = "blocked by a PodDisruptionBudget: " + err.Error()
		case apierrors.IsConflict(err): // replaced by a new pod with the same name
		default:
			return nil, fmt.Errorf("evicting Pod %s/%s: %w", p.Namespace, p.Name, err)
		}
	}
	return blocked, nil
}

func podNames(pods []corev1.Pod) string {
	names := make([]string, len(pods))
	for i, p := range pods {
		names[i] = p.Namespace + "/" + p.Name
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Applied: the node carries the operation's identity (the cordon was made); the evictions
// are then driven by Verify.
func (drainNode) Applied(ctx context.Context, env *Env, op *Op) (bool, error) {
	return cordonAction.Applied(ctx, env, op)
}

// VerifyChanges: the post-condition check of a drain evicts the pods left.
func (drainNode) VerifyChanges() bool { return true }

// Verify evicts what is left (evictions are idempotent) and is done when no pod remains to
// evict; pods being deleted count as evicted.
func (d drainNode) Verify(ctx context.Context, env *Env, op *Op) (bool, string, error) {
	o := actions.DrainEvictOptions(op.Target.Name, op.Params)
	pods, err := evictable(ctx, env, op.Target.Name, o)
	if err != nil {
		if rf, ok := AsRefusal(err); ok { // a pod the drain must not evict appeared
			return false, "", refuse(kev1.ReasonDrainIncomplete, "%s", rf.Message)
		}
		return false, "", err
	}
	if len(pods) == 0 {
		return true, "", nil
	}
	grace, err := gracePeriod(op.Params)
	if err != nil {
		return false, "", err
	}
	blocked, err := evict(ctx, env, pods, grace, false)
	if err != nil {
		return false, "", err
	}
	var left []string
	for _, p := range pods {
		k := p.Namespace + "/" + p.Name
		if reason, ok := blocked[k]; ok {
			left = append(left, k+" ("+reason+")")
		} else {
			left = append(left, k+" (eviction requested)")
		}
	}
	return false, fmt.Sprintf("%d pods not evicted: %s", len(left), strings.Join(left, "; ")), nil
}

// Revert uncordons the node; evicted pods do not move back.
func (drainNode) Revert(ctx context.Context, env *Env, op *Op, previousState string) error {
	return cordonAction.Revert(ctx, env, op, previousState)
}
