package orchestrator

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
)

var (
	phaseDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kubernaut_orchestrator_phase_duration_seconds",
		Help:    "Time RemediationRequests spent in a phase.",
		Buckets: []float64{0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600},
	}, []string{"phase"})
	remediationsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_orchestrator_remediations_total",
		Help: "RemediationRequests that reached a terminal phase, by phase and outcome.",
	}, []string{"phase", "outcome"})
	unresolvedTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kubernaut_orchestrator_unresolved_targets_total",
		Help: "RemediationRequests ended in manual review because the gateway could not resolve the alert's target.",
	})
	timeoutsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_orchestrator_timeouts_total",
		Help: "RemediationRequests that timed out, by the phase that timed out.",
	}, []string{"phase"})
	escalationsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_orchestrator_escalations_total",
		Help: "Escalation attempts to the notification service, by reason and result.",
	}, []string{"reason", "result"})
	auditPostsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_orchestrator_audit_posts_total",
		Help: "Audit record deliveries to datastorage, by result.",
	}, []string{"result"})
	blockedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_orchestrator_blocked_total",
		Help: "RemediationRequests held in Blocked by a safety valve, by reason.",
	}, []string{"reason"})
	childReads = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kubernaut_orchestrator_child_reads_total",
		Help: "Children read from the API server because they had finished and left the cache (about one per child, and again after a restart).",
	})
	alertmanagerQueries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_orchestrator_alertmanager_queries_total",
		Help: "Questions to Alertmanager at the end of a verification window, by result (ok|error).",
	}, []string{"result"})
	approvalLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "kubernaut_orchestrator_approval_notification_latency_seconds",
		Help:    "Time from observing an AIAnalysis in Approving to its approval NotificationRequest existing.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5},
	})

	activeDesc  = prometheus.NewDesc("kubernaut_orchestrator_active_requests", "Non-terminal RemediationRequests by phase, counted from the cache.", []string{"phase"}, nil)
	backlogDesc = prometheus.NewDesc("kubernaut_orchestrator_audit_backlog", "Phase changes not yet acknowledged by datastorage, counted from the cache.", nil, nil)

	registerOnce sync.Once
	stateReader  atomic.Pointer[cacheState]
)

type cacheState struct {
	reader    client.Reader
	namespace string
}

// stateCollector counts requests from the informer cache at scrape time.
type stateCollector struct{}

func (stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- activeDesc
	ch <- backlogDesc
}

func (stateCollector) Collect(ch chan<- prometheus.Metric) {
	st := stateReader.Load()
	if st == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Read-only walk over the cache: no deep copy of every request at each scrape.
	var list remediationv1.RemediationRequestList
	if err := st.reader.List(ctx, &list, client.InNamespace(st.namespace), client.UnsafeDisableDeepCopy); err != nil {
		return
	}
	counts := map[remediationv1.Phase]int{}
	for _, p := range []remediationv1.Phase{remediationv1.PhasePending, remediationv1.PhaseBlocked, remediationv1.PhaseProcessing,
		remediationv1.PhaseAnalyzing, remediationv1.PhaseAwaitingApproval, remediationv1.PhasePlanning,
		remediationv1.PhaseExecuting, remediationv1.PhaseVerifying} {
		counts[p] = 0
	}
	backlog := 0
	for i := range list.Items {
		rr := &list.Items[i]
		backlog += len(rr.Status.Audit.PendingPhases)
		p := rr.Status.OverallPhase
		if p == "" {
			p = remediationv1.PhasePending
		}
		if !p.IsTerminal() {
			counts[p]++
		}
	}
	for p, n := range counts {
		ch <- prometheus.MustNewConstMetric(activeDesc, prometheus.GaugeValue, float64(n), string(p))
	}
	ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(backlog))
}

// registerMetrics registers the collectors once and points the cache-backed gauges at reader.
func registerMetrics(reader client.Reader, namespace string) {
	registerOnce.Do(func() {
		metrics.Registry.MustRegister(phaseDuration, remediationsTotal, unresolvedTotal, timeoutsTotal, escalationsTotal,
			auditPostsTotal, blockedTotal, approvalLatency, childReads, alertmanagerQueries, stateCollector{})
	})
	stateReader.Store(&cacheState{reader: reader, namespace: namespace})
}
