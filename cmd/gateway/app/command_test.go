package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/cmd/gateway/app"
	"github.com/kubernaut/kubernaut/internal/testutil/apptest"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	goodMappings, badMappings := filepath.Join(dir, "good.yaml"), filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(goodMappings, []byte("mappings:\n  - {label: app, apiVersion: apps/v1, kind: Deployment, namespaced: true}\n"), 0o600))
	require.NoError(t, os.WriteFile(badMappings, []byte("mappings:\n  - {label: app, apiVersion: apps/v1, kind: Deployment}\n"), 0o600))
	cases := map[string]struct {
		mutate func(*app.Config)
		err    string
	}{
		"defaults":           {func(*app.Config) {}, ""},
		"negative cooldown":  {func(c *app.Config) { c.Cooldown = -time.Second }, "--dedup-cooldown"},
		"zero api timeout":   {func(c *app.Config) { c.APITimeout = 0 }, "--api-timeout"},
		"payload too large":  {func(c *app.Config) { c.MaxPayloadBytes = 70000 }, "--max-payload-bytes"},
		"bad priority table": {func(c *app.Config) { c.PriorityOverrides = "warning=P0" }, "--priority-overrides"},
		"token file missing": {func(c *app.Config) { c.HTTP.AuthMode = "token-file" }, "--auth-token-file"},
		"target mappings":    {func(c *app.Config) { c.TargetMappingsFile = goodMappings }, ""},
		"invalid mappings":   {func(c *app.Config) { c.TargetMappingsFile = badMappings }, `--target-mappings-file: target mappings file ` + badMappings + `: mappings[0] (label "app"): namespaced is required`},
		"no mappings file":   {func(c *app.Config) { c.TargetMappingsFile = filepath.Join(dir, "absent.yaml") }, "--target-mappings-file: reading target mappings"},
		"no owner cache":     {func(c *app.Config) { c.OwnerCacheSize = 0 }, "--owner-cache-size"},
		"zero owner ttl":     {func(c *app.Config) { c.OwnerCacheTTL = 0 }, "--owner-cache-ttl"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := app.NewConfig()
			tc.mutate(c)
			err := c.Validate()
			if tc.err == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
		})
	}
}

// TestRun runs the gateway as the binary does, against a real API server.
func TestRun(t *testing.T) {
	env := testenv.Start(t)
	sys := env.Namespace(t, nil)
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: env.Config.Host, CertificateAuthorityData: env.Config.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: env.Config.CertData, ClientKeyData: env.Config.KeyData, Token: env.Config.BearerToken}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin"}
	kc.CurrentContext = "envtest"
	require.NoError(t, clientcmd.WriteToFile(*kc, kubeconfig))
	tokens := filepath.Join(dir, "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte("alertmanager-token\n"), 0o600))

	cfg := app.NewConfig()
	cfg.Kubeconfig, cfg.Namespace, cfg.LogFormat = kubeconfig, sys, "console"
	cfg.MetricsBindAddress, cfg.HealthProbeBindAddress, cfg.HTTP.BindAddress = apptest.FreeAddr(t), apptest.FreeAddr(t), apptest.FreeAddr(t)
	cfg.HTTP.AuthMode, cfg.HTTP.AuthTokenFile = "token-file", tokens
	require.NoError(t, cfg.Validate())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, cfg) }()

	payload := `{"version":"4","groupKey":"{}:{alertname=\"HighMemoryUsage\"}","truncatedAlerts":0,"status":"firing","receiver":"kubernaut",
"groupLabels":{"alertname":"HighMemoryUsage"},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://alertmanager:9093",
"alerts":[{"status":"firing","labels":{"alertname":"HighMemoryUsage","severity":"critical","namespace":"shop","deployment":"web"},
"annotations":{"summary":"memory"},"startsAt":"2026-11-26T01:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus/graph","fingerprint":"abc"}]}`
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := http.Get("http://" + cfg.HealthProbeBindAddress + "/readyz")
		if !assert.NoError(c, err) {
			return
		}
		resp.Body.Close()
		assert.Equal(c, http.StatusOK, resp.StatusCode)
	}, 30*time.Second, 100*time.Millisecond)

	send := func(token string) int {
		req, err := http.NewRequest(http.MethodPost, "http://"+cfg.HTTP.BindAddress+"/api/v1/signals/prometheus", bytes.NewReader([]byte(payload)))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusUnauthorized, send("wrong"))
	assert.Equal(t, http.StatusCreated, send("alertmanager-token"))
	assert.Equal(t, http.StatusAccepted, send("alertmanager-token"))

	var list remediationv1.RemediationRequestList
	require.NoError(t, env.Client.List(context.Background(), &list, client.InNamespace(sys)))
	require.Len(t, list.Items, 1)
	assert.EqualValues(t, 1, list.Items[0].Status.Deduplication.OccurrenceCount)

	resp, err := http.Get("http://" + cfg.MetricsBindAddress + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(body), `kubernaut_gateway_signals_created_total{source="prometheus"} 1`)
	assert.Contains(t, string(body), `kubernaut_gateway_signals_deduplicated_total{source="prometheus"} 1`)
	// Deployment shop/web does not exist: the alert is stored unresolved, and counted (twice).
	assert.Contains(t, string(body), `kubernaut_gateway_signals_unresolved_total{reason="not_found"} 2`)
	assert.True(t, strings.Contains(string(body), "kubernaut_gateway_http_request_duration_seconds_bucket"))

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not stop after cancel")
	}
}
