package processing

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Results of an enrichment, the values of the result label.
const (
	resultEnriched = "enriched"
	resultDegraded = "degraded"
	resultFailed   = "failed"
	resultTimedOut = "timed_out"
)

var (
	enrichmentDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "kubernaut_processing_enrichment_duration_seconds",
		Help:    "Duration of one enrichment (live reads and context building).",
		Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5},
	})
	enrichmentReads = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "kubernaut_processing_enrichment_api_reads",
		Help:    "API server reads (gets and list pages) made by one enrichment.",
		Buckets: []float64{2, 4, 6, 8, 12, 16, 24, 32, 48, 64},
	})
	enrichments = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_processing_enrichments_total",
		Help: "Enrichments by result: enriched, degraded (target not found), failed, timed_out.",
	}, []string{"result"})
	degradedEnrichments = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kubernaut_processing_degraded_enrichments_total",
		Help: "Enrichments completed in degraded mode because the target (or its namespace) did not exist.",
	})
	classifications = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_processing_classifications_total",
		Help: "Classifications by the source that decided the environment (NamespaceLabel, NamespaceEnvLabel, SignalLabel, PolicyOverride, NamespaceName, Default) and whether a CEL rule decided the priority.",
	}, []string{"environment_source", "priority_from"})
	contextBytes = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "kubernaut_processing_context_bytes",
		Help:    "Size of the serialized KubernetesContext written to status.",
		Buckets: []float64{256, 512, 1024, 2048, 4096, 6144, 8192},
	})
	contextTruncations = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kubernaut_processing_context_truncations_total",
		Help: "Contexts from which facts were dropped to stay within the bound.",
	})
	policyReloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_processing_policy_reloads_total",
		Help: "Policy ConfigMap loads by result: loaded, invalid (refused, the last good policy stays), removed (back to the built-in policy).",
	}, []string{"result"})
	ruleErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kubernaut_processing_policy_rule_errors_total",
		Help: "CEL rule evaluations that failed (counted as no match).",
	})
)

func init() {
	metrics.Registry.MustRegister(enrichmentDuration, enrichmentReads, enrichments, degradedEnrichments, classifications, contextBytes,
		contextTruncations, policyReloads, ruleErrors)
}
