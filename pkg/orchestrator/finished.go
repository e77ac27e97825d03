package orchestrator

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// finishedChildren keeps the final state of the children that have left the cache (see
// unfinished) for as long as their request still needs them: while it runs, and while its
// audit trail still has phases to store. A child is read from the API server once, when its
// request is reconciled after the child finished (or after a restart), and the copy is dropped
// when the request no longer needs its children. Memory is therefore bounded by the requests
// in flight, not by the requests in the cluster.
type finishedChildren struct {
	mu sync.Mutex
	m  map[types.NamespacedName]client.Object
}

// get copies the remembered final state of a child into obj.
func (f *finishedChildren) get(key types.NamespacedName) (client.Object, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	obj, ok := f.m[key]
	if !ok {
		return nil, false
	}
	return obj.DeepCopyObject().(client.Object), true
}

// put remembers the final state of a child.
func (f *finishedChildren) put(obj client.Object) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[types.NamespacedName]client.Object{}
	}
	f.m[client.ObjectKeyFromObject(obj)] = obj.DeepCopyObject().(client.Object)
}

// forgetRequest drops the children of a request (they carry deterministic names): when it no
// longer needs them, or when it is gone.
func (f *finishedChildren) forgetRequest(rr types.NamespacedName) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, name := range []string{processingName(rr.Name), analysisName(rr.Name), workflowName(rr.Name), executionName(rr.Name)} {
		delete(f.m, types.NamespacedName{Namespace: rr.Namespace, Name: name})
	}
}

// len is the number of children remembered (for tests and metrics).
func (f *finishedChildren) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m)
}
