// Package app wires the executor command: flags → Config → Run.
package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/kubernaut/kubernaut/pkg/executor"
	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
)

const service = "executor"

// Config is everything Run needs, built from flags.
type Config struct {
	shared.Options
	// SafetyConfigMap is the name of the safety ConfigMap in --namespace.
	SafetyConfigMap string
	// MaxConcurrentExecutions bounds the executions run in parallel.
	MaxConcurrentExecutions int
	// PollInterval is how often post-conditions are checked.
	PollInterval time.Duration
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	return &Config{Options: shared.NewOptions(true), SafetyConfigMap: executor.DefaultConfigMapName,
		MaxConcurrentExecutions: executor.DefaultMaxConcurrentReconciles, PollInterval: 2 * time.Second}
}

// Validate reports every invalid setting.
func (c *Config) Validate() error {
	var errs []error
	if c.SafetyConfigMap == "" {
		errs = append(errs, errors.New("--safety-configmap must not be empty"))
	}
	if c.MaxConcurrentExecutions < 1 {
		errs = append(errs, fmt.Errorf("--max-concurrent-executions must be at least 1, not %d", c.MaxConcurrentExecutions))
	}
	if c.PollInterval <= 0 {
		errs = append(errs, fmt.Errorf("--poll-interval must be positive, not %s", c.PollInterval))
	}
	return errors.Join(append([]error{c.Options.Validate()}, errs...)...)
}

// NewCommand returns the executor root command.
func NewCommand() *cobra.Command {
	return newCommand(NewConfig(), Run)
}

func newCommand(cfg *Config, run func(context.Context, *Config) error) *cobra.Command {
	return shared.NewRootCommand(service,
		"Kubernaut executor: runs KubernetesExecution operations safely, with dry-run and rollback.",
		"Kubernaut executor: runs KubernetesExecution operations safely, with dry-run and rollback.\n\n"+
			"It reconciles the KubernetesExecutions of --namespace, and acts only for one whose chain is intact: its "+
			"RemediationRequest names it, that request's WorkflowExecution validated exactly its operations, and its "+
			"AIAnalysis was approved by the policy or by a person (otherwise ChainNotApproved). Every operation is validated "+
			"(catalog action, parameters, target UID and preconditions, managed and not protected or denied namespace, node "+
			"share and one node action at a time, blast radius, change budgets, per-target cooldown, server-side dry-run) "+
			"before any change, checked again right before it, changed exactly once, checked against its post-condition, and "+
			"rolled back (only the fields it changed) when a later operation fails. The safety limits, the kill switch "+
			"(paused) and dry-run are read from the ConfigMap --safety-configmap in --namespace before every change; without "+
			"a valid one nothing is changed. Nodes it cordoned are uncordoned once healthy again. It serves /healthz and "+
			"/readyz on --health-probe-bind-address and Prometheus metrics (kubernaut_executor_*) on --metrics-bind-address, "+
			"and stops cleanly on SIGTERM. docs/executor.md describes the configuration, the reasons and the metrics.",
		func(cmd *cobra.Command) {
			cfg.AddFlags(cmd.Flags())
			fs := cmd.Flags()
			fs.StringVar(&cfg.SafetyConfigMap, "safety-configmap", cfg.SafetyConfigMap, "Name of the ConfigMap in --namespace holding the safety limits (kill switch, dry-run, managed and denied namespaces, cooldown, change budgets, blast radius, node share); it must exist: absent or invalid, nothing is changed.")
			fs.IntVar(&cfg.MaxConcurrentExecutions, "max-concurrent-executions", cfg.MaxConcurrentExecutions, "KubernetesExecutions run in parallel (operations of one execution always run one at a time, in order).")
			fs.DurationVar(&cfg.PollInterval, "poll-interval", cfg.PollInterval, "How often the post-condition of a change (rollout finished, replicas reached, node drained) is checked until the operation's timeout.")
		},
		cfg.Validate,
		func(ctx context.Context) error { return run(ctx, cfg) })
}

// Run runs the service until ctx ends.
func Run(ctx context.Context, cfg *Config) error {
	return shared.RunManager(ctx, &cfg.Options, service,
		func(o *manager.Options) { executor.CacheOptions(&o.Cache, cfg.Namespace, cfg.SafetyConfigMap) },
		func(mgr manager.Manager) error {
			r := &executor.Reconciler{Namespace: cfg.Namespace, ConfigMapName: cfg.SafetyConfigMap,
				MaxConcurrentReconciles: cfg.MaxConcurrentExecutions, PollInterval: cfg.PollInterval}
			return r.SetupWithManager(ctx, mgr)
		})
}
