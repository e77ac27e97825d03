package delivery

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"time"

	"github.com/go-logr/logr"

	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"

	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// Error is a failed delivery. Permanent failures are not retried.
type Error struct {
	Permanent bool
	Reason    string
}

func (e *Error) Error() string { return e.Reason }

// ErrNotConfigured is the reason recorded for a channel without configuration.
const ErrNotConfigured = "not configured"

func permanent(format string, args ...any) *Error {
	return &Error{Permanent: true, Reason: fmt.Sprintf(format, args...)}
}

func transient(format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...)}
}

// RetryableStatus reports whether an HTTP status is worth retrying: 408, 429 and 5xx.
func RetryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// Sender delivers messages to the configured channels.
type Sender struct {
	Config *Config
	// HTTP is the client for webhook channels (default: a client with Config.Timeout).
	HTTP *http.Client
	// Log receives the console channel's lines.
	Log logr.Logger
	// Now is the clock for email dates (default time.Now).
	Now func() time.Time
}

// NewSender returns a sender for cfg.
func NewSender(cfg *Config, log logr.Logger) *Sender {
	return &Sender{Config: cfg, HTTP: &http.Client{Timeout: cfg.Timeout.Duration}, Log: log, Now: time.Now}
}

// Configured reports whether a channel can be delivered to. Console always can.
func (s *Sender) Configured(ch notificationv1.Channel) bool {
	c := s.Config
	switch ch {
	case notificationv1.ChannelConsole:
		return true
	case notificationv1.ChannelSlack:
		return c.Slack != nil
	case notificationv1.ChannelMSTeams:
		return c.MSTeams != nil
	case notificationv1.ChannelEmail:
		return c.Email != nil
	case notificationv1.ChannelPagerDuty:
		return c.PagerDuty != nil
	case notificationv1.ChannelWebhook:
		return c.Webhook != nil
	}
	return false
}

// Send delivers m to one channel. The returned error is an *Error whose reason is redacted.
func (s *Sender) Send(ctx context.Context, ch notificationv1.Channel, m *Message) *Error {
	if !s.Configured(ch) {
		return permanent(ErrNotConfigured)
	}
	ctx, cancel := context.WithTimeout(ctx, s.Config.Timeout.Duration)
	defer cancel()
	var err *Error
	var secrets []string
	switch ch {
	case notificationv1.ChannelConsole:
		kv := []any{"notification", m.Namespace + "/" + m.Name, "type", m.Type, "priority", m.Priority,
			"subject", m.Subject, "body", m.Body, "remediationRequest", m.RemediationRequest, "metadata", m.Metadata}
		if a := m.approval(); a != nil && a.Approve != "" {
			kv = append(kv, "recommendedAction", a.Action, "approve", a.Approve, "reject", a.Reject)
		}
		s.Log.Info("Notification", kv...)
	case notificationv1.ChannelSlack:
		secrets, err = s.sendSlack(ctx, m)
	case notificationv1.ChannelMSTeams:
		secrets, err = s.sendTeams(ctx, m)
	case notificationv1.ChannelPagerDuty:
		secrets, err = s.sendPagerDuty(ctx, m)
	case notificationv1.ChannelWebhook:
		secrets, err = s.sendWebhook(ctx, m)
	case notificationv1.ChannelEmail:
		secrets, err = s.sendEmail(ctx, m)
	}
	if err != nil {
		err.Reason = text.Truncate(NewRedactor(secrets...).Redact(err.Reason), 1000)
	}
	return err
}

// secret reads a credential file; a missing or empty file is a retryable failure (the Secret
// may be being mounted or rotated).
func secret(path, what string) (string, *Error) {
	v, err := readSecret(path)
	if err != nil {
		return "", transient("reading the %s: %v", what, err)
	}
	return v, nil
}

func (s *Sender) sendSlack(ctx context.Context, m *Message) ([]string, *Error) {
	hook, e := secret(s.Config.Slack.WebhookURLFile, "Slack webhook URL")
	if e != nil {
		return nil, e
	}
	channel := s.Config.Slack.DefaultChannel
	if r := m.Recipients[notificationv1.ChannelSlack]; len(r) > 0 {
		channel = r[0]
	}
	m = m.Redact(NewRedactor(hook))
	body, err := RenderSlack(m, channel)
	if err != nil {
		return []string{hook}, permanent("rendering the Slack message: %v", err)
	}
	return []string{hook}, s.post(ctx, "slack", hook, body, "")
}

func (s *Sender) sendTeams(ctx context.Context, m *Message) ([]string, *Error) {
	hook, e := secret(s.Config.MSTeams.WebhookURLFile, "Teams webhook URL")
	if e != nil {
		return nil, e
	}
	body, err := RenderTeams(m.Redact(NewRedactor(hook)))
	if err != nil {
		return []string{hook}, permanent("rendering the Teams card: %v", err)
	}
	return []string{hook}, s.post(ctx, "teams", hook, body, "")
}

func (s *Sender) sendPagerDuty(ctx context.Context, m *Message) ([]string, *Error) {
	key, e := secret(s.Config.PagerDuty.RoutingKeyFile, "PagerDuty routing key")
	if e != nil {
		return nil, e
	}
	body, err := RenderPagerDuty(m.Redact(NewRedactor(key)), key, s.Config.PagerDuty.Source)
	if err != nil {
		return []string{key}, permanent("rendering the PagerDuty event: %v", err)
	}
	return []string{key}, s.post(ctx, "pagerduty", s.Config.PagerDuty.URL, body, "")
}

func (s *Sender) sendWebhook(ctx context.Context, m *Message) ([]string, *Error) {
	var token string
	if f := s.Config.Webhook.TokenFile; f != "" {
		var e *Error
		if token, e = secret(f, "webhook token"); e != nil {
			return nil, e
		}
	}
	body, err := RenderWebhook(m.Redact(NewRedactor(token)))
	if err != nil {
		return []string{token}, permanent("rendering the webhook body: %v", err)
	}
	return []string{token}, s.post(ctx, "webhook", s.Config.Webhook.URL, body, token)
}

// post sends a JSON body and classifies the answer.
func (s *Sender) post(ctx context.Context, what, url string, body []byte, token string) *Error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return permanent("building the %s request: %v", what, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kubernaut-notification")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.HTTP.Do(req)
	if err != nil {
		return transient("posting to %s: %v", what, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := &Error{Permanent: !RetryableStatus(resp.StatusCode),
		Reason: fmt.Sprintf("%s answered %d: %s", what, resp.StatusCode, bytes.TrimSpace(answer))}
	if ra := resp.Header.Get("Retry-After"); ra != "" && !e.Permanent {
		if secs, err := strconv.Atoi(ra); err == nil {
			e.Reason += fmt.Sprintf(" (retry after %ds)", secs)
		}
	}
	return e
}

func (s *Sender) sendEmail(ctx context.Context, m *Message) ([]string, *Error) {
	c := s.Config.Email
	var user, pass string
	if c.UsernameFile != "" {
		var e *Error
		if user, e = secret(c.UsernameFile, "SMTP username"); e != nil {
			return nil, e
		}
		if pass, e = secret(c.PasswordFile, "SMTP password"); e != nil {
			return nil, e
		}
	}
	secrets := []string{pass}
	to := m.Recipients[notificationv1.ChannelEmail]
	if len(to) == 0 {
		to = c.To
	}
	if len(to) == 0 {
		return secrets, permanent("no email recipients: the request names none and email.to is empty")
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	msg, err := RenderEmail(m.Redact(NewRedactor(pass)), c.From, to, now())
	if err != nil {
		return secrets, permanent("rendering the email: %v", err)
	}
	return secrets, classifySMTP(s.smtpSend(ctx, user, pass, to, msg))
}

func (s *Sender) smtpSend(ctx context.Context, user, pass string, to []string, msg []byte) error {
	c := s.Config.Email
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	cl, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		conn.Close()
		return err
	}
	defer cl.Close()
	if err := cl.Hello("kubernaut-notification"); err != nil {
		return err
	}
	if c.StartTLS == nil || *c.StartTLS {
		tc := &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}
		if c.ServerName != "" {
			tc.ServerName = c.ServerName
		}
		if c.CAFile != "" {
			pem, err := os.ReadFile(c.CAFile)
			if err != nil {
				return fmt.Errorf("reading email.caFile: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return permanent("email.caFile holds no certificate")
			}
		}
		if ok, _ := cl.Extension("STARTTLS"); !ok {
			return permanent("the SMTP server does not offer STARTTLS")
		}
		if err := cl.StartTLS(tc); err != nil {
			return err
		}
	}
	if user != "" {
		if err := cl.Auth(smtp.PlainAuth("", user, pass, c.Host)); err != nil {
			return err
		}
	}
	if err := cl.Mail(c.From); err != nil {
		return err
	}
	for _, r := range to {
		if err := cl.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := cl.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return cl.Quit()
}

// classifySMTP makes SMTP 5xx replies permanent and everything else (4xx, network) retryable.
func classifySMTP(err error) *Error {
	if err == nil {
		return nil
	}
	var de *Error
	if errors.As(err, &de) {
		return de
	}
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return permanent("smtp: %v", err)
	}
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ce) {
		return permanent("smtp: %v", err)
	}
	return transient("smtp: %v", err)
}
