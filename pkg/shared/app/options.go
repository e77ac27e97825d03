// Package app is the runtime every Kubernaut binary shares: the flags of the contract
// (kubeconfig, namespace, metrics and health addresses, leader election, logging), the
// controller-runtime manager built from them, and the cobra plumbing that runs a service until
// SIGTERM and exits cleanly.
package app

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/spf13/pflag"
)

// Default addresses and namespace of the contract.
const (
	DefaultNamespace              = "kubernaut-system"
	DefaultMetricsBindAddress     = ":9090"
	DefaultHealthProbeBindAddress = ":8081"
	DefaultHTTPBindAddress        = ":8080"
)

// Options are the flags every binary shares.
type Options struct {
	// Kubeconfig is the path to a kubeconfig; empty means in-cluster or $KUBECONFIG.
	Kubeconfig string
	// Namespace is the system namespace holding RemediationRequests and their children.
	Namespace string
	// MetricsBindAddress serves Prometheus /metrics ("0" disables it).
	MetricsBindAddress string
	// HealthProbeBindAddress serves /healthz and /readyz.
	HealthProbeBindAddress string
	// PprofBindAddress serves Go's /debug/pprof profiles; "" or "0" disables it (the default).
	PprofBindAddress string
	// LeaderElect enables leader election (controllers only).
	LeaderElect bool
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// LogFormat is json or console.
	LogFormat string
	// KubeAPIQPS and KubeAPIBurst bound the client's request rate to the API server. client-go's
	// default (20 QPS, 30 burst in controller-runtime) caps a service at a few remediations per
	// second: an operation alone costs the executor about a dozen requests.
	KubeAPIQPS   float32
	KubeAPIBurst int

	controller bool
}

// Default client rate limit of every service (the gateway's is higher: it creates a request per
// distinct alert).
const (
	DefaultKubeAPIQPS   = 300
	DefaultKubeAPIBurst = 600
)

// NewOptions returns the defaults; controller says whether the binary runs leader-elected controllers.
func NewOptions(controller bool) Options {
	return Options{
		Namespace:              DefaultNamespace,
		MetricsBindAddress:     DefaultMetricsBindAddress,
		HealthProbeBindAddress: DefaultHealthProbeBindAddress,
		LeaderElect:            controller,
		LogLevel:               "info",
		LogFormat:              "json",
		KubeAPIQPS:             DefaultKubeAPIQPS,
		KubeAPIBurst:           DefaultKubeAPIBurst,
		controller:             controller,
	}
}

// AddFlags registers the shared flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Path to a kubeconfig file; empty uses $KUBECONFIG or the in-cluster service account.")
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "System namespace that holds RemediationRequests and their child resources.")
	fs.StringVar(&o.MetricsBindAddress, "metrics-bind-address", o.MetricsBindAddress, "Address that serves Prometheus metrics at /metrics; \"0\" disables it.")
	fs.StringVar(&o.HealthProbeBindAddress, "health-probe-bind-address", o.HealthProbeBindAddress, "Address that serves the /healthz and /readyz probes.")
	fs.StringVar(&o.PprofBindAddress, "pprof-bind-address", o.PprofBindAddress, "Address that serves Go's /debug/pprof profiles (heap, CPU, goroutines) for diagnosing memory or CPU use; empty or \"0\" disables it. Bind it to localhost or keep it off the Service: profiles are unauthenticated.")
	if o.controller {
		fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Elect one active replica with a Lease in --namespace, so several replicas can run safely.")
	}
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "Log verbosity: debug, info, warn or error.")
	fs.StringVar(&o.LogFormat, "log-format", o.LogFormat, "Log encoding: json (for log collectors) or console (for people).")
	fs.Float32Var(&o.KubeAPIQPS, "kube-api-qps", o.KubeAPIQPS, "Sustained requests per second this service may send to the API server.")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", o.KubeAPIBurst, "Burst of requests this service may send to the API server above --kube-api-qps.")
}

// Validate reports every invalid shared flag.
func (o *Options) Validate() error {
	var errs []error
	if strings.TrimSpace(o.Namespace) == "" {
		errs = append(errs, errors.New("--namespace must not be empty"))
	}
	if err := validateAddress("--metrics-bind-address", o.MetricsBindAddress, true); err != nil {
		errs = append(errs, err)
	}
	if err := validateAddress("--health-probe-bind-address", o.HealthProbeBindAddress, true); err != nil {
		errs = append(errs, err)
	}
	if o.PprofBindAddress != "" {
		if err := validateAddress("--pprof-bind-address", o.PprofBindAddress, true); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := parseLevel(o.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if o.KubeAPIQPS <= 0 || o.KubeAPIBurst <= 0 {
		errs = append(errs, fmt.Errorf("--kube-api-qps and --kube-api-burst must be positive, got %g and %d", o.KubeAPIQPS, o.KubeAPIBurst))
	}
	if o.LogFormat != "json" && o.LogFormat != "console" {
		errs = append(errs, fmt.Errorf("--log-format must be json or console, not %q", o.LogFormat))
	}
	return errors.Join(errs...)
}

// HTTPOptions are the flags of the services that serve an HTTP API (gateway, notification, datastorage).
type HTTPOptions struct {
	// BindAddress serves the API.
	BindAddress string
	// AuthMode is tokenreview, token-file or none.
	AuthMode string
	// AuthTokenFile holds the accepted bearer tokens, one per line (token-file mode).
	AuthTokenFile string
	// MaxBodyBytes bounds request bodies.
	MaxBodyBytes int64
}

// Authentication modes.
const (
	AuthModeTokenReview = "tokenreview"
	AuthModeTokenFile   = "token-file"
	AuthModeNone        = "none"
)

// NewHTTPOptions returns the defaults.
func NewHTTPOptions() HTTPOptions {
	return HTTPOptions{BindAddress: DefaultHTTPBindAddress, AuthMode: AuthModeTokenReview, MaxBodyBytes: 256 << 10}
}

// AddFlags registers the HTTP flags.
func (o *HTTPOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.BindAddress, "http-bind-address", o.BindAddress, "Address that serves the service's HTTP API.")
	fs.StringVar(&o.AuthMode, "auth-mode", o.AuthMode, "How callers are authenticated: tokenreview (bearer token checked with the API server), token-file (bearer token listed in --auth-token-file) or none.")
	fs.StringVar(&o.AuthTokenFile, "auth-token-file", o.AuthTokenFile, "File with the accepted bearer tokens, one per line (for --auth-mode=token-file).")
	fs.Int64Var(&o.MaxBodyBytes, "max-body-bytes", o.MaxBodyBytes, "Largest request body accepted; larger bodies are answered 413.")
}

// Validate reports every invalid HTTP flag.
func (o *HTTPOptions) Validate() error {
	var errs []error
	if err := validateAddress("--http-bind-address", o.BindAddress, false); err != nil {
		errs = append(errs, err)
	}
	switch o.AuthMode {
	case AuthModeTokenReview, AuthModeNone:
	case AuthModeTokenFile:
		if o.AuthTokenFile == "" {
			errs = append(errs, errors.New("--auth-token-file is required with --auth-mode=token-file"))
		}
	default:
		errs = append(errs, fmt.Errorf("--auth-mode must be tokenreview, token-file or none, not %q", o.AuthMode))
	}
	if o.MaxBodyBytes <= 0 {
		errs = append(errs, fmt.Errorf("--max-body-bytes must be positive, not %d", o.MaxBodyBytes))
	}
	return errors.Join(errs...)
}

// ClientOptions are the flags of the services that call notification and datastorage.
type ClientOptions struct {
	// NotificationURL is the notification service's base URL.
	NotificationURL string
	// DatastorageURL is the datastorage service's base URL.
	DatastorageURL string
	// ServiceTokenFile holds the bearer token sent to both.
	ServiceTokenFile string
}

// NewClientOptions returns the in-cluster defaults.
func NewClientOptions() ClientOptions {
	return ClientOptions{
		NotificationURL: "http://notification." + DefaultNamespace + ".svc:8080",
		DatastorageURL:  "http://datastorage." + DefaultNamespace + ".svc:8080",
	}
}

// AddFlags registers the client flags.
func (o *ClientOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.NotificationURL, "notification-url", o.NotificationURL, "Base URL of the notification service (escalations).")
	fs.StringVar(&o.DatastorageURL, "datastorage-url", o.DatastorageURL, "Base URL of the datastorage service (audit trail, effectiveness).")
	fs.StringVar(&o.ServiceTokenFile, "service-token-file", o.ServiceTokenFile, "File with the bearer token sent to notification and datastorage; empty sends none. Re-read on every request so rotated tokens apply.")
}

// Validate reports every invalid client flag.
func (o *ClientOptions) Validate() error {
	var errs []error
	for flag, v := range map[string]string{"--notification-url": o.NotificationURL, "--datastorage-url": o.DatastorageURL} {
		if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
			errs = append(errs, fmt.Errorf("%s must be an http(s) URL, not %q", flag, v))
		}
	}
	return errors.Join(errs...)
}

func validateAddress(flag, addr string, mayDisable bool) error {
	if mayDisable && addr == "0" {
		return nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%s %q is not host:port: %w", flag, addr, err)
	}
	return nil
}
