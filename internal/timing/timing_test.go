package timing

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPercentile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	cases := map[string]struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		"none":   {nil, 0.5, 0},
		"median": {ds, 0.5, 5},
		"p95":    {ds, 0.95, 10},
		"p10":    {ds, 0.1, 1},
		"one":    {[]time.Duration{7}, 0.99, 7},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, Percentile(tc.in, tc.p)) })
	}
	assert.Equal(t, []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}, ds, "the input is not reordered")
}

func TestClockStampsEveryLine(t *testing.T) {
	var b strings.Builder
	c := NewClock(&b)
	_, _ = c.Write([]byte("one\ntwo\n"))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if assert.Len(t, lines, 2) {
		assert.Regexp(t, `^\[ *\d+\.\ds\] one$`, lines[0])
		assert.Regexp(t, `^\[ *\d+\.\ds\] two$`, lines[1])
	}
}
