package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/freeport"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/gateway"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/shared/httpapi"
)

// env is the package's API server, started once in TestMain.
var env *testenv.Env

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	flag.Parse()
	if fuzzingOnly() {
		os.Exit(m.Run()) // the fuzz targets need no API server
	}
	os.Exit(testenv.RunWithEnv(m, func(e *testenv.Env) { env = e }))
}

// fuzzingOnly says whether this process only fuzzes: a fuzz worker, or `go test -run '^$' -fuzz X`.
func fuzzingOnly() bool {
	value := func(name string) string {
		if f := flag.Lookup(name); f != nil {
			return f.Value.String()
		}
		return ""
	}
	return value("test.fuzzworker") == "true" || (value("test.fuzz") != "" && value("test.run") == "^$")
}

// instance is one running gateway: its manager, handler and HTTP server.
type instance struct {
	gw  *gateway.Gateway
	url string
	ns  string
}

type options struct {
	auth   httpapi.Authenticator
	config func(*gateway.Config)
	rest   *rest.Config
}

// startGateway runs a gateway for RemediationRequests in ns, with its own manager, cache and
// clients, until the test ends.
func startGateway(t testing.TB, ns string, o options) *instance {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	if o.rest != nil {
		cfg = o.rest
	}
	cfg.QPS, cfg.Burst = 2000, 4000
	opts := manager.Options{
		Scheme:                 app.NewScheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cache.Options{DefaultTransform: cache.TransformStripManagedFields()},
		Client:                 client.Options{Cache: &client.CacheOptions{Unstructured: false}},
	}
	mgr, err := manager.New(cfg, opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	gcfg := gateway.DefaultConfig(ns)
	if o.config != nil {
		o.config(&gcfg)
	}
	gw, err := gateway.New(ctx, mgr, gcfg)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = mgr.Start(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	syncCtx, syncCancel := context.WithTimeout(ctx, time.Minute)
	defer syncCancel()
	require.True(t, mgr.GetCache().WaitForCacheSync(syncCtx), "cache sync")
	require.True(t, gw.WaitForCacheSync(syncCtx), "RemediationRequest informer sync")
	auth := o.auth
	if auth == nil {
		auth = httpapi.NoAuth{}
	}
	srv := httptest.NewServer(gw.Handler(auth, 256<<10))
	t.Cleanup(srv.Close)
	return &instance{gw: gw, url: srv.URL, ns: ns}
}

// post sends body to path and returns the status, headers and decoded JSON body.
func post(t testing.TB, url, path string, body []byte, header map[string]string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := map[string]any{}
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out), "response body %s", raw)
	}
	return resp.StatusCode, resp.Header, out
}

// alert is a realistic Alertmanager alert.
func alert(status string, labels map[string]string) gateway.Alert {
	starts := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	a := gateway.Alert{
		Status: status, Labels: labels,
		Annotations: map[string]string{
			"summary":     "Container memory usage is above 90%",
			"description": "Memory usage of " + labels["deployment"] + labels["pod"] + " is 95% of its limit.",
			"runbook_url": "https://runbooks.example.com/HighMemoryUsage",
			"grafana_url": "https://grafana.example.com/d/k8s-pods?var-namespace=" + labels["namespace"],
		},
		StartsAt:     starts,
		GeneratorURL: "http://prometheus.monitoring:9090/graph?g0.expr=container_memory_usage_bytes",
		Fingerprint:  "a1b2c3d4e5f60718",
	}
	if status == "resolved" {
		a.EndsAt = starts.Add(10 * time.Minute)
	}
	return a
}

// webhook wraps alerts in Alertmanager's version 4 envelope.
func webhook(t testing.TB, alerts ...gateway.Alert) []byte {
	t.Helper()
	status := "firing"
	for _, a := range alerts {
		if a.Status == "resolved" {
			status = "resolved"
		}
	}
	msg := gateway.WebhookMessage{
		Version: "4", GroupKey: `{}/{severity=~"critical|warning"}:{alertname="HighMemoryUsage"}`, TruncatedAlerts: 0,
		Status: status, Receiver: "kubernaut", GroupLabels: map[string]string{"alertname": "HighMemoryUsage"},
		CommonLabels:      map[string]string{"alertname": "HighMemoryUsage", "prometheus": "monitoring/k8s"},
		CommonAnnotations: map[string]string{"summary": "Container memory usage is above 90%"},
		ExternalURL:       "http://alertmanager.monitoring:9093", NotificationReason: "new_alerts", Alerts: alerts,
	}
	b, err := json.Marshal(msg)
	require.NoError(t, err)
	return b
}

func memoryAlert(ns, deployment string) gateway.Alert {
	return alert("firing", map[string]string{
		"alertname": "HighMemoryUsage", "severity": "critical", "namespace": ns, "deployment": deployment,
		"container": "app", "prometheus": "monitoring/k8s",
	})
}

// requests lists the RemediationRequests of ns straight from the API server.
func requests(t testing.TB, ns string) []remediationv1.RemediationRequest {
	t.Helper()
	var list remediationv1.RemediationRequestList
	require.NoError(t, env.Client.List(context.Background(), &list, client.InNamespace(ns)))
	return list.Items
}

// tcpProxy forwards to target and can be stopped and started again on the same address, to
// make the API server unreachable the way a network outage does.
type tcpProxy struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	hang   bool
}

// Hang makes the proxy accept connections and never answer (a slow API server); Resume undoes it.
func (p *tcpProxy) Hang() {
	p.mu.Lock()
	p.hang = true
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
	p.mu.Unlock()
}

// Resume forwards again.
func (p *tcpProxy) Resume() {
	p.mu.Lock()
	p.hang = false
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
	p.mu.Unlock()
}

func newProxy(t testing.TB, target string) *tcpProxy {
	// The port stays reserved while the proxy is stopped, so Start always gets it back.
	addr, release, err := freeport.Reserve()
	require.NoError(t, err)
	t.Cleanup(release)
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	p := &tcpProxy{target: target, addr: addr, conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(p.Stop)
	return p
}

func (p *tcpProxy) Start(t testing.TB) {
	ln, err := net.Listen("tcp", p.addr)
	require.NoError(t, err)
	p.serve(ln)
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *tcpProxy) forward(c net.Conn) {
	p.mu.Lock()
	hang := p.hang
	if hang {
		p.conns[c] = struct{}{}
	}
	p.mu.Unlock()
	if hang {
		return // held open, never answered, until Resume or Stop closes it
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
	_, _ = io.Copy(c, up)
	_ = c.Close()
}

// Stop closes the listener and every open connection.
func (p *tcpProxy) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
}

var _ = assert.New
