package kubectlplugin

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

// Options holds what every subcommand shares: the kubeconfig flags, the streams, the clock and
// the output format.
type Options struct {
	// ConfigFlags are kubectl's standard flags (--kubeconfig, --context, --namespace, --as, …).
	ConfigFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams
	// Now is the clock used for ages, durations, decidedAt and expiry (tests fix it).
	Now func() time.Time
	// RESTConfig, when set, replaces the kubeconfig flags as the source of the connection (tests).
	RESTConfig func() (*rest.Config, error)
	// HTTPClient posts alerts to the gateway.
	HTTPClient *http.Client
	// WatchInterval is how often describe --watch re-reads the children of the request.
	WatchInterval time.Duration

	output string
}

// NewOptions returns the options of the real command.
func NewOptions(streams genericiooptions.IOStreams) *Options {
	return &Options{
		ConfigFlags:   genericclioptions.NewConfigFlags(true),
		IOStreams:     streams,
		Now:           time.Now,
		HTTPClient:    &http.Client{Timeout: 30 * time.Second},
		WatchInterval: 2 * time.Second,
	}
}

// Main runs the plugin with args and returns the process exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := NewOptions(genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	cmd := NewCommand(o)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintf(o.ErrOut, "error: %v\n", err)
		if ExitCode(err) == ExitUsage {
			fmt.Fprintf(o.ErrOut, "See 'kubectl kubernaut --help'.\n")
		}
	}
	return ExitCode(err)
}

// NewCommand builds the kubectl-kubernaut command tree.
func NewCommand(o *Options) *cobra.Command {
	root := &cobra.Command{
		Use:   "kubectl-kubernaut",
		Short: "Follow, approve and reject Kubernaut remediations",
		Long: `Follow, approve and reject Kubernaut remediations.

RemediationRequests and their children live in the system namespace: --namespace when given,
otherwise ` + app.DefaultNamespace + ` (the kubeconfig context's namespace is not used).

Exit codes:
  0  success
  1  other error (API server unreachable, refused by admission, gateway error)
  2  usage error (unknown flag or command, missing argument, invalid value)
  3  the remediation request was not found
  4  nothing to decide: no approval pending, already decided, or expired
  5  forbidden or unauthorized (RBAC refused the caller; gateway 401/403)`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl kubernaut"},
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErr("unknown command %q", args[0])
			}
			return cmd.Help()
		},
	}
	o.ConfigFlags.AddFlags(root.PersistentFlags())
	if f := root.PersistentFlags().Lookup("namespace"); f != nil {
		f.Usage = "The system namespace of the remediation requests (default " + app.DefaultNamespace + "); for send-alert, the namespace of the sample alert's target (default " + DefaultSampleNamespace + ")."
	}
	root.PersistentFlags().StringVarP(&o.output, "output", "o", "", "Output format: empty for a table or text, json or yaml.")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		switch o.output {
		case "", "json", "yaml":
			return nil
		}
		return usageErr("--output must be json or yaml, got %q", o.output)
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &CodeError{Code: ExitUsage, Err: err} })
	root.AddCommand(newListCommand(o), newDescribeCommand(o), newDecisionCommand(o, true), newDecisionCommand(o, false), newSendAlertCommand(o))
	for _, c := range root.Commands() {
		c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &CodeError{Code: ExitUsage, Err: err} })
	}
	return root
}

// exactlyOneRequest is the Args check of the commands that take one request name.
func exactlyOneRequest(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageErr("expected exactly one remediation request name, got %d arguments", len(args))
	}
	return nil
}

// noArgs is the Args check of the commands that take no argument.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) != 0 {
		return usageErr("%s takes no arguments, got %q", cmd.Name(), args)
	}
	return nil
}

// namespace is the system namespace: --namespace when given, otherwise kubernaut-system.
func (o *Options) namespace() string {
	if o.ConfigFlags.Namespace != nil && *o.ConfigFlags.Namespace != "" {
		return *o.ConfigFlags.Namespace
	}
	return app.DefaultNamespace
}

func (o *Options) restConfig() (*rest.Config, error) {
	if o.RESTConfig != nil {
		return o.RESTConfig()
	}
	cfg, err := o.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	return cfg, nil
}

// client connects to the API server with the Kubernaut scheme (no cache: a command reads once).
func (o *Options) client() (client.WithWatch, error) {
	cfg, err := o.restConfig()
	if err != nil {
		return nil, err
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: app.NewScheme()})
	if err != nil {
		return nil, fmt.Errorf("connecting to the API server: %w", err)
	}
	return c, nil
}
