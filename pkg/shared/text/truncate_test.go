package text_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

func TestTruncate(t *testing.T) {
	marker := utf8.RuneCountInString(text.Marker)
	tests := map[string]struct {
		in   string
		max  int
		want string
	}{
		"short stays":             {"abc", 3, "abc"},
		"multibyte within limit":  {"äöü", 3, "äöü"},
		"cut with the marker":     {strings.Repeat("a", 40), 30, strings.Repeat("a", 30-marker) + text.Marker},
		"never splits a rune":     {strings.Repeat("ä", 40), 30, strings.Repeat("ä", 30-marker) + text.Marker},
		"emoji":                   {strings.Repeat("🚨", 40), marker + 1, "🚨" + text.Marker},
		"limit shorter than mark": {strings.Repeat("a", 40), 3, "… ["},
		"zero":                    {"abc", 0, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := text.Truncate(tc.in, tc.max)
			assert.Equal(t, tc.want, got)
			assert.True(t, utf8.ValidString(got))
			assert.LessOrEqual(t, utf8.RuneCountInString(got), max(tc.max, 0))
		})
	}
}

func TestTruncateBytes(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		max  int
		want string
	}{
		"fits":                {in: "abc", max: 3, want: "abc"},
		"cut with marker":     {in: strings.Repeat("a", 40), max: 30, want: "aa" + text.Marker},
		"never splits a rune": {in: strings.Repeat("é", 20), max: 31, want: "é" + text.Marker},
		"marker alone":        {in: strings.Repeat("a", 40), max: 10, want: "… [trunc"},
		"zero":                {in: "abc", max: 0, want: ""},
	} {
		t.Run(name, func(t *testing.T) {
			got := text.TruncateBytes(tc.in, tc.max)
			assert.Equal(t, tc.want, got)
			assert.LessOrEqual(t, len(got), max(tc.max, 0))
			assert.True(t, utf8.ValidString(got))
		})
	}
}
