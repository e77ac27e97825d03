package action

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// byKind dispatches to the implementation for the target's kind.
type byKind map[string]Implementation

func (k byKind) impl(op *Op) (Implementation, error) {
	impl, ok := k[op.Target.Kind]
	if !ok {
		return nil, fmt.Errorf("no implementation of %s for kind %s", op.Action, op.Target.Kind)
	}
	return impl, nil
}

func (k byKind) Plan(ctx context.Context, env *Env, op *Op) (*Plan, error) {
	impl, err := k.impl(op)
	if err != nil {
		return nil, err
	}
	return impl.Plan(ctx, env, op)
}

func (k byKind) Applied(ctx context.Context, env *Env, op *Op) (bool, error) {
	impl, err := k.impl(op)
	if err != nil {
		return false, err
	}
	return impl.Applied(ctx, env, op)
}

func (k byKind) Verify(ctx context.Context, env *Env, op *Op) (bool, string, error) {
	impl, err := k.impl(op)
	if err != nil {
		return false, "", err
	}
	return impl.Verify(ctx, env, op)
}

func (k byKind) Revert(ctx context.Context, env *Env, op *Op, previousState string) error {
	impl, err := k.impl(op)
	if err != nil {
		return err
	}
	return impl.Revert(ctx, env, op, previousState)
}

// workloadActions builds one patch action per workload kind from a pod-template mutation.
func workloadActions(mutate func(env *Env, op *Op, tpl *corev1.PodTemplateSpec) (string, error), verify bool, reversible bool) byKind {
	d := &patchAction[*appsv1.Deployment]{
		newObj: func() *appsv1.Deployment { return &appsv1.Deployment{} },
		mutate: func(_ context.Context, env *Env, op *Op, o *appsv1.Deployment) (string, error) {
			return mutate(env, op, &o.Spec.Template)
		},
		reversible: reversible,
	}
	s := &patchAction[*appsv1.StatefulSet]{
		newObj: func() *appsv1.StatefulSet { return &appsv1.StatefulSet{} },
		mutate: func(_ context.Context, env *Env, op *Op, o *appsv1.StatefulSet) (string, error) {
			return mutate(env, op, &o.Spec.Template)
		},
		reversible: reversible,
	}
	ds := &patchAction[*appsv1.DaemonSet]{
		newObj: func() *appsv1.DaemonSet { return &appsv1.DaemonSet{} },
		mutate: func(_ context.Context, env *Env, op *Op, o *appsv1.DaemonSet) (string, error) {
			return mutate(env, op, &o.Spec.Template)
		},
		reversible: reversible,
	}
	if verify {
		d.verify, s.verify, ds.verify = actions.DeploymentRolledOut, actions.StatefulSetRolledOut, actions.DaemonSetRolledOut
	}
	return byKind{"Deployment": d, "StatefulSet": s, "DaemonSet": ds}
}
