package kubectlplugin_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/gateway"
	"github.com/kubernaut/kubernaut/pkg/kubectlplugin"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/shared/httpapi"
)

// startGateway runs the real gateway for RemediationRequests in ns behind a token file, as
// the gateway's binary does with --auth-mode token-file; it returns its URL.
func startGateway(t *testing.T, ns, tokenFile string) string {
	t.Helper()
	mgr, err := manager.New(env.Config, manager.Options{
		Scheme:                 app.NewScheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cache.Options{DefaultTransform: cache.TransformStripManagedFields()},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	gw, err := gateway.New(ctx, mgr, gateway.DefaultConfig(ns))
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = mgr.Start(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	require.True(t, mgr.GetCache().WaitForCacheSync(ctx))
	require.True(t, gw.WaitForCacheSync(ctx))
	srv := httptest.NewServer(gw.Handler(&httpapi.TokenFile{Path: tokenFile}, 256<<10))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestSendAlertToTheGateway(t *testing.T) {
	ns := env.Namespace(t, nil)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600))
	url := startGateway(t, ns, tokenFile)
	testenv.EnsureDeployment(t, env.Client, "shop", "web") // the gateway resolves alerts to objects that exist
	now := func() time.Time { return time.Now() }

	res := run(t, invocation{now: now}, "send-alert", "-n", "shop", "--deployment", "web", "--gateway-url", url, "--token-file", tokenFile, "-o", "json")
	require.Equal(t, kubectlplugin.ExitOK, res.code, "%v %s", res.err, res.stdout)
	var sent kubectlplugin.SendAlertResult
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &sent))
	assert.Equal(t, 201, sent.StatusCode)
	require.NotNil(t, sent.Response)
	require.Len(t, sent.Response.Results, 1)
	name := sent.Response.Results[0].RemediationRequest
	require.NotEmpty(t, name)

	var rr remediationv1.RemediationRequest
	require.NoError(t, env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &rr))
	assert.Equal(t, kubectlplugin.DefaultSampleAlert, rr.Spec.SignalName)
	assert.Equal(t, remediationv1.SeverityWarning, rr.Spec.Severity, "the mixin rule's severity")
	assert.Equal(t, "Deployment", rr.Spec.TargetResource.Kind)
	assert.Equal(t, "shop", rr.Spec.TargetResource.Namespace)
	assert.Equal(t, "web", rr.Spec.TargetResource.Name)

	t.Run("the same alert again is a duplicate of the same request", func(t *testing.T) {
		res := run(t, invocation{now: now}, "send-alert", "-n", "shop", "--deployment", "web", "--gateway-url", url, "--token-file", tokenFile)
		require.Equal(t, kubectlplugin.ExitOK, res.code, "%v %s", res.err, res.stdout)
		assert.Contains(t, res.stdout, "202")
		assert.Contains(t, res.stdout, name)
	})
	t.Run("a payload from a file is sent as it is", func(t *testing.T) {
		payload, err := json.Marshal(kubectlplugin.SampleAlert("shop", "api", "HighMemoryUsage", "warning", false, time.Now()))
		require.NoError(t, err)
		file := filepath.Join(dir, "alert.json")
		require.NoError(t, os.WriteFile(file, payload, 0o600))
		res := run(t, invocation{now: now}, "send-alert", "--file", file, "--gateway-url", url, "--token-file", tokenFile)
		require.Equal(t, kubectlplugin.ExitOK, res.code, "%v %s", res.err, res.stdout)
		assert.Contains(t, res.stdout, "HighMemoryUsage")
		assert.Contains(t, res.stdout, "created")
	})
	t.Run("a wrong token is refused with exit code 5", func(t *testing.T) {
		bad := filepath.Join(dir, "bad")
		require.NoError(t, os.WriteFile(bad, []byte("guess"), 0o600))
		res := run(t, invocation{now: now}, "send-alert", "--gateway-url", url, "--token-file", bad)
		assert.Equal(t, kubectlplugin.ExitForbidden, res.code, "%v %s", res.err, res.stdout)
		assert.Contains(t, res.stdout, "401")
	})
	t.Run("a payload the gateway rejects exits 1 and shows why", func(t *testing.T) {
		file := filepath.Join(dir, "broken.json")
		require.NoError(t, os.WriteFile(file, []byte(`{"version":"3"}`), 0o600))
		res := run(t, invocation{now: now}, "send-alert", "--file", file, "--gateway-url", url, "--token-file", tokenFile)
		assert.Equal(t, kubectlplugin.ExitError, res.code, "%v %s", res.err, res.stdout)
		assert.Contains(t, res.stdout, "400")
	})
}

func TestUsageErrors(t *testing.T) {
	cases := map[string][]string{
		"unknown command":       {"frobnicate"},
		"unknown flag":          {"list", "--frob"},
		"bad output format":     {"list", "-o", "xml"},
		"unknown phase":         {"list", "--phase", "Sleeping"},
		"describe without name": {"describe"},
		"approve two names":     {"approve", "a", "b"},
		"list with an argument": {"list", "extra"},
		"bad gateway URL":       {"send-alert", "--gateway-url", "localhost:8080"},
		"file and sample flags": {"send-alert", "--file", "x.json", "--deployment", "web"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			res := run(t, invocation{}, args...)
			assert.Equal(t, kubectlplugin.ExitUsage, res.code, "%v", res.err)
		})
	}
	t.Run("describe of an unknown request exits 3", func(t *testing.T) {
		res := run(t, invocation{}, "describe", "rr-nowhere", "-n", "default")
		assert.Equal(t, kubectlplugin.ExitNotFound, res.code, "%v", res.err)
	})
}
