package delivery

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"mime"
	"mime/quotedprintable"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	api "github.com/kubernaut/kubernaut/pkg/shared/notificationapi"

	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// Size limits per channel.
const (
	SlackMaxBytes           = 40 << 10
	TeamsMaxBytes           = 28 << 10
	PagerDutySummaryMaxChar = 1024
	slackSectionMaxChars    = 3000
	slackHeaderMaxChars     = 150
	slackFieldMaxChars      = 2000
	// TruncationMarker ends every text that was cut to fit a channel's limit.
	TruncationMarker = text.Marker
)

// Message is a NotificationRequest as the channels render it: redacted, with defaults applied.
type Message struct {
	Name      string
	Namespace string
	Type      string
	Priority  string
	Subject   string
	Body      string
	Metadata  map[string]string
	// Recipients per channel, from spec.recipients.
	Recipients map[notificationv1.Channel][]string
	// RemediationRequest is "namespace/name" of the request the notification is about.
	RemediationRequest string
	// Created is the NotificationRequest's creation time.
	Created time.Time
}

// MessageFrom builds the redacted message of a NotificationRequest.
func MessageFrom(nr *notificationv1.NotificationRequest, r *Redactor) *Message {
	m := &Message{
		Name: nr.Name, Namespace: nr.Namespace, Type: string(nr.Spec.Type), Priority: string(nr.Spec.Priority),
		Subject: nr.Spec.Subject, Body: nr.Spec.Body, Metadata: nr.Spec.Metadata,
		Recipients: map[notificationv1.Channel][]string{}, Created: nr.CreationTimestamp.Time,
	}
	for _, rc := range nr.Spec.Recipients {
		m.Recipients[rc.Channel] = append(m.Recipients[rc.Channel], rc.Address)
	}
	if ref := nr.Spec.RemediationRequestRef; ref != nil {
		m.RemediationRequest = ref.Namespace + "/" + ref.Name
	}
	return m.Redact(r)
}

// Redact returns a copy of m with subject, body and metadata values redacted.
func (m *Message) Redact(r *Redactor) *Message {
	c := *m
	c.Subject = r.Redact(m.Subject)
	c.Body = r.Redact(m.Body)
	c.Metadata = r.RedactMap(m.Metadata)
	return &c
}

func (m *Message) meta(key string) string { return m.Metadata[key] }

// facts are the metadata shown with every notification, in a stable order.
func (m *Message) facts() [][2]string {
	out := [][2]string{{"Priority", m.Priority}, {"Type", m.Type}}
	if m.RemediationRequest != "" {
		out = append(out, [2]string{"Remediation", m.RemediationRequest})
	}
	known := map[string]string{
		api.MetaSignalName: "Signal", api.MetaSeverity: "Severity", api.MetaEnvironment: "Environment",
		api.MetaNamespace: "Namespace", api.MetaResource: "Resource", api.MetaEscalationPhase: "Phase",
		api.MetaEscalationReason: "Reason", api.MetaOutcome: "Outcome",
	}
	order := []string{api.MetaSignalName, api.MetaSeverity, api.MetaEnvironment, api.MetaNamespace, api.MetaResource,
		api.MetaEscalationPhase, api.MetaEscalationReason, api.MetaOutcome}
	for _, k := range order {
		if v := m.meta(k); v != "" {
			out = append(out, [2]string{known[k], v})
		}
	}
	return out
}

// extraMetadata is the metadata not shown as a fact, sorted by key.
func (m *Message) extraMetadata() [][2]string {
	shown := map[string]bool{api.MetaSignalName: true, api.MetaSeverity: true, api.MetaEnvironment: true,
		api.MetaNamespace: true, api.MetaResource: true, api.MetaEscalationPhase: true, api.MetaEscalationReason: true,
		api.MetaOutcome: true, api.MetaAlertmanagerURL: true, api.MetaGrafanaURL: true}
	keys := make([]string, 0, len(m.Metadata))
	for k := range m.Metadata {
		if !shown[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([][2]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, [2]string{k, m.Metadata[k]})
	}
	return out
}

type link struct{ Text, URL string }

func (m *Message) links() []link {
	var out []link
	for _, l := range []link{{"Alertmanager", m.meta(api.MetaAlertmanagerURL)}, {"Grafana", m.meta(api.MetaGrafanaURL)}} {
		if u, err := url.Parse(l.URL); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			out = append(out, l)
		}
	}
	return out
}

// approval describes how to decide an approval notification.
type approval struct {
	Action, Confidence, Approve, Reject string
}

func (m *Message) approval() *approval {
	if m.Type != string(notificationv1.TypeApproval) {
		return nil
	}
	a := &approval{Action: m.meta(api.MetaRecommendedAction), Confidence: formatConfidence(m.meta(api.MetaConfidence))}
	if a.Action == "" {
		a.Action = "(see the analysis)"
	}
	if name := m.meta(api.MetaApprovalRequest); name != "" {
		a.Approve = api.DecisionCommand(m.Namespace, name, api.DecisionApproved)
		a.Reject = api.DecisionCommand(m.Namespace, name, api.DecisionRejected)
	}
	return a
}

// formatConfidence shows 0.72 as "72%" and leaves other values as they are.
func formatConfidence(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1 {
		return s
	}
	return strconv.FormatFloat(f*100, 'f', 0, 64) + "%"
}

// truncateBytes cuts s so that it loses at least n bytes, ending with the marker.
func truncateBytes(s string, n int) string {
	target := len(s) - n - len(TruncationMarker)
	if target <= 0 {
		return TruncationMarker
	}
	for target > 0 && !utf8.RuneStart(s[target]) {
		target--
	}
	return s[:target] + TruncationMarker
}

// fitJSON renders with build(body) and cuts the body until the JSON fits max bytes.
func fitJSON(body string, max int, build func(body string) any) ([]byte, error) {
	for range 8 {
		b, err := json.Marshal(build(body))
		if err != nil {
			return nil, err
		}
		if len(b) <= max {
			return b, nil
		}
		body = truncateBytes(body, len(b)-max+64)
	}
	return nil, fmt.Errorf("the message does not fit in %d bytes", max)
}

// ---- Slack ----

type slackText struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []any       `json:"elements,omitempty"`
}

type slackButton struct {
	Type string    `json:"type"`
	Text slackText `json:"text"`
	URL  string    `json:"url"`
}

type slackPayload struct {
	Channel string       `json:"channel,omitempty"`
	Text    string       `json:"text"`
	Blocks  []slackBlock `json:"blocks"`
}

func mrkdwn(s string) *slackText { return &slackText{Type: "mrkdwn", Text: s} }

// RenderSlack renders a Block Kit message for an incoming webhook, at most 40 KB.
func RenderSlack(m *Message, channel string) ([]byte, error) {
	return fitJSON(m.Body, SlackMaxBytes, func(body string) any {
		p := slackPayload{Channel: channel, Text: text.Truncate(m.Subject, slackSectionMaxChars)}
		p.Blocks = append(p.Blocks, slackBlock{Type: "header", Text: &slackText{Type: "plain_text", Text: text.Truncate(m.Subject, slackHeaderMaxChars), Emoji: true}})
		var fields []slackText
		for i, f := range m.facts() {
			if i == 10 {
				break
			}
			fields = append(fields, slackText{Type: "mrkdwn", Text: text.Truncate("*"+f[0]+":*\n"+f[1], slackFieldMaxChars)})
		}
		p.Blocks = append(p.Blocks, slackBlock{Type: "section", Fields: fields})
		// The body is split over sections of at most 3000 characters.
		r := []rune(body)
		for len(r) > 0 && len(p.Blocks) < 40 {
			n := min(len(r), slackSectionMaxChars)
			p.Blocks = append(p.Blocks, slackBlock{Type: "section", Text: mrkdwn(string(r[:n]))})
			r = r[n:]
		}
		if a := m.approval(); a != nil {
			txt := "*Recommended action:* `" + a.Action + "`"
			if a.Confidence != "" {
				txt += "\n*Confidence:* " + a.Confidence
			}
			p.Blocks = append(p.Blocks, slackBlock{Type: "divider"}, slackBlock{Type: "section", Text: mrkdwn(text.Truncate(txt, slackSectionMaxChars))})
			if a.Approve != "" {
				p.Blocks = append(p.Blocks, slackBlock{Type: "section", Text: mrkdwn(text.Truncate(
					"*To approve:*\n```"+a.Approve+"```\n*To reject:*\n```"+a.Reject+"```", slackSectionMaxChars))})
			}
		}
		if extra := m.extraMetadata(); len(extra) > 0 {
			var lines []string
			for _, kv := range extra {
				lines = append(lines, "*"+kv[0]+":* "+kv[1])
			}
			p.Blocks = append(p.Blocks, slackBlock{Type: "section", Text: mrkdwn(text.Truncate(strings.Join(lines, "\n"), slackSectionMaxChars))})
		}
		if links := m.links(); len(links) > 0 {
			var els []any
			for _, l := range links {
				els = append(els, slackButton{Type: "button", Text: slackText{Type: "plain_text", Text: l.Text}, URL: l.URL})
			}
			p.Blocks = append(p.Blocks, slackBlock{Type: "actions", Elements: els})
		}
		p.Blocks = append(p.Blocks, slackBlock{Type: "context", Elements: []any{slackText{Type: "mrkdwn",
			Text: "Kubernaut · NotificationRequest `" + m.Namespace + "/" + m.Name + "`"}}})
		return p
	})
}

// ---- Microsoft Teams ----

type teamsElement map[string]any

// RenderTeams renders an Adaptive Card for a Teams incoming webhook, at most 28 KB.
func RenderTeams(m *Message) ([]byte, error) {
	return fitJSON(m.Body, TeamsMaxBytes, func(body string) any {
		color := "Default"
		switch m.Priority {
		case string(notificationv1.PriorityCritical):
			color = "Attention"
		case string(notificationv1.PriorityHigh):
			color = "Warning"
		}
		var facts []teamsElement
		for _, f := range m.facts() {
			facts = append(facts, teamsElement{"title": f[0], "value": f[1]})
		}
		for _, kv := range m.extraMetadata() {
			facts = append(facts, teamsElement{"title": kv[0], "value": kv[1]})
		}
		items := []teamsElement{
			{"type": "TextBlock", "text": m.Subject, "weight": "Bolder", "size": "Large", "wrap": true, "color": color},
			{"type": "FactSet", "facts": facts},
			{"type": "TextBlock", "text": body, "wrap": true},
		}
		if a := m.approval(); a != nil {
			txt := "**Recommended action:** " + a.Action
			if a.Confidence != "" {
				txt += " (confidence " + a.Confidence + ")"
			}
			items = append(items, teamsElement{"type": "TextBlock", "text": txt, "wrap": true})
			if a.Approve != "" {
				items = append(items, teamsElement{"type": "TextBlock", "text": "To approve: `" + a.Approve + "`\n\nTo reject: `" + a.Reject + "`", "wrap": true, "fontType": "Monospace"})
			}
		}
		card := teamsElement{
			"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
			"type":    "AdaptiveCard", "version": "1.4", "body": items,
		}
		if links := m.links(); len(links) > 0 {
			var actions []teamsElement
			for _, l := range links {
				actions = append(actions, teamsElement{"type": "Action.OpenUrl", "title": l.Text, "url": l.URL})
			}
			card["actions"] = actions
		}
		return teamsElement{"type": "message", "attachments": []teamsElement{{
			"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": nil, "content": card}}}
	})
}

// ---- PagerDuty ----

// PagerDutyEvent is an Events API v2 event.
type PagerDutyEvent struct {
	RoutingKey  string            `json:"routing_key"`
	EventAction string            `json:"event_action"`
	DedupKey    string            `json:"dedup_key"`
	Client      string            `json:"client,omitempty"`
	ClientURL   string            `json:"client_url,omitempty"`
	Payload     *PagerDutyPayload `json:"payload,omitempty"`
	Links       []PagerDutyLink   `json:"links,omitempty"`
}

// PagerDutyPayload is the trigger event's payload.
type PagerDutyPayload struct {
	Summary       string            `json:"summary"`
	Source        string            `json:"source"`
	Severity      string            `json:"severity"`
	Timestamp     string            `json:"timestamp,omitempty"`
	Component     string            `json:"component,omitempty"`
	Group         string            `json:"group,omitempty"`
	Class         string            `json:"class,omitempty"`
	CustomDetails map[string]string `json:"custom_details,omitempty"`
}

// PagerDutyLink is a link shown on the incident.
type PagerDutyLink struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// PagerDutySeverity maps a notification priority to a PagerDuty severity.
func PagerDutySeverity(p string) string {
	switch notificationv1.Priority(p) {
	case notificationv1.PriorityCritical:
		return "critical"
	case notificationv1.PriorityHigh:
		return "error"
	case notificationv1.PriorityMedium:
		return "warning"
	default:
		return "info"
	}
}

// PagerDutyDedupKey is the signal fingerprint, so every notification about one signal updates
// one incident; without a fingerprint, the remediation or the notification itself.
func PagerDutyDedupKey(m *Message) string {
	for _, k := range []string{m.meta(api.MetaSignalFingerprint), m.RemediationRequest} {
		if k != "" {
			return text.Truncate(k, 255)
		}
	}
	return m.Namespace + "/" + m.Name
}

// RenderPagerDuty renders a trigger event, or a resolve event for a Completion notification.
func RenderPagerDuty(m *Message, routingKey, source string) ([]byte, error) {
	ev := PagerDutyEvent{RoutingKey: routingKey, DedupKey: PagerDutyDedupKey(m)}
	if m.Type == string(notificationv1.TypeCompletion) {
		ev.EventAction = "resolve"
		return json.Marshal(ev)
	}
	ev.EventAction = "trigger"
	ev.Client = "Kubernaut"
	details := map[string]string{"body": text.Truncate(m.Body, 8000), "notification": m.Namespace + "/" + m.Name}
	for _, f := range m.facts() {
		details[strings.ToLower(f[0])] = f[1]
	}
	for _, kv := range m.extraMetadata() {
		details[kv[0]] = kv[1]
	}
	ev.Payload = &PagerDutyPayload{
		Summary: text.Truncate(m.Subject, PagerDutySummaryMaxChar), Source: source, Severity: PagerDutySeverity(m.Priority),
		Component: m.meta(api.MetaResource), Group: m.meta(api.MetaNamespace), Class: m.Type, CustomDetails: details,
	}
	if !m.Created.IsZero() {
		ev.Payload.Timestamp = m.Created.UTC().Format(time.RFC3339)
	}
	for _, l := range m.links() {
		ev.Links = append(ev.Links, PagerDutyLink{Href: l.URL, Text: l.Text})
		if ev.ClientURL == "" {
			ev.ClientURL = l.URL
		}
	}
	return json.Marshal(ev)
}

// ---- Webhook ----

// WebhookPayload is the generic webhook's JSON body.
type WebhookPayload struct {
	Name               string            `json:"name"`
	Namespace          string            `json:"namespace"`
	Type               string            `json:"type"`
	Priority           string            `json:"priority"`
	Subject            string            `json:"subject"`
	Body               string            `json:"body"`
	RemediationRequest string            `json:"remediationRequest,omitempty"`
	Recipients         []string          `json:"recipients,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
	CreatedAt          string            `json:"createdAt,omitempty"`
}

// RenderWebhook renders the generic webhook body.
func RenderWebhook(m *Message) ([]byte, error) {
	p := WebhookPayload{Name: m.Name, Namespace: m.Namespace, Type: m.Type, Priority: m.Priority, Subject: m.Subject,
		Body: m.Body, RemediationRequest: m.RemediationRequest, Recipients: m.Recipients[notificationv1.ChannelWebhook], Metadata: m.Metadata}
	if !m.Created.IsZero() {
		p.CreatedAt = m.Created.UTC().Format(time.RFC3339)
	}
	return json.Marshal(p)
}

// ---- Email ----

var emailHTML = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html><body style="font-family:sans-serif">
<h2>{{.Subject}}</h2>
<table>{{range .Facts}}<tr><th align="left">{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</table>
<pre style="white-space:pre-wrap">{{.Body}}</pre>
{{- with .Approval}}
<p><b>Recommended action:</b> <code>{{.Action}}</code>{{if .Confidence}} (confidence {{.Confidence}}){{end}}</p>
{{- if .Approve}}
<p>To approve:</p><pre>{{.Approve}}</pre>
<p>To reject:</p><pre>{{.Reject}}</pre>
{{- end}}
{{- end}}
{{- if .Links}}
<p>{{range .Links}}<a href="{{.URL}}">{{.Text}}</a> {{end}}</p>
{{- end}}
<p style="color:#888">Kubernaut · NotificationRequest {{.Namespace}}/{{.Name}}</p>
</body></html>
`))

// RenderEmail renders a MIME message with plain-text and HTML parts.
func RenderEmail(m *Message, from string, to []string, date time.Time) ([]byte, error) {
	var text strings.Builder
	text.WriteString(m.Subject + "\n\n")
	facts := append(m.facts(), m.extraMetadata()...)
	for _, f := range facts {
		fmt.Fprintf(&text, "%s: %s\n", f[0], f[1])
	}
	text.WriteString("\n" + m.Body + "\n")
	a := m.approval()
	if a != nil {
		fmt.Fprintf(&text, "\nRecommended action: %s", a.Action)
		if a.Confidence != "" {
			fmt.Fprintf(&text, " (confidence %s)", a.Confidence)
		}
		text.WriteString("\n")
		if a.Approve != "" {
			fmt.Fprintf(&text, "\nTo approve:\n  %s\nTo reject:\n  %s\n", a.Approve, a.Reject)
		}
	}
	for _, l := range m.links() {
		fmt.Fprintf(&text, "%s: %s\n", l.Text, l.URL)
	}
	fmt.Fprintf(&text, "\n-- \nKubernaut · NotificationRequest %s/%s\n", m.Namespace, m.Name)

	var html bytes.Buffer
	if err := emailHTML.Execute(&html, map[string]any{"Subject": m.Subject, "Facts": facts, "Body": m.Body, "Approval": a,
		"Links": m.links(), "Namespace": m.Namespace, "Name": m.Name}); err != nil {
		return nil, fmt.Errorf("rendering the email: %w", err)
	}

	sum := sha256.Sum256([]byte(m.Namespace + "/" + m.Name))
	boundary := "kubernaut-" + hex.EncodeToString(sum[:8])
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", from)
	hdr("To", strings.Join(to, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", "[Kubernaut]["+m.Priority+"] "+m.Subject))
	hdr("Date", date.UTC().Format(time.RFC1123Z))
	hdr("Message-ID", "<"+m.Name+"."+m.Namespace+"@kubernaut>")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	part := func(ctype, content string) error {
		b.WriteString("--" + boundary + "\r\n")
		hdr("Content-Type", ctype+"; charset=utf-8")
		hdr("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		w := quotedprintable.NewWriter(&b)
		if _, err := w.Write([]byte(content)); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		b.WriteString("\r\n")
		return nil
	}
	if err := part("text/plain", text.String()); err != nil {
		return nil, err
	}
	if err := part("text/html", html.String()); err != nil {
		return nil, err
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes(), nil
}
