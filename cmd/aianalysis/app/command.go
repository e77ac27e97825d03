// Package app wires the aianalysis command: flags → Config → Run.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/aianalysis"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/llm"
	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
)

const service = "aianalysis"

// APIKeyEnv is the environment variable holding the LLM API key when --api-key-file is not set.
const APIKeyEnv = "KUBERNAUT_LLM_API_KEY"

// Config is everything Run needs, built from flags.
type Config struct {
	shared.Options
	Clients shared.ClientOptions
	// Provider is builtin, holmesgpt or openai.
	Provider string
	// HolmesGPTURL is the HolmesGPT API base URL.
	HolmesGPTURL string
	// OpenAIBaseURL is an OpenAI-compatible API base URL (ending in /v1).
	OpenAIBaseURL string
	// Model is the LLM model name.
	Model string
	// APIKeyFile holds the LLM API key; when empty the key comes from $KUBERNAUT_LLM_API_KEY.
	APIKeyFile string
	// LLMTimeout bounds one provider request.
	LLMTimeout time.Duration
	// LLMRetries is how often a 429/5xx/network failure is retried.
	LLMRetries int
	// ApprovalPolicyConfigMap names the approval policy ConfigMap in --namespace.
	ApprovalPolicyConfigMap string
	// History enables datastorage look-ups for includeHistoricalPatterns.
	History bool
	// MaxConcurrentReconciles bounds parallel investigations.
	MaxConcurrentReconciles int
	// RepeatActionWindow: an action Kubernaut ran on a target within it is not recommended for
	// that target again (manual review instead); 0 turns the check off.
	RepeatActionWindow time.Duration
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	return &Config{
		Options: shared.NewOptions(true), Clients: shared.NewClientOptions(), Provider: investigator.ProviderBuiltin,
		LLMTimeout: 5 * time.Minute, LLMRetries: 3, ApprovalPolicyConfigMap: aianalysis.DefaultPolicyConfigMap,
		History: true, MaxConcurrentReconciles: aianalysis.DefaultMaxConcurrentReconciles, RepeatActionWindow: aianalysis.DefaultRepeatWindow,
	}
}

// Validate reports every invalid setting.
func (c *Config) Validate() error {
	var errs []error
	switch c.Provider {
	case investigator.ProviderBuiltin:
	case investigator.ProviderHolmesGPT:
		if c.HolmesGPTURL == "" {
			errs = append(errs, errors.New("--holmesgpt-url is required with --provider=holmesgpt"))
		}
	case investigator.ProviderOpenAI:
		if c.OpenAIBaseURL == "" || c.Model == "" {
			errs = append(errs, errors.New("--openai-base-url and --model are required with --provider=openai"))
		}
	default:
		errs = append(errs, errors.New("--provider must be builtin, holmesgpt or openai"))
	}
	if c.LLMTimeout <= 0 {
		errs = append(errs, errors.New("--llm-timeout must be positive"))
	}
	if c.LLMRetries < 0 || c.LLMRetries > 10 {
		errs = append(errs, errors.New("--llm-retries must be between 0 and 10"))
	}
	if c.RepeatActionWindow < 0 {
		errs = append(errs, errors.New("--repeat-action-window must not be negative (0 turns the check off)"))
	}
	if c.MaxConcurrentReconciles < 1 {
		errs = append(errs, errors.New("--max-concurrent-reconciles must be at least 1"))
	}
	if strings.TrimSpace(c.ApprovalPolicyConfigMap) == "" {
		errs = append(errs, errors.New("--approval-policy-configmap must not be empty"))
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
		"Kubernaut aianalysis: investigates AIAnalysis resources and recommends actions, with an approval gate.\n\n"+
			"It reconciles its custom resources in --namespace, serves /healthz and /readyz on --health-probe-bind-address and Prometheus metrics on --metrics-bind-address, and stops cleanly on SIGTERM.\n\n"+
			"Providers: builtin (offline rules, no network; the default), holmesgpt (POST /api/chat of a HolmesGPT server) and openai (any OpenAI-compatible /chat/completions endpoint with json_schema output). "+
			"The LLM API key is read from --api-key-file or the "+APIKeyEnv+" environment variable, never from a flag value. "+
			"Every provider's answer passes the guardrails (catalog action, valid parameters, allowed target) and the repeat-action check (--repeat-action-window); the approval policy is read from the ConfigMap --approval-policy-configmap (key "+aianalysis.PolicyKey+") in --namespace and applies as soon as it changes.",
		func(cmd *cobra.Command) {
			cfg.AddFlags(cmd.Flags())
			cfg.Clients.AddFlags(cmd.Flags())
			fs := cmd.Flags()
			fs.StringVar(&cfg.Provider, "provider", cfg.Provider, "Investigation provider: builtin (rule-based, offline, no LLM), holmesgpt or openai.")
			fs.StringVar(&cfg.HolmesGPTURL, "holmesgpt-url", cfg.HolmesGPTURL, "Base URL of the HolmesGPT API, e.g. http://holmesgpt:8080 (for --provider=holmesgpt; POST /api/chat is called).")
			fs.StringVar(&cfg.OpenAIBaseURL, "openai-base-url", cfg.OpenAIBaseURL, "Base URL of an OpenAI-compatible API including /v1, e.g. https://api.openai.com/v1 or http://vllm:8000/v1 (for --provider=openai).")
			fs.StringVar(&cfg.Model, "model", cfg.Model, "Model name sent to the LLM provider (for holmesgpt: a modelList key of the server; empty uses its default).")
			fs.StringVar(&cfg.APIKeyFile, "api-key-file", cfg.APIKeyFile, "File holding the LLM API key, sent as a bearer token; re-read on every request. When empty, $"+APIKeyEnv+" is used (and no key is sent when both are empty).")
			fs.DurationVar(&cfg.LLMTimeout, "llm-timeout", cfg.LLMTimeout, "Timeout of one LLM request; investigations take minutes.")
			fs.IntVar(&cfg.LLMRetries, "llm-retries", cfg.LLMRetries, "Retries of an LLM request answered 429 or 5xx or failing on the network, with exponential backoff (honouring Retry-After).")
			fs.StringVar(&cfg.ApprovalPolicyConfigMap, "approval-policy-configmap", cfg.ApprovalPolicyConfigMap, "ConfigMap in --namespace holding the approval policy (key "+aianalysis.PolicyKey+"); absent means the defaults.")
			fs.BoolVar(&cfg.History, "historical-patterns", cfg.History, "Ask datastorage (--datastorage-url) for past success rates when an analysis sets includeHistoricalPatterns.")
			fs.IntVar(&cfg.MaxConcurrentReconciles, "max-concurrent-reconciles", cfg.MaxConcurrentReconciles, "Analyses investigated in parallel.")
			fs.DurationVar(&cfg.RepeatActionWindow, "repeat-action-window", cfg.RepeatActionWindow, "An action Kubernaut ran on a target within this window (read from datastorage's audit trail, --datastorage-url) is not recommended for that target again, whatever the provider: the analysis ends in manual review saying what was done when, instead of ratcheting the same change. When the trail cannot be read, a recommendation needs approval. 0 turns the check off.")
		},
		cfg.Validate,
		func(ctx context.Context) error { return run(ctx, cfg) })
}

// APIKey returns a function reading the LLM API key from the file or the environment.
func (c *Config) APIKey() func() (string, error) {
	if c.APIKeyFile != "" {
		path := c.APIKeyFile
		return func() (string, error) {
			b, err := os.ReadFile(path)
			if err != nil {
				return "", fmt.Errorf("reading the LLM API key: %w", err)
			}
			return strings.TrimSpace(string(b)), nil
		}
	}
	key := os.Getenv(APIKeyEnv)
	return func() (string, error) { return key, nil }
}

// NewInvestigator builds the configured provider.
func (c *Config) NewInvestigator() investigator.Investigator {
	opts := llm.Options{APIKey: c.APIKey(), Model: c.Model, Timeout: c.LLMTimeout, Retries: c.LLMRetries}
	switch c.Provider {
	case investigator.ProviderHolmesGPT:
		return llm.NewHolmesGPT(c.HolmesGPTURL, opts)
	case investigator.ProviderOpenAI:
		return llm.NewOpenAI(c.OpenAIBaseURL, opts)
	}
	return investigator.NewBuiltin()
}

// Defaults is what the controller writes into spec.holmesGPTConfig.
func (c *Config) Defaults() aiv1.HolmesGPTConfig {
	switch c.Provider {
	case investigator.ProviderHolmesGPT:
		return aiv1.HolmesGPTConfig{Endpoint: strings.TrimRight(c.HolmesGPTURL, "/") + llm.HolmesGPTChatPath, Model: c.Model, Toolsets: []string{"kubernetes/core"}}
	case investigator.ProviderOpenAI:
		return aiv1.HolmesGPTConfig{Endpoint: strings.TrimRight(c.OpenAIBaseURL, "/") + llm.OpenAIChatPath, Model: c.Model}
	}
	return aiv1.HolmesGPTConfig{Model: "builtin-rules"}
}

// Tune narrows the manager's cache for aianalysis.
func Tune(opts *manager.Options, cfg *Config) {
	aianalysis.CacheOptions(&opts.Cache, cfg.Namespace, cfg.ApprovalPolicyConfigMap)
}

// Run runs the service until ctx ends.
func Run(ctx context.Context, cfg *Config) error {
	return shared.RunManager(ctx, &cfg.Options, service, func(o *manager.Options) { Tune(o, cfg) }, func(mgr manager.Manager) error {
		r := &aianalysis.Reconciler{
			Investigator:            cfg.NewInvestigator(),
			Policy:                  &aianalysis.PolicySource{Reader: mgr.GetClient(), Namespace: cfg.Namespace, Name: cfg.ApprovalPolicyConfigMap},
			Defaults:                cfg.Defaults(),
			MaxConcurrentReconciles: cfg.MaxConcurrentReconciles,
		}
		if cfg.RepeatActionWindow > 0 {
			// Read before every investigation: never hold an analysis long for it.
			c := auditapi.NewClient(cfg.Clients.DatastorageURL, cfg.Clients.ServiceTokenFile)
			c.HTTP.Timeout = 3 * time.Second
			r.RepeatWindow, r.Changes = cfg.RepeatActionWindow, &aianalysis.DatastorageHistory{Client: c}
		}
		if cfg.Clients.DatastorageURL != "" {
			// Read only for recommendations in gated environments whose actions were granted autonomy.
			c := auditapi.NewClient(cfg.Clients.DatastorageURL, cfg.Clients.ServiceTokenFile)
			c.HTTP.Timeout = 3 * time.Second
			r.TrackRecords = c
		}
		if cfg.History {
			// A look-up only refines confidence: never hold an analysis long for it.
			h := auditapi.NewClient(cfg.Clients.DatastorageURL, cfg.Clients.ServiceTokenFile)
			h.HTTP.Timeout = 3 * time.Second
			r.History = h
		}
		return r.SetupWithManager(ctx, mgr)
	})
}
