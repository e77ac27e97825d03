package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"

	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// WebhookMessage is Alertmanager's webhook payload, version 4.
type WebhookMessage struct {
	Version            string            `json:"version"`
	GroupKey           string            `json:"groupKey"`
	TruncatedAlerts    uint64            `json:"truncatedAlerts"`
	Status             string            `json:"status"`
	Receiver           string            `json:"receiver"`
	GroupLabels        map[string]string `json:"groupLabels"`
	CommonLabels       map[string]string `json:"commonLabels"`
	CommonAnnotations  map[string]string `json:"commonAnnotations"`
	ExternalURL        string            `json:"externalURL"`
	NotificationReason string            `json:"notification_reason,omitempty"`
	Alerts             []Alert           `json:"alerts"`
}

// Alert is one alert of a webhook payload.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// storedAlert is the per-alert payload kept in spec.originalPayload: the alert with the
// envelope fields that describe where it came from.
type storedAlert struct {
	Version            string            `json:"version"`
	GroupKey           string            `json:"groupKey,omitempty"`
	TruncatedAlerts    uint64            `json:"truncatedAlerts,omitempty"`
	Status             string            `json:"status"`
	Receiver           string            `json:"receiver"`
	GroupLabels        map[string]string `json:"groupLabels,omitempty"`
	CommonLabels       map[string]string `json:"commonLabels,omitempty"`
	CommonAnnotations  map[string]string `json:"commonAnnotations,omitempty"`
	ExternalURL        string            `json:"externalURL,omitempty"`
	NotificationReason string            `json:"notification_reason,omitempty"`
	Alerts             []Alert           `json:"alerts"`
}

// ParseWebhook decodes and validates an Alertmanager payload. Problems with the payload as a
// whole are returned as details (→ 400).
func ParseWebhook(body []byte) (*WebhookMessage, []string) {
	var msg WebhookMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&msg); err != nil {
		return nil, []string{fmt.Sprintf("invalid JSON: %v", err)}
	}
	if dec.More() {
		return nil, []string{"invalid JSON: trailing data after the payload"}
	}
	var problems []string
	if msg.Version != "4" {
		problems = append(problems, fmt.Sprintf("version must be \"4\" (Alertmanager webhook), got %q", msg.Version))
	}
	if msg.Status != "firing" && msg.Status != "resolved" {
		problems = append(problems, fmt.Sprintf("status must be firing or resolved, got %q", msg.Status))
	}
	if msg.Receiver == "" {
		problems = append(problems, "receiver is required")
	}
	if msg.GroupKey == "" {
		problems = append(problems, "groupKey is required")
	}
	if len(msg.Alerts) == 0 {
		problems = append(problems, "alerts must hold at least one alert")
	}
	return &msg, problems
}

// Signal converts alert i of the message, or says why it cannot be used.
func (m *WebhookMessage) Signal(i int, maxPayload int) (*Signal, error) {
	a := m.Alerts[i]
	var problems []string
	if a.Status != "firing" && a.Status != "resolved" {
		problems = append(problems, fmt.Sprintf("status must be firing or resolved, got %q", a.Status))
	}
	name := strings.TrimSpace(a.Labels["alertname"])
	if name == "" {
		problems = append(problems, "labels.alertname is required")
	}
	if a.StartsAt.IsZero() {
		problems = append(problems, "startsAt is required")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	s := &Signal{
		Source:          SourcePrometheus,
		Type:            remediationv1.SignalTypePrometheusAlert,
		Name:            text.Truncate(name, 253),
		Resolved:        a.Status == "resolved",
		ResolvedAt:      a.EndsAt,
		Severity:        NormalizeSeverity(a.Labels["severity"]),
		Labels:          a.Labels,
		Annotations:     a.Annotations,
		FiringTime:      a.StartsAt,
		SignalSource:    text.Truncate(m.Receiver, 253),
		AlertmanagerURL: text.Truncate(m.ExternalURL, 2048),
		GrafanaURL:      text.Truncate(grafanaURL(a.Annotations), 2048),
		EnvironmentHint: firstNonEmpty(a.Labels["environment"], a.Labels["env"]),
	}
	stored := storedAlert{
		Version: m.Version, GroupKey: m.GroupKey, TruncatedAlerts: m.TruncatedAlerts, Status: m.Status, Receiver: m.Receiver,
		GroupLabels: m.GroupLabels, CommonLabels: m.CommonLabels, CommonAnnotations: m.CommonAnnotations,
		ExternalURL: m.ExternalURL, NotificationReason: m.NotificationReason, Alerts: []Alert{a},
	}
	s.payload = func() []byte { return capPayload(stored, maxPayload) }
	return s, nil
}

func grafanaURL(ann map[string]string) string {
	for _, k := range []string{"grafana_url", "grafanaURL", "grafana", "dashboard_url", "dashboard"} {
		if v := ann[k]; strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") {
			return v
		}
	}
	return ""
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// capPayload marshals v; when it is over max it drops the envelope's shared maps, and when it
// is still over max it stores nothing (the labels and annotations are kept in the spec anyway).
func capPayload(v storedAlert, limit int) []byte {
	b, err := json.Marshal(v)
	if err == nil && len(b) <= limit {
		return b
	}
	v.CommonLabels, v.CommonAnnotations, v.GroupLabels = nil, nil, nil
	if b, err = json.Marshal(v); err == nil && len(b) <= limit {
		return b
	}
	return nil
}

// ParseEvent decodes and validates a core/v1 Event.
func ParseEvent(body []byte) (*corev1.Event, []string) {
	var ev corev1.Event
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&ev); err != nil {
		return nil, []string{fmt.Sprintf("invalid JSON: %v", err)}
	}
	if dec.More() {
		return nil, []string{"invalid JSON: trailing data after the event"}
	}
	var problems []string
	if ev.Kind != "" && ev.Kind != "Event" {
		problems = append(problems, fmt.Sprintf("kind must be Event, got %q", ev.Kind))
	}
	if ev.Type != corev1.EventTypeNormal && ev.Type != corev1.EventTypeWarning {
		problems = append(problems, fmt.Sprintf("type must be Normal or Warning, got %q", ev.Type))
	}
	if ev.Reason == "" {
		problems = append(problems, "reason is required")
	}
	if ev.InvolvedObject.Kind == "" {
		problems = append(problems, "involvedObject.kind is required")
	}
	if ev.InvolvedObject.Name == "" {
		problems = append(problems, "involvedObject.name is required")
	}
	return &ev, problems
}

// EventSignal converts a Warning event.
func EventSignal(ev *corev1.Event, body []byte, maxPayload int) *Signal {
	io := ev.InvolvedObject
	ns := io.Namespace
	if ns == "" {
		ns = ev.Namespace
	}
	if scope, known := knownScope[io.Kind]; known && !scope {
		ns = ""
	}
	apiVersion := io.APIVersion
	if apiVersion == "" {
		apiVersion = defaultAPIVersion(io.Kind)
	}
	first := ev.FirstTimestamp.Time
	if first.IsZero() {
		first = ev.EventTime.Time
	}
	if first.IsZero() {
		first = ev.CreationTimestamp.Time
	}
	source := firstNonEmpty(ev.Source.Component, ev.ReportingController, "kubernetes")
	labels := map[string]string{"reason": ev.Reason, "kind": io.Kind, "name": io.Name}
	if ns != "" {
		labels["namespace"] = ns
	}
	if ev.Source.Host != "" {
		labels["node"] = ev.Source.Host
	}
	payload := body
	if len(payload) > maxPayload {
		payload = nil
	}
	return &Signal{
		Source:         SourceKubernetesEvent,
		Type:           remediationv1.SignalTypeKubernetesEvent,
		Name:           text.Truncate(ev.Reason, 253),
		Severity:       remediationv1.SeverityWarning,
		Labels:         labels,
		Annotations:    map[string]string{"message": text.Truncate(ev.Message, 4096)},
		Target:         common.TargetResource{APIVersion: apiVersion, Kind: io.Kind, Namespace: ns, Name: io.Name},
		EventNamespace: ev.Namespace,
		FiringTime:     first,
		SignalSource:   text.Truncate(source, 253),
		Payload:        payload,
	}
}

func defaultAPIVersion(kind string) string {
	switch kind {
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet":
		return "apps/v1"
	case "Job", "CronJob":
		return "batch/v1"
	case "HorizontalPodAutoscaler":
		return "autoscaling/v2"
	case "PodDisruptionBudget":
		return "policy/v1"
	}
	return "v1"
}
