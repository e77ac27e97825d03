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

func TestParseMappings(t *testing.T) {
	cases := map[string]struct {
		doc  string
		want []string // problems the error must mention; none: valid
	}{
		"empty file":  {doc: ``},
		"no mappings": {doc: `mappings: []`},
		"valid": {doc: `
mappings:
  - name: checkout-app
    label: app_deployment
    apiVersion: apps/v1
    kind: Deployment
    namespaced: true
    alertNames: [CheckoutLatencyHigh, CheckoutErrors]
  - label: rabbitmq_cluster
    apiVersion: rabbitmq.com/v1beta1
    kind: RabbitmqCluster
    namespaced: true
    matchLabels: {job: rabbitmq}
  - label: hostname
    apiVersion: v1
    kind: Node
    namespaced: false`},
		"unknown field (typo)": {doc: "mappings:\n  - label: app\n    apiVersion: apps/v1\n    kind: Deployment\n    namespaced: true\n    alertname: [X]", want: []string{"alertname"}},
		"every problem at once": {doc: `
mappings:
  - label: "app-name"
    apiVersion: "apps/v1/extra"
    kind: deployment
  - label: node_name
    apiVersion: v1
    kind: Node
    namespaced: true
    alertNames: [""]
    matchLabels: {"bad-key": x}`, want: []string{
			`mappings[0] (label "app-name"): label must be a Prometheus label name`,
			`mappings[0] (label "app-name"): apiVersion "apps/v1/extra"`,
			`mappings[0] (label "app-name"): kind "deployment" is not a Kubernetes kind`,
			`mappings[0] (label "app-name"): namespaced is required`,
			`mappings[1] (label "node_name"): namespaced is true, but a Node is cluster-scoped`,
			`mappings[1] (label "node_name"): alertNames must not hold an empty name`,
			`mappings[1] (label "node_name"): matchLabels key "bad-key"`,
		}},
		"not YAML": {doc: "mappings: [", want: []string{"not a mappings document"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := gateway.ParseMappings([]byte(tc.doc))
			if len(tc.want) == 0 {
				require.NoError(t, err)
				if name == "valid" {
					require.Len(t, m, 3)
					assert.Equal(t, []string{"CheckoutLatencyHigh", "CheckoutErrors"}, m[0].AlertNames)
				}
				return
			}
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestPseudoTarget(t *testing.T) {
	labels := map[string]string{"alertname": "KubeCPUOvercommit", "severity": "warning", "prometheus": "monitoring/k8s"}
	a := gateway.PseudoTarget("KubeCPUOvercommit", labels)
	assert.Equal(t, gateway.PseudoTargetKind, a.Kind)
	assert.Empty(t, a.Namespace, "no namespace label: cluster-wide")
	assert.Regexp(t, `^KubeCPUOvercommit-[0-9a-f]{10}$`, a.Name)
	assert.Equal(t, a, gateway.PseudoTarget("KubeCPUOvercommit", map[string]string{"prometheus": "monitoring/k8s", "severity": "warning", "alertname": "KubeCPUOvercommit"}), "deterministic, whatever the map order")

	other := map[string]string{"alertname": "KubeCPUOvercommit", "severity": "warning", "prometheus": "monitoring/k8s-2"}
	assert.NotEqual(t, a, gateway.PseudoTarget("KubeCPUOvercommit", other), "another label set is another alert")

	withNS := gateway.PseudoTarget("X", map[string]string{"namespace": "shop"})
	assert.Equal(t, "shop", withNS.Namespace)
	assert.Empty(t, gateway.PseudoTarget("X", map[string]string{"namespace": "Not/Valid"}).Namespace)
	long := gateway.PseudoTarget(strings.Repeat("a", 253), nil)
	assert.LessOrEqual(t, len(long.Name), 253)
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
