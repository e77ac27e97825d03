package delivery

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Config is the notification service's configuration file (YAML or JSON). Endpoints are
// plain values; every credential is a path to a file (a mounted Secret) that is read at each
// delivery, so rotated Secrets take effect without a restart and no credential is ever held in
// the configuration itself.
type Config struct {
	// Slack is the incoming-webhook channel.
	Slack *SlackConfig `json:"slack,omitempty"`
	// MSTeams is the incoming-webhook channel for Microsoft Teams.
	MSTeams *MSTeamsConfig `json:"msteams,omitempty"`
	// Email is the SMTP channel.
	Email *EmailConfig `json:"email,omitempty"`
	// PagerDuty is the Events API v2 channel.
	PagerDuty *PagerDutyConfig `json:"pagerduty,omitempty"`
	// Webhook is the generic JSON webhook channel.
	Webhook *WebhookConfig `json:"webhook,omitempty"`
	// Retry holds the defaults used when a NotificationRequest leaves its retry policy empty.
	Retry RetryConfig `json:"retry,omitempty"`
	// Timeout bounds one delivery attempt (default 10s).
	Timeout Duration `json:"timeout,omitempty"`
}

// Duration is a time.Duration written as "30s" in the file.
type Duration struct{ time.Duration }

// UnmarshalJSON parses "30s" (or a number of nanoseconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q: %w", s, err)
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes the duration as "30s".
func (d Duration) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// RetryConfig is the retry policy defaults.
type RetryConfig struct {
	// MaxAttempts per channel including the first (default 5).
	MaxAttempts int32 `json:"maxAttempts,omitempty"`
	// InitialBackoff before the first retry (default 30s), doubling each retry.
	InitialBackoff Duration `json:"initialBackoff,omitempty"`
	// MaxBackoff caps the backoff (default 480s).
	MaxBackoff Duration `json:"maxBackoff,omitempty"`
}

// SlackConfig configures Slack incoming webhooks.
type SlackConfig struct {
	// WebhookURLFile holds the incoming-webhook URL (the URL is the credential).
	WebhookURLFile string `json:"webhookURLFile"`
	// DefaultChannel is shown when a request names no Slack recipient, for example "#kubernaut".
	DefaultChannel string `json:"defaultChannel,omitempty"`
}

// MSTeamsConfig configures Teams incoming webhooks.
type MSTeamsConfig struct {
	// WebhookURLFile holds the incoming-webhook URL (the URL is the credential).
	WebhookURLFile string `json:"webhookURLFile"`
}

// EmailConfig configures SMTP delivery.
type EmailConfig struct {
	// Host and Port of the SMTP server (port default 587).
	Host string `json:"host"`
	Port int    `json:"port,omitempty"`
	// From is the sender address.
	From string `json:"from"`
	// To are the default recipients, used when a request names none.
	To []string `json:"to,omitempty"`
	// UsernameFile and PasswordFile hold the SMTP AUTH PLAIN credentials; both empty means no auth.
	UsernameFile string `json:"usernameFile,omitempty"`
	PasswordFile string `json:"passwordFile,omitempty"`
	// StartTLS is required by default; set false only for a local relay without TLS.
	StartTLS *bool `json:"startTLS,omitempty"`
	// CAFile verifies the server certificate instead of the system roots.
	CAFile string `json:"caFile,omitempty"`
	// ServerName overrides the name checked in the server certificate (default Host).
	ServerName string `json:"serverName,omitempty"`
}

// PagerDutyConfig configures the PagerDuty Events API v2.
type PagerDutyConfig struct {
	// URL of the Events API (default https://events.pagerduty.com/v2/enqueue).
	URL string `json:"url,omitempty"`
	// RoutingKeyFile holds the integration (routing) key.
	RoutingKeyFile string `json:"routingKeyFile"`
	// Source is the event's source (default "kubernaut").
	Source string `json:"source,omitempty"`
}

// WebhookConfig configures the generic JSON webhook.
type WebhookConfig struct {
	// URL receives the POST.
	URL string `json:"url"`
	// TokenFile, when set, holds the bearer token sent in Authorization.
	TokenFile string `json:"tokenFile,omitempty"`
}

// Defaults used when neither the request nor the configuration sets them.
const (
	DefaultMaxAttempts    = 5
	DefaultInitialBackoff = 30 * time.Second
	DefaultMaxBackoff     = 480 * time.Second
	DefaultTimeout        = 10 * time.Second
	DefaultPagerDutyURL   = "https://events.pagerduty.com/v2/enqueue"
)

// LoadConfig reads and validates a YAML or JSON configuration file. An empty path is an empty
// configuration: only the console channel works.
func LoadConfig(path string) (*Config, error) {
	cfg := &Config{}
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading the notification config: %w", err)
		}
		if err := yaml.UnmarshalStrict(bytes.TrimSpace(raw), cfg); err != nil {
			return nil, fmt.Errorf("parsing the notification config %s: %w", path, err)
		}
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid notification config %s:\n%w", path, err)
	}
	return cfg, nil
}

func (c *Config) setDefaults() {
	if c.Retry.MaxAttempts == 0 {
		c.Retry.MaxAttempts = DefaultMaxAttempts
	}
	if c.Retry.InitialBackoff.Duration == 0 {
		c.Retry.InitialBackoff.Duration = DefaultInitialBackoff
	}
	if c.Retry.MaxBackoff.Duration == 0 {
		c.Retry.MaxBackoff.Duration = DefaultMaxBackoff
	}
	if c.Timeout.Duration == 0 {
		c.Timeout.Duration = DefaultTimeout
	}
	if c.PagerDuty != nil {
		if c.PagerDuty.URL == "" {
			c.PagerDuty.URL = DefaultPagerDutyURL
		}
		if c.PagerDuty.Source == "" {
			c.PagerDuty.Source = "kubernaut"
		}
	}
	if c.Email != nil && c.Email.Port == 0 {
		c.Email.Port = 587
	}
}

// Validate reports every invalid setting. Credential files must exist.
func (c *Config) Validate() error {
	var errs []error
	need := func(field, v string) {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required", field))
		}
	}
	file := func(field, p string) {
		if p == "" {
			return
		}
		if _, err := os.Stat(p); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
		}
	}
	httpURL := func(field, v string) {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s must be an absolute http(s) URL", field))
		} else if u.User != nil {
			errs = append(errs, fmt.Errorf("%s must not carry credentials; use a token file", field))
		}
	}
	if s := c.Slack; s != nil {
		need("slack.webhookURLFile", s.WebhookURLFile)
		file("slack.webhookURLFile", s.WebhookURLFile)
	}
	if t := c.MSTeams; t != nil {
		need("msteams.webhookURLFile", t.WebhookURLFile)
		file("msteams.webhookURLFile", t.WebhookURLFile)
	}
	if e := c.Email; e != nil {
		need("email.host", e.Host)
		need("email.from", e.From)
		if (e.UsernameFile == "") != (e.PasswordFile == "") {
			errs = append(errs, errors.New("email.usernameFile and email.passwordFile are set together"))
		}
		file("email.usernameFile", e.UsernameFile)
		file("email.passwordFile", e.PasswordFile)
		file("email.caFile", e.CAFile)
		if e.Port < 1 || e.Port > 65535 {
			errs = append(errs, fmt.Errorf("email.port must be 1-65535, not %d", e.Port))
		}
	}
	if p := c.PagerDuty; p != nil {
		httpURL("pagerduty.url", p.URL)
		need("pagerduty.routingKeyFile", p.RoutingKeyFile)
		file("pagerduty.routingKeyFile", p.RoutingKeyFile)
	}
	if w := c.Webhook; w != nil {
		httpURL("webhook.url", w.URL)
		file("webhook.tokenFile", w.TokenFile)
	}
	if c.Retry.MaxAttempts < 1 || c.Retry.MaxAttempts > 10 {
		errs = append(errs, fmt.Errorf("retry.maxAttempts must be 1-10, not %d", c.Retry.MaxAttempts))
	}
	if c.Retry.MaxBackoff.Duration < c.Retry.InitialBackoff.Duration {
		errs = append(errs, errors.New("retry.maxBackoff must not be less than retry.initialBackoff"))
	}
	return errors.Join(errs...)
}

// readSecret reads a credential file and trims surrounding whitespace.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading a credential file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", errors.New("a credential file is empty")
	}
	return s, nil
}
