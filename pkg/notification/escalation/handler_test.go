package escalation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/notification/escalation"
	"github.com/kubernaut/kubernaut/pkg/shared/httpapi"
	"github.com/kubernaut/kubernaut/pkg/shared/httpclient"
	api "github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

const (
	fingerprint = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	token       = "orchestrator-token-1"
)

var (
	k8s       client.Client
	tokenFile string
	nsCount   atomic.Int64
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	e, err := testenv.StartEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = e.Stop() }()
	k8s = e.Client
	dir, err := os.MkdirTemp("", "escalation")
	if err != nil {
		return 1
	}
	defer os.RemoveAll(dir)
	tokenFile = filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokenFile, []byte("# accepted callers\n"+token+"\n"), 0o600); err != nil {
		return 1
	}
	return m.Run()
}

// server starts the escalation API for a fresh namespace.
func server(t testing.TB) (*httptest.Server, string) {
	t.Helper()
	ns := fmt.Sprintf("esc-%d-%d", time.Now().UnixNano()%1_000_000, nsCount.Add(1))
	require.NoError(t, k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	h := &escalation.Handler{Client: k8s, Reader: k8s, Namespace: ns, MaxBodyBytes: 64 << 10, Log: logr.Discard()}
	srv := httptest.NewServer(h.Routes(&httpapi.TokenFile{Path: tokenFile}))
	t.Cleanup(srv.Close)
	return srv, ns
}

func valid(ns string) api.EscalationRequest {
	t0 := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	return api.EscalationRequest{
		RemediationRequestName: "rr-1", RemediationRequestNamespace: ns, EscalatingController: "remediation-orchestrator",
		AlertFingerprint: fingerprint, AlertName: "HighMemoryUsage", Severity: "critical", Environment: "production",
		Priority: "P0", SignalType: "prometheus-alert", Namespace: "shop",
		Resource:         api.ResourceIdentifier{Kind: "Deployment", Name: "web", Namespace: "shop"},
		EscalationReason: "timeout", EscalationPhase: "Analyzing", EscalationTime: t0.Add(11 * time.Minute),
		EscalationDetails: &api.EscalationDetails{TimeoutDuration: "10m0s", Phase: "Analyzing", RetryCount: 1},
		AlertFiringTime:   t0, AlertReceivedTime: t0.Add(time.Second), RemediationDuration: "11m0s",
		Channels: []string{"pagerduty", "slack", "email"}, Urgency: "critical",
		AlertmanagerURL: "http://alertmanager:9093/#/alerts",
	}
}

func post(t testing.TB, url string, body []byte, hdr map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+api.EscalationPath, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

func mustJSON(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func TestEscalationValidation(t *testing.T) {
	srv, ns := server(t)
	tests := map[string]struct {
		mutate func(r *api.EscalationRequest)
		want   []string
	}{
		"remediationRequestName missing":      {func(r *api.EscalationRequest) { r.RemediationRequestName = "" }, []string{"remediationRequestName: required"}},
		"remediationRequestName not DNS":      {func(r *api.EscalationRequest) { r.RemediationRequestName = "RR_1" }, []string{"remediationRequestName: "}},
		"remediationRequestNamespace missing": {func(r *api.EscalationRequest) { r.RemediationRequestNamespace = "" }, []string{"remediationRequestNamespace: required"}},
		"escalatingController missing":        {func(r *api.EscalationRequest) { r.EscalatingController = "" }, []string{"escalatingController: required"}},
		"alertFingerprint missing":            {func(r *api.EscalationRequest) { r.AlertFingerprint = "" }, []string{"alertFingerprint: required"}},
		"alertFingerprint not hex":            {func(r *api.EscalationRequest) { r.AlertFingerprint = "XYZ" }, []string{"alertFingerprint: must be 64 lowercase hex"}},
		"alertName missing":                   {func(r *api.EscalationRequest) { r.AlertName = "" }, []string{"alertName: required"}},
		"severity missing":                    {func(r *api.EscalationRequest) { r.Severity = "" }, []string{"severity: required"}},
		"severity unknown":                    {func(r *api.EscalationRequest) { r.Severity = "high" }, []string{"severity: must be one of critical, warning, info"}},
		"environment unknown":                 {func(r *api.EscalationRequest) { r.Environment = "prod" }, []string{"environment: must be one of"}},
		"priority unknown":                    {func(r *api.EscalationRequest) { r.Priority = "P9" }, []string{"priority: must be one of P0, P1, P2, P3"}},
		"signalType unknown":                  {func(r *api.EscalationRequest) { r.SignalType = "email" }, []string{"signalType: must be one of"}},
		"namespace missing":                   {func(r *api.EscalationRequest) { r.Namespace = "" }, []string{"namespace: required"}},
		"resource missing":                    {func(r *api.EscalationRequest) { r.Resource = api.ResourceIdentifier{} }, []string{"resource.kind: required", "resource.name: required"}},
		"escalationReason unknown":            {func(r *api.EscalationRequest) { r.EscalationReason = "boredom" }, []string{"escalationReason: must be one of timeout, failure, rejection"}},
		"escalationPhase missing":             {func(r *api.EscalationRequest) { r.EscalationPhase = "" }, []string{"escalationPhase: required"}},
		"escalationTime missing":              {func(r *api.EscalationRequest) { r.EscalationTime = time.Time{} }, []string{"escalationTime: required"}},
		"alertFiringTime missing":             {func(r *api.EscalationRequest) { r.AlertFiringTime = time.Time{} }, []string{"alertFiringTime: required"}},
		"alertReceivedTime missing":           {func(r *api.EscalationRequest) { r.AlertReceivedTime = time.Time{} }, []string{"alertReceivedTime: required"}},
		"remediationDuration missing":         {func(r *api.EscalationRequest) { r.RemediationDuration = "" }, []string{"remediationDuration: required"}},
		"remediationDuration invalid":         {func(r *api.EscalationRequest) { r.RemediationDuration = "ages" }, []string{"remediationDuration: must be a Go duration"}},
		"channels missing":                    {func(r *api.EscalationRequest) { r.Channels = nil }, []string{"channels: required"}},
		"channel unknown":                     {func(r *api.EscalationRequest) { r.Channels = []string{"slack", "fax"} }, []string{"channels[1]: must be one of"}},
		"channel duplicate":                   {func(r *api.EscalationRequest) { r.Channels = []string{"slack", "slack"} }, []string{"channels[1]: duplicate"}},
		"urgency unknown":                     {func(r *api.EscalationRequest) { r.Urgency = "asap" }, []string{"urgency: must be one of critical, high, normal, low"}},
		"alertmanagerURL not a URL":           {func(r *api.EscalationRequest) { r.AlertmanagerURL = "alertmanager" }, []string{"alertmanagerURL: must be an absolute http(s) URL"}},
		"grafanaURL not http":                 {func(r *api.EscalationRequest) { r.GrafanaURL = "ftp://g/x" }, []string{"grafanaURL: must be an absolute http(s) URL"}},
		"several problems at once": {func(r *api.EscalationRequest) { r.AlertName, r.Urgency, r.Priority = "", "", "" },
			[]string{"alertName: required", "urgency: required", "priority: required"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req := valid(ns)
			tc.mutate(&req)
			resp, body := post(t, srv.URL, mustJSON(t, req), nil)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Equal(t, "invalid EscalationRequest", body["error"])
			details := fmt.Sprint(body["details"])
			for _, w := range tc.want {
				assert.Contains(t, details, w)
			}
		})
	}
	t.Run("cluster-scoped resource needs no namespace", func(t *testing.T) {
		req := valid(ns)
		req.Namespace, req.Resource = "", api.ResourceIdentifier{Kind: "Node", Name: "worker-1"}
		req.EscalationPhase = "node-phase"
		resp, _ := post(t, srv.URL, mustJSON(t, req), nil)
		assert.Equal(t, http.StatusAccepted, resp.StatusCode)
	})
	var list notificationv1.NotificationRequestList
	require.NoError(t, k8s.List(context.Background(), &list, client.InNamespace(ns)))
	assert.Len(t, list.Items, 1, "only the valid request was stored")
}

func TestEscalationMalformedRequests(t *testing.T) {
	srv, ns := server(t)
	tests := map[string]struct {
		body   []byte
		hdr    map[string]string
		status int
		detail string
	}{
		"no token":           {mustJSON(t, valid(ns)), map[string]string{"Authorization": ""}, http.StatusUnauthorized, ""},
		"wrong token":        {mustJSON(t, valid(ns)), map[string]string{"Authorization": "Bearer nope"}, http.StatusUnauthorized, ""},
		"not JSON":           {[]byte("{not json"), nil, http.StatusBadRequest, "invalid character"},
		"wrong field type":   {[]byte(`{"channels":"slack"}`), nil, http.StatusBadRequest, "channels: must be a JSON []string"},
		"bad time":           {[]byte(`{"escalationTime":"yesterday"}`), nil, http.StatusBadRequest, "RFC 3339"},
		"wrong content type": {mustJSON(t, valid(ns)), map[string]string{"Content-Type": "text/plain"}, http.StatusUnsupportedMediaType, ""},
		"too large":          {bytes.Repeat([]byte(" "), 65<<10), nil, http.StatusRequestEntityTooLarge, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			resp, body := post(t, srv.URL, tc.body, tc.hdr)
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.NotEmpty(t, body["error"])
			if tc.detail != "" {
				assert.Contains(t, fmt.Sprint(body["details"]), tc.detail)
			}
		})
	}
}

func TestEscalationAcceptedOnceAsNotificationRequest(t *testing.T) {
	srv, ns := server(t)
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	rr := &remediationv1.RemediationRequest{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "rr-1"}, Spec: remediationv1.RemediationRequestSpec{
		SignalFingerprint: fingerprint, SignalName: "HighMemoryUsage", Severity: remediationv1.SeverityCritical,
		Environment: remediationv1.EnvironmentProduction, Priority: remediationv1.PriorityP0, SignalType: remediationv1.SignalTypePrometheusAlert,
		TargetResource: common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"},
		FiringTime:     now, ReceivedTime: now,
	}}
	require.NoError(t, k8s.Create(context.Background(), rr))

	// The orchestrator's own client, end to end.
	tf := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tf, []byte(token), 0o600))
	c := api.NewClient(srv.URL, tf)
	req := valid(ns)
	req.EscalationPhase = "AI Analysis"
	first, err := c.SendEscalation(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, "rr-1-escalation-ai-analysis", first.NotificationName)
	assert.False(t, first.Duplicate)

	second, err := c.SendEscalation(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, first.NotificationName, second.NotificationName)
	assert.True(t, second.Duplicate)

	var list notificationv1.NotificationRequestList
	require.NoError(t, k8s.List(context.Background(), &list, client.InNamespace(ns)))
	require.Len(t, list.Items, 1, "the same escalation is stored once")
	nr := list.Items[0]
	assert.Equal(t, notificationv1.TypeEscalation, nr.Spec.Type)
	assert.Equal(t, notificationv1.PriorityCritical, nr.Spec.Priority)
	assert.Equal(t, []notificationv1.Channel{"pagerduty", "slack", "email"}, nr.Spec.Channels)
	assert.Equal(t, &common.ObjectReference{Name: "rr-1", Namespace: ns}, nr.Spec.RemediationRequestRef)
	assert.Equal(t, fingerprint, nr.Spec.Metadata[api.MetaSignalFingerprint])
	assert.Equal(t, "AI Analysis", nr.Spec.Metadata[api.MetaEscalationPhase])
	assert.Equal(t, "http://alertmanager:9093/#/alerts", nr.Spec.Metadata[api.MetaAlertmanagerURL])
	assert.Contains(t, nr.Spec.Subject, "HighMemoryUsage")
	assert.Contains(t, nr.Spec.Body, "Timeout: 10m0s")
	require.Len(t, nr.OwnerReferences, 1, "the RemediationRequest owns its escalation")
	assert.Equal(t, rr.UID, nr.OwnerReferences[0].UID)

	t.Run("another phase is another notification", func(t *testing.T) {
		req.EscalationPhase = "Executing"
		resp, err := c.SendEscalation(context.Background(), req)
		require.NoError(t, err)
		assert.Equal(t, "rr-1-escalation-executing", resp.NotificationName)
		assert.False(t, resp.Duplicate)
	})
	t.Run("the client sees a 400 as not retryable", func(t *testing.T) {
		bad := valid(ns)
		bad.Urgency = ""
		_, err := c.SendEscalation(context.Background(), bad)
		require.Error(t, err)
		assert.False(t, httpclient.Retryable(err))
	})
}

func TestEscalationName(t *testing.T) {
	tests := map[string]struct{ rr, phase, want string }{
		"simple":        {"rr-1", "Analyzing", "rr-1-escalation-analyzing"},
		"spaces/case":   {"rr-1", "AI Analysis", "rr-1-escalation-ai-analysis"},
		"underscores":   {"rr-1", "awaiting_approval", "rr-1-escalation-awaiting-approval"},
		"symbols trim":  {"rr-1", "--Planning!!", "rr-1-escalation-planning"},
		"long is bound": {strings.Repeat("r", 250), "Executing", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := api.EscalationName(tc.rr, tc.phase)
			assert.LessOrEqual(t, len(got), 253)
			if tc.want != "" {
				assert.Equal(t, tc.want, got)
			}
			assert.Equal(t, got, api.EscalationName(tc.rr, tc.phase), "deterministic")
		})
	}
}
