package actions

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var allNames = []Name{
	RestartPod, RolloutRestart, ScaleDeployment, ScaleStatefulSet, IncreaseResources,
	RollbackDeployment, CordonNode, UncordonNode, DrainNode, TaintNode, UntaintNode,
	UpdateHPA, ExpandPVC, DeleteFailedPods, NotifyOnly,
}

// withoutCheck drops the Check functions, which reflect.DeepEqual cannot
// compare, so that actions can be compared with assert.Equal.
func withoutCheck(as ...Action) []Action {
	out := make([]Action, len(as))
	for i, a := range as {
		a.Check = nil
		out[i] = a
	}
	return out
}

func TestCatalogNames(t *testing.T) {
	names := Names()
	want := make([]string, len(allNames))
	for i, n := range allNames {
		want[i] = string(n)
	}
	slices.Sort(want)
	assert.Equal(t, want, names)
	assert.Len(t, definitions(), len(names), "duplicate action names in definitions")

	for _, n := range names {
		a, ok := Lookup(n)
		require.True(t, ok, n)
		assert.Equal(t, Name(n), a.Name)
	}
	_, ok := Lookup("no_such_action")
	assert.False(t, ok)
}

func TestAllSortedAndComplete(t *testing.T) {
	all := All()
	require.Len(t, all, len(Names()))
	for i, a := range all {
		assert.Equal(t, Names()[i], string(a.Name))
	}
}

var knownVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}

func TestCatalogInvariants(t *testing.T) {
	for _, a := range All() {
		t.Run(string(a.Name), func(t *testing.T) {
			assert.NotEmpty(t, a.Description, "description")
			assert.Positive(t, a.Timeout, "timeout")
			assert.LessOrEqual(t, a.Timeout, 10*time.Minute, "timeout")
			assert.True(t, a.Risk.Valid(), "risk level %q", a.Risk)

			require.NotEmpty(t, a.TargetKinds, "target kinds")
			onlyNodes := true
			for _, k := range a.TargetKinds {
				assert.NotEmpty(t, k.Kind, "target kind")
				assert.NotEmpty(t, k.Version, "target version of %s", k.Kind)
				onlyNodes = onlyNodes && k == KindNode
			}
			assert.Equal(t, onlyNodes, a.ClusterScoped, "ClusterScoped must be set exactly for Node actions")

			if a.Name == NotifyOnly {
				assert.Empty(t, a.Verbs, "notify_only must not touch the cluster")
			} else {
				assert.NotEmpty(t, a.Verbs, "verbs")
			}
			for _, v := range a.Verbs {
				assert.NotEmpty(t, v.Resource, "verb resource")
				assert.NotEmpty(t, v.Verbs, "verbs on %s", v.Resource)
				for _, verb := range v.Verbs {
					assert.Contains(t, knownVerbs, verb, "verb on %s", v.Resource)
				}
			}

			if a.ReversedBy != "" {
				assert.True(t, a.Reversible, "ReversedBy set on an irreversible action")
				_, ok := Lookup(string(a.ReversedBy))
				assert.True(t, ok, "ReversedBy %q not in catalog", a.ReversedBy)
			}
			if !a.Reversible {
				assert.Empty(t, a.ReversedBy)
			}

			seen := map[string]bool{}
			for _, p := range a.Params {
				assert.NotEmpty(t, p.Name, "param name")
				assert.False(t, seen[p.Name], "duplicate param %q", p.Name)
				seen[p.Name] = true
				assert.NotEmpty(t, p.Description, "description of %s", p.Name)
				assert.True(t, p.Type.Valid(), "type %q of %s", p.Type, p.Name)
				assert.Equal(t, p.Type == ParamEnum, len(p.Enum) > 0, "Enum must be set exactly for enum param %s", p.Name)
				if p.Min != nil && p.Max != nil {
					assert.LessOrEqual(t, *p.Min, *p.Max, "range of %s", p.Name)
				}
				if p.Type != ParamInt {
					assert.Nil(t, p.Min, "Min on non-int %s", p.Name)
					assert.Nil(t, p.Max, "Max on non-int %s", p.Name)
				}
				if p.Type == ParamFactor {
					assert.Greater(t, p.MaxFactor, 1.0, "factor %s must be bounded above 1", p.Name)
				} else {
					assert.Zero(t, p.MaxFactor, "MaxFactor on non-factor %s", p.Name)
				}
				if p.Type != ParamString {
					assert.Empty(t, p.Format, "Format on non-string %s", p.Name)
					assert.Zero(t, p.MaxLength, "MaxLength on non-string %s", p.Name)
				}
				if p.Default != "" {
					assert.False(t, p.Required, "required param %s has a default", p.Name)
					assert.Empty(t, p.ValidateValue(p.Default), "default of %s", p.Name)
				}
			}

			// Defaults never introduce a problem: only missing required
			// parameters and "at least one of" rules may remain.
			for _, p := range a.Validate(a.WithDefaults(nil)) {
				if p.Param != "" {
					assert.Equal(t, "is required", p.Message, "problem with defaults: %v", p)
				}
			}
		})
	}
}

func TestCatalogRiskAndReversibility(t *testing.T) {
	tests := map[Name]struct {
		risk          RiskLevel
		reversible    bool
		reversedBy    Name
		clusterScoped bool
	}{
		RestartPod:         {RiskLow, false, "", false},
		RolloutRestart:     {RiskMedium, false, "", false},
		ScaleDeployment:    {RiskMedium, true, ScaleDeployment, false},
		ScaleStatefulSet:   {RiskMedium, true, ScaleStatefulSet, false},
		IncreaseResources:  {RiskMedium, true, IncreaseResources, false},
		RollbackDeployment: {RiskMedium, true, RollbackDeployment, false},
		CordonNode:         {RiskLow, true, UncordonNode, true},
		UncordonNode:       {RiskLow, true, CordonNode, true},
		DrainNode:          {RiskHigh, true, UncordonNode, true},
		TaintNode:          {RiskMedium, true, UntaintNode, true},
		UntaintNode:        {RiskLow, true, TaintNode, true},
		UpdateHPA:          {RiskMedium, true, UpdateHPA, false},
		ExpandPVC:          {RiskMedium, false, "", false},
		DeleteFailedPods:   {RiskLow, false, "", false},
		NotifyOnly:         {RiskLow, true, "", false},
	}
	require.Len(t, tests, len(Names()), "every action must be listed")
	for name, tc := range tests {
		t.Run(string(name), func(t *testing.T) {
			a, ok := Lookup(string(name))
			require.True(t, ok)
			assert.Equal(t, tc.risk, a.Risk)
			assert.Equal(t, tc.reversible, a.Reversible)
			assert.Equal(t, tc.reversedBy, a.ReversedBy)
			assert.Equal(t, tc.clusterScoped, a.ClusterScoped)
		})
	}
}

func TestCatalogVerbs(t *testing.T) {
	tests := map[Name][]Verb{
		ScaleDeployment: {
			{Group: "apps", Resource: "deployments", Verbs: []string{"get", "patch"}},
			{Group: "apps", Resource: "deployments/scale", Verbs: []string{"get", "update", "patch"}},
		},
		ScaleStatefulSet: {
			{Group: "apps", Resource: "statefulsets", Verbs: []string{"get", "patch"}},
			{Group: "apps", Resource: "statefulsets/scale", Verbs: []string{"get", "update", "patch"}},
		},
		RestartPod: {
			{Group: "", Resource: "pods", Verbs: []string{"get", "delete"}},
		},
		DrainNode: {
			{Group: "", Resource: "nodes", Verbs: []string{"get", "patch"}},
			{Group: "", Resource: "pods", Verbs: []string{"get", "list", "delete"}},
			{Group: "", Resource: "pods/eviction", Verbs: []string{"create"}},
			{Group: "apps", Resource: "daemonsets", Verbs: []string{"get"}},
		},
		CordonNode: {
			{Group: "", Resource: "nodes", Verbs: []string{"get", "patch"}},
		},
		UpdateHPA: {
			{Group: "autoscaling", Resource: "horizontalpodautoscalers", Verbs: []string{"get", "patch"}},
		},
		ExpandPVC: {
			{Group: "", Resource: "persistentvolumeclaims", Verbs: []string{"get", "patch"}},
			{Group: "storage.k8s.io", Resource: "storageclasses", Verbs: []string{"get"}},
		},
	}
	for name, want := range tests {
		t.Run(string(name), func(t *testing.T) {
			a, ok := Lookup(string(name))
			require.True(t, ok)
			assert.Equal(t, want, a.Verbs)
		})
	}
}

// mutate changes every mutable part of a, as a careless caller might.
func mutate(a *Action) {
	a.Description = "changed"
	a.Risk = RiskHigh
	for i := range a.TargetKinds {
		a.TargetKinds[i].Kind = "Changed"
	}
	a.TargetKinds = append(a.TargetKinds, KindPod)
	for i := range a.Params {
		p := &a.Params[i]
		p.Description = "changed"
		p.Default = "changed"
		if p.Min != nil {
			*p.Min = -42
		}
		if p.Max != nil {
			*p.Max = -42
		}
		for j := range p.Enum {
			p.Enum[j] = "Changed"
		}
	}
	for i := range a.Verbs {
		a.Verbs[i].Resource = "changed"
		for j := range a.Verbs[i].Verbs {
			a.Verbs[i].Verbs[j] = "changed"
		}
	}
}

// fresh returns the catalog built anew, sharing nothing with the package's
// catalog, sorted by name and without Check functions.
func fresh() []Action {
	defs := definitions()
	slices.SortFunc(defs, func(a, b Action) int { return strings.Compare(string(a.Name), string(b.Name)) })
	return withoutCheck(defs...)
}

func TestAllReturnsCopies(t *testing.T) {
	first := All()
	for i := range first {
		mutate(&first[i])
	}
	first[0] = Action{}

	want := fresh()
	assert.Equal(t, want, withoutCheck(All()...))
	for _, a := range want {
		got, ok := Lookup(string(a.Name))
		require.True(t, ok)
		assert.Equal(t, a, withoutCheck(got)[0])
	}
}

func TestLookupReturnsCopies(t *testing.T) {
	for _, name := range Names() {
		changed, ok := Lookup(name)
		require.True(t, ok)
		mutate(&changed)
	}
	assert.Equal(t, fresh(), withoutCheck(All()...))
}

func TestParamReturnsCopy(t *testing.T) {
	a, ok := Lookup(string(TaintNode))
	require.True(t, ok)
	p, ok := a.Param("effect")
	require.True(t, ok)
	p.Enum[0] = "Changed"
	again, _ := a.Param("effect")
	assert.Equal(t, "NoSchedule", again.Enum[0])

	_, ok = a.Param("nope")
	assert.False(t, ok)
	assert.Equal(t, []string{"effect", "key", "value"}, a.ParamNames())
}

func TestCatalogActionsShareNothing(t *testing.T) {
	// Copies of actions with identical verbs or enums must be independent
	// of one another.
	cordon, _ := Lookup(string(CordonNode))
	uncordon, _ := Lookup(string(UncordonNode))
	cordon.Verbs[0].Verbs[0] = "changed"
	assert.Equal(t, "get", uncordon.Verbs[0].Verbs[0])

	taint, _ := Lookup(string(TaintNode))
	untaint, _ := Lookup(string(UntaintNode))
	taint.Params[2].Enum[0] = "Changed"
	assert.Equal(t, "NoSchedule", untaint.Params[1].Enum[0])
}

func TestReservedTaintKey(t *testing.T) {
	tests := map[string]bool{
		"node.kubernetes.io/not-ready":                   true,
		"node.kubernetes.io/unreachable":                 true,
		"node-role.kubernetes.io/control-plane":          true,
		"node-role.kubernetes.io/master":                 true,
		"node.cloudprovider.kubernetes.io/uninitialized": true,
		"kubernetes.io/arch":                             true,
		"k8s.io/x":                                       true,
		"example.k8s.io/x":                               true,
		"example.com/degraded":                           false,
		"notkubernetes.io/x":                             false,
		"degraded":                                       false,
	}
	for key, want := range tests {
		assert.Equal(t, want, ReservedTaintKey(key), key)
	}
}

func TestParseFactor(t *testing.T) {
	tests := map[string]struct {
		value   string
		want    string // exact rational, as big.Rat prints it
		wantErr bool
	}{
		"whole":               {value: "2", want: "2/1"},
		"decimal":             {value: "1.5", want: "3/2"},
		"exact":               {value: "1.1", want: "11/10"},
		"six places":          {value: "1.333333", want: "1333333/1000000"},
		"trailing zeros":      {value: "4.000", want: "4/1"},
		"seven places":        {value: "1.3333333", wantErr: true},
		"fraction bar":        {value: "3/2", wantErr: true},
		"exponent":            {value: "1e0", wantErr: true},
		"sign":                {value: "-2", wantErr: true},
		"leading point":       {value: ".5", wantErr: true},
		"trailing point":      {value: "2.", wantErr: true},
		"spaces":              {value: " 2", wantErr: true},
		"empty":               {value: "", wantErr: true},
		"more than 3 digits":  {value: "1000", wantErr: true},
		"a quantity":          {value: "500m", wantErr: true},
		"a comma for a point": {value: "1,5", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseFactor(tc.value)
			if tc.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.String())
		})
	}
}

// The factor parameters of increase_resources share one bound, the one the catalog exports.
func TestIncreaseResourcesFactors(t *testing.T) {
	a, ok := Lookup(string(IncreaseResources))
	require.True(t, ok)
	for _, name := range []string{"memoryFactor", "cpuFactor"} {
		p, ok := a.Param(name)
		require.True(t, ok, name)
		assert.Equal(t, ParamFactor, p.Type)
		assert.Equal(t, float64(MaxResourceFactor), p.MaxFactor)
		assert.False(t, p.Required)
	}
}
