package gateway_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/gateway"
)

func TestTargetFromLabels(t *testing.T) {
	cases := map[string]struct {
		labels map[string]string
		want   common.TargetResource
		err    string
	}{
		"deployment":                 {map[string]string{"namespace": "shop", "deployment": "web"}, common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}, ""},
		"deployment beats pod":       {map[string]string{"namespace": "shop", "deployment": "web", "pod": "web-1"}, common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}, ""},
		"statefulset":                {map[string]string{"namespace": "db", "statefulset": "pg"}, common.TargetResource{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: "db", Name: "pg"}, ""},
		"daemonset":                  {map[string]string{"namespace": "kube-system", "daemonset": "cni"}, common.TargetResource{APIVersion: "apps/v1", Kind: "DaemonSet", Namespace: "kube-system", Name: "cni"}, ""},
		"job_name (kube-state)":      {map[string]string{"namespace": "batch", "job_name": "nightly"}, common.TargetResource{APIVersion: "batch/v1", Kind: "Job", Namespace: "batch", Name: "nightly"}, ""},
		"pod":                        {map[string]string{"namespace": "shop", "pod": "web-1"}, common.TargetResource{APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: "web-1"}, ""},
		"pod beats node":             {map[string]string{"namespace": "shop", "pod": "web-1", "node": "n1"}, common.TargetResource{APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: "web-1"}, ""},
		"node is cluster scoped":     {map[string]string{"namespace": "monitoring", "node": "n1"}, common.TargetResource{APIVersion: "v1", Kind: "Node", Name: "n1"}, ""},
		"namespace alone":            {map[string]string{"namespace": "shop"}, common.TargetResource{APIVersion: "v1", Kind: "Namespace", Name: "shop"}, ""},
		"pod without namespace":      {map[string]string{"pod": "web-1"}, common.TargetResource{}, "no \"namespace\" label"},
		"nothing to remediate":       {map[string]string{"instance": "10.0.0.1:9100"}, common.TargetResource{}, "no target label"},
		"blank deployment is no tag": {map[string]string{"namespace": "shop", "deployment": " ", "pod": "p"}, common.TargetResource{APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: "p"}, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := gateway.TargetFromLabels(tc.labels)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestNormalizeSeverity(t *testing.T) {
	cases := map[string]remediationv1.Severity{
		"critical": "critical", "CRITICAL": "critical", "page": "critical", "high": "critical", "error": "critical",
		"warning": "warning", "warn": "warning", "": "warning", "medium": "warning", "whatever": "warning",
		"info": "info", "low": "info", "none": "info",
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) { assert.Equal(t, want, gateway.NormalizeSeverity(in)) })
	}
}

func TestNormalizeEnvironment(t *testing.T) {
	cases := map[string]remediationv1.Environment{
		"production": "production", "prod": "production", "Prod": "production", "staging": "staging", "stage": "staging",
		"dev": "development", "development": "development", "qa": "test", "test": "test", "": "unknown", "sandbox": "unknown",
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) { assert.Equal(t, want, gateway.NormalizeEnvironment(in)) })
	}
}

func TestDefaultPriorityTable(t *testing.T) {
	table := gateway.DefaultPriorityTable()
	want := map[remediationv1.Severity]map[remediationv1.Environment]remediationv1.Priority{
		"critical": {"production": "P0", "staging": "P1", "development": "P2", "test": "P2", "unknown": "P1"},
		"warning":  {"production": "P1", "staging": "P2", "development": "P2", "test": "P2", "unknown": "P2"},
		"info":     {"production": "P2", "staging": "P2", "development": "P2", "test": "P2", "unknown": "P3"},
	}
	for sev, row := range want {
		for env, p := range row {
			assert.Equal(t, p, table.Priority(sev, env), "%s/%s", sev, env)
		}
	}
}

func TestParsePriorityOverrides(t *testing.T) {
	cases := map[string]struct {
		spec string
		sev  remediationv1.Severity
		env  remediationv1.Environment
		want remediationv1.Priority
		err  string
	}{
		"empty keeps defaults": {"", "critical", "production", "P0", ""},
		"one override":         {"warning/production=P0", "warning", "production", "P0", ""},
		"spaces":               {" info/unknown = P1 , critical/staging=P0", "info", "unknown", "P1", ""},
		"bad shape":            {"warning=P0", "", "", "", "severity/environment=Pn"},
		"bad severity":         {"fatal/production=P0", "", "", "", "severity must be"},
		"bad environment":      {"warning/test=P0", "", "", "", "environment must be"},
		"bad priority":         {"warning/production=P9", "", "", "", "priority must be"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			table, err := gateway.DefaultPriorityTable().ParsePriorityOverrides(tc.spec)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, table.Priority(tc.sev, tc.env))
		})
	}
	// The default table is not changed by overrides.
	assert.Equal(t, remediationv1.PriorityP1, gateway.DefaultPriorityTable().Priority("warning", "production"))
}

func TestFingerprintAndName(t *testing.T) {
	dep := common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	fp := gateway.Fingerprint(dep)
	assert.Regexp(t, "^[a-f0-9]{64}$", fp)
	// Documented formula: sha256("Deployment/shop/web").
	sum := sha256.Sum256([]byte("Deployment/shop/web"))
	assert.Equal(t, hex.EncodeToString(sum[:]), fp)
	other := dep
	other.APIVersion = ""
	assert.Equal(t, fp, gateway.Fingerprint(other), "apiVersion is not part of the identity")
	other.Name = "api"
	assert.NotEqual(t, fp, gateway.Fingerprint(other))
	n0, n1 := gateway.RequestName(fp, 0), gateway.RequestName(fp, 1)
	assert.Regexp(t, "^remediation-[a-f0-9]{16}$", n0)
	assert.NotEqual(t, n0, n1)
	assert.Equal(t, n0, gateway.RequestName(fp, 0), "names are deterministic")
}

func TestParseWebhook(t *testing.T) {
	cases := map[string]struct {
		body     string
		problems []string
	}{
		"valid":           {`{"version":"4","groupKey":"g","status":"firing","receiver":"r","alerts":[{}]}`, nil},
		"wrong version":   {`{"version":"3","groupKey":"g","status":"firing","receiver":"r","alerts":[{}]}`, []string{`version must be "4"`}},
		"many problems":   {`{"version":"4"}`, []string{"status must be", "receiver is required", "groupKey is required", "at least one alert"}},
		"not JSON":        {`<xml/>`, []string{"invalid JSON"}},
		"trailing data":   {`{"version":"4","groupKey":"g","status":"firing","receiver":"r","alerts":[{}]} {}`, []string{"trailing data"}},
		"wrong JSON type": {`{"version":4}`, []string{"invalid JSON"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, problems := gateway.ParseWebhook([]byte(tc.body))
			require.Len(t, problems, len(tc.problems), "%v", problems)
			for i, p := range tc.problems {
				assert.Contains(t, problems[i], p)
			}
		})
	}
}

func TestPayloadCap(t *testing.T) {
	a := memoryAlert("shop", "web")
	a.Annotations["description"] = strings.Repeat("d", 2000)
	msg := gateway.WebhookMessage{Version: "4", GroupKey: "g", Status: "firing", Receiver: "r",
		CommonAnnotations: map[string]string{"huge": strings.Repeat("x", 5000)}, Alerts: []gateway.Alert{a}}
	cases := map[string]struct {
		limit     int
		wantEmpty bool
		contains  string
	}{
		"fits":                        {limit: 65536, contains: "huge"},
		"shared maps dropped":         {limit: 4000, contains: "HighMemoryUsage"},
		"too large even without them": {limit: 100, wantEmpty: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := msg.Signal(0, tc.limit)
			require.NoError(t, err)
			if tc.wantEmpty {
				assert.Empty(t, s.OriginalPayload())
				return
			}
			assert.LessOrEqual(t, len(s.OriginalPayload()), tc.limit)
			assert.Contains(t, string(s.OriginalPayload()), tc.contains)
		})
	}
}
