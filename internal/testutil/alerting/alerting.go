// Package alerting starts a real alerting pipeline for the end-to-end suite and the demo:
// kube-state-metrics watching a cluster through a kubeconfig, Prometheus scraping it and
// evaluating the project's own rule file (rules.yaml beside this file, modelled on the
// kubernetes-mixin's expressions with `for:` shortened), and Alertmanager routing what fires to a
// webhook (Kubernaut's gateway) with a bearer token read from a file, as a cluster's monitoring
// stack does.
//
// The three binaries are built from their Go modules by hack/alerting-assets.sh (`make
// alerting-assets`) into bin/alerting/<tool>-<version>/<tool>; the environment variables
// KUBERNAUT_KUBE_STATE_METRICS, KUBERNAUT_PROMETHEUS and KUBERNAUT_ALERTMANAGER name other
// binaries. Every process logs into LogDir/<tool>.log, dies with the process that started it
// (parent-death signal), and Stop leaves nothing running.
//
// What the alerts carry is what kube-prometheus delivers: the scrape job is named
// kube-state-metrics with honor_labels (the mixin's expressions select on it, and the metrics'
// own namespace, pod and container labels win), the target carries the container label that
// prometheus-operator's ServiceMonitor leaves on every kube-state-metrics series
// (kube-rbac-proxy-main, overridden where a metric has its own container label), and Prometheus
// has the external label prometheus="monitoring/k8s".
package alerting

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kubernaut/kubernaut/internal/testutil/freeport"
	"github.com/kubernaut/kubernaut/internal/testutil/procgroup"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

// Rules is the project's rule file (rules.yaml): the mixin alerts the suite plays, written from
// the kubernetes-mixin's definitions, `for:` shortened so an alert fires within seconds.
//
//go:embed rules.yaml
var Rules []byte

// The three tools, and the environment variables that name their binaries.
const (
	KubeStateMetrics = "kube-state-metrics"
	Prometheus       = "prometheus"
	Alertmanager     = "alertmanager"
)

// EnvBinary maps each tool to the environment variable naming its binary.
var EnvBinary = map[string]string{
	KubeStateMetrics: "KUBERNAUT_KUBE_STATE_METRICS",
	Prometheus:       "KUBERNAUT_PROMETHEUS",
	Alertmanager:     "KUBERNAUT_ALERTMANAGER",
}

// Job is the scrape job of kube-state-metrics: the mixin's expressions select job="kube-state-metrics".
const Job = "kube-state-metrics"

// TargetContainer is the container label prometheus-operator's ServiceMonitor (kube-prometheus)
// puts on the kube-state-metrics target: it shows on the alerts whose metric has no container
// label of its own (node and HPA alerts).
const TargetContainer = "kube-rbac-proxy-main"

// ExternalLabels are Prometheus's external labels, as kube-prometheus's Prometheus has them (its
// prometheus_replica label is dropped before alerts are sent, so it is not here).
var ExternalLabels = map[string]string{"prometheus": "monitoring/k8s"}

// Timing of the pipeline: short so that an alert reaches the webhook within seconds of the state
// kube-state-metrics reports, and the `for:` of rules.yaml on top.
const (
	ScrapeInterval     = 2 * time.Second
	EvaluationInterval = 2 * time.Second
	GroupWait          = 2 * time.Second
	GroupInterval      = 5 * time.Second
	// RepeatInterval is long, as in production (kube-prometheus: 12h): an alert is sent again
	// only when its group changes, not while a scenario waits for its outcome.
	RepeatInterval = time.Hour
)

// Resources are the kube-state-metrics collectors enabled (what rules.yaml reads).
var Resources = []string{"pods", "nodes", "deployments", "replicasets", "horizontalpodautoscalers", "namespaces"}

// Options configure Start.
type Options struct {
	// Kubeconfig is the cluster kube-state-metrics watches.
	Kubeconfig string
	// WebhookURL receives Alertmanager's webhook (the gateway's Prometheus endpoint).
	WebhookURL string
	// BearerTokenFile holds the token Alertmanager sends (authorization credentials_file).
	BearerTokenFile string
	// Matchers, when set, limit what reaches the webhook to the alerts that match one of them
	// (Alertmanager matchers such as `namespace=~"alerting-.+"`); the others go to a receiver
	// that sends nothing. A test suite whose other scenarios post their own webhooks routes only
	// its pipeline scenarios' alerts this way.
	Matchers []string
	// WorkDir holds the configuration and the data (default: a temporary directory removed by
	// Stop; a given directory is kept).
	WorkDir string
	// LogDir receives one log file per tool (default WorkDir/logs).
	LogDir string
	// Binaries overrides where each tool's binary is (default Binary(tool)).
	Binaries map[string]string
	// Progress, when set, receives one line per step.
	Progress io.Writer
}

// Stack is a running pipeline.
type Stack struct {
	// KubeStateMetricsAddr, PrometheusAddr and AlertmanagerAddr are host:port addresses.
	KubeStateMetricsAddr, PrometheusAddr, AlertmanagerAddr string
	// WorkDir and LogDir are the folders in use.
	WorkDir, LogDir string

	procs      []*procgroup.Process
	releases   []func()
	removeWork bool
	stopOnce   sync.Once
	stopErr    error
}

// PrometheusURL and AlertmanagerURL are the base URLs of the two APIs.
func (s *Stack) PrometheusURL() string   { return "http://" + s.PrometheusAddr }
func (s *Stack) AlertmanagerURL() string { return "http://" + s.AlertmanagerAddr }

// Binary returns the path of a tool's binary: $KUBERNAUT_<TOOL> when set, else the newest
// bin/alerting/<tool>-<version>/<tool> of the checkout (as `make alerting-assets` builds it).
func Binary(tool string) (string, error) {
	if p := os.Getenv(EnvBinary[tool]); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvBinary[tool], p, err)
		}
		return p, nil
	}
	matches, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "bin", "alerting", tool+"-*", tool))
	if len(matches) == 0 {
		return "", fmt.Errorf("%s is missing in bin/alerting: run `make alerting-assets` (it builds kube-state-metrics, Prometheus and Alertmanager from Go modules), or set %s", tool, EnvBinary[tool])
	}
	sort.Slice(matches, func(i, j int) bool {
		a, _ := os.Stat(matches[i])
		b, _ := os.Stat(matches[j])
		return a.ModTime().After(b.ModTime())
	})
	return matches[0], nil
}

// Start starts kube-state-metrics, Alertmanager and Prometheus and returns once kube-state-metrics
// serves the cluster's metrics, Prometheus has scraped it and Alertmanager is ready. On error
// everything started is stopped.
func Start(ctx context.Context, o Options) (s *Stack, err error) {
	if o.Kubeconfig == "" || o.WebhookURL == "" || o.BearerTokenFile == "" {
		return nil, errors.New("alerting: Kubeconfig, WebhookURL and BearerTokenFile are required")
	}
	bins := map[string]string{}
	for _, tool := range []string{KubeStateMetrics, Prometheus, Alertmanager} {
		if p := o.Binaries[tool]; p != "" {
			bins[tool] = p
			continue
		}
		if bins[tool], err = Binary(tool); err != nil {
			return nil, err
		}
	}
	s = &Stack{WorkDir: o.WorkDir, LogDir: o.LogDir}
	if s.WorkDir == "" {
		if s.WorkDir, err = os.MkdirTemp("", "kubernaut-alerting-"); err != nil {
			return nil, err
		}
		s.removeWork = true
	}
	if s.LogDir == "" {
		s.LogDir = filepath.Join(s.WorkDir, "logs")
	}
	for _, d := range []string{s.LogDir, filepath.Join(s.WorkDir, "prometheus-data"), filepath.Join(s.WorkDir, "alertmanager-data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Stop())
			s = nil
		}
	}()
	step := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, format+"\n", args...)
		}
	}
	var telemetry string
	for _, p := range []*string{&s.KubeStateMetricsAddr, &telemetry, &s.PrometheusAddr, &s.AlertmanagerAddr} {
		addr, release, err := freeport.Reserve()
		if err != nil {
			return s, err
		}
		s.releases = append(s.releases, release)
		*p = addr
	}
	files, err := s.writeConfig(o)
	if err != nil {
		return s, err
	}

	began := time.Now()
	step("starting kube-state-metrics, Prometheus and Alertmanager (real alerting pipeline, webhook %s)", o.WebhookURL)
	host, port := splitAddr(s.KubeStateMetricsAddr)
	thost, tport := splitAddr(telemetry)
	if err := s.start(KubeStateMetrics, bins[KubeStateMetrics], "--kubeconfig="+o.Kubeconfig,
		"--host="+host, "--port="+port, "--telemetry-host="+thost, "--telemetry-port="+tport,
		"--resources="+strings.Join(Resources, ",")); err != nil {
		return s, err
	}
	if err := s.start(Alertmanager, bins[Alertmanager], "--config.file="+files[Alertmanager],
		"--storage.path="+filepath.Join(s.WorkDir, "alertmanager-data"),
		"--web.listen-address="+s.AlertmanagerAddr, "--cluster.listen-address=",
		"--log.level=info"); err != nil {
		return s, err
	}
	if err := s.start(Prometheus, bins[Prometheus], "--config.file="+files[Prometheus],
		"--storage.tsdb.path="+filepath.Join(s.WorkDir, "prometheus-data"),
		"--web.listen-address="+s.PrometheusAddr, "--storage.tsdb.retention.time=2h",
		"--log.level=info"); err != nil {
		return s, err
	}

	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	// kube-state-metrics serves the cluster's objects once its informers synced.
	if err := s.waitFor(waitCtx, KubeStateMetrics, "http://"+s.KubeStateMetricsAddr+"/metrics", func(body string) bool {
		return strings.Contains(body, "kube_node_info{")
	}); err != nil {
		return s, err
	}
	if err := s.waitFor(waitCtx, Alertmanager, s.AlertmanagerURL()+"/-/ready", nil); err != nil {
		return s, err
	}
	// Prometheus has scraped kube-state-metrics with the mixin's job label.
	query := s.PrometheusURL() + "/api/v1/query?query=" + url.QueryEscape(`up{job="`+Job+`"} == 1`)
	if err := s.waitFor(waitCtx, Prometheus, query, func(body string) bool {
		return strings.Contains(body, `"job":"`+Job+`"`)
	}); err != nil {
		return s, err
	}
	step("alerting pipeline ready in %s: Prometheus %s, Alertmanager %s, kube-state-metrics %s (logs in %s)",
		time.Since(began).Round(100*time.Millisecond), s.PrometheusURL(), s.AlertmanagerURL(), s.KubeStateMetricsAddr, s.LogDir)
	return s, nil
}

func splitAddr(addr string) (host, port string) {
	i := strings.LastIndex(addr, ":")
	return addr[:i], addr[i+1:]
}

// writeConfig writes the rule file, Prometheus's and Alertmanager's configuration.
func (s *Stack) writeConfig(o Options) (map[string]string, error) {
	write := func(name string, content []byte) (string, error) {
		p := filepath.Join(s.WorkDir, name)
		return p, os.WriteFile(p, content, 0o644)
	}
	rules, err := write("rules.yaml", Rules)
	if err != nil {
		return nil, err
	}
	prom, err := write("prometheus.yml", []byte(PrometheusConfig(s.KubeStateMetricsAddr, s.AlertmanagerAddr, rules)))
	if err != nil {
		return nil, err
	}
	am, err := write("alertmanager.yml", []byte(AlertmanagerConfig(o.WebhookURL, o.BearerTokenFile, o.Matchers)))
	if err != nil {
		return nil, err
	}
	return map[string]string{Prometheus: prom, Alertmanager: am}, nil
}

// PrometheusConfig is the Prometheus configuration: kube-state-metrics scraped as the mixin
// expects, the rule file, alerts to Alertmanager.
func PrometheusConfig(ksmAddr, alertmanagerAddr, ruleFile string) string {
	var ext []string
	for k, v := range ExternalLabels {
		ext = append(ext, fmt.Sprintf("    %s: %q", k, v))
	}
	sort.Strings(ext)
	return fmt.Sprintf(`# Written by internal/testutil/alerting for the e2e suite.
global:
  scrape_interval: %s
  scrape_timeout: %s
  evaluation_interval: %s
  external_labels:
%s
rule_files:
  - %q
alerting:
  alertmanagers:
    - api_version: v2
      static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: %s
    honor_labels: true
    static_configs:
      - targets: [%q]
        labels:
          container: %s
`, ScrapeInterval, ScrapeInterval, EvaluationInterval, strings.Join(ext, "\n"), ruleFile, alertmanagerAddr, Job, ksmAddr, TargetContainer)
}

// AlertmanagerConfig routes the alerts to the webhook with the bearer token from tokenFile
// (every alert, or with matchers only those matching one of them), grouped by namespace as
// kube-prometheus's Alertmanager does, with short waits.
func AlertmanagerConfig(webhookURL, tokenFile string, matchers []string) string {
	root, routes := "kubernaut", ""
	if len(matchers) > 0 {
		root = "discard"
		var b strings.Builder
		b.WriteString("  routes:\n")
		for _, m := range matchers {
			fmt.Fprintf(&b, "    - receiver: kubernaut\n      matchers: [%q]\n", m)
		}
		routes = b.String()
	}
	return fmt.Sprintf(`# Written by internal/testutil/alerting for the e2e suite.
route:
  receiver: %s
  group_by: [namespace]
  group_wait: %s
  group_interval: %s
  repeat_interval: %s
%sreceivers:
  - name: discard
  - name: kubernaut
    webhook_configs:
      - url: %q
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials_file: %q
`, root, GroupWait, GroupInterval, RepeatInterval, routes, webhookURL, tokenFile)
}

// waitFor polls url until it answers 200 (and ok accepts the body, when given); it fails early
// when the tool's process exits.
func (s *Stack) waitFor(ctx context.Context, tool, target string, ok func(body string) bool) error {
	var p *procgroup.Process
	for _, q := range s.procs {
		if q.Name == tool {
			p = q
		}
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && (ok == nil || ok(string(raw))) {
				return nil
			}
			last = fmt.Sprintf("%d %.200s", resp.StatusCode, raw)
		} else {
			last = err.Error()
		}
		select {
		case <-p.Done():
			return fmt.Errorf("%s exited before it was ready; see %s:\n%s", tool, p.LogPath, procgroup.Tail(p.LogPath, 20))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready (%s: %s): %w; see %s:\n%s", tool, target, last, ctx.Err(), p.LogPath, procgroup.Tail(p.LogPath, 20))
		case <-tick.C:
		}
	}
}

// Alert is one alert as Prometheus's /api/v1/alerts lists it.
type Alert struct {
	Labels   map[string]string `json:"labels"`
	State    string            `json:"state"`
	ActiveAt time.Time         `json:"activeAt"`
}

// Alerts lists Prometheus's pending and firing alerts.
func (s *Stack) Alerts(ctx context.Context) ([]Alert, error) {
	var out struct {
		Status string `json:"status"`
		Data   struct {
			Alerts []Alert `json:"alerts"`
		} `json:"data"`
	}
	if err := getJSON(ctx, s.PrometheusURL()+"/api/v1/alerts", &out); err != nil {
		return nil, err
	}
	return out.Data.Alerts, nil
}

// DeliveredAlert is one alert as Alertmanager's /api/v2/alerts lists it.
type DeliveredAlert struct {
	Labels   map[string]string `json:"labels"`
	StartsAt time.Time         `json:"startsAt"`
	Status   struct {
		State string `json:"state"`
	} `json:"status"`
	Receivers []struct {
		Name string `json:"name"`
	} `json:"receivers"`
}

// AlertmanagerAlerts lists the alerts Alertmanager holds.
func (s *Stack) AlertmanagerAlerts(ctx context.Context) ([]DeliveredAlert, error) {
	var out []DeliveredAlert
	return out, getJSON(ctx, s.AlertmanagerURL()+"/api/v2/alerts", &out)
}

func getJSON(ctx context.Context, target string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %.300s", target, resp.StatusCode, raw)
	}
	return json.Unmarshal(raw, v)
}

// process is one tool the stack started.
// start starts binary in its own process group, killed when this process dies.
func (s *Stack) start(name, binary string, args ...string) error {
	cmd := exec.Command(binary, args...)
	cmd.Dir = s.WorkDir
	p, err := procgroup.Start(name, filepath.Join(s.LogDir, name+".log"), cmd)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, p)
	return nil
}

// Stop stops the three tools (Prometheus first, so that it sends nothing more) and removes a
// temporary work directory. Safe to call more than once.
func (s *Stack) Stop() error {
	s.stopOnce.Do(func() {
		var errs []error
		for i := len(s.procs) - 1; i >= 0; i-- {
			errs = append(errs, s.procs[i].Stop(10*time.Second))
		}
		for _, release := range s.releases {
			release()
		}
		if s.removeWork {
			errs = append(errs, os.RemoveAll(s.WorkDir))
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}
