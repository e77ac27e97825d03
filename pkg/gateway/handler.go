package gateway

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubernaut/kubernaut/pkg/shared/httpapi"
)

// Endpoint paths.
const (
	PathPrometheus      = "/api/v1/signals/prometheus"
	PathKubernetesEvent = "/api/v1/signals/kubernetes-event"
)

// AlertResult is one alert's line in the response.
type AlertResult struct {
	Index     int    `json:"index"`
	AlertName string `json:"alertname,omitempty"`
	Outcome
}

// Response is the body of a signal endpoint's answer.
type Response struct {
	Created    int           `json:"created"`
	Duplicates int           `json:"duplicates"`
	Resolved   int           `json:"resolved"`
	Rejected   int           `json:"rejected"`
	Ignored    int           `json:"ignored,omitempty"`
	Results    []AlertResult `json:"results"`
	// Error is set with 503 (and when nothing could be accepted).
	Error string `json:"error,omitempty"`
}

// Handler serves the signal endpoints behind auth, with maxBody bytes per request.
func (g *Gateway) Handler(auth httpapi.Authenticator, maxBody int64) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(PathPrometheus, g.endpoint("prometheus", maxBody, g.servePrometheus))
	mux.Handle(PathKubernetesEvent, g.endpoint("kubernetes-event", maxBody, g.serveEvent))
	return httpapi.RequireBearer(auth, mux)
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) { r.code = code; r.ResponseWriter.WriteHeader(code) }

func (g *Gateway) endpoint(name string, maxBody int64, serve func(http.ResponseWriter, *http.Request, []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		defer func() {
			requestDuration.WithLabelValues(name, strconv.Itoa(rec.code)).Observe(time.Since(start).Seconds())
		}()
		if r.Method != http.MethodPost {
			rec.Header().Set("Allow", http.MethodPost)
			httpapi.WriteError(rec, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed; use POST")
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "" && !strings.Contains(ct, "json") {
			httpapi.WriteError(rec, http.StatusUnsupportedMediaType, "Content-Type must be application/json, got "+ct)
			return
		}
		body, err := httpapi.ReadBody(r, maxBody)
		if err != nil {
			httpapi.WriteBodyError(rec, err, maxBody)
			return
		}
		serve(rec, r, body)
	})
}

func (g *Gateway) servePrometheus(w http.ResponseWriter, r *http.Request, body []byte) {
	msg, problems := ParseWebhook(body)
	if len(problems) > 0 {
		signalsRejected.WithLabelValues(SourcePrometheus, "malformed").Inc()
		httpapi.WriteError(w, http.StatusBadRequest, "not an Alertmanager webhook payload (version 4)", problems...)
		return
	}
	resp := Response{Results: make([]AlertResult, len(msg.Alerts))}
	var reasons []string
	for i := range msg.Alerts {
		res := AlertResult{Index: i, AlertName: msg.Alerts[i].Labels["alertname"]}
		s, err := msg.Signal(i, g.cfg.MaxPayloadBytes)
		if err != nil {
			signalsReceived.WithLabelValues(SourcePrometheus).Inc()
			signalsRejected.WithLabelValues(SourcePrometheus, "invalid_alert").Inc()
			res.Outcome = Outcome{Status: StatusRejected, Reason: err.Error()}
		} else {
			res.Outcome = g.Handle(r.Context(), s)
		}
		if res.Status == StatusRejected {
			reasons = append(reasons, "alerts["+strconv.Itoa(i)+"]: "+res.Reason)
		}
		resp.Results[i] = res
	}
	g.answer(w, resp, reasons)
}

func (g *Gateway) serveEvent(w http.ResponseWriter, r *http.Request, body []byte) {
	ev, problems := ParseEvent(body)
	if len(problems) > 0 {
		signalsRejected.WithLabelValues(SourceKubernetesEvent, "malformed").Inc()
		httpapi.WriteError(w, http.StatusBadRequest, "not a core/v1 Event", problems...)
		return
	}
	if ev.Type == corev1.EventTypeNormal {
		signalsReceived.WithLabelValues(SourceKubernetesEvent).Inc()
		signalsRejected.WithLabelValues(SourceKubernetesEvent, "normal_event").Inc()
		httpapi.WriteJSON(w, http.StatusOK, Response{Ignored: 1, Results: []AlertResult{{AlertName: ev.Reason, Outcome: Outcome{Status: StatusIgnored, Reason: "Normal events are not signals"}}}})
		return
	}
	out := g.Handle(r.Context(), EventSignal(ev, body, g.cfg.MaxPayloadBytes))
	var reasons []string
	if out.Status == StatusRejected {
		reasons = []string{out.Reason}
	}
	g.answer(w, Response{Results: []AlertResult{{AlertName: ev.Reason, Outcome: out}}}, reasons)
}

// answer picks the status code: 503 when any signal could not be stored, else 201 when one was
// created, 202 for duplicates, 200 for resolved, 400 when every signal was rejected.
func (g *Gateway) answer(w http.ResponseWriter, resp Response, reasons []string) {
	unavailable := ""
	for _, res := range resp.Results {
		switch res.Status {
		case StatusCreated:
			resp.Created++
		case StatusDuplicate:
			resp.Duplicates++
		case StatusResolved:
			resp.Resolved++
		case StatusRejected:
			resp.Rejected++
		case StatusFailed:
			unavailable = res.Reason
		}
	}
	switch {
	case unavailable != "":
		w.Header().Set("Retry-After", strconv.Itoa(int(g.cfg.RetryAfter.Seconds())))
		resp.Error = "the Kubernetes API server is unavailable; retry later: " + unavailable
		httpapi.WriteJSON(w, http.StatusServiceUnavailable, resp)
	case resp.Created > 0:
		httpapi.WriteJSON(w, http.StatusCreated, resp)
	case resp.Duplicates > 0:
		httpapi.WriteJSON(w, http.StatusAccepted, resp)
	case resp.Resolved > 0:
		httpapi.WriteJSON(w, http.StatusOK, resp)
	default:
		httpapi.WriteError(w, http.StatusBadRequest, "no signal in the request could be accepted", reasons...)
	}
}
