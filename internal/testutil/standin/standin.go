// Package standin holds local stand-ins for the third-party services the notification service
// delivers to (Slack and Teams incoming webhooks, the PagerDuty Events API v2, a generic
// webhook, and an SMTP server with STARTTLS and AUTH). Each checks requests the way the real
// service does — path secret, auth, payload shape and size — records what it accepted, and can
// be told to fail the next requests with a given status.
package standin

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Request is one accepted request.
type Request struct {
	Header http.Header
	Body   []byte
	// Time the request was accepted.
	Time time.Time
}

// HTTP is a stand-in HTTP service.
type HTTP struct {
	*httptest.Server
	// URL the client must post to (including any secret path).
	Endpoint string

	mu       sync.Mutex
	failures []int
	received []Request
	notify   chan Request
	check    func(r *http.Request, body []byte) (int, string)
}

// FailNext makes the next requests fail with the given statuses, in order.
func (s *HTTP) FailNext(codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, codes...)
}

// Received returns the accepted requests.
func (s *HTTP) Received() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.received...)
}

// Notify returns a channel that receives every accepted request (buffered; drops when full).
func (s *HTTP) Notify() <-chan Request { return s.notify }

// Reset forgets the received requests and pending failures.
func (s *HTTP) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received, s.failures = nil, nil
}

func newHTTP(path string, check func(r *http.Request, body []byte) (int, string)) *HTTP {
	s := &HTTP{check: check, notify: make(chan Request, 4096)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path != path {
			http.Error(w, "no_service", http.StatusNotFound)
			return
		}
		s.mu.Lock()
		if len(s.failures) > 0 {
			code := s.failures[0]
			s.failures = s.failures[1:]
			s.mu.Unlock()
			if code == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "1")
			}
			http.Error(w, "failing on demand", code)
			return
		}
		s.mu.Unlock()
		if code, msg := check(r, body); code != 0 {
			http.Error(w, msg, code)
			return
		}
		req := Request{Header: r.Header.Clone(), Body: body, Time: time.Now()}
		s.mu.Lock()
		s.received = append(s.received, req)
		s.mu.Unlock()
		select {
		case s.notify <- req:
		default:
		}
		if strings.HasPrefix(path, "/v2/enqueue") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"status":"success","message":"Event processed"}`))
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	s.Endpoint = s.URL + path
	return s
}

func jsonBody(r *http.Request, body []byte, v any) (int, string) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return http.StatusBadRequest, "invalid_payload: content type must be application/json"
	}
	if err := json.Unmarshal(body, v); err != nil {
		return http.StatusBadRequest, "invalid_payload: " + err.Error()
	}
	return 0, ""
}

// Slack is an incoming webhook at /services/T…/B…/secret that checks Block Kit limits.
func Slack() *HTTP {
	return newHTTP("/services/T0KUBERNAUT/B0NOTIFY/Zq8sEcReTwEbHoOkPaTh", func(r *http.Request, body []byte) (int, string) {
		if len(body) > 40<<10 {
			return http.StatusRequestEntityTooLarge, "request_too_large"
		}
		var p struct {
			Text   string `json:"text"`
			Blocks []struct {
				Type string `json:"type"`
				Text *struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"text"`
				Fields []struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"fields"`
				Elements []map[string]any `json:"elements"`
			} `json:"blocks"`
		}
		if code, msg := jsonBody(r, body, &p); code != 0 {
			return code, msg
		}
		if p.Text == "" && len(p.Blocks) == 0 {
			return http.StatusBadRequest, "no_text"
		}
		if len(p.Blocks) > 50 {
			return http.StatusBadRequest, "invalid_blocks: more than 50 blocks"
		}
		for i, b := range p.Blocks {
			switch b.Type {
			case "header":
				if b.Text == nil || b.Text.Type != "plain_text" || utf8.RuneCountInString(b.Text.Text) > 150 {
					return http.StatusBadRequest, fmt.Sprintf("invalid_blocks: header %d", i)
				}
			case "section":
				if b.Text == nil && len(b.Fields) == 0 {
					return http.StatusBadRequest, fmt.Sprintf("invalid_blocks: section %d has no text", i)
				}
				if b.Text != nil && (utf8.RuneCountInString(b.Text.Text) > 3000 || b.Text.Text == "") {
					return http.StatusBadRequest, fmt.Sprintf("invalid_blocks: section %d text", i)
				}
				if len(b.Fields) > 10 {
					return http.StatusBadRequest, fmt.Sprintf("invalid_blocks: section %d has more than 10 fields", i)
				}
				for _, f := range b.Fields {
					if utf8.RuneCountInString(f.Text) > 2000 {
						return http.StatusBadRequest, fmt.Sprintf("invalid_blocks: section %d field", i)
					}
				}
			case "divider", "context", "actions":
			default:
				return http.StatusBadRequest, fmt.Sprintf("invalid_blocks: unknown type %q", b.Type)
			}
		}
		return 0, ""
	})
}

// Teams is an incoming webhook that accepts message cards with one Adaptive Card attachment.
func Teams() *HTTP {
	return newHTTP("/webhookb2/kubernaut@tenant/IncomingWebhook/s3cr3tTeamsPath", func(r *http.Request, body []byte) (int, string) {
		if len(body) > 28<<10 {
			return http.StatusRequestEntityTooLarge, "Webhook message delivery failed: payload too large"
		}
		var p struct {
			Type        string `json:"type"`
			Attachments []struct {
				ContentType string `json:"contentType"`
				Content     struct {
					Type    string           `json:"type"`
					Version string           `json:"version"`
					Body    []map[string]any `json:"body"`
				} `json:"content"`
			} `json:"attachments"`
		}
		if code, msg := jsonBody(r, body, &p); code != 0 {
			return code, msg
		}
		if p.Type != "message" || len(p.Attachments) != 1 {
			return http.StatusBadRequest, "Bad payload: a message with one attachment is expected"
		}
		a := p.Attachments[0]
		if a.ContentType != "application/vnd.microsoft.card.adaptive" || a.Content.Type != "AdaptiveCard" || a.Content.Version == "" || len(a.Content.Body) == 0 {
			return http.StatusBadRequest, "Bad payload: not an Adaptive Card"
		}
		return 0, ""
	})
}

// PagerDutyRoutingKey is the integration key the PagerDuty stand-in accepts.
const PagerDutyRoutingKey = "R0UT1NGKEY0123456789ABCDEFGHIJKL"

// PagerDuty is the Events API v2 at /v2/enqueue.
func PagerDuty() *HTTP {
	return newHTTP("/v2/enqueue", func(r *http.Request, body []byte) (int, string) {
		var ev struct {
			RoutingKey  string `json:"routing_key"`
			EventAction string `json:"event_action"`
			DedupKey    string `json:"dedup_key"`
			Payload     *struct {
				Summary  string `json:"summary"`
				Source   string `json:"source"`
				Severity string `json:"severity"`
			} `json:"payload"`
		}
		if code, msg := jsonBody(r, body, &ev); code != 0 {
			return code, msg
		}
		var errs []string
		if ev.RoutingKey != PagerDutyRoutingKey {
			errs = append(errs, "'routing_key' is invalid")
		}
		switch ev.EventAction {
		case "trigger":
			if ev.Payload == nil || ev.Payload.Summary == "" || ev.Payload.Source == "" {
				errs = append(errs, "'payload.summary' and 'payload.source' are required")
			} else {
				if utf8.RuneCountInString(ev.Payload.Summary) > 1024 {
					errs = append(errs, "'payload.summary' is longer than 1024 characters")
				}
				switch ev.Payload.Severity {
				case "critical", "error", "warning", "info":
				default:
					errs = append(errs, "'payload.severity' is invalid")
				}
			}
		case "acknowledge", "resolve":
			if ev.DedupKey == "" {
				errs = append(errs, "'dedup_key' is required for "+ev.EventAction)
			}
		default:
			errs = append(errs, "'event_action' is invalid")
		}
		if len(ev.DedupKey) > 255 {
			errs = append(errs, "'dedup_key' is longer than 255 characters")
		}
		if len(errs) > 0 {
			b, _ := json.Marshal(map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": errs})
			return http.StatusBadRequest, string(b)
		}
		return 0, ""
	})
}

// Webhook is a JSON endpoint that requires "Authorization: Bearer <token>".
func Webhook(token string) *HTTP {
	return newHTTP("/hooks/kubernaut", func(r *http.Request, body []byte) (int, string) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			return http.StatusUnauthorized, "unauthorized"
		}
		var p map[string]any
		if code, msg := jsonBody(r, body, &p); code != 0 {
			return code, msg
		}
		for _, k := range []string{"name", "namespace", "type", "priority", "subject", "body"} {
			if _, ok := p[k]; !ok {
				return http.StatusUnprocessableEntity, "missing " + k
			}
		}
		return 0, ""
	})
}

// Mail is one message the SMTP stand-in accepted.
type Mail struct {
	From string
	To   []string
	Data []byte
}

// SMTP is an SMTP server that requires STARTTLS and AUTH PLAIN.
type SMTP struct {
	Addr     string
	Host     string
	Port     int
	CAPEM    []byte
	Username string
	Password string

	server   *smtp.Server
	mu       sync.Mutex
	mails    []Mail
	failures []*smtp.SMTPError
	notify   chan Mail
}

// Mails returns the accepted messages.
func (s *SMTP) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Notify returns a channel that receives every accepted message.
func (s *SMTP) Notify() <-chan Mail { return s.notify }

// FailNext makes the next messages fail with the given SMTP codes (4xx temporary, 5xx permanent).
func (s *SMTP) FailNext(codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range codes {
		s.failures = append(s.failures, &smtp.SMTPError{Code: c, EnhancedCode: smtp.EnhancedCode{c / 100, 0, 0}, Message: "failing on demand"})
	}
}

// Close stops the server.
func (s *SMTP) Close() { _ = s.server.Close() }

// StartSMTP starts the SMTP stand-in on a free local port.
func StartSMTP(username, password string) (*SMTP, error) {
	cert, caPEM, err := selfSigned("localhost")
	if err != nil {
		return nil, err
	}
	s := &SMTP{Username: username, Password: password, CAPEM: caPEM, notify: make(chan Mail, 1024)}
	s.server = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	s.server.Domain = "localhost"
	s.server.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s.server.AllowInsecureAuth = false
	s.server.ReadTimeout, s.server.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.Addr = ln.Addr().String()
	s.Host, s.Port = "localhost", ln.Addr().(*net.TCPAddr).Port
	go func() { _ = s.server.Serve(ln) }()
	return s, nil
}

type session struct {
	s    *SMTP
	auth bool
	mail Mail
}

func (x *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.s.Username || pass != x.s.Password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "authentication failed"}
		}
		x.auth = true
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if !x.auth {
		return smtp.ErrAuthRequired
	}
	x.mail = Mail{From: from}
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !x.auth {
		return smtp.ErrAuthRequired
	}
	x.mail.To = append(x.mail.To, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	if len(x.s.failures) > 0 {
		f := x.s.failures[0]
		x.s.failures = x.s.failures[1:]
		x.s.mu.Unlock()
		return f
	}
	if !bytes.Contains(b, []byte("multipart/alternative")) {
		x.s.mu.Unlock()
		return errors.New("expected a multipart/alternative message")
	}
	x.mail.Data = b
	x.s.mails = append(x.s.mails, x.mail)
	x.s.mu.Unlock()
	select {
	case x.s.notify <- x.mail:
	default:
	}
	return nil
}

func (x *session) Reset()        { x.mail = Mail{} }
func (x *session) Logout() error { return nil }

func selfSigned(host string) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	return cert, certPEM, err
}
