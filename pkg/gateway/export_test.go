package gateway

import "context"

// NewRequest exposes the request the gateway creates for a signal, so that the benchmarks'
// ceiling stores exactly the same objects.
var NewRequest = newRequest

// ResolveLabels resolves an alert's target as Handle does.
func (g *Gateway) ResolveLabels(ctx context.Context, alertname string, labels map[string]string) (Resolution, error) {
	return g.res.fromLabels(ctx, alertname, labels)
}

// OwnerCacheLen is the number of objects the metadata cache holds.
func (g *Gateway) OwnerCacheLen() int { return len(g.res.meta.lru.Keys()) }
