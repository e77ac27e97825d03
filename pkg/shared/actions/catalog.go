package actions

import (
	"slices"
	"strings"
)

// catalog holds the definitions, indexed by name. It is never handed out:
// Lookup and All return deep copies.
var catalog = index(definitions())

func index(defs []Action) map[Name]Action {
	m := make(map[Name]Action, len(defs))
	for _, a := range defs {
		m[a.Name] = a
	}
	return m
}

// Lookup returns a copy of the action with the given name.
func Lookup(name string) (Action, bool) {
	a, ok := catalog[Name(name)]
	if !ok {
		return Action{}, false
	}
	return a.clone(), true
}

// All returns copies of every action in the catalog, sorted by name.
func All() []Action {
	all := make([]Action, 0, len(catalog))
	for _, a := range catalog {
		all = append(all, a.clone())
	}
	slices.SortFunc(all, func(a, b Action) int { return strings.Compare(string(a.Name), string(b.Name)) })
	return all
}

// Names returns the names of every action in the catalog, sorted.
func Names() []string {
	names := make([]string, 0, len(catalog))
	for n := range catalog {
		names = append(names, string(n))
	}
	slices.Sort(names)
	return names
}

// getPatch returns the verbs needed to read and patch an object.
func getPatch() []string { return []string{"get", "patch"} }

func nodeGetPatch() []Verb {
	return []Verb{{Group: "", Resource: "nodes", Verbs: getPatch()}}
}

func gracePeriodParam(description string) Param {
	return Param{
		Name:        "gracePeriodSeconds",
		Description: description + "; defaults to the Pod's own terminationGracePeriodSeconds.",
		Type:        ParamInt,
		Min:         ptr[int64](0),
		Max:         ptr[int64](3600),
	}
}

func replicasParam(kind string) Param {
	return Param{
		Name:        "replicas",
		Description: "Desired number of replicas of the " + kind + ", at least 1: a remediation never stops every Pod.",
		Type:        ParamInt,
		Required:    true,
		Min:         ptr[int64](1),
		Max:         ptr[int64](100),
	}
}

func scaleVerbs(resource string) []Verb {
	return []Verb{
		{Group: "apps", Resource: resource, Verbs: getPatch()},
		{Group: "apps", Resource: resource + "/scale", Verbs: []string{"get", "update", "patch"}},
	}
}

// MaxResourceFactor is the largest memoryFactor or cpuFactor of
// increase_resources.
const MaxResourceFactor = 4

// entries list every action with what its file declares: its catalog entry, how it resolves its
// live target (Resolve) and, for an action that changes its target object, its mutation
// (Mutate). The one list to add an action to.
var entries = []struct {
	action  func() Action
	resolve resolver
	mutate  mutation
}{
	{restartPodAction, resolveRestartPod, nil},
	{rolloutRestartAction, resolveRolloutRestart, mutateRolloutRestart},
	{scaleDeploymentAction, resolveScale, mutateScale},
	{scaleStatefulSetAction, resolveScale, mutateScale},
	{increaseResourcesAction, resolveIncreaseResources, mutateIncreaseResources},
	{rollbackDeploymentAction, resolveRollbackDeployment, mutateRollbackDeployment},
	{cordonNodeAction, resolveNode, mutateCordon},
	{uncordonNodeAction, resolveNode, mutateUncordon},
	{drainNodeAction, resolveDrain, mutateDrain},
	{taintNodeAction, resolveTaintNode, mutateTaint},
	{untaintNodeAction, resolveNode, mutateUntaint},
	{updateHPAAction, resolveUpdateHPA, mutateUpdateHPA},
	{expandPVCAction, resolveExpandPVC, mutateExpandPVC},
	{deleteFailedPodsAction, resolveDeleteFailedPods, nil},
	{notifyOnlyAction, resolveNotifyOnly, nil},
}

// definitions returns the catalog. Every call builds fresh values sharing nothing with earlier
// calls.
func definitions() []Action {
	defs := make([]Action, len(entries))
	for i, e := range entries {
		defs[i] = e.action()
	}
	return defs
}

// resolvers and mutations index the entries' resolutions and mutations by action name.
var resolvers, mutations = func() (map[Name]resolver, map[Name]mutation) {
	rs, ms := map[Name]resolver{}, map[Name]mutation{}
	for _, e := range entries {
		name := e.action().Name
		rs[name] = e.resolve
		if e.mutate != nil {
			ms[name] = e.mutate
		}
	}
	return rs, ms
}()
