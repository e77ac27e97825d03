// Package app wires the workflow command: flags → Config → Run.
package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/workflow"
)

const service = "workflow"

// Config is everything Run needs, built from flags.
type Config struct {
	app.Options
	// ExecutorServiceAccount is the user whose permissions are checked for each operation.
	ExecutorServiceAccount string
	// MaxConcurrentReconciles bounds parallel validations.
	MaxConcurrentReconciles int
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	return &Config{Options: app.NewOptions(true), ExecutorServiceAccount: workflow.DefaultExecutorServiceAccount, MaxConcurrentReconciles: workflow.DefaultMaxConcurrentReconciles}
}

// AddFlags adds the shared flags and the workflow service's own.
func (c *Config) AddFlags(fs *pflag.FlagSet) {
	c.Options.AddFlags(fs)
	fs.StringVar(&c.ExecutorServiceAccount, "executor-service-account", c.ExecutorServiceAccount,
		"User name of the executor's ServiceAccount (system:serviceaccount:<namespace>:<name>); each operation is checked with SubjectAccessReviews for the verbs the action needs.")
	fs.IntVar(&c.MaxConcurrentReconciles, "max-concurrent-reconciles", c.MaxConcurrentReconciles,
		"How many WorkflowExecutions are validated at once.")
}

// Validate reports every invalid setting.
func (c *Config) Validate() error {
	errs := []error{c.Options.Validate()}
	if _, err := workflow.ServiceAccountGroups(c.ExecutorServiceAccount); err != nil {
		errs = append(errs, fmt.Errorf("--executor-service-account: %w", err))
	}
	if c.MaxConcurrentReconciles < 1 {
		errs = append(errs, fmt.Errorf("--max-concurrent-reconciles must be at least 1, got %d", c.MaxConcurrentReconciles))
	}
	return errors.Join(errs...)
}

// NewCommand returns the workflow root command.
func NewCommand() *cobra.Command {
	return newCommand(NewConfig(), Run)
}

func newCommand(cfg *Config, run func(context.Context, *Config) error) *cobra.Command {
	return app.NewRootCommand(service,
		"Kubernaut workflow: plans and validates WorkflowExecution steps into operations.",
		"Kubernaut workflow: plans and validates WorkflowExecution steps into operations.\n\n"+
			"It checks each step against the action catalog, orders the steps by their dependencies, then checks each "+
			"operation against the live cluster: the target exists (its UID is recorded), it has what the action touches, "+
			"the executor's ServiceAccount (--executor-service-account) may use the action's verbs, and the executor's "+
			"change passes a server-side dry-run whose diff is kept in status.\n\n"+
			"It reconciles WorkflowExecutions in --namespace, serves /healthz and /readyz on --health-probe-bind-address and Prometheus metrics on --metrics-bind-address, and stops cleanly on SIGTERM.",
		func(cmd *cobra.Command) { cfg.AddFlags(cmd.Flags()) },
		cfg.Validate,
		func(ctx context.Context) error { return run(ctx, cfg) })
}

// Run runs the service until ctx ends.
func Run(ctx context.Context, cfg *Config) error {
	return app.RunManager(ctx, &cfg.Options, service,
		func(o *manager.Options) { workflow.CacheOptions(&o.Cache, cfg.Namespace) },
		func(mgr manager.Manager) error {
			return (&workflow.Reconciler{
				ExecutorServiceAccount:  cfg.ExecutorServiceAccount,
				MaxConcurrentReconciles: cfg.MaxConcurrentReconciles,
			}).SetupWithManager(ctx, mgr)
		})
}
