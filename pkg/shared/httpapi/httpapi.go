// Package httpapi holds what the HTTP services (gateway, notification, datastorage) share: JSON
// error bodies in the contract's shape, bearer-token authentication (TokenReview, token file or
// none), body limits and an HTTP server that runs until its context ends.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// ErrorBody is the contract's error shape: {"error": "...", "details": [...]}.
type ErrorBody struct {
	Error   string   `json:"error"`
	Details []string `json:"details,omitempty"`
}

// WriteJSON writes v as JSON with the status code.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError writes an ErrorBody.
func WriteError(w http.ResponseWriter, code int, msg string, details ...string) {
	WriteJSON(w, code, ErrorBody{Error: msg, Details: details})
}

// ReadBody reads at most limit bytes; a larger body yields ErrTooLarge.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, ErrTooLarge
	}
	return body, nil
}

// ErrTooLarge reports a body over the limit.
var ErrTooLarge = errors.New("request body too large")

// WriteBodyError answers a ReadBody error: 413 for ErrTooLarge, 400 otherwise.
func WriteBodyError(w http.ResponseWriter, err error, limit int64) {
	if errors.Is(err, ErrTooLarge) {
		WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", limit))
		return
	}
	WriteError(w, http.StatusBadRequest, err.Error())
}

// Server is an HTTP server as a controller-runtime Runnable (and usable on its own): Start
// serves until ctx ends, then shuts down gracefully. It runs on every replica.
type Server struct {
	Addr    string
	Handler http.Handler
	// ShutdownTimeout bounds the graceful shutdown (default 20s).
	ShutdownTimeout time.Duration
	// Listener, when set, is used instead of listening on Addr (tests).
	Listener net.Listener
}

// Start serves until ctx is cancelled.
func (s *Server) Start(ctx context.Context) error {
	srv := &http.Server{Handler: s.Handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	ln := s.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.Addr); err != nil {
			return fmt.Errorf("listening on %s: %w", s.Addr, err)
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	timeout := s.ShutdownTimeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down the HTTP server: %w", err)
	}
	return nil
}

// NeedLeaderElection is false: every replica serves HTTP.
func (s *Server) NeedLeaderElection() bool { return false }
