package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
)

// Sources, as used in metrics and responses.
const (
	SourcePrometheus      = "prometheus"
	SourceKubernetesEvent = "kubernetes-event"
)

// Signal is one alert or event, normalised.
type Signal struct {
	// Source is SourcePrometheus or SourceKubernetesEvent.
	Source string
	// Type is the RemediationRequest signal type.
	Type remediationv1.SignalType
	// Name is the alert name or event reason.
	Name string
	// Resolved is true for a resolved alert.
	Resolved bool
	// ResolvedAt is when the alert ended (resolved alerts).
	ResolvedAt time.Time
	// Severity is normalised.
	Severity remediationv1.Severity
	// Labels and Annotations of the signal.
	Labels, Annotations map[string]string
	// Target is the object a Kubernetes event is about (empty for alerts, whose labels name it);
	// Handle replaces it with the resolved target.
	Target common.TargetResource
	// EventNamespace is the namespace of a Kubernetes event itself.
	EventNamespace string
	// Resolution is how the target was found (set by Handle).
	Resolution Resolution
	// FiringTime is when the signal started.
	FiringTime time.Time
	// SignalSource names the sender.
	SignalSource string
	// AlertmanagerURL and GrafanaURL are links for providerData.
	AlertmanagerURL, GrafanaURL string
	// Payload is the signal as received (capped before storing). Alerts leave it empty and
	// set payload instead, which builds it only when a request is created (see
	// OriginalPayload): duplicates never need it.
	Payload []byte
	payload func() []byte
	// EnvironmentHint is the environment the signal's labels claim.
	EnvironmentHint string
}

// Fingerprint returns hex(sha256(kind/namespace/name)) of a resolved target.
func Fingerprint(t common.TargetResource) string {
	sum := sha256.Sum256([]byte(t.Kind + "/" + t.Namespace + "/" + t.Name))
	return hex.EncodeToString(sum[:])
}

// RequestName returns the deterministic name of generation gen of a fingerprint.
func RequestName(fingerprint string, gen int64) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", fingerprint, gen))
	return "remediation-" + hex.EncodeToString(sum[:])[:16]
}

// NormalizeSeverity maps the many spellings of severity to critical, warning or info
// (unknown or missing → warning).
func NormalizeSeverity(s string) remediationv1.Severity {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical", "crit", "fatal", "emergency", "alert", "page", "high", "error", "p0", "p1", "sev1", "disaster":
		return remediationv1.SeverityCritical
	case "info", "informational", "information", "low", "none", "notice", "debug", "p4", "p5":
		return remediationv1.SeverityInfo
	}
	return remediationv1.SeverityWarning
}

// NormalizeEnvironment maps an environment name to the contract's values ("" → unknown).
func NormalizeEnvironment(s string) remediationv1.Environment {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "production", "prod", "prd", "live":
		return remediationv1.EnvironmentProduction
	case "staging", "stage", "stg", "preprod", "pre-production", "uat":
		return remediationv1.EnvironmentStaging
	case "development", "dev", "develop":
		return remediationv1.EnvironmentDevelopment
	case "test", "testing", "qa":
		return remediationv1.EnvironmentTest
	}
	return remediationv1.EnvironmentUnknown
}

// PriorityTable maps severity × environment class to a priority; test counts as development.
type PriorityTable map[remediationv1.Severity]map[remediationv1.Environment]remediationv1.Priority

// DefaultPriorityTable is the contract's default.
func DefaultPriorityTable() PriorityTable {
	return PriorityTable(remediationv1.DefaultPriorityTable())
}

// Priority looks up severity × environment (test → development; missing cells → P2).
func (t PriorityTable) Priority(sev remediationv1.Severity, env remediationv1.Environment) remediationv1.Priority {
	if env == remediationv1.EnvironmentTest {
		env = remediationv1.EnvironmentDevelopment
	}
	if p, ok := t[sev][env]; ok {
		return p
	}
	return remediationv1.PriorityP2
}

// ParsePriorityOverrides applies "severity/environment=Pn" entries (comma separated) to a copy
// of the table, for example "warning/production=P0,info/unknown=P2".
func (t PriorityTable) ParsePriorityOverrides(spec string) (PriorityTable, error) {
	out := PriorityTable{}
	for sev, row := range t {
		out[sev] = map[remediationv1.Environment]remediationv1.Priority{}
		for env, p := range row {
			out[sev][env] = p
		}
	}
	for _, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		key, prio, ok := strings.Cut(entry, "=")
		sev, env, ok2 := strings.Cut(key, "/")
		if !ok || !ok2 {
			return nil, fmt.Errorf("priority override %q is not severity/environment=Pn", entry)
		}
		s := remediationv1.Severity(strings.TrimSpace(sev))
		e := remediationv1.Environment(strings.TrimSpace(env))
		p := remediationv1.Priority(strings.TrimSpace(prio))
		if s != remediationv1.SeverityCritical && s != remediationv1.SeverityWarning && s != remediationv1.SeverityInfo {
			return nil, fmt.Errorf("priority override %q: severity must be critical, warning or info", entry)
		}
		switch e {
		case remediationv1.EnvironmentProduction, remediationv1.EnvironmentStaging, remediationv1.EnvironmentDevelopment, remediationv1.EnvironmentUnknown:
		default:
			return nil, fmt.Errorf("priority override %q: environment must be production, staging, development or unknown", entry)
		}
		switch p {
		case "P0", "P1", "P2", "P3":
		default:
			return nil, fmt.Errorf("priority override %q: priority must be P0, P1, P2 or P3", entry)
		}
		out[s][e] = p
	}
	return out, nil
}

// capMap keeps at most limit entries (by sorted key), so the CRD's MaxProperties holds.
func capMap(m map[string]string, limit int) map[string]string {
	if len(m) <= limit {
		return m
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]string, limit)
	for _, k := range keys[:limit] {
		out[k] = m[k]
	}
	return out
}

// OriginalPayload returns the signal as stored in spec.originalPayload, building it on first use.
func (s *Signal) OriginalPayload() []byte {
	if s.Payload == nil && s.payload != nil {
		s.Payload = s.payload()
		s.payload = nil
	}
	return s.Payload
}
