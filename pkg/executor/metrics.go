package executor

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Operation results used as the "result" label of kubernaut_executor_operations_total.
const (
	ResultSucceeded  = "succeeded"
	ResultFailed     = "failed"
	ResultRefused    = "refused"
	ResultRolledBack = "rolled_back"
	ResultDryRun     = "dry_run"
)

var (
	operationsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_executor_operations_total",
		Help: "Operations that finished, by catalog action and result (succeeded, failed, refused, rolled_back, dry_run).",
	}, []string{"action", "result"})
	refusalsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_executor_refusals_total",
		Help: "Operations refused before any change, by reason (the KubernetesExecution reasons, e.g. NamespaceNotManaged, TargetCooldown, BlastRadiusExceeded).",
	}, []string{"reason"})
	rollbacksTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_executor_rollbacks_total",
		Help: "Operations reverted after a later failure, by result (reverted, failed).",
	}, []string{"result"})
	operationDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kubernaut_executor_operation_duration_seconds",
		Help:    "Time from an operation's start to its end (change and post-condition), by catalog action.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
	}, []string{"action"})
	executionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_executor_executions_total",
		Help: "KubernetesExecutions that reached a final phase, by phase (Completed, Failed, RolledBack).",
	}, []string{"phase"})
	changesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_executor_changes_total",
		Help: "Changes made to the cluster (an operation's change applied, not a dry-run), by catalog action.",
	}, []string{"action"})
	changesLastHour = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kubernaut_executor_changes_last_hour",
		Help: "Changes in the cluster over the last hour (applied or under way), as counted by the last budget check (maxChangesPerClusterPerHour bounds it).",
	})
	budgetRefusals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_executor_budget_refusals_total",
		Help: "Changes refused because the change budget of their namespace or of the cluster was spent, by scope (namespace, cluster).",
	}, []string{"scope"})
	paused = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kubernaut_executor_paused",
		Help: "1 while the safety ConfigMap says paused=true (every execution holds before its next change), else 0.",
	})
	configValid = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kubernaut_executor_safety_config_valid",
		Help: "1 when the safety ConfigMap was last read and valid, 0 when it is absent, unreadable or invalid (nothing is changed).",
	})
	holdsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_executor_holds_total",
		Help: "Reconciles of an execution that stopped before a change, by reason (ExecutionPaused, SafetyConfigInvalid).",
	}, []string{"reason"})
	nodeUncordons = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_executor_node_uncordons_total",
		Help: "Nodes Kubernaut cordoned and uncordoned once healthy again, by result (uncordoned, failed).",
	}, []string{"result"})
	chainLiveReads = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kubernaut_executor_chain_live_reads_total",
		Help: "Chain checks whose watched copies did not show the chain intact, so that it was read again live from the API server before anything was refused.",
	})
)

func init() {
	metrics.Registry.MustRegister(operationsTotal, refusalsTotal, rollbacksTotal, operationDuration, executionsTotal,
		changesTotal, changesLastHour, budgetRefusals, paused, configValid, holdsTotal, nodeUncordons, chainLiveReads)
}
