package gateway

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
)

// resolvable lists the kinds whose controller owner is followed, and the owners accepted.
var resolvable = map[string]map[string]bool{
	"Pod":        {"ReplicaSet": true, "StatefulSet": true, "DaemonSet": true, "Job": true},
	"ReplicaSet": {"Deployment": true},
	"Job":        {"CronJob": true},
}

// resolveTarget follows controller owner references from t to its top-level controller, with
// metadata-only reads straight from the API server. A target the API server does not know is
// kept as it is; an API server that cannot answer is an error.
func (g *Gateway) resolveTarget(ctx context.Context, t common.TargetResource) (common.TargetResource, error) {
	for range 4 {
		owners, ok := resolvable[t.Kind]
		if !ok || t.Namespace == "" {
			return t, nil
		}
		gv, err := schema.ParseGroupVersion(t.APIVersion)
		if err != nil {
			return t, nil
		}
		obj := &metav1.PartialObjectMetadata{}
		obj.SetGroupVersionKind(gv.WithKind(t.Kind))
		if err := g.reader.Get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: t.Name}, obj); err != nil {
			if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
				return t, nil
			}
			apiErrors.WithLabelValues("get_" + t.Kind).Inc()
			return t, fmt.Errorf("reading %s %s/%s: %w", t.Kind, t.Namespace, t.Name, err)
		}
		ref := metav1.GetControllerOf(obj)
		if ref == nil || !owners[ref.Kind] {
			return t, nil
		}
		t = common.TargetResource{APIVersion: ref.APIVersion, Kind: ref.Kind, Namespace: t.Namespace, Name: ref.Name}
	}
	return t, nil
}
