// Package app wires the processing command: flags → Config → Run.
package app

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
)

const service = "processing"

// Config is everything Run needs, built from flags.
type Config struct {
	shared.Options
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	return &Config{Options: shared.NewOptions(true)}
}

// Validate reports every invalid setting.
func (c *Config) Validate() error {
	return errors.Join(c.Options.Validate())
}

// NewCommand returns the processing root command.
func NewCommand() *cobra.Command {
	return newCommand(NewConfig(), Run)
}

func newCommand(cfg *Config, run func(context.Context, *Config) error) *cobra.Command {
	return shared.NewRootCommand(service,
		"Kubernaut processing: enriches and classifies RemediationProcessing resources.",
		"Kubernaut processing: enriches and classifies RemediationProcessing resources.\n\nIt reconciles its custom resources in --namespace, serves /healthz and /readyz on --health-probe-bind-address and Prometheus metrics on --metrics-bind-address, and stops cleanly on SIGTERM.",
		func(cmd *cobra.Command) { cfg.AddFlags(cmd.Flags()) },
		cfg.Validate,
		func(ctx context.Context) error { return run(ctx, cfg) })
}

// Run runs the service until ctx ends.
func Run(ctx context.Context, cfg *Config) error {
	return shared.RunManager(ctx, &cfg.Options, service, nil, nil)
}
