package processing

import (
	"context"
	"sync"
	"time"
)

// shared holds, for a short while, what one enrichment read and others may use: the Warning
// events of a namespace (see digest), the facts of a node (see nodeFacts). An entry serves the
// enrichments whose incident is older than its read (since: never facts read before the incident
// began) until its time to live ends; the enrichments that need it while it is being read wait
// for that read instead of making their own, and those it is too old for wait for it to end and
// then read once for all of them: at most one read per key at a time, in an alert storm too.
// All entries together weigh at most max (each at least 1), the least recently used going first:
// its memory is bounded by max, whatever the size of the cluster.
type shared[V any] struct {
	max int

	mu      sync.Mutex
	entries map[string]*entry[V]
	weight  int
}

type entry[V any] struct {
	v       V
	weight  int
	ready   chan struct{} // closed once read; nil after
	err     error         // why it could not be read
	start   time.Time     // when its read began: it knows what was there before
	expires time.Time
	used    time.Time
}

// get returns the value of key read since since, reading it with read when none is still
// valid; read returns the value, its weight and how long it serves.
func (s *shared[V]) get(ctx context.Context, key string, since time.Time, now func() time.Time, read func(context.Context) (V, int, time.Duration, error)) (V, error) {
	for {
		s.mu.Lock()
		if s.entries == nil {
			s.entries = map[string]*entry[V]{}
		}
		e := s.entries[key]
		if e != nil && e.ready == nil && (now().After(e.expires) || e.start.Before(since)) {
			s.drop(key, e)
			e = nil
		}
		if e != nil && e.start.Before(since) { // a read begun before this incident, still going:
			ready := e.ready // not for it, but the next one is: wait, then read (or join)
			s.mu.Unlock()
			select {
			case <-ready:
			case <-ctx.Done():
				var zero V
				return zero, context.Cause(ctx)
			}
			continue
		}
		if e == nil {
			e = &entry[V]{ready: make(chan struct{}), start: now()}
			s.entries[key] = e
			s.mu.Unlock()
			v, weight, ttl, err := read(ctx)
			s.done(key, e, v, weight, ttl, err, now())
			return v, err
		}
		ready := e.ready
		s.mu.Unlock()
		if ready != nil {
			select {
			case <-ready:
			case <-ctx.Done():
				var zero V
				return zero, context.Cause(ctx)
			}
		}
		s.mu.Lock()
		v, err := e.v, e.err
		if err == nil {
			e.used = now()
		}
		s.mu.Unlock()
		if err == nil {
			return v, nil
		}
		// That read failed (its enrichment ended first, or the API server did not answer):
		// read again for this one.
	}
}

// peek returns the value of key when one read since since is there and valid, without reading.
func (s *shared[V]) peek(key string, since, now time.Time) (V, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[key]
	if e == nil || e.ready != nil || now.After(e.expires) || e.start.Before(since) {
		var zero V
		return zero, false
	}
	e.used = now
	return e.v, true
}

// done records the result of a read and keeps the entries within max.
func (s *shared[V]) done(key string, e *entry[V], v V, weight int, ttl time.Duration, err error, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ready := e.ready
	defer close(ready)
	e.ready = nil
	if err != nil {
		e.err = err
		if s.entries[key] == e {
			delete(s.entries, key)
		}
		return
	}
	e.v, e.weight, e.used, e.expires = v, max(1, weight), now, now.Add(ttl)
	s.weight += e.weight
	for k, o := range s.entries { // the expired first
		if o.ready == nil && o != e && now.After(o.expires) {
			s.drop(k, o)
		}
	}
	for s.weight > s.max {
		lru := ""
		for k, o := range s.entries {
			if o.ready == nil && o != e && (lru == "" || o.used.Before(s.entries[lru].used)) {
				lru = k
			}
		}
		if lru == "" {
			break
		}
		s.drop(lru, s.entries[lru])
	}
}

// drop forgets a read entry.
func (s *shared[V]) drop(key string, e *entry[V]) {
	if s.entries[key] == e {
		delete(s.entries, key)
		s.weight -= e.weight
	}
}
