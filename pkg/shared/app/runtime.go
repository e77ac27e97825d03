package app

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	kubernautapis "github.com/kubernaut/kubernaut/apis"
)

func parseLevel(level string) (zapcore.Level, error) {
	switch level {
	case "debug":
		return zapcore.DebugLevel, nil
	case "info":
		return zapcore.InfoLevel, nil
	case "warn":
		return zapcore.WarnLevel, nil
	case "error":
		return zapcore.ErrorLevel, nil
	}
	return 0, fmt.Errorf("--log-level must be debug, info, warn or error, not %q", level)
}

// NewLogger builds the zap logger the flags describe and installs it as controller-runtime's logger.
func (o *Options) NewLogger(service string) (logr.Logger, error) {
	level, err := parseLevel(o.LogLevel)
	if err != nil {
		return logr.Discard(), err
	}
	opts := []zap.Opts{zap.Level(level), zap.UseDevMode(false)}
	if o.LogFormat == "console" {
		opts = append(opts, zap.ConsoleEncoder())
	} else {
		opts = append(opts, zap.JSONEncoder())
	}
	log := zap.New(opts...).WithValues("service", service)
	ctrl.SetLogger(log)
	return log, nil
}

// RESTConfig loads the cluster connection from --kubeconfig, $KUBECONFIG or the in-cluster
// account; every request sent with it is counted in kubernaut_kube_api_requests_total.
func (o *Options) RESTConfig() (*rest.Config, error) {
	var (
		cfg *rest.Config
		err error
	)
	if o.Kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	} else {
		cfg, err = ctrl.GetConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("loading the cluster connection: %w", err)
	}
	if o.KubeAPIQPS > 0 {
		cfg.QPS, cfg.Burst = o.KubeAPIQPS, o.KubeAPIBurst
	}
	cfg.Wrap(countRequests)
	return cfg, nil
}

// NewScheme returns a scheme with the core Kubernetes kinds and every Kubernaut kind.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err) // static registration; cannot fail at run time
	}
	if err := kubernautapis.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

// ManagerOptions builds controller-runtime manager options from the shared flags: metrics and
// probe servers, leader election with a Lease named after the service in --namespace, and a
// cache that strips managedFields (they are never read and double the memory of every object).
// Callers narrow the cache further (ByObject, namespaces) before creating the manager.
func (o *Options) ManagerOptions(service string) manager.Options {
	return manager.Options{
		Scheme:                        NewScheme(),
		Metrics:                       metricsserver.Options{BindAddress: o.MetricsBindAddress},
		HealthProbeBindAddress:        o.HealthProbeBindAddress,
		PprofBindAddress:              o.PprofBindAddress,
		LeaderElection:                o.LeaderElect,
		LeaderElectionID:              "kubernaut-" + service,
		LeaderElectionNamespace:       o.Namespace,
		LeaderElectionReleaseOnCancel: true,
		Cache: cache.Options{
			DefaultTransform: cache.TransformStripManagedFields(),
		},
		Client: client.Options{Cache: &client.CacheOptions{Unstructured: false}},
	}
}

// NewManager creates a manager from options and registers the /healthz and /readyz pings.
func NewManager(cfg *rest.Config, opts manager.Options) (manager.Manager, error) {
	mgr, err := ctrl.NewManager(cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("creating the controller manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	return mgr, nil
}

// Execute runs a service's root command with a context that SIGTERM and SIGINT cancel, and
// exits non-zero on error. A second signal exits at once.
func Execute(cmd *cobra.Command) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	go func() {
		<-ctx.Done()
		stop()
		// A second signal now terminates the process with the default behaviour.
	}()
	cmd.SilenceUsage = true
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
