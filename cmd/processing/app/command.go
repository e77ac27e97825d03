// Package app wires the processing command: flags → Config → Run.
package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubernaut/kubernaut/pkg/processing"
	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
)

const service = "processing"

// Config is everything Run needs, built from flags.
type Config struct {
	shared.Options
	Processing processing.Config
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	return &Config{Options: shared.NewOptions(true), Processing: processing.DefaultConfig()}
}

// AddFlags registers the shared flags and the service's own.
func (c *Config) AddFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	c.Options.AddFlags(fs)
	p := &c.Processing
	fs.StringVar(&p.PolicyConfigMap, "policy-configmap", p.PolicyConfigMap, "Name of the ConfigMap in --namespace whose key policy.yaml holds the classification policy (priority table, criticality raise, environment overrides, CEL rules). Reloaded when it changes; an invalid policy is refused with a Warning event and the last good one stays; without it the built-in policy applies.")
	fs.DurationVar(&p.EnrichmentTimeout, "enrichment-timeout", p.EnrichmentTimeout, "Bound on the reads of one enrichment: a read still waiting then fails the RemediationProcessing (reason EnrichmentTimedOut); other read errors are retried for as long, then fail it (reason EnrichmentFailed).")
	fs.IntVar(&p.MaxConcurrentReconciles, "max-concurrent-reconciles", p.MaxConcurrentReconciles, "RemediationProcessings enriched in parallel.")
	fs.IntVar(&p.MaxContextBytes, "max-context-bytes", p.MaxContextBytes, "Bound on the serialized Kubernetes context of one signal; the least useful facts are dropped first and listed in its truncated field.")
}

// Validate reports every invalid setting.
func (c *Config) Validate() error {
	errs := []error{c.Options.Validate()}
	p := c.Processing
	if strings.TrimSpace(p.PolicyConfigMap) == "" {
		errs = append(errs, errors.New("--policy-configmap must not be empty"))
	}
	if p.EnrichmentTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--enrichment-timeout must be positive, not %s", p.EnrichmentTimeout))
	}
	if p.MaxConcurrentReconciles < 1 {
		errs = append(errs, fmt.Errorf("--max-concurrent-reconciles must be at least 1, not %d", p.MaxConcurrentReconciles))
	}
	if p.MaxContextBytes < 1024 {
		errs = append(errs, fmt.Errorf("--max-context-bytes must be at least 1024, not %d", p.MaxContextBytes))
	}
	return errors.Join(errs...)
}

// NewCommand returns the processing root command.
func NewCommand() *cobra.Command {
	return newCommand(NewConfig(), Run)
}

func newCommand(cfg *Config, run func(context.Context, *Config) error) *cobra.Command {
	return shared.NewRootCommand(service,
		"Kubernaut processing: enriches and classifies RemediationProcessing resources.",
		"Kubernaut processing: enriches and classifies RemediationProcessing resources.\n\n"+
			"For each RemediationProcessing in --namespace it reads what the signal's target needs from the API server, on demand and bounded (namespace, owner chain, pods and containers, rollout history, nodes, HPA, PDB, recent Warning events; it caches nothing of the cluster) into a context of at most --max-context-bytes, classifies the environment and business priority with the policy of --policy-configmap, and completes it. "+
			"It serves /healthz and /readyz on --health-probe-bind-address and Prometheus metrics (kubernaut_processing_*) on --metrics-bind-address, and stops cleanly on SIGTERM.",
		cfg.AddFlags,
		cfg.Validate,
		func(ctx context.Context) error { return run(ctx, cfg) })
}

// Run runs the service until ctx ends.
func Run(ctx context.Context, cfg *Config) error {
	cfg.Processing.Namespace = cfg.Namespace
	log, err := cfg.NewLogger(service)
	if err != nil {
		return err
	}
	rest, err := cfg.RESTConfig()
	if err != nil {
		return err
	}
	opts := cfg.ManagerOptions(service)
	processing.CacheOptions(&opts.Cache, cfg.Namespace, cfg.Processing.PolicyConfigMap)
	mgr, err := shared.NewManager(rest, opts)
	if err != nil {
		return err
	}
	if err := (&processing.Reconciler{Config: cfg.Processing}).SetupWithManager(ctx, mgr); err != nil {
		return fmt.Errorf("setting up %s: %w", service, err)
	}
	log.Info("Starting", "namespace", cfg.Namespace, "policyConfigMap", cfg.Processing.PolicyConfigMap, "metrics", cfg.MetricsBindAddress,
		"probes", cfg.HealthProbeBindAddress, "leaderElect", cfg.LeaderElect)
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running %s: %w", service, err)
	}
	log.Info("Stopped cleanly")
	return nil
}
