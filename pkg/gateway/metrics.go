package gateway

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	signalsReceived = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_gateway_signals_received_total", Help: "Signals received (one per alert or event), by source.",
	}, []string{"source"})
	signalsCreated = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_gateway_signals_created_total", Help: "RemediationRequests created, by source.",
	}, []string{"source"})
	signalsDeduplicated = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_gateway_signals_deduplicated_total", Help: "Duplicate signals counted on an active RemediationRequest, by source.",
	}, []string{"source"})
	signalsResolved = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_gateway_signals_resolved_total", Help: "Resolved alerts, by source and whether a RemediationRequest was marked.",
	}, []string{"source", "matched"})
	signalsRejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_gateway_signals_rejected_total", Help: "Signals not stored, by source and reason.",
	}, []string{"source", "reason"})
	signalsUnresolved = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_gateway_signals_unresolved_total",
		Help: "Firing signals stored with spec.targetResolution.unresolvedReason (no target Kubernaut can act on), by reason.",
	}, []string{"reason"})
	ownerCacheLookups = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_gateway_owner_cache_lookups_total",
		Help: "Object metadata lookups of target resolution, by result: hit (cached), shared (joined a read in flight), miss (read from the API server).",
	}, []string{"result"})
	requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "kubernaut_gateway_http_request_duration_seconds", Help: "Latency of the signal endpoints, by endpoint and status code.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"endpoint", "code"})
	apiErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_gateway_api_errors_total", Help: "Failed API server calls (conflicts and AlreadyExists races excluded), by operation.",
	}, []string{"operation"})
)

func init() {
	metrics.Registry.MustRegister(signalsReceived, signalsCreated, signalsDeduplicated, signalsResolved, signalsRejected,
		signalsUnresolved, ownerCacheLookups, requestDuration, apiErrors)
	for _, r := range UnresolvedReasons {
		signalsUnresolved.WithLabelValues(r)
	}
}
