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
)

// SafetyConfig is the executor's safety configuration.
type SafetyConfig struct {
	// SafetyValidation runs the safety checks before any change (default true).
	SafetyValidation bool
	// AllowSkipSafetyValidation lets an execution with executionConfig.safetyValidation=false skip
	// the policy checks (namespace, protection, cooldown, blast radius); the target UID check and
	// the server-side dry-run always run. Default false: the checks run anyway.
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
	// DefaultOperationTimeout applies to operations without a timeout.
	DefaultOperationTimeout time.Duration
	// PostConditions waits for each change's post-condition (default true).
	PostConditions bool
	// DryRun forces dry-run mode for every execution.
	DryRun bool
}

// DefaultSafetyConfig returns the configuration used when the ConfigMap is absent, and the
// value of every key it does not set.
func DefaultSafetyConfig() SafetyConfig {
	return SafetyConfig{
		SafetyValidation:        true,
		RequireManagedNamespace: true,
		DeniedNamespaces:        []string{"kube-system", "kubernaut-system"},
		Cooldown:                5 * time.Minute,
		MaxUnschedulableShare:   0.34,
		Limits:                  action.DefaultLimits(),
		DefaultOperationTimeout: 5 * time.Minute,
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
	boolean(KeyPostConditions, &c.PostConditions)
	boolean(KeyDryRun, &c.DryRun)
	if c.MaxUnschedulableShare > 1 {
		errs = append(errs, fmt.Errorf("%s: %g is above 1", KeyMaxUnschedulableShare, c.MaxUnschedulableShare))
	}
	known := []string{KeySafetyValidation, KeyAllowSkipSafetyValidation, KeyRequireManagedNamespace, KeyDeniedNamespaces,
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
