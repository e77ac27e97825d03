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
)

func init() {
	metrics.Registry.MustRegister(operationsTotal, refusalsTotal, rollbacksTotal, operationDuration, executionsTotal)
}
