// Package objdiff compares two Kubernetes objects field by field, so that a person approving or
// auditing a change sees exactly what it does: the workflow service keeps the diff of each
// server-side dry-run in status, and the executor records the diff of what it changed.
//
// Paths are dotted JSON field names from the object's root, for example
// spec.template.spec.containers[name=app].resources.limits.memory. Elements of a list whose
// elements all carry a distinct string "name" (containers, volumes, env, ports) are keyed by that
// name; other list elements by their index (taints[0]). A map key that contains '.', '[' or ']'
// is written in brackets and quotes, metadata.annotations["kubectl.kubernetes.io/restartedAt"].
//
// Fields that change on every write, or that a person does not decide, are ignored:
// metadata.resourceVersion, generation, managedFields, uid, creationTimestamp, and status.
package objdiff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Change is one changed leaf field.
type Change struct {
	// Path of the field, e.g. spec.template.spec.containers[name=app].resources.limits.memory.
	Path string `json:"path"`
	// Before is the JSON encoding of the old value, "" when the field was absent.
	Before string `json:"before,omitempty"`
	// After is the JSON encoding of the new value, "" when the field is removed.
	After string `json:"after,omitempty"`
}

// ignoredMetadata are the metadata fields the server manages on every write.
var ignoredMetadata = []string{"resourceVersion", "generation", "managedFields", "uid", "creationTimestamp"}

// Diff compares two objects (anything json.Marshal accepts, e.g. *appsv1.Deployment or
// unstructured maps) and returns the changed leaf fields, sorted by path. Paths look like
// spec.template.spec.containers[name=app].resources.limits.memory (list elements with a "name"
// key are keyed by it, others by index); values are JSON-encoded ("" when absent).
// metadata.resourceVersion, generation, managedFields, uid, creationTimestamp and status are
// ignored. A nil object compares as absent, so Diff(nil, obj) lists every field of obj.
func Diff(before, after any) ([]Change, error) {
	b, err := normalize(before)
	if err != nil {
		return nil, fmt.Errorf("reading the object before: %w", err)
	}
	a, err := normalize(after)
	if err != nil {
		return nil, fmt.Errorf("reading the object after: %w", err)
	}
	var changes []Change
	walk("", b, a, &changes)
	slices.SortFunc(changes, func(x, y Change) int { return strings.Compare(x.Path, y.Path) })
	return changes, nil
}

// absent marks a field that does not exist on one side (JSON null is a value).
type absentT struct{}

var absent = absentT{}

// normalize turns v into its generic JSON form (maps, slices, json.Number, string, bool, nil)
// and drops the ignored fields.
func normalize(v any) (any, error) {
	if v == nil {
		return absent, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if string(raw) == "null" {
		return absent, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	if m, ok := out.(map[string]any); ok {
		delete(m, "status")
		if meta, ok := m["metadata"].(map[string]any); ok {
			for _, k := range ignoredMetadata {
				delete(meta, k)
			}
			if len(meta) == 0 {
				delete(m, "metadata")
			}
		}
	}
	return out, nil
}

func walk(path string, before, after any, out *[]Change) {
	bm, bIsMap := before.(map[string]any)
	am, aIsMap := after.(map[string]any)
	_, bAbsent := before.(absentT)
	_, aAbsent := after.(absentT)
	switch {
	case bIsMap && aIsMap, bIsMap && aAbsent, bAbsent && aIsMap:
		if len(bm) == 0 && len(am) == 0 {
			leaf(path, before, after, out)
			return
		}
		keys := make(map[string]struct{}, len(bm)+len(am))
		for k := range bm {
			keys[k] = struct{}{}
		}
		for k := range am {
			keys[k] = struct{}{}
		}
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			walk(join(path, k), field(bm, k), field(am, k), out)
		}
		return
	}
	bl, bIsList := before.([]any)
	al, aIsList := after.([]any)
	switch {
	case bIsList && aIsList, bIsList && aAbsent, bAbsent && aIsList:
		if len(bl) == 0 && len(al) == 0 {
			leaf(path, before, after, out)
			return
		}
		if bn, an, ok := byName(bl, al); ok {
			names := make(map[string]struct{}, len(bn)+len(an))
			for k := range bn {
				names[k] = struct{}{}
			}
			for k := range an {
				names[k] = struct{}{}
			}
			for _, n := range slices.Sorted(maps.Keys(names)) {
				walk(path+"[name="+n+"]", field(bn, n), field(an, n), out)
			}
			return
		}
		for i := range max(len(bl), len(al)) {
			walk(path+"["+strconv.Itoa(i)+"]", index(bl, i), index(al, i), out)
		}
		return
	}
	leaf(path, before, after, out)
}

func leaf(path string, before, after any, out *[]Change) {
	b, a := encode(before), encode(after)
	if b != a {
		*out = append(*out, Change{Path: path, Before: b, After: a})
	}
}

func encode(v any) string {
	if _, ok := v.(absentT); ok {
		return ""
	}
	raw, err := json.Marshal(v)
	if err != nil { // cannot happen for values decoded from JSON
		return fmt.Sprint(v)
	}
	return string(raw)
}

func field(m map[string]any, k string) any {
	if v, ok := m[k]; ok {
		return v
	}
	return absent
}

func index(l []any, i int) any {
	if i < len(l) {
		return l[i]
	}
	return absent
}

// byName indexes both lists by their elements' "name" when every element of both is an object
// with a distinct, non-empty string name.
func byName(before, after []any) (map[string]any, map[string]any, bool) {
	bn, ok := names(before)
	if !ok {
		return nil, nil, false
	}
	an, ok := names(after)
	if !ok {
		return nil, nil, false
	}
	return bn, an, true
}

func names(l []any) (map[string]any, bool) {
	out := make(map[string]any, len(l))
	for _, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		n, ok := m["name"].(string)
		if !ok || n == "" {
			return nil, false
		}
		if _, dup := out[n]; dup {
			return nil, false
		}
		out[n] = e
	}
	return out, true
}

func join(path, key string) string {
	if strings.ContainsAny(key, ".[]\"") || key == "" {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// none is how Format shows an absent value.
const none = "(none)"

// Format renders changes one per line as "path: before → after", bounded to max bytes with a
// visible "… N more" marker. Absent values show as (none). max <= 0 means unbounded.
func Format(changes []Change, max int) string {
	lines := make([]string, len(changes))
	for i, c := range changes {
		lines[i] = c.Path + ": " + orNone(c.Before) + " → " + orNone(c.After)
	}
	full := strings.Join(lines, "\n")
	if max <= 0 || len(full) <= max {
		return full
	}
	var b strings.Builder
	for i, line := range lines {
		marker := fmt.Sprintf("… %d more", len(lines)-i-1)
		sep := 0
		if b.Len() > 0 {
			sep = 1
		}
		// The line must fit together with the marker for what would remain after it, unless it
		// is the last line.
		need := b.Len() + sep + len(line)
		if i < len(lines)-1 {
			need += 1 + len(marker)
		}
		if need > max {
			rest := fmt.Sprintf("… %d more", len(lines)-i)
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(rest)
			return cut(b.String(), max)
		}
		if sep == 1 {
			b.WriteByte('\n')
		}
		b.WriteString(line)
	}
	return b.String()
}

func orNone(v string) string {
	if v == "" {
		return none
	}
	return v
}

// cut shortens s to at most max bytes on a rune boundary.
func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max]
}
