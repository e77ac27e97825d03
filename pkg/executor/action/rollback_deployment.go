package action

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;patch
// +kubebuilder:rbac:groups=apps,resources=replicasets,verbs=get;list

func init() {
	register(actions.RollbackDeployment, &patchAction[*appsv1.Deployment]{
		newObj:     func() *appsv1.Deployment { return &appsv1.Deployment{} },
		mutate:     rollbackDeployment,
		verify:     actions.DeploymentRolledOut,
		reversible: true,
	})
}

// rollbackDeployment puts the pod template of the previous revision (or the revision
// parameter) back (actions.RollbackTemplate); its post-condition is the rollout finished.
func rollbackDeployment(ctx context.Context, env *Env, op *Op, d *appsv1.Deployment) (string, error) {
	rs, err := actions.ReplicaSetsOf(ctx, env.Client, d)
	if err != nil {
		return "", err
	}
	from := d.Annotations[actions.RevisionAnnotation]
	rev, err := actions.RollbackTemplate(d, rs, op.Params)
	if err != nil {
		return "", mutateErr(err)
	}
	return fmt.Sprintf("roll back from revision %s to revision %d", from, rev), nil
}
