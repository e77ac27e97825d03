package processing

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What an enrichment read for others serves for its time to live, is read once for those that
// need it meanwhile, is read again after a failed read, and all of it weighs at most max, the
// least recently used going first.
func TestShared(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	clock := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}
	advance := func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(d)
	}
	s := &shared[string]{max: 30}
	reads := map[string]int{}
	read := func(key string, weight int, ttl time.Duration) func(context.Context) (string, int, time.Duration, error) {
		return func(context.Context) (string, int, time.Duration, error) {
			mu.Lock()
			reads[key]++
			mu.Unlock()
			return "facts of " + key, weight, ttl, nil
		}
	}
	get := func(key string, weight int, ttl time.Duration) string {
		v, err := s.get(ctx, key, time.Time{}, now, read(key, weight, ttl))
		require.NoError(t, err)
		return v
	}

	assert.Equal(t, "facts of shop", get("shop", 5, time.Minute))
	get("shop", 5, time.Minute)
	assert.Equal(t, 1, reads["shop"], "read once within its time to live")
	advance(time.Minute + time.Second)
	get("shop", 5, time.Minute)
	assert.Equal(t, 2, reads["shop"], "read again after it")
	v, ok := s.peek("shop", time.Time{}, now())
	assert.True(t, ok)
	assert.Equal(t, "facts of shop", v)
	_, ok = s.peek("elsewhere", time.Time{}, now())
	assert.False(t, ok, "peek never reads")

	since := now().Add(time.Second) // an incident that began after the last read of shop
	_, ok = s.peek("shop", since, now())
	assert.False(t, ok, "what was read before an incident does not serve it")
	advance(2 * time.Second)
	get2 := func(key string) {
		_, err := s.get(ctx, key, since, now, read(key, 5, time.Minute))
		require.NoError(t, err)
	}
	get2("shop")
	assert.Equal(t, 3, reads["shop"], "read again for it")
	get2("shop")
	assert.Equal(t, 3, reads["shop"], "and that read serves the next")

	_, err := s.get(ctx, "flaky", time.Time{}, now, func(context.Context) (string, int, time.Duration, error) {
		return "", 0, 0, errors.New("connection refused")
	})
	require.Error(t, err)
	get("flaky", 1, time.Minute)
	assert.Equal(t, 1, reads["flaky"], "a failed read is not kept")

	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		_, err := s.get(ctx, "storm", time.Time{}, now, func(ctx context.Context) (string, int, time.Duration, error) {
			<-release
			return read("storm", 1, time.Minute)(ctx)
		})
		assert.NoError(t, err)
	})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		s.mu.Lock()
		defer s.mu.Unlock()
		assert.Contains(c, s.entries, "storm")
	}, time.Second, time.Millisecond)
	for range 8 {
		wg.Go(func() { assert.Equal(t, "facts of storm", get("storm", 1, time.Minute)) })
	}
	close(release)
	wg.Wait()
	assert.Equal(t, 1, reads["storm"], "nine enrichments at once, one read")

	// An incident that began while a read was going waits for it to end, then one more read
	// serves all such incidents.
	release = make(chan struct{})
	wg.Go(func() {
		_, err := s.get(ctx, "late", time.Time{}, now, func(ctx context.Context) (string, int, time.Duration, error) {
			<-release
			return read("late", 1, time.Minute)(ctx)
		})
		assert.NoError(t, err)
	})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		s.mu.Lock()
		defer s.mu.Unlock()
		assert.Contains(c, s.entries, "late")
	}, time.Second, time.Millisecond)
	advance(time.Second)
	later := now()
	for range 4 {
		wg.Go(func() {
			_, err := s.get(ctx, "late", later, now, read("late", 1, time.Minute))
			assert.NoError(t, err)
		})
	}
	close(release)
	wg.Wait()
	assert.Equal(t, 2, reads["late"], "the read begun before them, and one for the four")

	for i := range 4 {
		get(fmt.Sprintf("big-%d", i), 10, time.Hour)
		advance(time.Second)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.LessOrEqual(t, s.weight, s.max)
	assert.NotContains(t, s.entries, "big-0", "the least recently used went first")
	assert.Contains(t, s.entries, "big-3")
}
