package app

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// NewRootCommand builds a service's cobra command: it registers the flags through addFlags,
// and RunE validates them and calls run with the command's context (cancelled on SIGTERM).
func NewRootCommand(service, short, long string, addFlags func(*cobra.Command), validate func() error, run func(context.Context) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   service,
		Short: short,
		Long:  long,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := validate(); err != nil {
				return fmt.Errorf("invalid flags:\n%w", err)
			}
			return run(cmd.Context())
		},
	}
	cmd.Flags().SortFlags = true
	addFlags(cmd)
	return cmd
}

// RunManager creates a manager for service with the shared options, lets setup register
// controllers and runnables, and runs it until ctx ends.
func RunManager(ctx context.Context, o *Options, service string, tune func(*manager.Options), setup func(manager.Manager) error) error {
	log, err := o.NewLogger(service)
	if err != nil {
		return err
	}
	cfg, err := o.RESTConfig()
	if err != nil {
		return err
	}
	opts := o.ManagerOptions(service)
	if tune != nil {
		tune(&opts)
	}
	mgr, err := NewManager(cfg, opts)
	if err != nil {
		return err
	}
	if setup != nil {
		if err := setup(mgr); err != nil {
			return fmt.Errorf("setting up %s: %w", service, err)
		}
	}
	log.Info("Starting", "namespace", o.Namespace, "metrics", o.MetricsBindAddress, "probes", o.HealthProbeBindAddress, "leaderElect", o.LeaderElect)
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running %s: %w", service, err)
	}
	log.Info("Stopped cleanly")
	return nil
}
