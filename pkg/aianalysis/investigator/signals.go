package investigator

import (
	"slices"
	"strings"
)

// Rule names one builtin rule.
type Rule string

// The builtin rules (see Builtin).
const (
	// RuleNode: the target Node is NotReady or under the pressure the alert names → cordon_node.
	RuleNode Rule = "node"
	// RuleOOM: the alerting container of the current pods was OOMKilled recently → increase_resources.
	RuleOOM Rule = "oom"
	// RuleRollback: the current revision's pods crash-loop or cannot pull their image since a
	// rollout that began before the alert → rollback_deployment.
	RuleRollback Rule = "rollback"
	// RuleRestart: repeated liveness-probe failures of current pods, no recent rollout → rollout_restart.
	RuleRestart Rule = "restart"
	// RuleHPA: the HPA is at its maximum while saturated → update_hpa.
	RuleHPA Rule = "hpa"
	// RuleUnschedulable: pods cannot be scheduled → manual review that says why (never an action).
	RuleUnschedulable Rule = "unschedulable"
)

// Failure kinds the rollback rule weighs.
const (
	failCrash = "crash loop"
	failPull  = "image pull failure"
)

// SignalClass is what an alert says is wrong, and so which rules may explain it.
type SignalClass struct {
	// Name of the class, for evidence and documentation.
	Name string
	// Rules that may apply, in the order they are tried.
	Rules []Rule
	// Failures the rollback rule weighs (crash loop, image pull failure).
	Failures []string
	// Known is false for alerts the table does not know: the rules apply to them only with
	// strong, recent evidence about the container the alert names.
	Known bool
	// PerContainer classes come from per-container series (kube_pod_container_*, cAdvisor's
	// container_*), whose `container` label names the failing container. Other alerts may carry
	// a `container` label of the scrape target (kube-prometheus attaches
	// container="kube-rbac-proxy-main" to kube-state-metrics' workload and node series): it is
	// ignored.
	PerContainer bool
	// Why no rule applies, for classes without rules.
	Why string
}

// Has reports whether rule may apply.
func (c SignalClass) Has(rule Rule) bool { return slices.Contains(c.Rules, rule) }

var (
	podRules = []Rule{RuleOOM, RuleRollback, RuleRestart, RuleUnschedulable}

	classCrashLoop = SignalClass{Name: "crash loop", Known: true, PerContainer: true,
		Rules: []Rule{RuleOOM, RuleRollback, RuleRestart}, Failures: []string{failCrash}}
	classImagePull = SignalClass{Name: "image pull failure", Known: true, PerContainer: true,
		Rules: []Rule{RuleRollback}, Failures: []string{failPull}}
	classContainerConfig = SignalClass{Name: "container cannot start", Known: true, PerContainer: true,
		Why: "the container cannot be created or started from its configuration (a missing ConfigMap or Secret, an invalid spec): no catalog action fixes a configuration"}
	classOOM         = SignalClass{Name: "OOM kill", Known: true, PerContainer: true, Rules: []Rule{RuleOOM}}
	classMemory      = SignalClass{Name: "memory", Known: true, PerContainer: true, Rules: []Rule{RuleOOM}}
	classPodNotReady = SignalClass{Name: "pod not ready", Known: true, Rules: podRules, Failures: []string{failCrash, failPull}}
	classWorkload    = SignalClass{Name: "workload unavailable", Known: true, Rules: podRules, Failures: []string{failCrash, failPull}}
	classHPA         = SignalClass{Name: "HPA at its maximum", Known: true, Rules: []Rule{RuleHPA}}
	classNodeDown    = SignalClass{Name: "node not ready", Known: true, Rules: []Rule{RuleNode}}
	classNodePress   = SignalClass{Name: "node pressure", Known: true, Rules: []Rule{RuleNode}}
	classService     = SignalClass{Name: "service level", Known: true,
		Why: "a latency or error-rate signal is not explained by the container and node facts the catalog's actions fix"}
	classNoRule = SignalClass{Name: "no builtin rule", Known: true,
		Why: "the builtin rules do not handle this signal (capacity, quota, job, storage, scheduling or readiness-flapping alerts need a person)"}
	classUnknown = SignalClass{Name: "unknown", PerContainer: true, Rules: []Rule{RuleOOM, RuleRollback}, Failures: []string{failCrash, failPull}}
)

// byAlertName maps alert names to their class: the kubernetes-mixin's alerts as kube-prometheus
// ships them, and Kubernaut's own OOM alert.
var byAlertName = map[string]SignalClass{
	"KubePodCrashLooping":               classCrashLoop,
	"KubePodNotReady":                   classPodNotReady,
	"KubeDeploymentReplicasMismatch":    classWorkload,
	"KubeDeploymentRolloutStuck":        classWorkload,
	"KubeStatefulSetReplicasMismatch":   classWorkload,
	"KubeStatefulSetUpdateNotRolledOut": classWorkload,
	"KubeDaemonSetRolloutStuck":         classWorkload,
	"KubeHpaMaxedOut":                   classHPA,
	"KubeNodeNotReady":                  classNodeDown,
	"KubeNodeUnreachable":               classNodeDown,
	"KubeNodePressure":                  classNodePress,
	"KubePodOOMKilled":                  classOOM,

	"KubeDeploymentGenerationMismatch":  classNoRule,
	"KubeStatefulSetGenerationMismatch": classNoRule,
	"KubeDaemonSetNotScheduled":         classNoRule,
	"KubeDaemonSetMisScheduled":         classNoRule,
	"KubeJobNotCompleted":               classNoRule,
	"KubeJobFailed":                     classNoRule,
	"KubeHpaReplicasMismatch":           classNoRule,
	"KubePdbNotEnoughHealthyPods":       classNoRule,
	"KubeCPUOvercommit":                 classNoRule,
	"KubeMemoryOvercommit":              classNoRule,
	"KubeCPUQuotaOvercommit":            classNoRule,
	"KubeMemoryQuotaOvercommit":         classNoRule,
	"KubeQuotaAlmostFull":               classNoRule,
	"KubeQuotaFullyUsed":                classNoRule,
	"KubeQuotaExceeded":                 classNoRule,
	"KubePersistentVolumeErrors":        classNoRule,
	"KubePersistentVolumeFillingUp":     classNoRule,
	"KubeNodeReadinessFlapping":         classNoRule,
	"CPUThrottlingHigh":                 classNoRule,
}

// Waiting reasons of kube-state-metrics (the `reason` label of KubeContainerWaiting and
// KubePodCrashLooping).
var imagePullReasons = map[string]bool{"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true, "ErrImageNeverPull": true}

// byReason classifies by the alert's `reason` label.
func byReason(reason string) (SignalClass, bool) {
	switch {
	case reason == "CrashLoopBackOff":
		return classCrashLoop, true
	case imagePullReasons[reason]:
		return classImagePull, true
	case reason == "OOMKilled":
		return classOOM, true
	}
	return SignalClass{}, false
}

// serviceLevelWords mark latency and error-rate alerts in an alert name.
var serviceLevelWords = []string{"latency", "errorrate", "errorbudget", "slo", "5xx", "errors", "availability", "apdex"}

// ClassifySignal returns the class of a signal from its alert name and labels:
//  1. KubeContainerWaiting by its `reason` label: an image pull reason → image pull failure,
//     CrashLoopBackOff → crash loop, any other (CreateContainerConfigError, ...) → no rule.
//  2. A name of the table byAlertName (the kubernetes-mixin's alerts and KubePodOOMKilled).
//  3. Another name by its `reason` label: CrashLoopBackOff, an image pull reason, OOMKilled.
//  4. Another name by its words: "OOM" → OOM kill; latency, error-rate, SLO words → service
//     level (no rule); "Memory" (not overcommit or quota) → memory (the OOM rule only).
//  5. Anything else is unknown: the OOM and rollback rules apply only with strong, recent
//     evidence about the container the alert names; without a `container` label, manual review.
func ClassifySignal(name string, labels map[string]string) SignalClass {
	reason := labels["reason"]
	if name == "KubeContainerWaiting" {
		if c, ok := byReason(reason); ok && c.Name != classOOM.Name {
			return c
		}
		return classContainerConfig
	}
	if c, ok := byAlertName[name]; ok {
		return c
	}
	if c, ok := byReason(reason); ok {
		return c
	}
	lower := strings.ToLower(name)
	if strings.Contains(name, "OOM") || strings.Contains(lower, "outofmemory") {
		return classOOM
	}
	for _, w := range serviceLevelWords {
		if strings.Contains(lower, w) {
			return classService
		}
	}
	if strings.Contains(lower, "memory") && !strings.Contains(lower, "overcommit") && !strings.Contains(lower, "quota") {
		return classMemory
	}
	return classUnknown
}

// SignalTableRow is one row of the documented signal → rules table.
type SignalTableRow struct {
	Signal string
	Class  SignalClass
}

// SignalTable is the signal → rules table in the order the documentation shows it.
func SignalTable() []SignalTableRow {
	return []SignalTableRow{
		{"KubePodCrashLooping (reason=CrashLoopBackOff)", classCrashLoop},
		{"KubeContainerWaiting, reason ImagePullBackOff, ErrImagePull, InvalidImageName, ErrImageNeverPull", classImagePull},
		{"KubeContainerWaiting, any other reason (CreateContainerConfigError, CreateContainerError, ContainerCreating, ...)", classContainerConfig},
		{"KubePodOOMKilled; any name containing OOM; reason=OOMKilled", classOOM},
		{"names containing Memory (not Overcommit or Quota)", classMemory},
		{"KubePodNotReady", classPodNotReady},
		{"KubeDeploymentReplicasMismatch, KubeDeploymentRolloutStuck, KubeStatefulSetReplicasMismatch, KubeStatefulSetUpdateNotRolledOut, KubeDaemonSetRolloutStuck", classWorkload},
		{"KubeHpaMaxedOut", classHPA},
		{"KubeNodeNotReady, KubeNodeUnreachable", classNodeDown},
		{"KubeNodePressure (condition MemoryPressure, DiskPressure or PIDPressure)", classNodePress},
		{"names with latency, error-rate, SLO, 5xx, errors, availability or apdex words", classService},
		{"the other kubernetes-mixin alerts (generation mismatch, DaemonSet scheduling, jobs, HPA replicas mismatch, PDB, overcommit, quota, volumes, readiness flapping, CPU throttling)", classNoRule},
		{"any other name (not in this table)", classUnknown},
	}
}
