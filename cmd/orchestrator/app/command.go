// Package app wires the orchestrator command: flags → Config → Run.
package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/kubernaut/kubernaut/pkg/orchestrator"
	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

const service = "orchestrator"

// Config is everything Run needs, built from flags.
type Config struct {
	shared.Options
	Clients      shared.ClientOptions
	Orchestrator orchestrator.Config
	// AlertmanagerURL, when set, is asked at the end of each verification window whether the
	// alert still fires for the request's target.
	AlertmanagerURL string
	// WindowFor holds --verification-window-for (alert name → duration) as given.
	WindowFor map[string]string
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	return &Config{
		Options:      shared.NewOptions(true),
		Clients:      shared.NewClientOptions(),
		Orchestrator: orchestrator.DefaultConfig(),
	}
}

// AddFlags registers the orchestrator's own flags.
func (c *Config) AddFlags(fs *pflag.FlagSet) {
	o := &c.Orchestrator
	fs.DurationVar(&o.Timeouts.Processing, "timeout-processing", o.Timeouts.Processing, "Default time a request may spend in Processing before it times out.")
	fs.DurationVar(&o.Timeouts.Analysis, "timeout-analysis", o.Timeouts.Analysis, "Default time a request may spend in Analyzing before it times out.")
	fs.DurationVar(&o.Timeouts.AwaitingApproval, "timeout-awaiting-approval", o.Timeouts.AwaitingApproval, "Default time a request may wait for an approval decision before it times out.")
	fs.DurationVar(&o.Timeouts.Planning, "timeout-planning", o.Timeouts.Planning, "Default time a request may spend in Planning before it times out.")
	fs.DurationVar(&o.Timeouts.Execution, "timeout-execution", o.Timeouts.Execution, "Default time a request may spend in Executing before it times out.")
	fs.DurationVar(&o.Timeouts.Overall, "timeout-overall", o.Timeouts.Overall, "Default time a whole remediation may take, from its start, before it times out.")
	fs.DurationVar(&o.VerificationWindow, "verification-window", o.VerificationWindow, "How long after a change Verifying gathers evidence (the alert resolved or firing again, the cluster checks, Alertmanager at the end) before it concludes Remediated, Ineffective or Inconclusive. The default leaves room for alerts whose expressions look back 5 minutes and for Alertmanager's group_interval.")
	fs.DurationVar(&o.VerificationWindow, "stabilization-window", o.VerificationWindow, "Deprecated name of --verification-window.")
	_ = fs.MarkDeprecated("stabilization-window", "use --verification-window")
	fs.StringToStringVar(&c.WindowFor, "verification-window-for", c.WindowFor, "Verification windows per alert name, overriding --verification-window, e.g. KubePodCrashLooping=15m,KubeHpaMaxedOut=20m.")
	fs.DurationVar(&o.VerificationInterval, "verification-interval", o.VerificationInterval, "How often the cluster checks of a request in Verifying are repeated within its window.")
	fs.StringVar(&c.AlertmanagerURL, "alertmanager-url", c.AlertmanagerURL, "Base URL of Alertmanager (for example http://alertmanager-main.monitoring:9093): at the end of the verification window, an alert it still has firing for the target makes the outcome Ineffective. Empty: not asked.")
	fs.IntVar(&o.MaxActive, "max-active-remediations", o.MaxActive, "Largest number of remediations active at once; further requests wait in Blocked (0 means no cap).")
	fs.IntVar(&o.MaxActivePerNamespace, "max-active-per-namespace", o.MaxActivePerNamespace, "Largest number of active remediations per target namespace; further requests wait in Blocked (0 means no cap).")
	fs.IntVar(&o.FailureThreshold, "failure-block-threshold", o.FailureThreshold, "Consecutive failed remediations of one signal fingerprint that block it (0 disables the block).")
	fs.DurationVar(&o.FailureBlock, "failure-block-duration", o.FailureBlock, "How long a fingerprint stays blocked after reaching --failure-block-threshold.")
	fs.DurationVar(&o.Retention, "retention", o.Retention, "How long finished requests (and their children) are kept before deletion (0 keeps them).")
	fs.BoolVar(&o.DryRun, "dry-run", o.DryRun, "Run every remediation through planning and a dry-run execution that changes nothing; requests end with outcome DryRun.")
	fs.DurationVar(&o.AuditFlushOnDelete, "audit-flush-on-delete", o.AuditFlushOnDelete, "How long a deleted request waits for its audit records to reach datastorage before it is deleted anyway (annotate it kubernaut.io/skip-audit-flush=true to skip the wait).")
	fs.DurationVar(&o.RetryMaxBackoff, "retry-max-backoff", o.RetryMaxBackoff, "Longest wait between retries while notification or datastorage is unavailable.")
	fs.IntVar(&o.MaxConcurrentReconciles, "max-concurrent-reconciles", o.MaxConcurrentReconciles, "Number of requests reconciled in parallel.")
}

// Validate reports every invalid setting.
func (c *Config) Validate() error {
	c.Orchestrator.Namespace = c.Namespace
	var errs []error
	c.Orchestrator.VerificationWindowFor = nil
	for name, v := range c.WindowFor {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("--verification-window-for: the window of %s must be a positive duration, not %q", name, v))
			continue
		}
		if c.Orchestrator.VerificationWindowFor == nil {
			c.Orchestrator.VerificationWindowFor = map[string]time.Duration{}
		}
		c.Orchestrator.VerificationWindowFor[name] = d
	}
	c.Orchestrator.Alertmanager = nil
	if c.AlertmanagerURL != "" {
		if u, err := url.Parse(c.AlertmanagerURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--alertmanager-url must be an http(s) URL, not %q", c.AlertmanagerURL))
		} else {
			c.Orchestrator.Alertmanager = &orchestrator.Alertmanager{URL: c.AlertmanagerURL}
		}
	}
	return errors.Join(c.Options.Validate(), c.Clients.Validate(), c.Orchestrator.Validate(), errors.Join(errs...))
}

// NewCommand returns the orchestrator root command.
func NewCommand() *cobra.Command {
	cfg := NewConfig()
	return shared.NewRootCommand(service,
		"Kubernaut orchestrator: drives each RemediationRequest through its child resources.",
		"Kubernaut orchestrator: drives each RemediationRequest through its child resources.\n\nIt reconciles its custom resources in --namespace, escalates timeouts and failures to --notification-url, audits every phase change to --datastorage-url, serves /healthz and /readyz on --health-probe-bind-address and Prometheus metrics on --metrics-bind-address, and stops cleanly on SIGTERM.",
		func(cmd *cobra.Command) {
			cfg.Options.AddFlags(cmd.Flags())
			cfg.Clients.AddFlags(cmd.Flags())
			cfg.AddFlags(cmd.Flags())
		},
		cfg.Validate,
		func(ctx context.Context) error { return Run(ctx, cfg) })
}

// Run runs the service until ctx ends.
func Run(ctx context.Context, cfg *Config) error {
	cfg.Orchestrator.Namespace = cfg.Namespace
	log, err := cfg.NewLogger(service)
	if err != nil {
		return err
	}
	rest, err := cfg.RESTConfig()
	if err != nil {
		return err
	}
	opts := cfg.ManagerOptions(service)
	Tune(&opts, cfg.Namespace)
	mgr, err := shared.NewManager(rest, opts)
	if err != nil {
		return err
	}
	r := &orchestrator.Reconciler{
		Config:   cfg.Orchestrator,
		Notifier: notificationapi.NewClient(cfg.Clients.NotificationURL, cfg.Clients.ServiceTokenFile),
		Audit:    auditapi.NewClient(cfg.Clients.DatastorageURL, cfg.Clients.ServiceTokenFile),
	}
	if err := r.SetupWithManager(ctx, mgr); err != nil {
		return fmt.Errorf("setting up %s: %w", service, err)
	}
	log.Info("Starting", "namespace", cfg.Namespace, "dryRun", cfg.Orchestrator.DryRun, "leaderElect", cfg.LeaderElect,
		"verificationWindow", cfg.Orchestrator.VerificationWindow, "alertmanager", cfg.AlertmanagerURL)
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running %s: %w", service, err)
	}
	log.Info("Stopped cleanly")
	return nil
}

// Tune narrows the manager's cache for the orchestrator (system namespace, big fields dropped).
func Tune(opts *manager.Options, namespace string) {
	orchestrator.CacheOptions(&opts.Cache, namespace)
}
