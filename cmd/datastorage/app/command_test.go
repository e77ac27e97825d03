package app

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/internal/testutil/testpg"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
)

func TestMain(m *testing.M) { testpg.Main(m) }

func TestFlagValidation(t *testing.T) {
	cases := map[string]struct {
		args    []string
		wantErr string
	}{
		"defaults":                       {nil, ""},
		"token file mode":                {[]string{"--auth-mode=token-file", "--auth-token-file=/tokens"}, ""},
		"token file mode without a file": {[]string{"--auth-mode=token-file"}, "--auth-token-file is required"},
		"unknown auth mode":              {[]string{"--auth-mode=magic"}, "--auth-mode must be"},
		"one connection":                 {[]string{"--database-max-conns=1"}, "--database-max-conns must be at least 2"},
		"writers as many as connections": {[]string{"--database-max-conns=4", "--database-writers=4"}, "--database-writers must be at least 1 and below --database-max-conns (4)"},
		"zero query timeout":             {[]string{"--query-timeout=0s"}, "--query-timeout must be positive"},
		"bad log format":                 {[]string{"--log-format=xml"}, "--log-format must be"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := NewConfig()
			require.NoError(t, parseInto(cfg, tc.args))
			err := cfg.Validate()
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestHelpListsEveryFlag(t *testing.T) {
	cmd := NewCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--help"})
	require.NoError(t, cmd.Execute())
	for _, f := range []string{"--database-url", "--database-max-conns", "--query-timeout", "--http-bind-address", "--auth-mode",
		"--auth-token-file", "--max-body-bytes", "--metrics-bind-address", "--health-probe-bind-address", "--kubeconfig"} {
		assert.Contains(t, out.String(), f)
	}
}

func listen(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return ln, "http://" + ln.Addr().String()
}

func status(url, token string, body io.Reader) int {
	method := http.MethodGet
	if body != nil {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return 0
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// The service starts before its database, migrates when it appears, survives an outage and
// stops cleanly.
func TestRunWithoutAClusterThroughADatabaseOutage(t *testing.T) {
	pg := testpg.NewServer(t)
	dsn := pg.NewDatabase(t)
	require.NoError(t, pg.Stop())

	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "tokens")
	require.NoError(t, os.WriteFile(tokenFile, []byte("tok-1\n"), 0o600))
	cfg := NewConfig()
	require.NoError(t, parseInto(cfg, []string{
		"--database-url=" + dsn, "--auth-mode=token-file", "--auth-token-file=" + tokenFile,
		"--kubeconfig=/nonexistent", "--query-timeout=2s", "--log-level=error",
	}))
	require.NoError(t, cfg.Validate())
	var api, health, metrics string
	cfg.APIListener, api = listen(t)
	cfg.HealthListener, health = listen(t)
	cfg.MetricsListener, metrics = listen(t)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Error("Run did not return after cancel")
		}
	}()

	post := func() int {
		a := `{"remediationName":"rr-app","alertFingerprint":"fp","overallPhase":"Pending","startTime":"2026-03-01T12:00:00Z"}`
		return status(api+auditapi.RemediationPath, "tok-1", strings.NewReader(a))
	}
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, http.StatusOK, status(health+"/healthz", "", nil))
	}, 10*time.Second, 50*time.Millisecond)
	assert.Equal(t, http.StatusServiceUnavailable, status(health+"/readyz", "", nil), "not ready before the database")
	assert.Equal(t, http.StatusServiceUnavailable, post())

	require.NoError(t, pg.Start())
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, http.StatusOK, status(health+"/readyz", "", nil))
	}, 60*time.Second, 100*time.Millisecond)
	assert.Equal(t, http.StatusCreated, post())
	assert.Equal(t, http.StatusUnauthorized, status(api+auditapi.RemediationPath, "wrong", strings.NewReader("{}")))

	require.NoError(t, pg.Stop())
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, http.StatusServiceUnavailable, status(health+"/readyz", "", nil))
	}, 20*time.Second, 100*time.Millisecond)
	assert.Equal(t, http.StatusServiceUnavailable, post())
	require.NoError(t, pg.Start())
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, http.StatusOK, status(health+"/readyz", "", nil))
		assert.Equal(c, http.StatusOK, post(), "the retried post is an update")
	}, 30*time.Second, 100*time.Millisecond)

	resp, err := http.Get(metrics + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, m := range []string{
		`kubernaut_datastorage_http_requests_total{code="201",method="POST",route="POST /api/v1/audit/remediation"}`,
		`kubernaut_datastorage_http_requests_total{code="503",method="POST",route="POST /api/v1/audit/remediation"}`,
		`kubernaut_datastorage_db_query_duration_seconds_bucket{query="upsert_remediation",result="ok"`,
		`kubernaut_datastorage_db_pool_connections{state="max"} 16`,
	} {
		assert.Contains(t, string(text), m)
	}
}

func parseInto(cfg *Config, args []string) error {
	fs := pflag.NewFlagSet("datastorage", pflag.ContinueOnError)
	cfg.AddFlags(fs)
	return fs.Parse(args)
}
