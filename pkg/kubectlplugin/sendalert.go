package kubectlplugin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubernaut/kubernaut/pkg/gateway"
)

// Defaults of send-alert's built-in sample.
const (
	DefaultGatewayURL      = "http://localhost:8080"
	DefaultSampleAlert     = "KubeDeploymentReplicasMismatch"
	DefaultSampleNamespace = "default"
	DefaultSampleTarget    = "demo-app"
)

type sendAlertOptions struct {
	file       string
	gatewayURL string
	tokenFile  string
	deployment string
	alertName  string
	severity   string
	resolved   bool
}

func newSendAlertCommand(o *Options) *cobra.Command {
	s := &sendAlertOptions{}
	cmd := &cobra.Command{
		Use:   "send-alert [--file payload.json | --deployment NAME] [--gateway-url URL] [--token-file FILE]",
		Short: "Post an Alertmanager webhook to the gateway, for trying things out",
		Long: `Post an Alertmanager webhook (version 4) to the gateway's ` + gateway.PathPrometheus + ` endpoint.

With --file the payload is sent as it is. Otherwise a built-in sample is sent: one firing
` + DefaultSampleAlert + ` alert (severity warning) about Deployment --deployment, with the labels
kube-prometheus's Alertmanager delivers for it (the kubernetes-mixin rule over kube-state-metrics'
series), in the namespace given by
--namespace (for send-alert, -n/--namespace is the namespace of the sample's target; default
` + DefaultSampleNamespace + `). The gateway's answer is printed: created, duplicate, resolved or rejected per alert,
with the name of the RemediationRequest. Exit code 5 when the gateway answers 401 or 403, 1 for any
other answer that is not 2xx.`,
		Example: `  kubectl kubernaut send-alert -n shop --deployment web
  kubectl kubernaut send-alert --file alert.json --gateway-url http://localhost:8080 --token-file token`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if s.file != "" && (cmd.Flags().Changed("deployment") || cmd.Flags().Changed("alert-name") || cmd.Flags().Changed("severity") || cmd.Flags().Changed("resolved")) {
				return usageErr("--file cannot be combined with the sample's flags (--deployment, --alert-name, --severity, --resolved)")
			}
			u, err := url.Parse(s.gatewayURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usageErr("--gateway-url must be an http(s) URL, got %q", s.gatewayURL)
			}
			return o.runSendAlert(cmd.Context(), s)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&s.file, "file", "f", "", "Alertmanager webhook payload (JSON) to send; - reads standard input. Without it, the built-in sample is sent.")
	f.StringVar(&s.gatewayURL, "gateway-url", DefaultGatewayURL, "Base URL of the gateway.")
	f.StringVar(&s.tokenFile, "token-file", "", "File holding the bearer token the gateway accepts (none sent when empty).")
	f.StringVar(&s.deployment, "deployment", DefaultSampleTarget, "Deployment the sample alert is about.")
	f.StringVar(&s.alertName, "alert-name", DefaultSampleAlert, "alertname of the sample alert.")
	f.StringVar(&s.severity, "severity", "warning", "severity label of the sample alert.")
	f.BoolVar(&s.resolved, "resolved", false, "Send the sample alert as resolved instead of firing.")
	return cmd
}

// SampleAlert is the built-in payload: one alert about a Deployment whose available replicas do
// not match its spec, labelled as kube-prometheus delivers the kubernetes-mixin's
// KubeDeploymentReplicasMismatch: the series' own labels (namespace, deployment), the scrape
// target's (job, instance, and container of the kube-rbac-proxy in front of kube-state-metrics)
// and Prometheus's external label.
func SampleAlert(namespace, deployment, alertName, severity string, resolved bool, now time.Time) *gateway.WebhookMessage {
	status := "firing"
	endsAt := time.Time{}
	if resolved {
		status, endsAt = "resolved", now
	}
	labels := map[string]string{
		"alertname": alertName, "severity": severity, "namespace": namespace, "deployment": deployment,
		"job": "kube-state-metrics", "instance": "10.244.1.17:8443", "container": "kube-rbac-proxy-main",
		"prometheus": "monitoring/k8s",
	}
	return &gateway.WebhookMessage{
		Version:           "4",
		GroupKey:          fmt.Sprintf("{}:{alertname=%q, namespace=%q}", alertName, namespace),
		Status:            status,
		Receiver:          "kubernaut",
		GroupLabels:       map[string]string{"alertname": alertName, "namespace": namespace},
		CommonLabels:      labels,
		CommonAnnotations: map[string]string{},
		ExternalURL:       "http://alertmanager.monitoring:9093",
		Alerts: []gateway.Alert{{
			Status: status,
			Labels: labels,
			Annotations: map[string]string{
				"summary":     "Deployment has not matched the expected number of replicas.",
				"description": fmt.Sprintf("Deployment %s/%s has not matched the expected number of replicas for longer than 15 minutes.", namespace, deployment),
				"runbook_url": "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubedeploymentreplicasmismatch",
			},
			StartsAt:     now.Add(-2 * time.Minute).UTC().Truncate(time.Second),
			EndsAt:       endsAt.UTC().Truncate(time.Second),
			GeneratorURL: "http://prometheus.monitoring:9090/graph",
		}},
	}
}

// SendAlertResult is what send-alert prints: the gateway's HTTP status and answer.
type SendAlertResult struct {
	URL        string            `json:"url"`
	StatusCode int               `json:"statusCode"`
	Response   *gateway.Response `json:"response,omitempty"`
	// Body is the raw answer when it is not the gateway's JSON response.
	Body string `json:"body,omitempty"`
}

func (o *Options) runSendAlert(ctx context.Context, s *sendAlertOptions) error {
	var body []byte
	switch s.file {
	case "":
		ns := DefaultSampleNamespace
		if o.ConfigFlags.Namespace != nil && *o.ConfigFlags.Namespace != "" {
			ns = *o.ConfigFlags.Namespace
		}
		b, err := json.Marshal(SampleAlert(ns, s.deployment, s.alertName, s.severity, s.resolved, o.Now()))
		if err != nil {
			return fmt.Errorf("encoding the sample alert: %w", err)
		}
		body = b
	case "-":
		b, err := io.ReadAll(o.In)
		if err != nil {
			return fmt.Errorf("reading the payload from standard input: %w", err)
		}
		body = b
	default:
		b, err := os.ReadFile(s.file)
		if err != nil {
			return fmt.Errorf("reading the payload: %w", err)
		}
		body = b
	}
	if !json.Valid(body) {
		return usageErr("the payload in %s is not valid JSON", s.file)
	}
	endpoint := strings.TrimRight(s.gatewayURL, "/") + gateway.PathPrometheus
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return usageErr("building the request to %s: %v", endpoint, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if s.tokenFile != "" {
		tok, err := os.ReadFile(s.tokenFile)
		if err != nil {
			return fmt.Errorf("reading --token-file: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("posting the alert to the gateway: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("reading the gateway's answer: %w", err)
	}
	res := &SendAlertResult{URL: endpoint, StatusCode: resp.StatusCode}
	var gr gateway.Response
	if err := json.Unmarshal(raw, &gr); err == nil && (gr.Results != nil || gr.Error != "" || resp.StatusCode < 300) {
		res.Response = &gr
	} else {
		res.Body = strings.TrimSpace(string(raw))
	}
	if err := o.printSendAlert(res); err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return exitErr(ExitForbidden, "the gateway refused the alert: %s", resp.Status)
	case resp.StatusCode >= 300:
		return exitErr(ExitError, "the gateway answered %s", resp.Status)
	}
	return nil
}

func (o *Options) printSendAlert(res *SendAlertResult) error {
	if o.structured() {
		return o.printStructured(res)
	}
	fmt.Fprintf(o.Out, "POST %s: %d %s\n", res.URL, res.StatusCode, http.StatusText(res.StatusCode))
	if res.Response == nil {
		if res.Body != "" {
			fmt.Fprintf(o.Out, "%s\n", oneLine(res.Body, 500))
		}
		return nil
	}
	if res.Response.Error != "" {
		fmt.Fprintf(o.Out, "error: %s\n", res.Response.Error)
	}
	if len(res.Response.Results) == 0 {
		return nil
	}
	w := newTable(o.Out)
	fmt.Fprintf(w, "ALERT\tSTATUS\tREMEDIATION\tOCCURRENCES\tREASON\n")
	for _, r := range res.Response.Results {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", orNone(r.AlertName), orNone(r.Status), orNone(r.RemediationRequest), r.OccurrenceCount, orNone(r.Reason))
	}
	return w.Flush()
}
