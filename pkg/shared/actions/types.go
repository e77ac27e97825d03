package actions

import (
	"slices"
	"strings"
	"time"
)

// Name identifies a remediation action in the catalog.
type Name string

// String returns the name as a plain string.
func (n Name) String() string { return string(n) }

// The names of the actions in the catalog.
const (
	// RestartPod deletes a single Pod so that its controller recreates it.
	RestartPod Name = "restart_pod"
	// RolloutRestart triggers a rolling restart of a workload's Pods.
	RolloutRestart Name = "rollout_restart"
	// ScaleDeployment sets the replica count of a Deployment.
	ScaleDeployment Name = "scale_deployment"
	// ScaleStatefulSet sets the replica count of a StatefulSet.
	ScaleStatefulSet Name = "scale_statefulset"
	// IncreaseResources raises container CPU and memory requests and limits.
	IncreaseResources Name = "increase_resources"
	// RollbackDeployment rolls a Deployment back to an earlier revision.
	RollbackDeployment Name = "rollback_deployment"
	// CordonNode marks a Node unschedulable.
	CordonNode Name = "cordon_node"
	// UncordonNode marks a Node schedulable again.
	UncordonNode Name = "uncordon_node"
	// DrainNode cordons a Node and evicts its Pods.
	DrainNode Name = "drain_node"
	// TaintNode adds a taint to a Node.
	TaintNode Name = "taint_node"
	// UntaintNode removes a taint from a Node.
	UntaintNode Name = "untaint_node"
	// UpdateHPA changes the replica bounds of a HorizontalPodAutoscaler.
	UpdateHPA Name = "update_hpa"
	// ExpandPVC grows a PersistentVolumeClaim.
	ExpandPVC Name = "expand_pvc"
	// DeleteFailedPods deletes Pods in the Failed phase.
	DeleteFailedPods Name = "delete_failed_pods"
	// NotifyOnly changes nothing and only notifies humans.
	NotifyOnly Name = "notify_only"
)

// RiskLevel grades how much harm an action can do if it is the wrong call.
type RiskLevel string

// The risk levels, from least to most dangerous.
const (
	// RiskLow actions affect at most one replica or nothing at all.
	RiskLow RiskLevel = "low"
	// RiskMedium actions change the shape or configuration of a workload.
	RiskMedium RiskLevel = "medium"
	// RiskHigh actions disrupt many workloads at once.
	RiskHigh RiskLevel = "high"
)

// Valid reports whether r is one of the defined risk levels.
func (r RiskLevel) Valid() bool {
	switch r {
	case RiskLow, RiskMedium, RiskHigh:
		return true
	}
	return false
}

// ParamType fixes how a parameter value, always carried as a string, is
// spelled and checked.
type ParamType string

// The parameter types.
const (
	// ParamString is free text, see Param.MaxLength and Param.Format.
	ParamString ParamType = "string"
	// ParamInt is a base-10 integer, see Param.Min and Param.Max.
	ParamInt ParamType = "int"
	// ParamBool is exactly "true" or "false".
	ParamBool ParamType = "bool"
	// ParamQuantity is a positive Kubernetes resource quantity such as
	// "256Mi" or "500m"; CPU and memory amounts use it.
	ParamQuantity ParamType = "quantity"
	// ParamDuration is a positive Go duration such as "30s" or "5m", see
	// Param.MaxDuration.
	ParamDuration ParamType = "duration"
	// ParamEnum is one of Param.Enum.
	ParamEnum ParamType = "enum"
	// ParamFactor is an increase factor written as a plain decimal number
	// such as "1.5" or "2": greater than 1 and at most Param.MaxFactor. Read
	// it with ParseFactor, which is exact.
	ParamFactor ParamType = "factor"
)

// Valid reports whether t is one of the defined parameter types.
func (t ParamType) Valid() bool {
	switch t {
	case ParamString, ParamInt, ParamBool, ParamQuantity, ParamDuration, ParamEnum, ParamFactor:
		return true
	}
	return false
}

// Format constrains the content of a ParamString parameter.
type Format string

// The string formats.
const (
	// FormatNone accepts any text.
	FormatNone Format = ""
	// FormatLabelKey is a Kubernetes label key (also used for taint keys):
	// an optional DNS subdomain prefix and "/", then a name of at most 63
	// alphanumerics, '-', '_' or '.'.
	FormatLabelKey Format = "label-key"
	// FormatLabelValue is a Kubernetes label value (also used for taint
	// values).
	FormatLabelValue Format = "label-value"
	// FormatLabelSelector is a Kubernetes label selector such as
	// "app=web,tier!=cache".
	FormatLabelSelector Format = "label-selector"
	// FormatDNSLabel is an RFC 1123 DNS label, the format of container names.
	FormatDNSLabel Format = "dns-label"
)

// Param describes one parameter of an action.
type Param struct {
	// Name is the key of the parameter in a step's parameter map.
	Name string
	// Description explains the parameter to a model and an operator.
	Description string
	// Type fixes how the value is spelled and checked.
	Type ParamType
	// Required parameters must be present. Required parameters have no
	// Default.
	Required bool
	// Default is the value WithDefaults fills in when the parameter is
	// absent; empty means no default.
	Default string
	// Min and Max bound a ParamInt value, inclusively; nil means unbounded.
	Min, Max *int64
	// MaxDuration bounds a ParamDuration value; zero means unbounded.
	MaxDuration time.Duration
	// MaxFactor bounds a ParamFactor value, inclusively; zero means
	// unbounded.
	MaxFactor float64
	// Enum lists the accepted values of a ParamEnum parameter.
	Enum []string
	// MaxLength bounds a ParamString value, in characters; zero means
	// unbounded.
	MaxLength int
	// Format constrains the content of a ParamString value.
	Format Format
}

func (p Param) clone() Param {
	c := p
	if p.Min != nil {
		c.Min = ptr(*p.Min)
	}
	if p.Max != nil {
		c.Max = ptr(*p.Max)
	}
	c.Enum = slices.Clone(p.Enum)
	return c
}

// Wildcard in a TargetKind field matches any value.
const Wildcard = "*"

// TargetKind is a Kubernetes object kind an action can act upon.
type TargetKind struct {
	// Group is the API group, empty for the core group.
	Group string
	// Version is the API version within the group.
	Version string
	// Kind is the object kind, e.g. "Deployment".
	Kind string
}

// The target kinds used by the catalog.
var (
	// KindPod is v1 Pod.
	KindPod = TargetKind{Version: "v1", Kind: "Pod"}
	// KindNode is v1 Node.
	KindNode = TargetKind{Version: "v1", Kind: "Node"}
	// KindNamespace is v1 Namespace.
	KindNamespace = TargetKind{Version: "v1", Kind: "Namespace"}
	// KindPersistentVolumeClaim is v1 PersistentVolumeClaim.
	KindPersistentVolumeClaim = TargetKind{Version: "v1", Kind: "PersistentVolumeClaim"}
	// KindDeployment is apps/v1 Deployment.
	KindDeployment = TargetKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	// KindStatefulSet is apps/v1 StatefulSet.
	KindStatefulSet = TargetKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}
	// KindDaemonSet is apps/v1 DaemonSet.
	KindDaemonSet = TargetKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}
	// KindHorizontalPodAutoscaler is autoscaling/v2 HorizontalPodAutoscaler.
	KindHorizontalPodAutoscaler = TargetKind{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler"}
	// AnyKind matches every kind.
	AnyKind = TargetKind{Group: Wildcard, Version: Wildcard, Kind: Wildcard}
)

// APIVersion returns the kind's apiVersion as written in a manifest, e.g.
// "apps/v1" or "v1".
func (k TargetKind) APIVersion() string {
	if k.Group == "" {
		return k.Version
	}
	return k.Group + "/" + k.Version
}

// String returns e.g. "apps/v1 Deployment".
func (k TargetKind) String() string {
	return k.APIVersion() + " " + k.Kind
}

// Matches reports whether an object with the given apiVersion ("apps/v1",
// "v1") and kind is of this kind. Matching is exact and case-sensitive except
// for fields set to Wildcard. An empty kind or a malformed apiVersion never
// matches.
func (k TargetKind) Matches(apiVersion, kind string) bool {
	if kind == "" {
		return false
	}
	var group, version string
	switch strings.Count(apiVersion, "/") {
	case 0:
		version = apiVersion
	case 1:
		group, version, _ = strings.Cut(apiVersion, "/")
		if group == "" {
			return false
		}
	default:
		return false
	}
	return fieldMatches(k.Group, group) && fieldMatches(k.Version, version) && fieldMatches(k.Kind, kind)
}

func fieldMatches(pattern, value string) bool {
	return pattern == Wildcard || pattern == value
}

// Verb is a set of Kubernetes API verbs an action needs on one resource. The
// verbs of an action double as the RBAC rules the executor must be granted.
type Verb struct {
	// Group is the API group, empty for the core group.
	Group string
	// Resource is the plural resource name, with "/subresource" for a
	// subresource, e.g. "deployments/scale" or "pods/eviction".
	Resource string
	// Verbs are the API verbs, e.g. "get", "patch".
	Verbs []string
}

func (v Verb) clone() Verb {
	c := v
	c.Verbs = slices.Clone(v.Verbs)
	return c
}

// CheckFunc enforces rules that involve more than one parameter. It receives
// the parameters with defaults filled in, after each parameter has been
// checked on its own; it must tolerate values that failed those checks
// (typically by skipping them) and must not modify the map.
type CheckFunc func(params map[string]string) []Problem

// Action describes one remediation action.
type Action struct {
	// Name identifies the action.
	Name Name
	// Description explains what the action does, for a model and an
	// operator.
	Description string
	// TargetKinds lists the kinds of object the action accepts as target.
	TargetKinds []TargetKind
	// Params lists the parameters the action accepts; any other parameter
	// name is rejected.
	Params []Param
	// Risk grades how much harm the action can do.
	Risk RiskLevel
	// Reversible reports whether the effect of the action can be undone.
	Reversible bool
	// ReversedBy names the catalog action that undoes this one, usually by
	// re-applying the state recorded before the action ran. It is empty when
	// the action is not reversible or changes nothing.
	ReversedBy Name
	// Verbs lists the Kubernetes API verbs the action needs.
	Verbs []Verb
	// ClusterScoped reports whether the action targets a cluster-scoped
	// Node rather than a namespaced object.
	ClusterScoped bool
	// Check enforces rules across parameters; nil when there are none.
	Check CheckFunc
	// Timeout is how long the action may take, its post-condition included (a rollout
	// finished, a node drained): the timeout of a workflow step using it that sets none of its
	// own (the workflow's executionConfig.stepTimeout bounds it), and of an operation without a
	// timeout in the executor.
	Timeout time.Duration
}

// AcceptsKind reports whether the action can target an object with the given
// apiVersion ("apps/v1", "v1") and kind ("Deployment").
func (a Action) AcceptsKind(apiVersion, kind string) bool {
	for _, k := range a.TargetKinds {
		if k.Matches(apiVersion, kind) {
			return true
		}
	}
	return false
}

// Param returns the parameter with the given name.
func (a Action) Param(name string) (Param, bool) {
	for _, p := range a.Params {
		if p.Name == name {
			return p.clone(), true
		}
	}
	return Param{}, false
}

// ParamNames returns the names of the action's parameters, sorted.
func (a Action) ParamNames() []string {
	names := make([]string, 0, len(a.Params))
	for _, p := range a.Params {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	return names
}

// clone returns a deep copy of a, sharing nothing mutable with it.
func (a Action) clone() Action {
	c := a
	c.TargetKinds = slices.Clone(a.TargetKinds)
	if a.Params != nil {
		c.Params = make([]Param, len(a.Params))
		for i, p := range a.Params {
			c.Params[i] = p.clone()
		}
	}
	if a.Verbs != nil {
		c.Verbs = make([]Verb, len(a.Verbs))
		for i, v := range a.Verbs {
			c.Verbs[i] = v.clone()
		}
	}
	return c
}

func ptr[T any](v T) *T { return &v }
