package datastorage

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kubernaut_datastorage_http_requests_total",
		Help: "HTTP API requests by route, method and status code.",
	}, []string{"route", "method", "code"})
	requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kubernaut_datastorage_http_request_duration_seconds",
		Help:    "HTTP API request latency by route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route"})
	queryDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kubernaut_datastorage_db_query_duration_seconds",
		Help:    "Database call latency by query and result (ok or error).",
		Buckets: []float64{.0002, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
	}, []string{"query", "result"})
	batchSize = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "kubernaut_datastorage_upsert_batch_records",
		Help:    "Audit records written per upsert statement (concurrent posts are grouped).",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64},
	})
	batchRetries = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kubernaut_datastorage_upsert_batch_retries_total",
		Help: "Grouped upsert statements that failed as a whole and were retried record by record.",
	})
)

func init() {
	metrics.Registry.MustRegister(requestsTotal, requestDuration, queryDuration, batchSize, batchRetries, pools)
}

// observe times a database call.
func observe(query string, f func() error) error {
	start := time.Now()
	err := f()
	result := "ok"
	if err != nil {
		result = "error"
	}
	queryDuration.WithLabelValues(query, result).Observe(time.Since(start).Seconds())
	return err
}

// poolCollector reports the connection pools opened by OpenPool (summed, normally one).
type poolCollector struct {
	mu    sync.Mutex
	pools map[*pgxpool.Pool]struct{}
}

var pools = &poolCollector{pools: map[*pgxpool.Pool]struct{}{}}

func trackPool(p *pgxpool.Pool) {
	pools.mu.Lock()
	defer pools.mu.Unlock()
	pools.pools[p] = struct{}{}
}

func untrackPool(p *pgxpool.Pool) {
	pools.mu.Lock()
	defer pools.mu.Unlock()
	delete(pools.pools, p)
}

var (
	poolConnsDesc = prometheus.NewDesc("kubernaut_datastorage_db_pool_connections",
		"Database pool connections by state: acquired (in use), idle, constructing, and max (the limit).", []string{"state"}, nil)
	poolAcquiresDesc = prometheus.NewDesc("kubernaut_datastorage_db_pool_acquires_total",
		"Connections acquired from the database pool.", nil, nil)
	poolWaitsDesc = prometheus.NewDesc("kubernaut_datastorage_db_pool_acquire_waits_total",
		"Acquires that had to wait for a free connection.", nil, nil)
	poolWaitSecondsDesc = prometheus.NewDesc("kubernaut_datastorage_db_pool_acquire_wait_seconds_total",
		"Total time spent waiting for a free database connection.", nil, nil)
)

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolConnsDesc
	ch <- poolAcquiresDesc
	ch <- poolWaitsDesc
	ch <- poolWaitSecondsDesc
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var acquired, idle, constructing, max, acquires, waits float64
	var wait time.Duration
	for p := range c.pools {
		s := p.Stat()
		acquired += float64(s.AcquiredConns())
		idle += float64(s.IdleConns())
		constructing += float64(s.ConstructingConns())
		max += float64(s.MaxConns())
		acquires += float64(s.AcquireCount())
		waits += float64(s.EmptyAcquireCount())
		wait += s.AcquireDuration()
	}
	ch <- prometheus.MustNewConstMetric(poolConnsDesc, prometheus.GaugeValue, acquired, "acquired")
	ch <- prometheus.MustNewConstMetric(poolConnsDesc, prometheus.GaugeValue, idle, "idle")
	ch <- prometheus.MustNewConstMetric(poolConnsDesc, prometheus.GaugeValue, constructing, "constructing")
	ch <- prometheus.MustNewConstMetric(poolConnsDesc, prometheus.GaugeValue, max, "max")
	ch <- prometheus.MustNewConstMetric(poolAcquiresDesc, prometheus.CounterValue, acquires)
	ch <- prometheus.MustNewConstMetric(poolWaitsDesc, prometheus.CounterValue, waits)
	ch <- prometheus.MustNewConstMetric(poolWaitSecondsDesc, prometheus.CounterValue, wait.Seconds())
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// instrument counts and times requests of one route.
func instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		requestsTotal.WithLabelValues(route, r.Method, strconv.Itoa(rec.code)).Inc()
		requestDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}
