// Package app wires the gateway command: flags → Config → Run.
package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kubernaut/kubernaut/pkg/gateway"
	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/shared/httpapi"
)

const service = "gateway"

// Config is everything Run needs, built from flags.
type Config struct {
	shared.Options
	HTTP shared.HTTPOptions
	// Cooldown keeps a finished RemediationRequest absorbing duplicates for this long.
	Cooldown time.Duration
	// PriorityOverrides changes cells of the default priority table.
	PriorityOverrides string
	// APITimeout bounds the API server calls made for one signal.
	APITimeout time.Duration
	// MaxPayloadBytes caps spec.originalPayload.
	MaxPayloadBytes int
	// TargetMappingsFile holds the operator's target mappings (YAML), tried before the built-in table.
	TargetMappingsFile string
	// OwnerCacheSize and OwnerCacheTTL bound the metadata cache of target resolution.
	OwnerCacheSize int
	OwnerCacheTTL  time.Duration
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	d := gateway.DefaultConfig(shared.DefaultNamespace)
	o := shared.NewOptions(false)
	// A request per distinct alert: the gateway's client may send more than the others'.
	o.KubeAPIQPS, o.KubeAPIBurst = 500, 1000
	return &Config{
		Options: o, HTTP: shared.NewHTTPOptions(),
		Cooldown: d.Cooldown, APITimeout: d.APITimeout, MaxPayloadBytes: d.MaxPayloadBytes,
		OwnerCacheSize: d.OwnerCacheSize, OwnerCacheTTL: d.OwnerCacheTTL,
	}
}

// AddFlags registers the gateway's own flags.
func (c *Config) AddFlags(fs *pflag.FlagSet) {
	c.Options.AddFlags(fs)
	c.HTTP.AddFlags(fs)
	fs.DurationVar(&c.Cooldown, "dedup-cooldown", c.Cooldown, "How long after a RemediationRequest ends a repeat of its signal still counts as a duplicate instead of starting a new remediation.")
	fs.StringVar(&c.PriorityOverrides, "priority-overrides", c.PriorityOverrides, "Changes to the severity × environment priority table, as comma-separated severity/environment=Pn entries (for example warning/production=P0).")
	fs.DurationVar(&c.APITimeout, "api-timeout", c.APITimeout, "Longest time the API server calls for one signal may take before the gateway answers 503 with Retry-After.")
	fs.IntVar(&c.MaxPayloadBytes, "max-payload-bytes", c.MaxPayloadBytes, "Largest original payload stored in a RemediationRequest (at most 65536); larger payloads are stored without their shared labels, or not at all.")
	fs.StringVar(&c.TargetMappingsFile, "target-mappings-file", c.TargetMappingsFile, "YAML file of target mappings for the operator's own alert labels (mappings: [{label, apiVersion, kind, namespaced, alertNames, matchLabels, name}]), tried in order before the built-in table (docs/gateway.md). An invalid file stops the gateway at start.")
	fs.IntVar(&c.OwnerCacheSize, "owner-cache-size", c.OwnerCacheSize, "Most objects (Pods, ReplicaSets, workloads, …) whose existence and controller target resolution remembers; the least recently used are forgotten first.")
	fs.DurationVar(&c.OwnerCacheTTL, "owner-cache-ttl", c.OwnerCacheTTL, "How long target resolution remembers an object's existence and controller (an absent object: at most 10s).")
}

// Validate reports every invalid setting.
func (c *Config) Validate() error {
	var errs []error
	if c.Cooldown < 0 {
		errs = append(errs, fmt.Errorf("--dedup-cooldown must not be negative, not %s", c.Cooldown))
	}
	if c.APITimeout <= 0 {
		errs = append(errs, fmt.Errorf("--api-timeout must be positive, not %s", c.APITimeout))
	}
	if c.MaxPayloadBytes <= 0 || c.MaxPayloadBytes > 65536 {
		errs = append(errs, fmt.Errorf("--max-payload-bytes must be between 1 and 65536, not %d", c.MaxPayloadBytes))
	}
	if _, err := gateway.DefaultPriorityTable().ParsePriorityOverrides(c.PriorityOverrides); err != nil {
		errs = append(errs, fmt.Errorf("--priority-overrides: %w", err))
	}
	if c.OwnerCacheSize <= 0 {
		errs = append(errs, fmt.Errorf("--owner-cache-size must be positive, not %d", c.OwnerCacheSize))
	}
	if c.OwnerCacheTTL <= 0 {
		errs = append(errs, fmt.Errorf("--owner-cache-ttl must be positive, not %s", c.OwnerCacheTTL))
	}
	if c.TargetMappingsFile != "" {
		if _, err := gateway.LoadMappings(c.TargetMappingsFile); err != nil {
			errs = append(errs, fmt.Errorf("--target-mappings-file: %w", err))
		}
	}
	return errors.Join(c.Options.Validate(), c.HTTP.Validate(), errors.Join(errs...))
}

// GatewayConfig builds the gateway package's configuration.
func (c *Config) GatewayConfig() (gateway.Config, error) {
	prio, err := gateway.DefaultPriorityTable().ParsePriorityOverrides(c.PriorityOverrides)
	if err != nil {
		return gateway.Config{}, err
	}
	g := gateway.DefaultConfig(c.Namespace)
	g.Cooldown, g.Priorities, g.APITimeout, g.MaxPayloadBytes = c.Cooldown, prio, c.APITimeout, c.MaxPayloadBytes
	g.OwnerCacheSize, g.OwnerCacheTTL = c.OwnerCacheSize, c.OwnerCacheTTL
	if c.TargetMappingsFile != "" {
		if g.Mappings, err = gateway.LoadMappings(c.TargetMappingsFile); err != nil {
			return gateway.Config{}, fmt.Errorf("--target-mappings-file: %w", err)
		}
	}
	return g, nil
}

// NewCommand returns the gateway root command.
func NewCommand() *cobra.Command {
	cfg := NewConfig()
	return shared.NewRootCommand(service,
		"Kubernaut gateway: turns Alertmanager webhooks and Kubernetes events into RemediationRequests.",
		"Kubernaut gateway: turns Alertmanager webhooks and Kubernetes events into RemediationRequests.\n\nIt serves POST /api/v1/signals/prometheus and POST /api/v1/signals/kubernetes-event on --http-bind-address, creates RemediationRequests in --namespace with duplicate detection that holds across replicas, serves /healthz and /readyz on --health-probe-bind-address and Prometheus metrics on --metrics-bind-address, and stops cleanly on SIGTERM.",
		func(cmd *cobra.Command) { cfg.AddFlags(cmd.Flags()) },
		cfg.Validate,
		func(ctx context.Context) error { return Run(ctx, cfg) })
}

// Run runs the service until ctx ends: a manager (no leader election; every replica serves)
// with a narrowed cache and the HTTP server as a runnable.
func Run(ctx context.Context, cfg *Config) error {
	log, err := cfg.NewLogger(service)
	if err != nil {
		return err
	}
	restCfg, err := cfg.RESTConfig()
	if err != nil {
		return err
	}
	gcfg, err := cfg.GatewayConfig()
	if err != nil {
		return err
	}
	opts := cfg.ManagerOptions(service)
	mgr, err := shared.NewManager(restCfg, opts)
	if err != nil {
		return err
	}
	gw, err := gateway.New(ctx, mgr, gcfg)
	if err != nil {
		return err
	}
	auth, err := httpapi.NewAuthenticator(cfg.HTTP, restCfg)
	if err != nil {
		return fmt.Errorf("setting up authentication: %w", err)
	}
	// Listen now, so connections wait in the backlog while the caches sync instead of being refused.
	ln, err := net.Listen("tcp", cfg.HTTP.BindAddress)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.HTTP.BindAddress, err)
	}
	if err := mgr.Add(&httpapi.Server{Addr: cfg.HTTP.BindAddress, Listener: ln, Handler: gw.Handler(auth, cfg.HTTP.MaxBodyBytes)}); err != nil {
		_ = ln.Close()
		return err
	}
	if err := mgr.AddReadyzCheck("caches", func(*http.Request) error {
		sctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if !mgr.GetCache().WaitForCacheSync(sctx) || !gw.WaitForCacheSync(sctx) {
			return errors.New("caches are not synced yet")
		}
		return nil
	}); err != nil {
		return err
	}
	log.Info("Starting", "namespace", cfg.Namespace, "http", cfg.HTTP.BindAddress, "auth", cfg.HTTP.AuthMode, "metrics", cfg.MetricsBindAddress,
		"probes", cfg.HealthProbeBindAddress, "targetMappings", len(gcfg.Mappings))
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running %s: %w", service, err)
	}
	log.Info("Stopped cleanly")
	return nil
}
