// Package text holds the one way Kubernaut shortens text to a limit.
package text

import "unicode/utf8"

// Marker ends every text that Truncate shortened, so a reader sees that something was cut.
const Marker = "… [truncated by kubernaut]"

// Truncate returns s when it has at most max characters (runes, as Kubernetes counts a CRD
// field's maxLength), and otherwise its first characters followed by Marker, max characters in
// all. It never splits a UTF-8 character. A limit shorter than the marker keeps only the start
// of the marker.
func Truncate(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if len(s) <= max || utf8.RuneCountInString(s) <= max {
		return s
	}
	markerLen := utf8.RuneCountInString(Marker)
	if max <= markerLen {
		return prefix(Marker, max)
	}
	return prefix(s, max-markerLen) + Marker
}

// prefix returns the first n runes of s.
func prefix(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// TruncateBytes is Truncate for limits counted in bytes (a serialized size budget, a wire
// format's byte limit): s is cut on a character boundary so that the result, Marker included,
// is at most max bytes.
func TruncateBytes(s string, max int) string {
	if len(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	m := Marker
	if max <= len(m) {
		s, m = m, ""
	}
	cut := max - len(m)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + m
}
