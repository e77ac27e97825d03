package actions

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// rollback_deployment: put an earlier revision's Pod template back into the Deployment
// (RollbackTemplate), from the ReplicaSets the Deployment controls. Post-condition: the rollout
// finished.
func rollbackDeploymentAction() Action {
	return Action{
		Name:    RollbackDeployment,
		Timeout: 5 * time.Minute,
		Description: "Roll a Deployment back to an earlier revision of its Pod template (like " +
			"`kubectl rollout undo`), typically after a bad release. Undone by rolling back to the " +
			"revision that was current before.",
		TargetKinds: []TargetKind{KindDeployment},
		Params: []Param{
			{
				Name:        "revision",
				Description: "Revision to roll back to; defaults to the previous revision.",
				Type:        ParamInt,
				Min:         ptr[int64](1),
			},
		},
		Risk:       RiskMedium,
		Reversible: true,
		ReversedBy: RollbackDeployment,
		Verbs: []Verb{
			{Group: "apps", Resource: "deployments", Verbs: getPatch()},
			{Group: "apps", Resource: "replicasets", Verbs: []string{"get", "list"}},
		},
	}
}

// RevisionAnnotation is the annotation the Deployment controller writes on a Deployment and on
// its ReplicaSets with the revision number of their Pod template.
const RevisionAnnotation = "deployment.kubernetes.io/revision"

// RollbackTemplate puts the Pod template of an earlier revision back into the Deployment, as
// `kubectl rollout undo` does, and returns that revision. The revision parameter picks it;
// without it, the highest revision below the current one. Only ReplicaSets the Deployment
// controls count.
func RollbackTemplate(d *appsv1.Deployment, replicaSets []appsv1.ReplicaSet, params map[string]string) (int64, error) {
	want, err := intParam(params, "revision", false)
	if err != nil {
		return 0, err
	}
	current, _ := strconv.ParseInt(d.Annotations[RevisionAnnotation], 10, 64)
	owned := Revisions(d, replicaSets)
	var pick *appsv1.ReplicaSet
	var picked int64
	for _, rev := range slices.Backward(sortedKeys(owned)) {
		switch {
		case want > 0 && rev == want:
			pick, picked = owned[rev], rev
		case want == 0 && current > 0 && rev < current:
			pick, picked = owned[rev], rev
		case want == 0 && current == 0 && rev < maxKey(owned):
			// Without a known current revision the highest is taken to be current.
			pick, picked = owned[rev], rev
		default:
			continue
		}
		break
	}
	switch {
	case pick == nil && want > 0:
		return 0, fmt.Errorf("%w: revision %d of Deployment %s/%s (revisions kept: %v)", ErrRevisionNotFound, want, d.Namespace, d.Name, sortedKeys(owned))
	case pick == nil:
		return 0, fmt.Errorf("%w: Deployment %s/%s is at revision %d and keeps no earlier one", ErrNoPreviousRevision, d.Namespace, d.Name, current)
	case picked == current:
		return 0, fmt.Errorf("%w: revision %d is the current revision of Deployment %s/%s", ErrRevisionNotFound, picked, d.Namespace, d.Name)
	}
	tpl := pick.Spec.Template.DeepCopy()
	delete(tpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	d.Spec.Template = *tpl
	return picked, nil
}

// Revisions returns the ReplicaSets the Deployment controls, by the revision annotated on them.
func Revisions(d *appsv1.Deployment, replicaSets []appsv1.ReplicaSet) map[int64]*appsv1.ReplicaSet {
	out := map[int64]*appsv1.ReplicaSet{}
	for i := range replicaSets {
		rs := &replicaSets[i]
		ref := metav1.GetControllerOf(rs)
		if ref == nil || ref.UID != d.UID || rs.Namespace != d.Namespace {
			continue
		}
		rev, err := strconv.ParseInt(rs.Annotations[RevisionAnnotation], 10, 64)
		if err != nil || rev <= 0 {
			continue
		}
		out[rev] = rs
	}
	return out
}

func sortedKeys(m map[int64]*appsv1.ReplicaSet) []int64 {
	return slices.Sorted(maps.Keys(m))
}

func maxKey(m map[int64]*appsv1.ReplicaSet) int64 {
	var hi int64
	for k := range m {
		hi = max(hi, k)
	}
	return hi
}

func mutateRollbackDeployment(obj client.Object, params map[string]string, in Inputs) error {
	d, err := targetAs[*appsv1.Deployment](RollbackDeployment, "a Deployment", obj)
	if err != nil {
		return err
	}
	_, err = RollbackTemplate(d, in.ReplicaSets, params)
	return err
}

// resolveRollbackDeployment lists the Deployment's ReplicaSets (ReplicaSetsOf), whose revisions
// the rollback picks from.
func resolveRollbackDeployment(ctx context.Context, c Cluster, live client.Object, _ map[string]string, r *Resolution, in *Inputs) error {
	d, err := liveAs[*appsv1.Deployment](RollbackDeployment, "a Deployment", live)
	if err != nil {
		return err
	}
	rs, err := ReplicaSetsOf(ctx, c, d)
	if err != nil {
		return err
	}
	in.ReplicaSets = rs
	r.Found = fmt.Sprintf("revisions kept %v, current %s", sortedKeys(Revisions(d, rs)), d.Annotations[RevisionAnnotation])
	return nil
}

// ReplicaSetsOf lists, with c (live), the ReplicaSets of the Deployment's namespace that its
// selector matches, as the Deployment controller finds its own: the revisions RollbackTemplate
// picks from and preconditions.Capture reads the pod-template-hash from (only those the
// Deployment controls count, which both check). Not the whole namespace, which a namespace of
// many Deployments, each keeping its revision history, makes large.
func ReplicaSetsOf(ctx context.Context, c client.Reader, d *appsv1.Deployment) ([]appsv1.ReplicaSet, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("the selector of %s: %w", describeKey(d), err)
	}
	var list appsv1.ReplicaSetList
	if err := c.List(ctx, &list, client.InNamespace(d.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil, fmt.Errorf("listing the ReplicaSets of %s: %w", describeKey(d), err)
	}
	return list.Items, nil
}
