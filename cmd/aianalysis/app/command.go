// Package app wires the aianalysis command: flags → Config → Run.
package app

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
)

const service = "aianalysis"

// Config is everything Run needs, built from flags.
type Config struct {
	shared.Options
	Clients shared.ClientOptions
	// Provider is builtin, holmesgpt or openai.
	Provider string
	// HolmesGPTURL is the HolmesGPT API base URL.
	HolmesGPTURL string
	// OpenAIBaseURL is an OpenAI-compatible API base URL.
	OpenAIBaseURL string
	// Model is the LLM model name.
	Model string
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	return &Config{Options: shared.NewOptions(true), Clients: shared.NewClientOptions(), Provider: "builtin"}
}

// Validate reports every invalid setting.
func (c *Config) Validate() error {
	var errs []error
	switch c.Provider {
	case "builtin":
	case "holmesgpt":
		if c.HolmesGPTURL == "" {
			errs = append(errs, errors.New("--holmesgpt-url is required with --provider=holmesgpt"))
		}
	case "openai":
		if c.OpenAIBaseURL == "" || c.Model == "" {
			errs = append(errs, errors.New("--openai-base-url and --model are required with --provider=openai"))
		}
	default:
		errs = append(errs, errors.New("--provider must be builtin, holmesgpt or openai"))
	}
	return errors.Join(append(errs, c.Options.Validate(), c.Clients.Validate())...)
}

// NewCommand returns the aianalysis root command.
func NewCommand() *cobra.Command {
	return newCommand(NewConfig(), Run)
}

func newCommand(cfg *Config, run func(context.Context, *Config) error) *cobra.Command {
	return shared.NewRootCommand(service,
		"Kubernaut aianalysis: investigates AIAnalysis resources and recommends actions, with an approval gate.",
		"Kubernaut aianalysis: investigates AIAnalysis resources and recommends actions, with an approval gate.\n\nIt reconciles its custom resources in --namespace, serves /healthz and /readyz on --health-probe-bind-address and Prometheus metrics on --metrics-bind-address, and stops cleanly on SIGTERM.",
		func(cmd *cobra.Command) {
			cfg.AddFlags(cmd.Flags())
			cfg.Clients.AddFlags(cmd.Flags())
			fs := cmd.Flags()
			fs.StringVar(&cfg.Provider, "provider", cfg.Provider, "Investigation provider: builtin (rule-based, no LLM), holmesgpt or openai.")
			fs.StringVar(&cfg.HolmesGPTURL, "holmesgpt-url", cfg.HolmesGPTURL, "Base URL of the HolmesGPT API (for --provider=holmesgpt).")
			fs.StringVar(&cfg.OpenAIBaseURL, "openai-base-url", cfg.OpenAIBaseURL, "Base URL of an OpenAI-compatible API (for --provider=openai).")
			fs.StringVar(&cfg.Model, "model", cfg.Model, "Model name sent to the LLM provider.")
		},
		cfg.Validate,
		func(ctx context.Context) error { return run(ctx, cfg) })
}

// Run runs the service until ctx ends.
func Run(ctx context.Context, cfg *Config) error {
	return shared.RunManager(ctx, &cfg.Options, service, nil, nil)
}
