package action

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
)

// State is what an operation that changes one object records about its change, as
// status.operationResults[].rollback.previousState: the fields it changed, each with its value
// before and after, and the object's generation right after the change. A revert touches these
// fields only, and only while they still hold the values the change wrote (Revert).
type State struct {
	// UID of the object changed.
	UID string `json:"uid"`
	// Generation is the object's metadata.generation right after the change (0 while unknown).
	Generation int64 `json:"generation,omitempty"`
	// Fields are the changed fields, in document order.
	Fields []Field `json:"fields,omitempty"`
	// Truncated: the fields were too large to record; the change cannot be reverted.
	Truncated bool `json:"truncated,omitempty"`
}

// Revertible reports whether a recorded state can be reverted.
func Revertible(previousState string) bool {
	st, err := ParseState(previousState)
	return previousState != "" && err == nil && !st.Truncated
}

// Field is one changed field of an object: a JSON pointer (RFC 6901) into the object as the API
// server serializes it.
type Field struct {
	// Path points at the field, e.g. "/spec/replicas" or
	// "/spec/template/spec/containers/0/resources".
	Path string `json:"path"`
	// Guards are values that locate the field: the name of a list element its path goes
	// through (containers are matched by name, not by index alone).
	Guards []Guard `json:"guards,omitempty"`
	// Before and After are the field's values; absent when the field did not exist on that side.
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
	// Added and Removed are, for a list the change only appended to or removed from (a node's
	// taints), the elements it added or removed; Before and After are then empty.
	Added   []json.RawMessage `json:"added,omitempty"`
	Removed []json.RawMessage `json:"removed,omitempty"`
}

// Guard is a value a field's path depends on.
type Guard struct {
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// diffRoots are the parts of an object a change may touch: the rest (status, generation,
// resourceVersion, managedFields) is the API server's.
var diffRoots = []string{"metadata/labels", "metadata/annotations", "spec"}

// lastRemediationPath is the annotation every change and revert writes; a revert sets it, it
// never restores it.
var lastRemediationPath = "/metadata/annotations/" + escape(kev1.AnnotationLastRemediation)

// NewState computes the fields that differ between two versions of an object.
func NewState(before, after client.Object) (*State, error) {
	b, err := toJSONMap(before)
	if err != nil {
		return nil, err
	}
	a, err := toJSONMap(after)
	if err != nil {
		return nil, err
	}
	st := &State{UID: string(before.GetUID()), Generation: 0}
	for _, root := range diffRoots {
		// A root absent on one side (an object without annotations yet) is an empty map, so
		// that the fields under it are recorded one by one: a revert then removes the keys
		// the change added, and keeps any added since.
		parts := strings.Split(root, "/")
		bv, hasB := lookup(b, parts)
		av, hasA := lookup(a, parts)
		if !hasB && !hasA {
			continue
		}
		if !hasB {
			bv = map[string]any{}
		}
		if !hasA {
			av = map[string]any{}
		}
		if err := diffValues("/"+root, bv, av, true, true, nil, &st.Fields); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// ParseState reads a recorded state.
func ParseState(s string) (*State, error) {
	st := &State{}
	if err := json.Unmarshal([]byte(s), st); err != nil {
		return nil, fmt.Errorf("reading the recorded before-state: %w", err)
	}
	return st, nil
}

// Encode returns the state as recorded.
func (s *State) Encode() string {
	raw, _ := json.Marshal(s) // plain values always marshal
	return string(raw)
}

// StateGeneration returns the generation a recorded state (rollback.previousState) holds, 0 when
// none.
func StateGeneration(previousState string) int64 {
	if previousState == "" {
		return 0
	}
	st, err := ParseState(previousState)
	if err != nil {
		return 0
	}
	return st.Generation
}

// WithGeneration returns the recorded state with the generation after the change set.
func WithGeneration(previousState string, generation int64) string {
	st, err := ParseState(previousState)
	if err != nil || previousState == "" {
		return previousState
	}
	st.Generation = generation
	return st.Encode()
}

func toJSONMap(obj client.Object) (map[string]any, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", obj, err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decoding %T: %w", obj, err)
	}
	return m, nil
}

func lookup(m map[string]any, parts []string) (any, bool) {
	var cur any = m
	for _, p := range parts {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[p]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// at returns the value at a JSON pointer.
func at(m map[string]any, pointer string) (any, bool) {
	return lookup(m, splitPointer(pointer))
}

func splitPointer(pointer string) []string {
	parts := strings.Split(strings.TrimPrefix(pointer, "/"), "/")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
	}
	return parts
}

func escape(key string) string {
	return strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
}

func raw(v any) json.RawMessage {
	b, _ := json.Marshal(v) // decoded JSON always marshals
	return b
}

// diffValues appends the fields that differ between before and after at path.
func diffValues(path string, before, after any, hasB, hasA bool, guards []Guard, out *[]Field) error {
	if path == lastRemediationPath {
		return nil
	}
	if hasB == hasA && (!hasB || reflect.DeepEqual(before, after)) {
		return nil
	}
	if hasB && hasA {
		bm, bok := before.(map[string]any)
		am, aok := after.(map[string]any)
		if bok && aok {
			keys := make([]string, 0, len(bm)+len(am))
			for k := range bm {
				keys = append(keys, k)
			}
			for k := range am {
				if _, ok := bm[k]; !ok {
					keys = append(keys, k)
				}
			}
			slices.Sort(keys)
			for _, k := range keys {
				bv, hb := bm[k]
				av, ha := am[k]
				if err := diffValues(path+"/"+escape(k), bv, av, hb, ha, guards, out); err != nil {
					return err
				}
			}
			return nil
		}
		bl, bok := before.([]any)
		al, aok := after.([]any)
		if bok && aok {
			if names, ok := sameNames(bl, al); ok {
				for i := range bl {
					g := append(slices.Clone(guards), Guard{Path: fmt.Sprintf("%s/%d/name", path, i), Value: raw(names[i])})
					if err := diffValues(fmt.Sprintf("%s/%d", path, i), bl[i], al[i], true, true, g, out); err != nil {
						return err
					}
				}
				return nil
			}
			if len(al) > len(bl) && reflect.DeepEqual(bl, al[:len(bl)]) {
				f := Field{Path: path, Guards: guards}
				for _, e := range al[len(bl):] {
					f.Added = append(f.Added, raw(e))
				}
				*out = append(*out, f)
				return nil
			}
			if removed, ok := removedFrom(bl, al); ok {
				f := Field{Path: path, Guards: guards}
				for _, e := range removed {
					f.Removed = append(f.Removed, raw(e))
				}
				*out = append(*out, f)
				return nil
			}
		}
	}
	f := Field{Path: path, Guards: guards}
	if hasB {
		f.Before = raw(before)
	}
	if hasA {
		f.After = raw(after)
	}
	*out = append(*out, f)
	return nil
}

// sameNames reports whether two lists have the same length and, index by index, elements that
// are objects with the same non-empty name (containers, volumes); it returns the names.
func sameNames(a, b []any) ([]string, bool) {
	if len(a) != len(b) || len(a) == 0 {
		return nil, false
	}
	names := make([]string, len(a))
	for i := range a {
		am, aok := a[i].(map[string]any)
		bm, bok := b[i].(map[string]any)
		if !aok || !bok {
			return nil, false
		}
		an, _ := am["name"].(string)
		bn, _ := bm["name"].(string)
		if an == "" || an != bn {
			return nil, false
		}
		names[i] = an
	}
	return names, true
}

// removedFrom returns the elements of before missing from after, when after is before with some
// elements removed (in order).
func removedFrom(before, after []any) ([]any, bool) {
	if len(after) >= len(before) {
		return nil, false
	}
	var removed []any
	j := 0
	for _, e := range before {
		if j < len(after) && reflect.DeepEqual(e, after[j]) {
			j++
			continue
		}
		removed = append(removed, e)
	}
	return removed, j == len(after)
}

// jsonOp is one operation of a JSON patch (RFC 6902).
type jsonOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// MarshalJSON writes value even when it is null or empty for test, add and replace.
func (o jsonOp) MarshalJSON() ([]byte, error) {
	m := map[string]any{"op": o.Op, "path": o.Path}
	if o.Op != "remove" {
		m["value"] = o.Value
	}
	return json.Marshal(m)
}

// revertOps computes, against the live object, the JSON patch that puts back the before-values
// of the recorded fields, each guarded by a test that the field (and the list element it is in)
// still holds what the change wrote. A field that no longer does was changed since by someone
// else: it is listed in changed and the revert is not made. A field already back to its
// before-value needs nothing. The patch also tests the UID and writes the last-remediation
// annotation id; it is nil when there is nothing to revert.
func revertOps(live map[string]any, st *State, id string) (ops []jsonOp, changed []string) {
	for _, f := range slices.Backward(st.Fields) {
		ok := true
		for _, g := range f.Guards {
			v, has := at(live, g.Path)
			if !has || !equalRaw(v, g.Value) {
				ok = false
				break
			}
		}
		if !ok {
			changed = append(changed, f.Path+" (its list element moved or is gone)")
			continue
		}
		guards := func() []jsonOp {
			out := make([]jsonOp, len(f.Guards))
			for i, g := range f.Guards {
				out[i] = jsonOp{Op: "test", Path: g.Path, Value: decode(g.Value)}
			}
			return out
		}
		cur, has := at(live, f.Path)
		switch {
		case len(f.Added) > 0:
			list, _ := cur.([]any)
			var idx []int
			for _, e := range f.Added {
				for i := len(list) - 1; i >= 0; i-- {
					if equalRaw(list[i], e) && !slices.Contains(idx, i) {
						idx = append(idx, i)
						break
					}
				}
			}
			if len(idx) == 0 {
				continue // already gone
			}
			slices.Sort(idx)
			ops = append(ops, guards()...)
			for _, i := range slices.Backward(idx) {
				p := fmt.Sprintf("%s/%d", f.Path, i)
				ops = append(ops, jsonOp{Op: "test", Path: p, Value: list[i]}, jsonOp{Op: "remove", Path: p})
			}
		case len(f.Removed) > 0:
			list, isList := cur.([]any)
			var back []any
			for _, e := range f.Removed {
				if !slices.ContainsFunc(list, func(v any) bool { return equalRaw(v, e) }) {
					back = append(back, decode(e))
				}
			}
			if len(back) == 0 {
				continue
			}
			ops = append(ops, guards()...)
			if !has || !isList {
				ops = append(ops, addAt(live, f.Path, back)...)
				continue
			}
			for _, e := range back {
				ops = append(ops, jsonOp{Op: "add", Path: f.Path + "/-", Value: e})
			}
		case f.After != nil:
			if has && f.Before != nil && equalRaw(cur, f.Before) {
				continue // already back
			}
			if !has && f.Before == nil {
				continue // already removed
			}
			if !has || !equalRaw(cur, f.After) {
				changed = append(changed, f.Path)
				continue
			}
			ops = append(ops, guards()...)
			ops = append(ops, jsonOp{Op: "test", Path: f.Path, Value: cur})
			if f.Before != nil {
				ops = append(ops, jsonOp{Op: "replace", Path: f.Path, Value: decode(f.Before)})
			} else {
				ops = append(ops, jsonOp{Op: "remove", Path: f.Path})
			}
		default: // the change removed the field
			if has {
				if !equalRaw(cur, f.Before) {
					changed = append(changed, f.Path)
				}
				continue
			}
			ops = append(ops, guards()...)
			ops = append(ops, addAt(live, f.Path, decode(f.Before))...)
		}
	}
	if len(changed) > 0 || len(ops) == 0 {
		return nil, changed
	}
	head := []jsonOp{{Op: "test", Path: "/metadata/uid", Value: st.UID}}
	ops = append(head, ops...)
	if _, ok := at(live, "/metadata/annotations"); ok {
		ops = append(ops, jsonOp{Op: "add", Path: lastRemediationPath, Value: id})
	} else {
		ops = append(ops, jsonOp{Op: "add", Path: "/metadata/annotations", Value: map[string]any{kev1.AnnotationLastRemediation: id}})
	}
	return ops, nil
}

// addAt adds value at pointer, creating the missing parent objects (a JSON patch add needs an
// existing parent): it adds at the nearest existing ancestor an object nesting value.
func addAt(live map[string]any, pointer string, value any) []jsonOp {
	parts := splitPointer(pointer)
	for i := len(parts) - 1; i > 0; i-- {
		if _, ok := lookup(live, parts[:i]); ok {
			v := value
			for j := len(parts) - 1; j >= i; j-- {
				if j == i {
					break
				}
				v = map[string]any{parts[j]: v}
			}
			p := ""
			for _, s := range parts[:i+1] {
				p += "/" + escape(s)
			}
			return []jsonOp{{Op: "add", Path: p, Value: v}}
		}
	}
	return []jsonOp{{Op: "add", Path: pointer, Value: value}}
}

func decode(r json.RawMessage) any {
	var v any
	_ = json.Unmarshal(r, &v) // recorded values are JSON
	return v
}

func equalRaw(v any, r json.RawMessage) bool {
	return reflect.DeepEqual(v, decode(r))
}
