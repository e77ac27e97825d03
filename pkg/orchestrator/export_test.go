package orchestrator

import "k8s.io/apimachinery/pkg/types"

// AdmitForTest records key as admitted, as checkValves does before the first child is created,
// so a test can delete a request while it holds a slot the cache does not show yet.
func (r *Reconciler) AdmitForTest(key types.NamespacedName, targetNamespace string) {
	r.admission.mu.Lock()
	defer r.admission.mu.Unlock()
	if r.admission.inflight == nil {
		r.admission.inflight = map[types.NamespacedName]string{}
	}
	r.admission.inflight[key] = targetNamespace
}
