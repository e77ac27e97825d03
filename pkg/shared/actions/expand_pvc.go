package actions

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
)

// expand_pvc: grow the claim's storage request (GrowClaim); its StorageClass must allow
// expansion.
func expandPVCAction() Action {
	return Action{
		Name:    ExpandPVC,
		Timeout: 5 * time.Minute,
		Description: "Grow a PersistentVolumeClaim to a new size, e.g. when its volume is filling " +
			"up. Its StorageClass must allow volume expansion. Cannot be undone: a claim can never " +
			"shrink.",
		TargetKinds: []TargetKind{KindPersistentVolumeClaim},
		Params: []Param{
			{
				Name:        "size",
				Description: `New total storage request, e.g. "20Gi"; must be larger than the current size.`,
				Type:        ParamQuantity,
				Required:    true,
			},
		},
		Risk:       RiskMedium,
		Reversible: false,
		Verbs: []Verb{
			{Group: "", Resource: "persistentvolumeclaims", Verbs: getPatch()},
			// To check that the claim's StorageClass allows expansion.
			{Group: "storage.k8s.io", Resource: "storageclasses", Verbs: []string{"get"}},
		},
	}
}

// GrowClaim sets the claim's storage request to the size parameter, which must be larger than
// the current request.
func GrowClaim(p *corev1.PersistentVolumeClaim, params map[string]string) error {
	q, err := resource.ParseQuantity(params["size"])
	if err != nil {
		return fmt.Errorf("%w: size: %w", ErrInvalidParameters, err)
	}
	if cur, ok := p.Spec.Resources.Requests[corev1.ResourceStorage]; ok && q.Cmp(cur) <= 0 {
		return fmt.Errorf("%w: PersistentVolumeClaim %s/%s requests %s, asked for %s", ErrNotAnIncrease, p.Namespace, p.Name, cur.String(), q.String())
	}
	p.Spec.Resources.Requests = set(p.Spec.Resources.Requests, corev1.ResourceStorage, q)
	return nil
}

func mutateExpandPVC(obj client.Object, params map[string]string, _ Inputs) error {
	p, err := targetAs[*corev1.PersistentVolumeClaim](ExpandPVC, "a PersistentVolumeClaim", obj)
	if err != nil {
		return err
	}
	return GrowClaim(p, params)
}

// resolveExpandPVC says what the claim requests now.
func resolveExpandPVC(_ context.Context, _ Cluster, live client.Object, _ map[string]string, r *Resolution, _ *Inputs) error {
	p, err := liveAs[*corev1.PersistentVolumeClaim](ExpandPVC, "a PersistentVolumeClaim", live)
	if err != nil {
		return err
	}
	q := p.Spec.Resources.Requests[corev1.ResourceStorage]
	r.Found = "claim requests " + q.String()
	return nil
}

// ExpansionAllowed refuses (InvalidParameters) a claim whose StorageClass does not allow volume
// expansion, or that has none. The executor checks it before the change; the workflow's dry-run
// meets the same rule in the API server's admission.
func ExpansionAllowed(ctx context.Context, c client.Reader, p *corev1.PersistentVolumeClaim) error {
	sc := ""
	if p.Spec.StorageClassName != nil {
		sc = *p.Spec.StorageClassName
	}
	if sc == "" {
		return Refuse(kev1.ReasonInvalidParameters, "PersistentVolumeClaim %s/%s has no StorageClass; it cannot be expanded", p.Namespace, p.Name)
	}
	class := &storagev1.StorageClass{}
	if err := c.Get(ctx, types.NamespacedName{Name: sc}, class); err != nil {
		if apierrors.IsNotFound(err) {
			return Refuse(kev1.ReasonInvalidParameters, "StorageClass %s of PersistentVolumeClaim %s/%s not found", sc, p.Namespace, p.Name)
		}
		return fmt.Errorf("reading StorageClass %s: %w", sc, err)
	}
	if class.AllowVolumeExpansion == nil || !*class.AllowVolumeExpansion {
		return Refuse(kev1.ReasonInvalidParameters, "StorageClass %s does not allow volume expansion", sc)
	}
	return nil
}
