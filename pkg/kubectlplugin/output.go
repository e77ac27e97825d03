package kubectlplugin

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"
)

// printStructured writes v as JSON or YAML, per -o.
func (o *Options) printStructured(v any) error {
	switch o.output {
	case "json":
		b, err := json.MarshalIndent(v, "", "    ")
		if err != nil {
			return fmt.Errorf("encoding JSON: %w", err)
		}
		_, err = fmt.Fprintf(o.Out, "%s\n", b)
		return err
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("encoding YAML: %w", err)
		}
		_, err = o.Out.Write(b)
		return err
	}
	return fmt.Errorf("unknown output format %q", o.output)
}

// structured reports whether -o asks for JSON or YAML.
func (o *Options) structured() bool { return o.output != "" }

// newTable returns kubectl's table layout.
func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 6, 4, 3, ' ', 0) }

// stripMeta drops what nobody reads in a printed object.
func stripMeta(m *metav1.ObjectMeta) {
	m.ManagedFields = nil
}

// orNone prints "-" for empty values.
func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// age is kubectl's short human duration ("5m", "3h", "2d").
func age(now time.Time, t metav1.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t.Time)
	if d < 0 {
		d = 0
	}
	return duration.HumanDuration(d)
}

// dur prints a duration between two times, "-" when one is missing.
func dur(from, to *metav1.Time) string {
	if from == nil || to == nil || from.IsZero() || to.IsZero() {
		return "-"
	}
	d := to.Sub(from.Time)
	if d < 0 {
		d = 0
	}
	return shortDuration(d)
}

// shortDuration prints seconds precision for short spans and kubectl's format beyond.
func shortDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Round(time.Second).Seconds()))
	}
	if d < 10*time.Minute {
		d = d.Round(time.Second)
		m, s := int(d.Minutes()), int(d.Seconds())%60
		if s == 0 {
			return fmt.Sprintf("%dm", m)
		}
		return fmt.Sprintf("%dm%ds", m, s)
	}
	return duration.HumanDuration(d)
}

// timestamp prints a time in UTC, RFC 3339, "-" when unset.
func timestamp(t *metav1.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// kv prints a map as sorted "k=v" pairs.
func kv(m map[string]string) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ", ")
}

// oneLine squeezes a text onto one line of at most max runes.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}
