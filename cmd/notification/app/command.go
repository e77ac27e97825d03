// Package app wires the notification command: flags → Config → Run.
package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/notification/controller"
	"github.com/kubernaut/kubernaut/pkg/notification/delivery"
	"github.com/kubernaut/kubernaut/pkg/notification/escalation"
	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/shared/httpapi"
)

const service = "notification"

// Config is everything Run needs, built from flags.
type Config struct {
	shared.Options
	HTTP shared.HTTPOptions
	// ConfigFile is the channel configuration (YAML or JSON); empty means console only.
	ConfigFile string
	// MaxConcurrentDeliveries bounds NotificationRequests delivered in parallel.
	MaxConcurrentDeliveries int
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	return &Config{Options: shared.NewOptions(true), HTTP: shared.NewHTTPOptions(), MaxConcurrentDeliveries: 4}
}

// Validate reports every invalid setting.
func (c *Config) Validate() error {
	var errs []error
	if c.MaxConcurrentDeliveries < 1 {
		errs = append(errs, fmt.Errorf("--max-concurrent-deliveries must be at least 1, not %d", c.MaxConcurrentDeliveries))
	}
	return errors.Join(c.Options.Validate(), c.HTTP.Validate(), errors.Join(errs...))
}

// NewCommand returns the notification root command.
func NewCommand() *cobra.Command {
	cfg := NewConfig()
	return shared.NewRootCommand(service,
		"Kubernaut notification: delivers NotificationRequests and accepts escalations over HTTP.",
		"Kubernaut notification: delivers NotificationRequests and accepts escalations over HTTP.\n\nIt reconciles NotificationRequests in --namespace (leader-elected) and delivers them to Slack, Microsoft Teams, email, PagerDuty, a webhook and the console, as configured in --config; every replica serves POST /api/v1/notify/escalation on --http-bind-address, /healthz and /readyz on --health-probe-bind-address and Prometheus metrics on --metrics-bind-address, and stops cleanly on SIGTERM.",
		func(cmd *cobra.Command) {
			cfg.AddFlags(cmd.Flags())
			cfg.HTTP.AddFlags(cmd.Flags())
			cmd.Flags().StringVar(&cfg.ConfigFile, "config", cfg.ConfigFile, "Channel configuration file (YAML or JSON) with endpoints and paths of credential files; empty enables only the console channel.")
			cmd.Flags().IntVar(&cfg.MaxConcurrentDeliveries, "max-concurrent-deliveries", cfg.MaxConcurrentDeliveries, "Number of NotificationRequests delivered in parallel.")
		},
		cfg.Validate,
		func(ctx context.Context) error { return Run(ctx, cfg) })
}

// Run runs the service until ctx ends.
func Run(ctx context.Context, cfg *Config) error {
	channels, err := delivery.LoadConfig(cfg.ConfigFile)
	if err != nil {
		return err
	}
	return shared.RunManager(ctx, &cfg.Options, service, func(o *manager.Options) {
		controller.CacheOptions(&o.Cache, cfg.Namespace)
	}, func(mgr manager.Manager) error {
		return Setup(ctx, mgr, cfg, channels)
	})
}

// Setup registers the controller and the HTTP server on mgr.
func Setup(ctx context.Context, mgr manager.Manager, cfg *Config, channels *delivery.Config) error {
	log := mgr.GetLogger().WithName(service)
	r := &controller.Reconciler{
		Sender:                  delivery.NewSender(channels, log.WithName("console")),
		Retry:                   channels.Retry,
		MaxConcurrentReconciles: cfg.MaxConcurrentDeliveries,
	}
	if err := r.SetupWithManager(ctx, mgr); err != nil {
		return err
	}
	auth, err := httpapi.NewAuthenticator(cfg.HTTP, mgr.GetConfig())
	if err != nil {
		return err
	}
	h := &escalation.Handler{
		Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Namespace: cfg.Namespace,
		MaxBodyBytes: cfg.HTTP.MaxBodyBytes, Log: log.WithName("escalation"),
		Retry: notificationv1.RetryPolicy{
			MaxAttempts:    channels.Retry.MaxAttempts,
			InitialBackoff: &metav1.Duration{Duration: channels.Retry.InitialBackoff.Duration},
			MaxBackoff:     &metav1.Duration{Duration: channels.Retry.MaxBackoff.Duration},
		},
	}
	return mgr.Add(&httpapi.Server{Addr: cfg.HTTP.BindAddress, Handler: h.Routes(auth)})
}
