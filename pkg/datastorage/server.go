package datastorage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/httpapi"
)

// List page sizes.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// Server is the datastorage HTTP API over a Store.
type Server struct {
	Store *Store
	// Auth checks the bearer token of every API call.
	Auth httpapi.Authenticator
	// MaxBodyBytes bounds POST bodies (413 above it).
	MaxBodyBytes int64
	// QueryTimeout bounds each request's database work (default 10s).
	QueryTimeout time.Duration
	Log          logr.Logger

	migrated atomic.Bool
}

// SetMigrated records that the schema is in place; until then the API answers 503 and /readyz fails.
func (s *Server) SetMigrated() { s.migrated.Store(true) }

// UpsertResponse answers a POST.
type UpsertResponse struct {
	RemediationName string       `json:"remediationName"`
	Result          UpsertResult `json:"result"`
}

// Handler serves the API routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, instrument(pattern, httpapi.RequireBearer(s.Auth, s.requireSchema(h))))
	}
	route("POST "+auditapi.RemediationPath, s.postRemediation)
	route("GET "+auditapi.RemediationPath+"/{name}", s.getRemediation)
	route("GET "+auditapi.RemediationPath, s.listRemediations)
	route("GET "+auditapi.EffectivenessPath, s.effectiveness)
	route("GET "+auditapi.TrackRecordPath, s.trackRecord)
	return mux
}

// HealthHandler serves /healthz (the process is up) and /readyz (the schema is migrated and the
// database answers).
func (s *Server) HealthHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !s.migrated.Load() {
			http.Error(w, "database schema not migrated yet", http.StatusServiceUnavailable)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.Store.Ping(ctx); err != nil {
			http.Error(w, "database unreachable: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	return mux
}

func (s *Server) requireSchema(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.migrated.Load() {
			w.Header().Set("Retry-After", "5")
			httpapi.WriteError(w, http.StatusServiceUnavailable, "database not ready", "schema migrations have not completed")
			return
		}
		timeout := s.QueryTimeout
		if timeout == 0 {
			timeout = 10 * time.Second
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		h(w, r.WithContext(ctx))
	}
}

func (s *Server) postRemediation(w http.ResponseWriter, r *http.Request) {
	body, err := httpapi.ReadBody(r, s.MaxBodyBytes)
	if err != nil {
		httpapi.WriteBodyError(w, err, s.MaxBodyBytes)
		return
	}
	var a auditapi.RemediationAudit
	if err := json.Unmarshal(body, &a); err != nil {
		httpapi.WriteError(w, http.StatusBadRequest, "malformed JSON", err.Error())
		return
	}
	if problems := ValidateAudit(&a); len(problems) > 0 {
		httpapi.WriteError(w, http.StatusBadRequest, "invalid audit record", problems...)
		return
	}
	res, err := s.Store.UpsertRemediation(r.Context(), &a)
	if err != nil {
		s.dbError(w, r, err)
		return
	}
	code := http.StatusOK
	if res == Created {
		code = http.StatusCreated
	}
	httpapi.WriteJSON(w, code, UpsertResponse{RemediationName: a.RemediationName, Result: res})
}

func (s *Server) getRemediation(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if msg := checkText("name", name, maxNameLen); msg != "" {
		httpapi.WriteError(w, http.StatusBadRequest, "invalid name", msg)
		return
	}
	a, err := s.Store.GetRemediation(r.Context(), name)
	if errors.Is(err, ErrNotFound) {
		httpapi.WriteError(w, http.StatusNotFound, fmt.Sprintf("no audit record for remediation %q", name))
		return
	}
	if err != nil {
		s.dbError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, a)
}

var listParams = map[string]bool{"fingerprint": true, "phase": true, "since": true, "until": true, "limit": true, "cursor": true}

// ParseListQuery reads the list filters from a query string, reporting every problem.
func ParseListQuery(v url.Values) (ListQuery, []string) {
	q := ListQuery{Limit: DefaultListLimit}
	var p []string
	for k, vals := range v {
		if !listParams[k] {
			p = append(p, fmt.Sprintf("unknown parameter %q (known: fingerprint, phase, since, until, limit, cursor)", checkedOrTruncated(k)))
			continue
		}
		if len(vals) > 1 {
			p = append(p, fmt.Sprintf("parameter %q is given more than once", k))
		}
	}
	text := func(k string) string {
		val := v.Get(k)
		if msg := checkText(k, val, maxFilterLength); msg != "" {
			p = append(p, msg)
			return ""
		}
		return val
	}
	q.Fingerprint = text("fingerprint")
	q.Phase = text("phase")
	if q.Phase != "" && !Phases[q.Phase] {
		p = append(p, fmt.Sprintf("phase %q is not a RemediationRequest phase", checkedOrTruncated(q.Phase)))
	}
	timeParam := func(k string) *time.Time {
		val := v.Get(k)
		if val == "" {
			return nil
		}
		t, err := time.Parse(time.RFC3339Nano, val)
		if err != nil {
			p = append(p, fmt.Sprintf("%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z, not %q", k, checkedOrTruncated(val)))
			return nil
		}
		return &t
	}
	q.Since, q.Until = timeParam("since"), timeParam("until")
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxListLimit {
			p = append(p, fmt.Sprintf("limit must be an integer from 1 to %d, not %q", MaxListLimit, checkedOrTruncated(l)))
		} else {
			q.Limit = n
		}
	}
	if c := v.Get("cursor"); c != "" {
		if _, err := decodeCursor(c); err != nil {
			p = append(p, "cursor is not one this service issued")
		} else {
			q.Cursor = c
		}
	}
	return q, p
}

func (s *Server) listRemediations(w http.ResponseWriter, r *http.Request) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		httpapi.WriteError(w, http.StatusBadRequest, "malformed query string", err.Error())
		return
	}
	q, problems := ParseListQuery(v)
	if len(problems) > 0 {
		httpapi.WriteError(w, http.StatusBadRequest, "invalid filters", problems...)
		return
	}
	page, err := s.Store.ListRemediations(r.Context(), q)
	if err != nil {
		s.dbError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, page)
}

func (s *Server) effectiveness(w http.ResponseWriter, r *http.Request) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		httpapi.WriteError(w, http.StatusBadRequest, "malformed query string", err.Error())
		return
	}
	var p []string
	get := func(k string) string {
		val := v.Get(k)
		if val == "" {
			p = append(p, k+" is required")
		} else if msg := checkText(k, val, maxFilterLength); msg != "" {
			p = append(p, msg)
		}
		return val
	}
	signal, action := get("signalName"), get("action")
	if len(p) > 0 {
		httpapi.WriteError(w, http.StatusBadRequest, "invalid parameters", p...)
		return
	}
	out, err := s.Store.Effectiveness(r.Context(), signal, action)
	if err != nil {
		s.dbError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// dbError answers a store error: 503 + Retry-After when the database is unreachable or
// overloaded, 500 otherwise.
func (s *Server) dbError(w http.ResponseWriter, r *http.Request, err error) {
	if s.unavailable(r.Context(), err) {
		s.Log.Info("Database unavailable", "path", r.URL.Path, "error", err.Error())
		w.Header().Set("Retry-After", "5")
		httpapi.WriteError(w, http.StatusServiceUnavailable, "database unavailable, retry later")
		return
	}
	s.Log.Error(err, "Database call failed", "path", r.URL.Path)
	httpapi.WriteError(w, http.StatusInternalServerError, "internal error")
}

func (s *Server) unavailable(ctx context.Context, err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			strings.HasPrefix(pgErr.Code, "53"),                                 // insufficient resources
			pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", // shutdown, cannot connect now
			pgErr.Code == "40001", pgErr.Code == "40P01": // serialization failure, deadlock: retry
			return true
		}
		return false
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &connErr) || errors.As(err, &netErr) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	// Anything else: unavailable if the database does not answer now.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	return s.Store.Ping(pctx) != nil
}
