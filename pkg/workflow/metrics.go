package workflow

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	planningDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "kubernaut_workflow_planning_duration_seconds",
		Help:    "Time to plan a workflow's steps into ordered operations.",
		Buckets: prometheus.ExponentialBuckets(0.00001, 4, 10),
	})
	validationDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "kubernaut_workflow_validation_duration_seconds",
		Help:    "Time to validate a workflow's operations against the live cluster (reads, SubjectAccessReviews, dry-runs).",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	})
	validationFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_workflow_validation_failures_total",
		Help: "Operations that failed validation against the live cluster, by reason.",
	}, []string{"reason"})
	workflows = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_workflow_workflows_total",
		Help: "Workflows that reached a final phase, by phase (Completed, Failed).",
	}, []string{"phase"})
)

func init() {
	metrics.Registry.MustRegister(planningDuration, validationDuration, validationFailures, workflows)
}
