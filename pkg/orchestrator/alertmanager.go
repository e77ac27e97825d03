package orchestrator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
)

// AlertQuerier asks an alert source which alerts are firing.
type AlertQuerier interface {
	// FiringAlerts returns the alerts that match every matcher (Alertmanager's filter syntax,
	// for example `alertname="KubePodCrashLooping"` or `pod=~"web-[a-z0-9]+-[a-z0-9]+"`) and
	// have not resolved, whatever their silences and inhibitions.
	FiringAlerts(ctx context.Context, matchers []string) ([]FiringAlert, error)
}

// FiringAlert is one alert an Alertmanager holds as firing.
type FiringAlert struct {
	Labels   map[string]string
	StartsAt time.Time
	// State is Alertmanager's: active, suppressed (silenced or inhibited) or unprocessed.
	State string
}

// Alertmanager reads alerts from Alertmanager's API (GET /api/v2/alerts).
type Alertmanager struct {
	// URL is Alertmanager's base URL, for example http://alertmanager-main.monitoring:9093.
	URL string
	// Client sends the requests; nil means a client with a 10s timeout.
	Client *http.Client
	// Now is the clock resolved alerts are compared with; nil means time.Now.
	Now func() time.Time
}

// gettableAlert is the part of Alertmanager's gettableAlert the orchestrator reads.
type gettableAlert struct {
	Labels   map[string]string `json:"labels"`
	StartsAt time.Time         `json:"startsAt"`
	EndsAt   time.Time         `json:"endsAt"`
	Status   struct {
		State string `json:"state"`
	} `json:"status"`
}

// FiringAlerts asks for every alert that has not resolved: active, silenced, inhibited and
// unprocessed alike. A silenced or inhibited alert is still firing in Prometheus (a person or a
// wider alert only muted it), so it is evidence that the condition holds.
func (a *Alertmanager) FiringAlerts(ctx context.Context, matchers []string) ([]FiringAlert, error) {
	q := url.Values{"active": {"true"}, "silenced": {"true"}, "inhibited": {"true"}, "unprocessed": {"true"}}
	for _, m := range matchers {
		q.Add("filter", m)
	}
	u := strings.TrimRight(a.URL, "/") + "/api/v2/alerts?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("building the Alertmanager query: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	c := a.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("querying Alertmanager: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("reading Alertmanager's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("alertmanager answered %s: %s", resp.Status, strings.TrimSpace(string(body[:min(len(body), 256)])))
	}
	var got []gettableAlert
	if err := json.Unmarshal(body, &got); err != nil {
		return nil, fmt.Errorf("decoding Alertmanager's answer: %w", err)
	}
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	out := make([]FiringAlert, 0, len(got))
	for _, g := range got {
		if !g.EndsAt.IsZero() && g.EndsAt.Before(now) {
			continue // resolved, kept by Alertmanager until it forgets it
		}
		out = append(out, FiringAlert{Labels: g.Labels, StartsAt: g.StartsAt, State: g.Status.State})
	}
	return out, nil
}

// quoteMatcherValue quotes a label value for Alertmanager's matcher syntax.
func quoteMatcherValue(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v) + `"`
}

// podNamePattern is a regular expression for the names of the pods a workload's controller
// creates (Alertmanager anchors it): a Deployment's through a ReplicaSet (name-hash-suffix), a
// StatefulSet's by ordinal, a DaemonSet's with a random suffix. Empty for other kinds.
func podNamePattern(t common.TargetResource) string {
	name := regexp.QuoteMeta(t.Name)
	switch t.Kind {
	case "Deployment":
		return name + "-[a-z0-9]+-[a-z0-9]+"
	case "StatefulSet":
		return name + "-[0-9]+"
	case "DaemonSet":
		return name + "-[a-z0-9]+"
	}
	return ""
}

// volatileLabels change when a fix replaces pods, so they never identify the target.
var volatileLabels = map[string]bool{"pod": true, "uid": true, "pod_ip": true, "container_id": true, "image_id": true}

// alertMatchers are the filters that select the request's alert for its target: the alert name,
// the namespace, and the label the gateway resolved the target from (for a pod resolved to its
// workload, every pod of the workload). Without a known target label, every stable label of the
// alert is matched. The second result says, in words, what the filter selects.
func alertMatchers(rr *remediationv1.RemediationRequest) ([]string, string) {
	labels := rr.Spec.SignalLabels
	name := rr.Spec.SignalName
	if v := labels["alertname"]; v != "" {
		name = v
	}
	ms := []string{"alertname=" + quoteMatcherValue(name)}
	if ns, ok := labels["namespace"]; ok {
		ms = append(ms, "namespace="+quoteMatcherValue(ns))
	}
	t := rr.Spec.TargetResource
	target := targetString(t)
	identity := func(label string) ([]string, string, bool) {
		v, ok := labels[label]
		if !ok {
			return nil, "", false
		}
		if label == "pod" || volatileLabels[label] {
			if p := podNamePattern(t); p != "" {
				return append(ms, label+"=~"+quoteMatcherValue(p)), fmt.Sprintf("%s alerts for the pods of %s", name, target), true
			}
		}
		return append(ms, label+"="+quoteMatcherValue(v)), fmt.Sprintf("%s alerts with %s=%q (%s)", name, label, v, target), true
	}
	if tr := rr.Spec.TargetResolution; tr != nil && tr.Source != "" && !strings.HasPrefix(tr.Source, "mapping:") {
		if out, what, ok := identity(tr.Source); ok {
			return out, what
		}
	}
	for _, label := range []string{strings.ToLower(t.Kind), "pod"} {
		if v, ok := labels[label]; ok && ((label == strings.ToLower(t.Kind) && v == t.Name) || (label == "pod" && podNamePattern(t) != "")) {
			if out, what, ok := identity(label); ok {
				return out, what
			}
		}
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		if k != "alertname" && k != "namespace" && !volatileLabels[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		ms = append(ms, k+"="+quoteMatcherValue(labels[k]))
	}
	return ms, fmt.Sprintf("%s alerts with the stable labels of this one (%s)", name, target)
}
