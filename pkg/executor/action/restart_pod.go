package action

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// +kubebuilder:rbac:groups="",resources=pods,verbs=get;delete

func init() { register(actions.RestartPod, restartPod{}) }

// restartPod deletes one pod, with its UID as precondition, so that its controller recreates
// it. A pod without a controller is refused: nothing would recreate it.
type restartPod struct{}

func (restartPod) get(ctx context.Context, env *Env, op *Op) (*corev1.Pod, error) {
	pod := &corev1.Pod{}
	key := types.NamespacedName{Namespace: op.Target.Namespace, Name: op.Target.Name}
	if err := env.Client.Get(ctx, key, pod); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, refuse(kev1.ReasonTargetNotFound, "Pod %s not found", key)
		}
		return nil, fmt.Errorf("reading Pod %s: %w", key, err)
	}
	return pod, nil
}

func (a restartPod) Plan(ctx context.Context, env *Env, op *Op) (*Plan, error) {
	pod, err := a.get(ctx, env, op)
	if err != nil {
		return nil, err
	}
	// The resolution the workflow validated: the pod, and only with a controller.
	if _, err := actions.Resolve(ctx, env.Client, actions.RestartPod, pod, op.Params, op.ID.Time); err != nil {
		if errors.Is(err, actions.ErrNoController) {
			return &Plan{Target: pod}, refuse(kev1.ReasonBlastRadius, "Pod %s/%s has no controller: deleting it would not recreate it", pod.Namespace, pod.Name)
		}
		return nil, err
	}
	owner := metav1.GetControllerOf(pod)
	grace, err := gracePeriod(op.Params)
	if err != nil {
		return nil, err
	}
	return &Plan{
		Target:      pod,
		CooldownKey: CooldownKeyOf(owner.Kind, pod.Namespace, owner.Name),
		Summary:     fmt.Sprintf("delete Pod %s/%s (uid %s) for its %s %s to recreate", pod.Namespace, pod.Name, pod.UID, owner.Kind, owner.Name),
		Apply: func(ctx context.Context, dryRun bool) (string, error) {
			return deletePod(ctx, env, pod, grace, dryRun)
		},
	}, nil
}

// deletePod deletes pod with its UID as precondition; a pod already gone is fine.
func deletePod(ctx context.Context, env *Env, pod *corev1.Pod, grace *int64, dryRun bool) (string, error) {
	opts := []client.DeleteOption{client.Preconditions{UID: &pod.UID}}
	if grace != nil {
		opts = append(opts, client.GracePeriodSeconds(*grace))
	}
	if dryRun {
		opts = append(opts, client.DryRunAll)
	}
	err := env.Client.Delete(ctx, pod, opts...)
	switch {
	case err == nil:
		return fmt.Sprintf("Pod %s/%s deleted", pod.Namespace, pod.Name), nil
	case apierrors.IsNotFound(err) || apierrors.IsConflict(err): // gone, or replaced by a new pod
		return fmt.Sprintf("Pod %s/%s (uid %s) already gone", pod.Namespace, pod.Name, pod.UID), nil
	}
	return "", fmt.Errorf("deleting Pod %s/%s: %w", pod.Namespace, pod.Name, err)
}

// Applied: the pod that was read before the change is gone, terminating or replaced.
func (a restartPod) Applied(ctx context.Context, env *Env, op *Op) (bool, error) {
	if op.LiveUID == "" {
		return false, nil
	}
	pod, err := a.get(ctx, env, op)
	if _, ok := AsRefusal(err); ok {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return string(pod.UID) != op.LiveUID || pod.DeletionTimestamp != nil, nil
}

func (restartPod) Verify(context.Context, *Env, *Op) (bool, string, error) { return true, "", nil }

func (restartPod) Revert(context.Context, *Env, *Op, string) error {
	return errors.New("restart_pod cannot be reverted")
}

// gracePeriod reads the gracePeriodSeconds parameter; nil means the pod's own.
func gracePeriod(params map[string]string) (*int64, error) {
	v, ok := params["gracePeriodSeconds"]
	if !ok || v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, refuse(kev1.ReasonInvalidParameters, "gracePeriodSeconds: %v", err)
	}
	return &n, nil
}
