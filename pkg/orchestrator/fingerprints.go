package orchestrator

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
)

// fingerprints maps each signal fingerprint to the requests that carry it, for the
// consecutive-failure block. It replaces a cache field index: an index keeps two keyed sets per
// distinct value (namespaced and cluster-wide), about 900 bytes per request when fingerprints are
// unique, while this map keeps one short slice per fingerprint whose strings are those of the
// cached objects (about 100 bytes per request). It is fed by an event handler on the request
// informer; until that handler has seen the initial list, lookups scan the cache instead.
type fingerprints struct {
	mu     sync.RWMutex
	byFP   map[string][]types.NamespacedName
	synced func() bool
}

// start registers the event handler on the RemediationRequest informer of c.
func (f *fingerprints) start(ctx context.Context, c cache.Cache) error {
	f.byFP = map[string][]types.NamespacedName{}
	inf, err := c.GetInformer(ctx, &remediationv1.RemediationRequest{})
	if err != nil {
		return fmt.Errorf("getting the RemediationRequest informer: %w", err)
	}
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(o any) { f.add(o) },
		UpdateFunc: func(old, o any) {
			before, _, _ := entry(old)
			after, _, _ := entry(o)
			if before != after {
				f.remove(old)
				f.add(o)
			}
		},
		DeleteFunc: func(o any) {
			if tomb, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
				o = tomb.Obj
			}
			f.remove(o)
		},
	})
	if err != nil {
		return fmt.Errorf("watching RemediationRequests for the fingerprint map: %w", err)
	}
	f.synced = reg.HasSynced
	return nil
}

// entry is the fingerprint and key of a request seen by the informer (ok false for anything else).
func entry(o any) (fp string, key types.NamespacedName, ok bool) {
	rr, ok := o.(*remediationv1.RemediationRequest)
	if !ok {
		return "", key, false
	}
	return rr.Spec.SignalFingerprint, types.NamespacedName{Namespace: rr.Namespace, Name: rr.Name}, true
}

func (f *fingerprints) add(o any) {
	fp, key, ok := entry(o)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if keys := f.byFP[fp]; !slices.Contains(keys, key) {
		f.byFP[fp] = append(keys, key)
	}
}

func (f *fingerprints) remove(o any) {
	fp, key, ok := entry(o)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	keys := slices.DeleteFunc(f.byFP[fp], func(k types.NamespacedName) bool { return k == key })
	if len(keys) == 0 {
		delete(f.byFP, fp)
		return
	}
	f.byFP[fp] = keys
}

// list returns the cached requests of namespace carrying fingerprint.
func (f *fingerprints) list(ctx context.Context, c client.Reader, namespace, fingerprint string) ([]remediationv1.RemediationRequest, error) {
	if f.synced == nil || !f.synced() {
		// Not fed yet (or not started, in unit tests): scan the cache.
		var all remediationv1.RemediationRequestList
		if err := c.List(ctx, &all, client.InNamespace(namespace)); err != nil {
			return nil, err
		}
		return slices.DeleteFunc(all.Items, func(rr remediationv1.RemediationRequest) bool { return rr.Spec.SignalFingerprint != fingerprint }), nil
	}
	f.mu.RLock()
	keys := slices.Clone(f.byFP[fingerprint])
	f.mu.RUnlock()
	out := make([]remediationv1.RemediationRequest, 0, len(keys))
	for _, k := range keys {
		if k.Namespace != namespace {
			continue
		}
		var rr remediationv1.RemediationRequest
		if err := c.Get(ctx, k, &rr); err != nil {
			if client.IgnoreNotFound(err) == nil {
				continue // deleted since; the handler will catch up
			}
			return nil, err
		}
		out = append(out, rr)
	}
	return out, nil
}
