package executor

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kubernaut/kubernaut/pkg/executor/action"
)

// DefaultConfigMapName is the safety ConfigMap the executor reads in its namespace.
const DefaultConfigMapName = "kubernaut-executor-safety"

// Keys of the safety ConfigMap (deploy/base/config/executor.yaml documents each).
const (
	KeySafetyValidation          = "safetyValidation"
	KeyAllowSkipSafetyValidation = "allowSkipSafetyValidation"
	KeyRequireManagedNamespace   = "requireManagedNamespace"
	KeyDeniedNamespaces          = "deniedNamespaces"
	KeyCooldown                  = "cooldown"
	KeyNodeActionsEnabled        = "nodeActionsEnabled"
	KeyMaxUnschedulableShare     = "maxUnschedulableNodeShare"
	KeyMaxReplicas               = "maxReplicas"
	KeyMaxScaleFactor            = "maxScaleFactor"
	KeyMaxResourceFactor         = "maxResourceFactor"
	KeyMaxMemory                 = "maxMemory"
	KeyMaxCPU                    = "maxCPU"
	KeyMaxDrainPods              = "maxDrainPods"
	KeyMaxDeletePods             = "maxDeletePods"
	KeyDefaultOperationTimeout   = "defaultOperationTimeout"
	KeyPostConditions            = "postConditions"
	KeyDryRun                    = "dryRun"
	KeyPaused                    = "paused"
	KeyMaxChangesPerNamespace    = "maxChangesPerNamespacePerHour"
	KeyMaxChangesPerCluster      = "maxChangesPerClusterPerHour"
	KeyUncordonRecoveredAfter    = "uncordonRecoveredNodesAfter"
)

// AlwaysDenied are namespaces never touched whatever deniedNamespaces says (the executor's own
// namespace is denied too).
var AlwaysDenied = []string{"kube-system", "kube-public", "kube-node-lease"}

// SafetyConfig is the executor's safety configuration.
type SafetyConfig struct {
	// Paused holds every execution before its next change, and node uncordons, until it is
	// false again: the kill switch.
	Paused bool
	// SafetyValidation false skips the per-target cooldown, and only it: the chain, the
	// preconditions, the namespace (managed, protected, denied) and node checks, the blast
	// radius, the budgets and the server-side dry-run always run (default true).
	SafetyValidation bool
	// AllowSkipSafetyValidation lets an execution with executionConfig.safetyValidation=false skip
	// the per-target cooldown, as SafetyValidation=false does. Default false: it runs anyway.
	AllowSkipSafetyValidation bool
	// RequireManagedNamespace refuses targets in namespaces not labelled kubernaut.io/managed=true.
	RequireManagedNamespace bool
	// DeniedNamespaces are never touched.
	DeniedNamespaces []string
	// Cooldown is the least time between two changes of Kubernaut's to one target by different
	// executions.
	Cooldown time.Duration
	// NodeActionsEnabled allows node actions on nodes not labelled kubernaut.io/managed=true.
	NodeActionsEnabled bool
	// MaxUnschedulableShare is the largest share of the cluster's nodes that may be unschedulable
	// after a node action; the last schedulable node is never made unschedulable.
	MaxUnschedulableShare float64
	// Limits bound what one operation may change.
	Limits action.Limits
	// MaxChangesPerNamespace and MaxChangesPerCluster bound the changes made in one namespace,
	// and in the cluster, over the last hour (0: none allowed).
	MaxChangesPerNamespace, MaxChangesPerCluster int
	// UncordonRecoveredAfter is how long a node Kubernaut cordoned must have been healthy again
	// before Kubernaut uncordons it.
	UncordonRecoveredAfter time.Duration
	// DefaultOperationTimeout, when set, applies to operations without a timeout instead of their
	// action's timeout in the catalog.
	DefaultOperationTimeout time.Duration
	// PostConditions waits for each change's post-condition (default true).
	PostConditions bool
	// DryRun forces dry-run mode for every execution.
	DryRun bool
}

// DefaultSafetyConfig returns the value of every key the ConfigMap does not set. An absent
// ConfigMap is not the defaults: the executor refuses every change until it exists.
func DefaultSafetyConfig() SafetyConfig {
	return SafetyConfig{
		SafetyValidation:        true,
		RequireManagedNamespace: true,
		DeniedNamespaces:        []string{"kube-system", "kubernaut-system"},
		Cooldown:                5 * time.Minute,
		MaxUnschedulableShare:   0.34,
		Limits:                  action.DefaultLimits(),
		MaxChangesPerNamespace:  3,
		MaxChangesPerCluster:    10,
		UncordonRecoveredAfter:  2 * time.Minute,
		PostConditions:          true,
	}
}

// ParseSafetyConfig reads the ConfigMap's data over the defaults; unknown keys and invalid
// values are errors (a typo must not silently weaken a check).
func ParseSafetyConfig(data map[string]string) (SafetyConfig, error) {
	c := DefaultSafetyConfig()
	var errs []error
	boolean := func(key string, dst *bool) {
		if v, ok := data[key]; ok {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not true or false", key, v))
				return
			}
			*dst = b
		}
	}
	duration := func(key string, dst *time.Duration) {
		if v, ok := data[key]; ok {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d < 0 {
				errs = append(errs, fmt.Errorf("%s: %q is not a non-negative duration", key, v))
				return
			}
			*dst = d
		}
	}
	number := func(key string, min float64, dst *float64) {
		if v, ok := data[key]; ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < min {
				errs = append(errs, fmt.Errorf("%s: %q is not a number ≥ %g", key, v, min))
				return
			}
			*dst = f
		}
	}
	integer := func(key string, dst *int) {
		if v, ok := data[key]; ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				errs = append(errs, fmt.Errorf("%s: %q is not a non-negative integer", key, v))
				return
			}
			*dst = n
		}
	}
	quantity := func(key string, dst *resource.Quantity) {
		if v, ok := data[key]; ok {
			q, err := resource.ParseQuantity(strings.TrimSpace(v))
			if err != nil || q.Sign() <= 0 {
				errs = append(errs, fmt.Errorf("%s: %q is not a positive quantity", key, v))
				return
			}
			*dst = q
		}
	}
	boolean(KeyPaused, &c.Paused)
	boolean(KeySafetyValidation, &c.SafetyValidation)
	boolean(KeyAllowSkipSafetyValidation, &c.AllowSkipSafetyValidation)
	boolean(KeyRequireManagedNamespace, &c.RequireManagedNamespace)
	if v, ok := data[KeyDeniedNamespaces]; ok {
		c.DeniedNamespaces = nil
		for _, ns := range strings.Split(v, ",") {
			if ns = strings.TrimSpace(ns); ns != "" {
				c.DeniedNamespaces = append(c.DeniedNamespaces, ns)
			}
		}
	}
	duration(KeyCooldown, &c.Cooldown)
	boolean(KeyNodeActionsEnabled, &c.NodeActionsEnabled)
	number(KeyMaxUnschedulableShare, 0, &c.MaxUnschedulableShare)
	maxReplicas := int(c.Limits.MaxReplicas)
	integer(KeyMaxReplicas, &maxReplicas)
	c.Limits.MaxReplicas = int32(min(maxReplicas, 1<<30))
	number(KeyMaxScaleFactor, 1, &c.Limits.MaxScaleFactor)
	number(KeyMaxResourceFactor, 1, &c.Limits.MaxResourceFactor)
	quantity(KeyMaxMemory, &c.Limits.MaxMemory)
	quantity(KeyMaxCPU, &c.Limits.MaxCPU)
	integer(KeyMaxDrainPods, &c.Limits.MaxDrainPods)
	integer(KeyMaxDeletePods, &c.Limits.MaxDeletePods)
	duration(KeyDefaultOperationTimeout, &c.DefaultOperationTimeout)
	integer(KeyMaxChangesPerNamespace, &c.MaxChangesPerNamespace)
	integer(KeyMaxChangesPerCluster, &c.MaxChangesPerCluster)
	duration(KeyUncordonRecoveredAfter, &c.UncordonRecoveredAfter)
	boolean(KeyPostConditions, &c.PostConditions)
	boolean(KeyDryRun, &c.DryRun)
	if c.MaxUnschedulableShare > 1 {
		errs = append(errs, fmt.Errorf("%s: %g is above 1", KeyMaxUnschedulableShare, c.MaxUnschedulableShare))
	}
	known := []string{KeyPaused, KeyMaxChangesPerNamespace, KeyMaxChangesPerCluster, KeyUncordonRecoveredAfter, KeySafetyValidation, KeyAllowSkipSafetyValidation, KeyRequireManagedNamespace, KeyDeniedNamespaces,
		KeyCooldown, KeyNodeActionsEnabled, KeyMaxUnschedulableShare, KeyMaxReplicas, KeyMaxScaleFactor, KeyMaxResourceFactor,
		KeyMaxMemory, KeyMaxCPU, KeyMaxDrainPods, KeyMaxDeletePods, KeyDefaultOperationTimeout, KeyPostConditions, KeyDryRun}
	for k := range data {
		if !slices.Contains(known, k) {
			errs = append(errs, fmt.Errorf("unknown key %q (known: %s)", k, strings.Join(known, ", ")))
		}
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return c, errors.Join(errs...)
	}
	return c, nil
}
