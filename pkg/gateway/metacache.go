package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilcache "k8s.io/apimachinery/pkg/util/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// objKey identifies an object for the metadata cache.
type objKey struct {
	apiVersion, kind, namespace, name string
}

// ownerRef is the part of a controller owner reference the gateway follows.
type ownerRef struct {
	apiVersion, kind, name string
}

// objMeta is what the gateway remembers of an object: whether it exists, its controller, and
// for a Pod its pod-template-hash label.
type objMeta struct {
	exists       bool
	controller   *ownerRef
	templateHash string
}

// podTemplateHashLabel is the label the Deployment controller puts on the pod template of each
// ReplicaSet it creates, whose name is "<deployment>-<hash>" (appsv1.DefaultDeploymentUniqueLabelKey).
const podTemplateHashLabel = "pod-template-hash"

// errUnreadable wraps answers that say the gateway cannot read an object for a reason of the
// object or of the gateway's rights (forbidden, unknown kind, invalid name), never of the API
// server's health: the signal is stored unresolved instead of retried.
type errUnreadable struct{ err error }

func (e *errUnreadable) Error() string { return e.err.Error() }
func (e *errUnreadable) Unwrap() error { return e.err }

// metaCache reads objects' metadata from the API server (metadata-only GETs), and keeps at most
// size answers for ttl (absent objects for negativeTTL), least recently used first out. Reads
// of one object that overlap share one GET.
type metaCache struct {
	reader      client.Reader
	lru         *utilcache.LRUExpireCache
	ttl         time.Duration
	negativeTTL time.Duration

	mu       sync.Mutex
	inflight map[objKey]*metaCall
}

type metaCall struct {
	done chan struct{}
	val  objMeta
	err  error
}

func newMetaCache(reader client.Reader, size int, ttl time.Duration) *metaCache {
	neg := min(ttl, 10*time.Second)
	return &metaCache{reader: reader, lru: utilcache.NewLRUExpireCache(size), ttl: ttl, negativeTTL: neg, inflight: map[objKey]*metaCall{}}
}

// get returns the metadata of an object, from the cache or the API server.
func (c *metaCache) get(ctx context.Context, k objKey) (objMeta, error) {
	if v, ok := c.lru.Get(k); ok {
		ownerCacheLookups.WithLabelValues("hit").Inc()
		return v.(objMeta), nil
	}
	c.mu.Lock()
	if call, ok := c.inflight[k]; ok {
		c.mu.Unlock()
		ownerCacheLookups.WithLabelValues("shared").Inc()
		select {
		case <-call.done:
			return call.val, call.err
		case <-ctx.Done():
			return objMeta{}, ctx.Err()
		}
	}
	call := &metaCall{done: make(chan struct{})}
	c.inflight[k] = call
	c.mu.Unlock()
	ownerCacheLookups.WithLabelValues("miss").Inc()

	call.val, call.err = c.fetch(ctx, k)
	switch {
	case call.err == nil && call.val.exists:
		c.lru.Add(k, call.val, c.ttl)
	case call.err == nil:
		c.lru.Add(k, call.val, c.negativeTTL)
	}
	c.mu.Lock()
	delete(c.inflight, k)
	c.mu.Unlock()
	close(call.done)
	return call.val, call.err
}

func (c *metaCache) fetch(ctx context.Context, k objKey) (objMeta, error) {
	gv, err := schema.ParseGroupVersion(k.apiVersion)
	if err != nil {
		return objMeta{}, &errUnreadable{fmt.Errorf("apiVersion %q: %w", k.apiVersion, err)}
	}
	obj := &metav1.PartialObjectMetadata{}
	obj.SetGroupVersionKind(gv.WithKind(k.kind))
	key := client.ObjectKey{Namespace: k.namespace, Name: k.name}
	// resourceVersion "0" lets the API server answer from its watch cache instead of a quorum
	// read of etcd; only "not found" is asked again from etcd, so an object created a moment ago
	// is never reported missing.
	err = c.reader.Get(ctx, key, obj, &client.GetOptions{Raw: &metav1.GetOptions{ResourceVersion: "0"}})
	if apierrors.IsNotFound(err) {
		err = c.reader.Get(ctx, key, obj)
	}
	switch {
	case err == nil:
	case apierrors.IsNotFound(err):
		return objMeta{}, nil
	case isNoKind(err) || apierrors.IsForbidden(err) || apierrors.IsBadRequest(err) || apierrors.IsInvalid(err) ||
		apierrors.IsMethodNotSupported(err) || apierrors.IsNotAcceptable(err):
		return objMeta{}, &errUnreadable{err}
	default:
		apiErrors.WithLabelValues("get_" + k.kind).Inc()
		return objMeta{}, fmt.Errorf("reading %s %s: %w", k.kind, describe(k.namespace, k.name), err)
	}
	m := objMeta{exists: true, templateHash: obj.Labels[podTemplateHashLabel]}
	if ref := metav1.GetControllerOf(obj); ref != nil {
		m.controller = &ownerRef{apiVersion: ref.APIVersion, kind: ref.Kind, name: ref.Name}
	}
	return m, nil
}

// isNoKind says whether err means that the API server serves no such kind.
func isNoKind(err error) bool {
	var noKind *meta.NoKindMatchError
	return errors.As(err, &noKind) || meta.IsNoMatchError(err)
}

// describe names an object "namespace/name", or "name" when cluster-scoped.
func describe(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}
