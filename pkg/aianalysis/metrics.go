package aianalysis

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Outcome label values of kubernaut_aianalysis_investigations_total.
const (
	outcomeRecommended = "action_recommended"
	outcomeNoAction    = "no_action_required"
	outcomeManual      = "manual_review_required"
	outcomeFailed      = "failed"
)

var (
	investigationsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_aianalysis_investigations_total",
		Help: "Investigations by provider and outcome (action_recommended, no_action_required, manual_review_required, failed).",
	}, []string{"provider", "outcome"})
	investigationDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kubernaut_aianalysis_investigation_duration_seconds",
		Help:    "Duration of one investigation including guardrail retries and history look-ups, by provider.",
		Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 5, 15, 30, 60, 120, 300, 600},
	}, []string{"provider"})
	confidenceHist = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kubernaut_aianalysis_confidence",
		Help:    "Confidence of the top recommendation of each analysis that recommends an action, by provider.",
		Buckets: []float64{.1, .2, .3, .4, .5, .6, .7, .8, .85, .9, .95, 1},
	}, []string{"provider"})
	refusalsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_aianalysis_guardrail_refusals_total",
		Help: "Recommendations (or steps) refused by the guardrails, by reason.",
	}, []string{"reason"})
	approvalsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_aianalysis_approvals_total",
		Help: "Approval outcomes by decision (not_required, Approved, Rejected, Expired).",
	}, []string{"decision"})
	repeatsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_aianalysis_repeat_actions_total",
		Help: "Recommendations turned into manual review because Kubernaut already ran the same action on the same target within the repeat window, by provider and action.",
	}, []string{"provider", "action"})
	historyUnavailableTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kubernaut_aianalysis_history_unavailable_total",
		Help: "Investigations for which Kubernaut's recent changes to the target could not be read (a recommendation then needs approval).",
	})
	gateTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_aianalysis_environment_gate_total",
		Help: "Recommendations for a gated environment (production, unknown by default), by environment and result: person (a person must approve) or earned (the actions' verified records qualified).",
	}, []string{"environment", "result"})
	tokensTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_aianalysis_tokens_total",
		Help: "LLM tokens used, by provider, when the provider reports them.",
	}, []string{"provider"})
)

func init() {
	metrics.Registry.MustRegister(investigationsTotal, investigationDuration, confidenceHist, refusalsTotal, approvalsTotal, tokensTotal,
		repeatsTotal, historyUnavailableTotal, gateTotal)
}
