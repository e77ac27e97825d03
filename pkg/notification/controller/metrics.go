package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Delivery results used as the "result" label.
const (
	ResultSuccess       = "success"
	ResultRetryable     = "retryable_failure"
	ResultPermanent     = "permanent_failure"
	ResultNotConfigured = "not_configured"
)

var (
	deliveriesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_notification_deliveries_total",
		Help: "Delivery attempts by channel and result (success, retryable_failure, permanent_failure, not_configured).",
	}, []string{"channel", "result"})
	deliveryDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kubernaut_notification_delivery_duration_seconds",
		Help:    "Duration of one delivery attempt, by channel.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"channel"})
	deliveryLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kubernaut_notification_delivery_latency_seconds",
		Help:    "Time from a NotificationRequest's creation to its successful delivery, by channel.",
		Buckets: []float64{.05, .1, .25, .5, 1, 2, 5, 15, 60, 300, 900, 1800},
	}, []string{"channel"})
	retriesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_notification_retries_total",
		Help: "Delivery attempts after the first, by channel.",
	}, []string{"channel"})
)

func init() {
	metrics.Registry.MustRegister(deliveriesTotal, deliveryDuration, deliveryLatency, retriesTotal)
}
