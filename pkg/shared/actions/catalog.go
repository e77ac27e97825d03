package actions

import (
	"fmt"
	"slices"
	"strings"
	"time"
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

// factorParam is the memoryFactor or cpuFactor parameter of increase_resources: param is the
// parameter prefix ("memory"), what the resource as a reader calls it ("CPU").
func factorParam(param, what, unit string) Param {
	return Param{
		Name: param + "Factor",
		Description: fmt.Sprintf(`Multiply the current %[2]s request and limit of each changed container by this factor, `+
			`e.g. "1.5" (more than 1, at most %[3]d), rounded up to %[4]s. Each changed container must have a %[2]s `+
			`request or limit; when it has only one of the two, the other stays unset. Not together with %[1]s or %[1]sLimit.`,
			param, what, MaxResourceFactor, unit),
		Type:      ParamFactor,
		MaxFactor: MaxResourceFactor,
	}
}

// taintEffects returns the Kubernetes taint effects.
func taintEffects() []string { return []string{"NoSchedule", "PreferNoSchedule", "NoExecute"} }

// definitions returns the catalog. Every call builds fresh values sharing
// nothing with earlier calls.
func definitions() []Action {
	return []Action{
		{
			Name:    RestartPod,
			Timeout: 2 * time.Minute,
			Description: "Delete one Pod so that its controller (Deployment, StatefulSet, DaemonSet, Job) " +
				"recreates it. Use for a single stuck or misbehaving replica; a Pod without a controller " +
				"is not recreated.",
			TargetKinds: []TargetKind{KindPod},
			Params:      []Param{gracePeriodParam("Seconds the Pod is given to terminate gracefully before it is killed")},
			Risk:        RiskLow,
			Reversible:  false,
			Verbs:       []Verb{{Group: "", Resource: "pods", Verbs: []string{"get", "delete"}}},
		},
		{
			Name:    RolloutRestart,
			Timeout: 5 * time.Minute,
			Description: "Restart every Pod of a Deployment, StatefulSet or DaemonSet through a rolling " +
				"update (like `kubectl rollout restart`), respecting the workload's update strategy.",
			TargetKinds: []TargetKind{KindDeployment, KindStatefulSet, KindDaemonSet},
			Risk:        RiskMedium,
			Reversible:  false,
			Verbs: []Verb{
				{Group: "apps", Resource: "deployments", Verbs: getPatch()},
				{Group: "apps", Resource: "statefulsets", Verbs: getPatch()},
				{Group: "apps", Resource: "daemonsets", Verbs: getPatch()},
			},
		},
		{
			Name:    ScaleDeployment,
			Timeout: 5 * time.Minute,
			Description: "Set the number of replicas of a Deployment. Undone by scaling back to the " +
				"recorded previous count. Has no lasting effect when a HorizontalPodAutoscaler manages " +
				"the Deployment; use update_hpa instead.",
			TargetKinds: []TargetKind{KindDeployment},
			Params:      []Param{replicasParam("Deployment")},
			Risk:        RiskMedium,
			Reversible:  true,
			ReversedBy:  ScaleDeployment,
			Verbs:       scaleVerbs("deployments"),
		},
		{
			Name:    ScaleStatefulSet,
			Timeout: 5 * time.Minute,
			Description: "Set the number of replicas of a StatefulSet. Pods are added or removed one " +
				"at a time in ordinal order; their PersistentVolumeClaims are kept. Undone by scaling " +
				"back to the recorded previous count.",
			TargetKinds: []TargetKind{KindStatefulSet},
			Params:      []Param{replicasParam("StatefulSet")},
			Risk:        RiskMedium,
			Reversible:  true,
			ReversedBy:  ScaleStatefulSet,
			Verbs:       scaleVerbs("statefulsets"),
		},
		{
			Name:    IncreaseResources,
			Timeout: 5 * time.Minute,
			Description: "Raise the CPU and/or memory requests and limits of the containers of a " +
				"Deployment, StatefulSet or DaemonSet, for example after OOMKilled restarts or CPU " +
				"throttling, either to new values (memory, cpu, memoryLimit, cpuLimit) or by a factor " +
				"of the current ones (memoryFactor, cpuFactor). Changing the Pod template rolls out new " +
				"Pods. Undone by restoring the recorded previous values.",
			TargetKinds: []TargetKind{KindDeployment, KindStatefulSet, KindDaemonSet},
			Params: []Param{
				{
					Name:        "container",
					Description: "Name of the container to change; when omitted every container of the Pod template is changed.",
					Type:        ParamString,
					Format:      FormatDNSLabel,
				},
				{
					Name: "memory",
					Description: `New memory request, e.g. "512Mi". At least one of memory, memoryFactor, cpu and cpuFactor ` +
						`is required.`,
					Type: ParamQuantity,
				},
				{
					Name: "cpu",
					Description: `New CPU request, e.g. "500m" or "2". At least one of memory, memoryFactor, cpu and ` +
						`cpuFactor is required.`,
					Type: ParamQuantity,
				},
				{
					Name:        "memoryLimit",
					Description: `New memory limit, e.g. "1Gi"; must not be below memory when both are given.`,
					Type:        ParamQuantity,
				},
				{
					Name:        "cpuLimit",
					Description: `New CPU limit, e.g. "1"; must not be below cpu when both are given.`,
					Type:        ParamQuantity,
				},
				factorParam("memory", "memory", "a whole Mi"),
				factorParam("cpu", "CPU", "a whole millicore"),
			},
			Risk:       RiskMedium,
			Reversible: true,
			ReversedBy: IncreaseResources,
			Verbs: []Verb{
				{Group: "apps", Resource: "deployments", Verbs: getPatch()},
				{Group: "apps", Resource: "statefulsets", Verbs: getPatch()},
				{Group: "apps", Resource: "daemonsets", Verbs: getPatch()},
			},
			Check: checkIncreaseResources,
		},
		{
			Name:    RollbackDeployment,
			Timeout: 5 * time.Minute,
			Description: "Roll a Deployment back to an earlier revision of its Pod template (like " +
				"`kubectl rollout undo`), typically after a bad release. Undone by rolling back to the " +
				"revision that was current before.",
			TargetKinds: []TargetKind{KindDeployment},
			Params: []Param{
				{
					Name:        "revision",
					Description: "Revision to roll back to; defaults to the previous revision.",
					Type:        ParamInt,
					Min:         ptr[int64](1),
				},
			},
			Risk:       RiskMedium,
			Reversible: true,
			ReversedBy: RollbackDeployment,
			Verbs: []Verb{
				{Group: "apps", Resource: "deployments", Verbs: getPatch()},
				{Group: "apps", Resource: "replicasets", Verbs: []string{"get", "list"}},
			},
		},
		{
			Name:    CordonNode,
			Timeout: time.Minute,
			Description: "Mark a Node unschedulable so that no new Pods are placed on it; Pods already " +
				"running there are left alone. Undone by uncordon_node.",
			TargetKinds:   []TargetKind{KindNode},
			Risk:          RiskLow,
			Reversible:    true,
			ReversedBy:    UncordonNode,
			Verbs:         nodeGetPatch(),
			ClusterScoped: true,
		},
		{
			Name:          UncordonNode,
			Timeout:       time.Minute,
			Description:   "Mark a Node schedulable again, e.g. once it has recovered. Undone by cordon_node.",
			TargetKinds:   []TargetKind{KindNode},
			Risk:          RiskLow,
			Reversible:    true,
			ReversedBy:    CordonNode,
			Verbs:         nodeGetPatch(),
			ClusterScoped: true,
		},
		{
			Name:    DrainNode,
			Timeout: 10 * time.Minute,
			Description: "Cordon a Node and evict its Pods (like `kubectl drain`), honouring " +
				"PodDisruptionBudgets, so that their controllers recreate them elsewhere. Disrupts " +
				"every workload on the Node. Undone, as far as scheduling goes, by uncordon_node; " +
				"evicted Pods do not move back by themselves.",
			TargetKinds: []TargetKind{KindNode},
			Params: []Param{
				gracePeriodParam("Seconds each evicted Pod is given to terminate gracefully"),
				{
					Name:        "timeout",
					Description: `How long to wait for the Node to be drained before giving up, e.g. "10m"; at most 1h.`,
					Type:        ParamDuration,
					Default:     "5m",
					MaxDuration: time.Hour,
				},
				{
					Name:        "ignoreDaemonSets",
					Description: "Leave DaemonSet-managed Pods in place instead of failing the drain.",
					Type:        ParamBool,
					Default:     "true",
				},
				{
					Name:        "deleteEmptyDirData",
					Description: "Also evict Pods using emptyDir volumes, whose data is lost.",
					Type:        ParamBool,
					Default:     "false",
				},
			},
			Risk:       RiskHigh,
			Reversible: true,
			ReversedBy: UncordonNode,
			Verbs: []Verb{
				{Group: "", Resource: "nodes", Verbs: getPatch()},
				// Pods are listed across namespaces by node name, evicted,
				// deleted when eviction is unavailable, and polled until gone.
				{Group: "", Resource: "pods", Verbs: []string{"get", "list", "delete"}},
				{Group: "", Resource: "pods/eviction", Verbs: []string{"create"}},
				// DaemonSet-managed Pods are recognised by their owner.
				{Group: "apps", Resource: "daemonsets", Verbs: []string{"get"}},
			},
			ClusterScoped: true,
		},
		{
			Name:    TaintNode,
			Timeout: time.Minute,
			Description: "Add a taint to a Node so that Pods without a matching toleration are not " +
				"scheduled there (NoSchedule, PreferNoSchedule) or are also evicted (NoExecute). A " +
				"NoExecute taint is a drain: it passes the drain's checks (no protected Pods, no Pods " +
				"without a controller or with emptyDir data, no DaemonSet Pods among those it evicts, " +
				"at most the configured number of Pods). Keys of the kubernetes.io and k8s.io domains " +
				"belong to Kubernetes and are refused. Undone by untaint_node.",
			TargetKinds: []TargetKind{KindNode},
			Params: []Param{
				{
					Name:        "key",
					Description: `Taint key, a label key such as "example.com/degraded".`,
					Type:        ParamString,
					Required:    true,
					Format:      FormatLabelKey,
				},
				{
					Name:        "value",
					Description: "Taint value, a label value; may be omitted.",
					Type:        ParamString,
					Format:      FormatLabelValue,
				},
				{
					Name:        "effect",
					Description: "Taint effect: NoSchedule, PreferNoSchedule or NoExecute (NoExecute evicts running Pods).",
					Type:        ParamEnum,
					Required:    true,
					Enum:        taintEffects(),
				},
			},
			Risk:       RiskMedium,
			Reversible: true,
			ReversedBy: UntaintNode,
			Verbs: []Verb{
				{Group: "", Resource: "nodes", Verbs: getPatch()},
				// A NoExecute taint evicts the Pods that do not tolerate it: they are listed
				// by node name and checked as a drain checks them.
				{Group: "", Resource: "pods", Verbs: []string{"list"}},
			},
			ClusterScoped: true,
			Check:         checkTaintKey,
		},
		{
			Name:    UntaintNode,
			Timeout: time.Minute,
			Description: "Remove a taint that Kubernaut added to a Node (with taint_node). Taints " +
				"anyone else added, and every key of the kubernetes.io and k8s.io domains (the " +
				"node.kubernetes.io/* condition taints, the control-plane taint), are never removed. " +
				"Undone by taint_node with the recorded key, value and effect.",
			TargetKinds: []TargetKind{KindNode},
			Params: []Param{
				{
					Name:        "key",
					Description: "Key of the taint to remove.",
					Type:        ParamString,
					Required:    true,
					Format:      FormatLabelKey,
				},
				{
					Name:        "effect",
					Description: "Effect of the taint to remove; when omitted, taints with the key are removed whatever their effect.",
					Type:        ParamEnum,
					Enum:        taintEffects(),
				},
			},
			Risk:          RiskLow,
			Reversible:    true,
			ReversedBy:    TaintNode,
			Verbs:         nodeGetPatch(),
			ClusterScoped: true,
			Check:         checkTaintKey,
		},
		{
			Name:    UpdateHPA,
			Timeout: time.Minute,
			Description: "Change the minimum and/or maximum replica count of a HorizontalPodAutoscaler, " +
				"e.g. to let a saturated workload scale further. Undone by restoring the recorded " +
				"previous bounds.",
			TargetKinds: []TargetKind{KindHorizontalPodAutoscaler},
			Params: []Param{
				{
					Name:        "minReplicas",
					Description: "New minimum number of replicas. At least one of minReplicas and maxReplicas is required.",
					Type:        ParamInt,
					Min:         ptr[int64](1),
					Max:         ptr[int64](1000),
				},
				{
					Name:        "maxReplicas",
					Description: "New maximum number of replicas; must not be below minReplicas when both are given.",
					Type:        ParamInt,
					Min:         ptr[int64](1),
					Max:         ptr[int64](1000),
				},
			},
			Risk:       RiskMedium,
			Reversible: true,
			ReversedBy: UpdateHPA,
			Verbs: []Verb{
				{Group: "autoscaling", Resource: "horizontalpodautoscalers", Verbs: getPatch()},
			},
			Check: checkUpdateHPA,
		},
		{
			Name:    ExpandPVC,
			Timeout: 5 * time.Minute,
			Description: "Grow a PersistentVolumeClaim to a new size, e.g. when its volume is filling " +
				"up. Its StorageClass must allow volume expansion. Cannot be undone: a claim can never " +
				"shrink.",
			TargetKinds: []TargetKind{KindPersistentVolumeClaim},
			Params: []Param{
				{
					Name:        "size",
					Description: `New total storage request, e.g. "20Gi"; must be larger than the current size.`,
					Type:        ParamQuantity,
					Required:    true,
				},
			},
			Risk:       RiskMedium,
			Reversible: false,
			Verbs: []Verb{
				{Group: "", Resource: "persistentvolumeclaims", Verbs: getPatch()},
				// To check that the claim's StorageClass allows expansion.
				{Group: "storage.k8s.io", Resource: "storageclasses", Verbs: []string{"get"}},
			},
		},
		{
			Name:    DeleteFailedPods,
			Timeout: 2 * time.Minute,
			Description: "Delete Pods in the Failed phase (e.g. Evicted or errored Pods) in a " +
				"Namespace, or those belonging to a Deployment, to clean up clutter and release " +
				"their resources. Running Pods are never touched.",
			TargetKinds: []TargetKind{KindNamespace, KindDeployment},
			Params: []Param{
				{
					Name:        "labelSelector",
					Description: `Only delete failed Pods matching this label selector, e.g. "app=web".`,
					Type:        ParamString,
					MaxLength:   1024,
					Format:      FormatLabelSelector,
				},
				{
					Name:        "maxPods",
					Description: "Maximum number of Pods to delete in one run.",
					Type:        ParamInt,
					Default:     "20",
					Min:         ptr[int64](1),
					Max:         ptr[int64](100),
				},
			},
			Risk:       RiskLow,
			Reversible: false,
			Verbs: []Verb{
				{Group: "", Resource: "namespaces", Verbs: []string{"get"}},
				{Group: "", Resource: "pods", Verbs: []string{"list", "delete"}},
				// To read a Deployment's selector.
				{Group: "apps", Resource: "deployments", Verbs: []string{"get"}},
			},
		},
		{
			Name:    NotifyOnly,
			Timeout: 30 * time.Second,
			Description: "Change nothing in the cluster and only notify the on-call humans, for alerts " +
				"that no automatic action can safely fix.",
			TargetKinds: []TargetKind{AnyKind},
			Params: []Param{
				{
					Name:        "message",
					Description: "Text to include in the notification.",
					Type:        ParamString,
					MaxLength:   1024,
				},
			},
			Risk:       RiskLow,
			Reversible: true,
		},
	}
}

func checkIncreaseResources(params map[string]string) []Problem {
	problems := atLeastOneOf(params, "cpu", "cpuFactor", "memory", "memoryFactor")
	for _, r := range []string{"cpu", "memory"} {
		factor := r + "Factor"
		if !present(params, factor) {
			continue
		}
		var absolute []string
		for _, name := range []string{r, r + "Limit"} {
			if present(params, name) {
				absolute = append(absolute, name)
			}
		}
		if len(absolute) > 0 {
			problems = append(problems, Problem{
				Param: factor,
				Message: fmt.Sprintf("must not be combined with %s: a factor multiplies the current %s request and limit, "+
					"give either a factor or new values", strings.Join(absolute, " and "), r),
			})
		}
	}
	for _, pair := range [][2]string{{"cpu", "cpuLimit"}, {"memory", "memoryLimit"}} {
		request, okRequest := parsedQuantity(params, pair[0])
		limit, okLimit := parsedQuantity(params, pair[1])
		if okRequest && okLimit && limit.Cmp(request) < 0 {
			problems = append(problems, Problem{
				Param:   pair[1],
				Message: fmt.Sprintf("must not be below %s (%s), got %s", pair[0], params[pair[0]], quote(params[pair[1]])),
			})
		}
	}
	return problems
}

func checkUpdateHPA(params map[string]string) []Problem {
	problems := atLeastOneOf(params, "minReplicas", "maxReplicas")
	lo, okLo := parsedInt(params, "minReplicas")
	hi, okHi := parsedInt(params, "maxReplicas")
	if okLo && okHi && lo > hi {
		problems = append(problems, Problem{
			Param:   "minReplicas",
			Message: fmt.Sprintf("must not exceed maxReplicas (%d), got %d", hi, lo),
		})
	}
	return problems
}

// ReservedTaintKey reports whether a taint key belongs to Kubernetes: its prefix is in the
// kubernetes.io or k8s.io domain (node.kubernetes.io/not-ready, node-role.kubernetes.io/control-plane,
// node.cloudprovider.kubernetes.io/uninitialized, ...). Kubernaut neither adds nor removes such
// taints.
func ReservedTaintKey(key string) bool {
	prefix, _, ok := strings.Cut(key, "/")
	if !ok {
		return false
	}
	for _, domain := range []string{"kubernetes.io", "k8s.io"} {
		if prefix == domain || strings.HasSuffix(prefix, "."+domain) {
			return true
		}
	}
	return false
}

func checkTaintKey(params map[string]string) []Problem {
	if key := params["key"]; ReservedTaintKey(key) {
		return []Problem{{Param: "key", Message: fmt.Sprintf("%s is a taint of Kubernetes (the kubernetes.io and k8s.io domains), which Kubernaut never adds or removes", quote(key))}}
	}
	return nil
}
