package notificationapi

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Allowed values of the EscalationRequest enums.
var (
	Severities        = []string{"critical", "warning", "info"}
	Environments      = []string{"production", "staging", "development", "test", "unknown"}
	Priorities        = []string{"P0", "P1", "P2", "P3"}
	SignalTypes       = []string{"prometheus-alert", "kubernetes-event"}
	EscalationReasons = []string{"timeout", "failure", "rejection"}
	Urgencies         = []string{"critical", "high", "normal", "low"}
	ChannelNames      = []string{"slack", "email", "pagerduty", "msteams", "webhook", "console"}
)

// clusterScopedKinds may leave the namespace empty.
var clusterScopedKinds = []string{"Node", "PersistentVolume", "Namespace", "StorageClass", "ClusterRole",
	"ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass"}

var fingerprintRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Validate lists every problem of the request, one "field: problem" string each; none means valid.
func (r *EscalationRequest) Validate() []string {
	var errs []string
	add := func(field, format string, args ...any) { errs = append(errs, field+": "+fmt.Sprintf(format, args...)) }
	required := func(field, v string) bool {
		if strings.TrimSpace(v) == "" {
			add(field, "required")
			return false
		}
		return true
	}
	enum := func(field, v string, allowed []string) {
		if required(field, v) && !slices.Contains(allowed, v) {
			add(field, "must be one of %s, not %q", strings.Join(allowed, ", "), v)
		}
	}
	when := func(field string, t time.Time) {
		if t.IsZero() {
			add(field, "required (RFC 3339 time)")
		}
	}
	if required("remediationRequestName", r.RemediationRequestName) {
		for _, m := range validation.IsDNS1123Subdomain(r.RemediationRequestName) {
			add("remediationRequestName", "%s", m)
		}
	}
	if required("remediationRequestNamespace", r.RemediationRequestNamespace) {
		for _, m := range validation.IsDNS1123Label(r.RemediationRequestNamespace) {
			add("remediationRequestNamespace", "%s", m)
		}
	}
	required("escalatingController", r.EscalatingController)
	if required("alertFingerprint", r.AlertFingerprint) && !fingerprintRE.MatchString(r.AlertFingerprint) {
		add("alertFingerprint", "must be 64 lowercase hex characters")
	}
	required("alertName", r.AlertName)
	enum("severity", r.Severity, Severities)
	enum("environment", r.Environment, Environments)
	enum("priority", r.Priority, Priorities)
	enum("signalType", r.SignalType, SignalTypes)
	if !slices.Contains(clusterScopedKinds, r.Resource.Kind) {
		required("namespace", r.Namespace)
	}
	required("resource.kind", r.Resource.Kind)
	required("resource.name", r.Resource.Name)
	enum("escalationReason", r.EscalationReason, EscalationReasons)
	if required("escalationPhase", r.EscalationPhase) && len(r.EscalationPhase) > 63 {
		add("escalationPhase", "at most 63 characters")
	}
	when("escalationTime", r.EscalationTime)
	when("alertFiringTime", r.AlertFiringTime)
	when("alertReceivedTime", r.AlertReceivedTime)
	if required("remediationDuration", r.RemediationDuration) {
		if _, err := time.ParseDuration(r.RemediationDuration); err != nil {
			add("remediationDuration", "must be a Go duration such as \"12m30s\", not %q", r.RemediationDuration)
		}
	}
	if len(r.Channels) == 0 {
		add("channels", "required (at least one of %s)", strings.Join(ChannelNames, ", "))
	}
	seen := map[string]bool{}
	for i, ch := range r.Channels {
		field := fmt.Sprintf("channels[%d]", i)
		switch {
		case !slices.Contains(ChannelNames, ch):
			add(field, "must be one of %s, not %q", strings.Join(ChannelNames, ", "), ch)
		case seen[ch]:
			add(field, "duplicate channel %q", ch)
		}
		seen[ch] = true
	}
	enum("urgency", r.Urgency, Urgencies)
	for field, v := range map[string]string{"alertmanagerURL": r.AlertmanagerURL, "grafanaURL": r.GrafanaURL} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add(field, "must be an absolute http(s) URL")
		}
	}
	slices.Sort(errs)
	return errs
}

// EscalationName is the NotificationRequest name of an escalation: "<rr>-escalation-<phase>",
// lower-cased and DNS-safe, so that the same escalation always maps to the same object.
func EscalationName(rr, phase string) string {
	name := dnsSafe(rr + "-escalation-" + phase)
	if len(name) <= validation.DNS1123SubdomainMaxLength {
		return name
	}
	sum := sha256.Sum256([]byte(rr + "/" + phase))
	return strings.Trim(name[:validation.DNS1123SubdomainMaxLength-11], "-.") + "-" + hex.EncodeToString(sum[:5])
}

func dnsSafe(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '.' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-.")
}
