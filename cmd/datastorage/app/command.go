// Package app wires the datastorage command: flags → Config → Run.
package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/kubernaut/kubernaut/pkg/datastorage"
	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/shared/httpapi"
)

const service = "datastorage"

// Config is everything Run needs, built from flags.
type Config struct {
	shared.Options
	HTTP shared.HTTPOptions

	// DatabaseURL is the PostgreSQL connection URL or DSN; empty uses the PG* environment variables.
	DatabaseURL string
	// DatabaseMaxConns bounds the connection pool.
	DatabaseMaxConns int32
	// QueryTimeout bounds the database work of one request.
	QueryTimeout time.Duration
	// Writers bounds the concurrent batched audit writes.
	Writers int

	// Listeners, when set, replace the bind addresses (tests).
	APIListener, HealthListener, MetricsListener net.Listener
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	return &Config{
		Options:          shared.NewOptions(false),
		HTTP:             shared.NewHTTPOptions(),
		DatabaseMaxConns: 16,
		QueryTimeout:     10 * time.Second,
		Writers:          datastorage.DefaultWriters,
	}
}

// AddFlags registers the datastorage flags.
func (c *Config) AddFlags(fs *pflag.FlagSet) {
	c.Options.AddFlags(fs)
	c.HTTP.AddFlags(fs)
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "PostgreSQL connection URL (postgres://user@host:5432/db?sslmode=...); empty uses the standard PG* environment variables.")
	fs.Int32Var(&c.DatabaseMaxConns, "database-max-conns", c.DatabaseMaxConns, "Largest number of open database connections.")
	fs.IntVar(&c.Writers, "database-writers", c.Writers, "Largest number of audit upsert statements in flight. Concurrent upserts are grouped into one statement per writer; keep it below --database-max-conns so reads find a connection.")
	fs.DurationVar(&c.QueryTimeout, "query-timeout", c.QueryTimeout, "Longest time one API request may spend in the database before it is answered 503.")
}

// Validate reports every invalid setting.
func (c *Config) Validate() error {
	var errs []error
	if c.DatabaseMaxConns < 2 {
		errs = append(errs, fmt.Errorf("--database-max-conns must be at least 2 (migrations hold one for their lock), not %d", c.DatabaseMaxConns))
	}
	if c.Writers < 1 || int32(c.Writers) >= c.DatabaseMaxConns {
		errs = append(errs, fmt.Errorf("--database-writers must be at least 1 and below --database-max-conns (%d), not %d", c.DatabaseMaxConns, c.Writers))
	}
	if c.QueryTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--query-timeout must be positive, not %s", c.QueryTimeout))
	}
	return errors.Join(c.Options.Validate(), c.HTTP.Validate(), errors.Join(errs...))
}

// NewCommand returns the datastorage root command.
func NewCommand() *cobra.Command {
	cfg := NewConfig()
	return shared.NewRootCommand(service,
		"Kubernaut datastorage: keeps the audit trail in PostgreSQL behind an HTTP API.",
		"Kubernaut datastorage: keeps the audit trail in PostgreSQL behind an HTTP API.\n\n"+
			"It applies its embedded schema migrations at start (under an advisory lock, so replicas can start together), "+
			"serves the audit API on --http-bind-address, /healthz and /readyz on --health-probe-bind-address "+
			"(/readyz fails while the database is unreachable) and Prometheus metrics on --metrics-bind-address, "+
			"and stops cleanly on SIGTERM. It needs no Kubernetes cluster unless --auth-mode=tokenreview.",
		func(cmd *cobra.Command) { cfg.AddFlags(cmd.Flags()) },
		cfg.Validate,
		func(ctx context.Context) error { return Run(ctx, cfg) })
}

// Run runs the service until ctx ends.
func Run(ctx context.Context, cfg *Config) error {
	log, err := cfg.NewLogger(service)
	if err != nil {
		return err
	}
	var restCfg *rest.Config
	if cfg.HTTP.AuthMode == shared.AuthModeTokenReview {
		if restCfg, err = cfg.RESTConfig(); err != nil {
			return fmt.Errorf("--auth-mode=tokenreview needs a cluster (--kubeconfig): %w", err)
		}
	}
	auth, err := httpapi.NewAuthenticator(cfg.HTTP, restCfg)
	if err != nil {
		return fmt.Errorf("setting up authentication: %w", err)
	}
	pool, err := datastorage.OpenPool(ctx, cfg.DatabaseURL, cfg.DatabaseMaxConns)
	if err != nil {
		return err
	}
	defer datastorage.ClosePool(pool)

	store := datastorage.NewStore(pool, cfg.Writers)
	store.WriteTimeout = cfg.QueryTimeout
	srv := &datastorage.Server{
		Store:        store,
		Auth:         auth,
		MaxBodyBytes: cfg.HTTP.MaxBodyBytes,
		QueryTimeout: cfg.QueryTimeout,
		Log:          log,
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	servers := map[string]*httpapi.Server{
		"api":    {Addr: cfg.HTTP.BindAddress, Handler: srv.Handler(), Listener: cfg.APIListener},
		"health": {Addr: cfg.HealthProbeBindAddress, Handler: srv.HealthHandler(), Listener: cfg.HealthListener},
	}
	if cfg.MetricsBindAddress != "0" || cfg.MetricsListener != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{}))
		servers["metrics"] = &httpapi.Server{Addr: cfg.MetricsBindAddress, Handler: mux, Listener: cfg.MetricsListener}
	}
	if cfg.PprofBindAddress != "" && cfg.PprofBindAddress != "0" {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		servers["pprof"] = &httpapi.Server{Addr: cfg.PprofBindAddress, Handler: mux}
	}

	var wg sync.WaitGroup
	errc := make(chan error, len(servers))
	for name, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Start(ctx); err != nil {
				errc <- fmt.Errorf("%s server: %w", name, err)
				cancel()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		migrate(ctx, log, srv)
	}()
	log.Info("Serving", "api", cfg.HTTP.BindAddress, "health", cfg.HealthProbeBindAddress, "metrics", cfg.MetricsBindAddress, "authMode", cfg.HTTP.AuthMode)
	<-ctx.Done()
	wg.Wait()
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	log.Info("Stopped")
	return errors.Join(errs...)
}

// migrate applies the schema, retrying with backoff while the database is unreachable; the API
// answers 503 until it succeeds.
func migrate(ctx context.Context, log logr.Logger, srv *datastorage.Server) {
	backoff := time.Second
	for {
		v, err := datastorage.Migrate(ctx, srv.Store.Pool())
		if err == nil {
			srv.SetMigrated()
			log.Info("Database schema ready", "version", v)
			return
		}
		if ctx.Err() != nil {
			return
		}
		log.Error(err, "Migrating the database schema failed; retrying", "retryIn", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}
