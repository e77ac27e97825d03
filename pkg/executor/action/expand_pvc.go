package action

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get;patch
// +kubebuilder:rbac:groups=storage.k8s.io,resources=storageclasses,verbs=get

func init() {
	register(actions.ExpandPVC, &patchAction[*corev1.PersistentVolumeClaim]{
		newObj: func() *corev1.PersistentVolumeClaim { return &corev1.PersistentVolumeClaim{} },
		mutate: expandPVC,
	})
}

// expandPVC grows the claim (actions.GrowClaim) when its StorageClass allows expansion, by at
// most Limits.MaxResourceFactor.
func expandPVC(ctx context.Context, env *Env, op *Op, p *corev1.PersistentVolumeClaim) (string, error) {
	if err := actions.ExpansionAllowed(ctx, env.Client, p); err != nil {
		return "", err
	}
	old, had := p.Spec.Resources.Requests[corev1.ResourceStorage]
	if err := actions.GrowClaim(p, op.Params); err != nil {
		return "", mutateErr(err)
	}
	q := p.Spec.Resources.Requests[corev1.ResourceStorage]
	if f := env.Limits.MaxResourceFactor; had && old.Sign() > 0 && f > 0 {
		if ratio := float64(q.Value()) / float64(old.Value()); ratio > f {
			return "", refuse(kev1.ReasonBlastRadius, "storage %s → %s is a factor of %.2f, above the limit %.2f", old.String(), q.String(), ratio, f)
		}
	}
	return fmt.Sprintf("storage %s → %s", show(old, had), q.String()), nil
}
