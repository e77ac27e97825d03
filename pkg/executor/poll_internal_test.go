package executor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPollAfterBacksOffToTheInterval(t *testing.T) {
	applied := metav1.NewTime(time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC))
	cases := map[string]struct {
		since time.Duration
		want  time.Duration
	}{
		"right after the change": {0, firstPoll},
		"a second after":         {time.Second, 500 * time.Millisecond},
		"three seconds after":    {3 * time.Second, 1500 * time.Millisecond},
		"a minute after":         {time.Minute, 2 * time.Second},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, pollAfter(2*time.Second, &applied, applied.Add(tc.since)))
		})
	}
	assert.Equal(t, 2*time.Second, pollAfter(2*time.Second, nil, applied.Time), "not applied yet")
}
