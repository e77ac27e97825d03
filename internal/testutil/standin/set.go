package standin

import (
	"os"
	"path/filepath"
	"time"

	"github.com/kubernaut/kubernaut/pkg/notification/delivery"
)

// WebhookToken is the bearer token the webhook stand-in requires.
const WebhookToken = "wh-token-5f2c9a7e1b"

// Set is one stand-in per channel and the configuration that points at them.
type Set struct {
	Slack, Teams, PagerDuty, Webhook *HTTP
	SMTP                             *SMTP
	Config                           *delivery.Config
}

// Close stops every stand-in.
func (s *Set) Close() {
	s.Slack.Close()
	s.Teams.Close()
	s.PagerDuty.Close()
	s.Webhook.Close()
	s.SMTP.Close()
}

// Reset forgets what the HTTP stand-ins received and their pending failures.
func (s *Set) Reset() {
	for _, h := range []*HTTP{s.Slack, s.Teams, s.PagerDuty, s.Webhook} {
		h.Reset()
	}
}

// Start starts every stand-in and writes the credential files into dir.
func Start(dir string) (*Set, error) {
	s := &Set{Slack: Slack(), Teams: Teams(), PagerDuty: PagerDuty(), Webhook: Webhook(WebhookToken)}
	var err error
	if s.SMTP, err = StartSMTP("kubernaut", "smtp-pass-7d1e"); err != nil {
		return nil, err
	}
	files := map[string]string{
		"slack-url": s.Slack.Endpoint, "teams-url": s.Teams.Endpoint, "pd-key": PagerDutyRoutingKey,
		"webhook-token": WebhookToken, "smtp-user": s.SMTP.Username, "smtp-pass": s.SMTP.Password, "ca.pem": string(s.SMTP.CAPEM),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content+"\n"), 0o600); err != nil {
			return nil, err
		}
	}
	f := func(name string) string { return filepath.Join(dir, name) }
	s.Config = &delivery.Config{
		Slack:     &delivery.SlackConfig{WebhookURLFile: f("slack-url"), DefaultChannel: "#kubernaut"},
		MSTeams:   &delivery.MSTeamsConfig{WebhookURLFile: f("teams-url")},
		PagerDuty: &delivery.PagerDutyConfig{URL: s.PagerDuty.Endpoint, RoutingKeyFile: f("pd-key"), Source: "kubernaut-test"},
		Webhook:   &delivery.WebhookConfig{URL: s.Webhook.Endpoint, TokenFile: f("webhook-token")},
		Email: &delivery.EmailConfig{Host: s.SMTP.Host, Port: s.SMTP.Port, From: "kubernaut@example.com", To: []string{"oncall@example.com"},
			UsernameFile: f("smtp-user"), PasswordFile: f("smtp-pass"), CAFile: f("ca.pem")},
		Retry: delivery.RetryConfig{MaxAttempts: 5, InitialBackoff: delivery.Duration{Duration: 100 * time.Millisecond},
			MaxBackoff: delivery.Duration{Duration: time.Second}},
		Timeout: delivery.Duration{Duration: 5 * time.Second},
	}
	return s, s.Config.Validate()
}
