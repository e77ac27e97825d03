package app

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// IdentityMeta is the part of an object's metadata a slim cache entry keeps: identity, version,
// generation, creation and deletion. Cache transforms that keep a kind as "identity and phase"
// (the reconciler reads the whole object live when it works on it) build their entries on it.
func IdentityMeta(m *metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
		Generation: m.Generation, CreationTimestamp: m.CreationTimestamp, DeletionTimestamp: m.DeletionTimestamp}
}
