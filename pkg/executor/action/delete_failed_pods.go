package action

import (
	"context"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get
// +kubebuilder:rbac:groups="",resources=pods,verbs=list;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get

func init() { register(actions.DeleteFailedPods, deleteFailedPods{}) }

// deleteFailedPods deletes the pods in phase Failed of a namespace, or of a Deployment (its
// selector), optionally narrowed by labelSelector, at most maxPods, each with its UID as
// precondition. Running pods and pods labelled kubernaut.io/protected=true are never touched. More than Limits.MaxDeletePods is refused.
type deleteFailedPods struct{}

func (deleteFailedPods) Plan(ctx context.Context, env *Env, op *Op) (*Plan, error) {
	var target client.Object
	ns := op.Target.Namespace
	switch op.Target.Kind {
	case "Namespace":
		ns = op.Target.Name
		target = &corev1.Namespace{}
	default:
		target = &appsv1.Deployment{}
	}
	if err := env.Client.Get(ctx, types.NamespacedName{Namespace: op.Target.Namespace, Name: op.Target.Name}, target); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, refuse(kev1.ReasonTargetNotFound, "%s %s not found", op.Target.Kind, op.Target.Name)
		}
		return nil, fmt.Errorf("reading %s %s: %w", op.Target.Kind, op.Target.Name, err)
	}
	failed, err := actions.FailedPods(ctx, env.Client, target, op.Params)
	if err != nil {
		return nil, err
	}
	if m := env.Limits.MaxDeletePods; m > 0 && len(failed) > m {
		return &Plan{Target: target}, refuse(kev1.ReasonBlastRadius, "%d failed pods to delete, above the limit of %d", len(failed), m)
	}
	names := make([]string, len(failed))
	for i, p := range failed {
		names[i] = p.Name
	}
	cooldownKey := "" // nothing to delete is no change to cool down from
	if len(failed) > 0 {
		cooldownKey = CooldownKeyOf(op.Target.Kind, op.Target.Namespace, op.Target.Name)
	}
	return &Plan{
		Target:      target,
		CooldownKey: cooldownKey,
		Summary:     fmt.Sprintf("delete %d failed pods in %s: %s", len(failed), ns, strings.Join(names, ", ")),
		Apply: func(ctx context.Context, dryRun bool) (string, error) {
			var lines []string
			for i := range failed {
				line, err := deletePod(ctx, env, &failed[i], nil, dryRun)
				if err != nil {
					return "", err
				}
				lines = append(lines, line)
			}
			if len(lines) == 0 {
				return "no failed pods", nil
			}
			return strings.Join(lines, "\n"), nil
		},
	}, nil
}

// Applied is always false: deleting the failed pods again deletes only pods that failed since,
// which is what the operation asks for.
func (deleteFailedPods) Applied(context.Context, *Env, *Op) (bool, error) { return false, nil }

func (deleteFailedPods) Verify(context.Context, *Env, *Op) (bool, string, error) {
	return true, "", nil
}

func (deleteFailedPods) Revert(context.Context, *Env, *Op, string) error {
	return errors.New("delete_failed_pods cannot be reverted")
}
