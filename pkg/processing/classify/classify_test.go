package classify_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/processing/classify"
)

const testPolicy = `
priorities:
  info: {production: P1}
criticality:
  high: 1
  critical: 3
environments:
  - {namespace: payments, environment: production}
  - {namespace: "sandbox-*", environment: dev}
rules:
  - name: payments-critical
    expression: 'namespaceLabels.?team.orValue("") == "payments" && signal.severity == "critical"'
    priority: P0
  - name: canary
    expression: '"canary" in labels && labels["canary"] == "true"'
    priority: P3
`

func TestEnvironment(t *testing.T) {
	p, err := classify.Parse([]byte(testPolicy), "7")
	require.NoError(t, err)
	tests := map[string]struct {
		in      classify.Input
		env     remediationv1.Environment
		source  processingv1.EnvironmentSource
		builtin bool // classify with the built-in policy instead
	}{
		"namespace label kubernaut.io/environment": {in: classify.Input{Namespace: "shop-dev", NamespaceLabels: map[string]string{"kubernaut.io/environment": "prod", "env": "staging"}},
			env: "production", source: processingv1.EnvironmentFromNamespaceLabel},
		"namespace label environment": {in: classify.Input{Namespace: "x", NamespaceLabels: map[string]string{"environment": "stg"}, Labels: map[string]string{"env": "prod"}},
			env: "staging", source: processingv1.EnvironmentFromNamespaceEnvLabel},
		"namespace label env": {in: classify.Input{Namespace: "x", NamespaceLabels: map[string]string{"env": "qa"}},
			env: "test", source: processingv1.EnvironmentFromNamespaceEnvLabel},
		"an invalid namespace label is skipped": {in: classify.Input{Namespace: "x", NamespaceLabels: map[string]string{"kubernaut.io/environment": "blue"}, Labels: map[string]string{"environment": "development"}},
			env: "development", source: processingv1.EnvironmentFromSignalLabel},
		"signal label": {in: classify.Input{Namespace: "payments", Labels: map[string]string{"env": "staging"}},
			env: "staging", source: processingv1.EnvironmentFromSignalLabel},
		"policy override by name": {in: classify.Input{Namespace: "payments"},
			env: "production", source: processingv1.EnvironmentFromPolicyOverride},
		"policy override by pattern": {in: classify.Input{Namespace: "sandbox-prod-copy"},
			env: "development", source: processingv1.EnvironmentFromPolicyOverride},
		"namespace name": {in: classify.Input{Namespace: "shop-prod-eu"},
			env: "production", source: processingv1.EnvironmentFromNamespaceName},
		"namespace name stg": {in: classify.Input{Namespace: "payments-stg"},
			env: "staging", source: processingv1.EnvironmentFromNamespaceName},
		"namespace name test": {in: classify.Input{Namespace: "e2e_test"},
			env: "test", source: processingv1.EnvironmentFromNamespaceName},
		"production wins in a name": {in: classify.Input{Namespace: "dev-tools-production"},
			env: "production", source: processingv1.EnvironmentFromNamespaceName},
		"no word is no match": {in: classify.Input{Namespace: "products"},
			env: "unknown", source: processingv1.EnvironmentFromDefault},
		"cluster-scoped target": {in: classify.Input{Kind: "Node", Name: "prod-node-1"},
			env: "unknown", source: processingv1.EnvironmentFromDefault},
		"built-in policy has no overrides": {in: classify.Input{Namespace: "payments"}, builtin: true,
			env: "unknown", source: processingv1.EnvironmentFromDefault},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pol := p
			if tc.builtin {
				pol = classify.Default()
			}
			env, src := pol.Environment(tc.in)
			assert.Equal(t, tc.env, env)
			assert.Equal(t, tc.source, src)
		})
	}
}

func TestPriority(t *testing.T) {
	p, err := classify.Parse([]byte(testPolicy), "7")
	require.NoError(t, err)
	tests := map[string]struct {
		policy   *classify.Policy
		severity string
		env      remediationv1.Environment
		in       classify.Input
		want     remediationv1.Priority
		rule     string
	}{
		"contract table critical/production": {policy: classify.Default(), severity: "critical", env: "production", want: "P0", rule: "table:critical/production"},
		"contract table critical/unknown":    {policy: classify.Default(), severity: "critical", env: "unknown", want: "P1", rule: "table:critical/unknown"},
		"contract table warning/staging":     {policy: classify.Default(), severity: "warning", env: "staging", want: "P2", rule: "table:warning/staging"},
		"contract table info/unknown":        {policy: classify.Default(), severity: "info", env: "unknown", want: "P3", rule: "table:info/unknown"},
		"test counts as development":         {policy: classify.Default(), severity: "critical", env: "test", want: "P2", rule: "table:critical/development"},
		"criticality high raises one level": {policy: classify.Default(), severity: "warning", env: "staging", want: "P1", rule: "table:warning/staging+criticality:high",
			in: classify.Input{NamespaceLabels: map[string]string{"kubernaut.io/criticality": "high"}}},
		"criticality never goes above P0": {policy: classify.Default(), severity: "critical", env: "production", want: "P0", rule: "table:critical/production",
			in: classify.Input{NamespaceLabels: map[string]string{"kubernaut.io/criticality": "critical"}}},
		"unknown criticality value changes nothing": {policy: classify.Default(), severity: "info", env: "unknown", want: "P3", rule: "table:info/unknown",
			in: classify.Input{NamespaceLabels: map[string]string{"kubernaut.io/criticality": "meh"}}},
		"policy cell overrides the table": {policy: p, severity: "info", env: "production", want: "P1", rule: "table:info/production"},
		"policy keeps untouched cells":    {policy: p, severity: "warning", env: "production", want: "P1", rule: "table:warning/production"},
		"policy criticality": {policy: p, severity: "info", env: "unknown", want: "P0", rule: "table:info/unknown+criticality:critical",
			in: classify.Input{NamespaceLabels: map[string]string{"kubernaut.io/criticality": "critical"}}},
		"CEL rule over namespace labels and severity": {policy: p, severity: "critical", env: "development", want: "P0", rule: "rule:payments-critical",
			in: classify.Input{NamespaceLabels: map[string]string{"team": "payments"}}},
		"CEL rule that does not match": {policy: p, severity: "warning", env: "development", want: "P2", rule: "table:warning/development",
			in: classify.Input{NamespaceLabels: map[string]string{"team": "payments"}}},
		"CEL rule over signal labels": {policy: p, severity: "critical", env: "production", want: "P3", rule: "rule:canary",
			in: classify.Input{Labels: map[string]string{"canary": "true"}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := tc.in
			in.Severity = tc.severity
			got, rule, errs := tc.policy.Priority(in, tc.env)
			assert.Empty(t, errs)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.rule, rule)
		})
	}
}

func TestRuleEvaluationErrorIsNoMatch(t *testing.T) {
	p, err := classify.Parse([]byte(`
rules:
  - name: strict
    expression: 'labels["team"] == "x"'
    priority: P0
`), "1")
	require.NoError(t, err)
	got, rule, errs := p.Priority(classify.Input{Severity: "warning"}, "production")
	assert.Equal(t, remediationv1.PriorityP1, got)
	assert.Equal(t, "table:warning/production", rule)
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "strict")
}

func TestParseRejectsInvalidPolicies(t *testing.T) {
	tests := map[string]struct {
		doc  string
		want []string
	}{
		"not YAML":                {doc: "priorities: [", want: []string{"not a valid policy document"}},
		"unknown field":           {doc: "prioritys: {}", want: []string{"unknown field"}},
		"unknown severity":        {doc: "priorities: {urgent: {production: P0}}", want: []string{`unknown severity "urgent"`}},
		"unknown environment":     {doc: "priorities: {critical: {prod: P0}}", want: []string{`unknown environment "prod"`}},
		"not a priority":          {doc: "priorities: {critical: {production: P9}}", want: []string{`"P9" is not a priority`}},
		"criticality range":       {doc: "criticality: {high: 7}", want: []string{"out of range"}},
		"override environment":    {doc: "environments: [{namespace: a, environment: blue}]", want: []string{`"blue" is not an environment`}},
		"override bad pattern":    {doc: "environments: [{namespace: 'a[', environment: prod}]", want: []string{"pattern"}},
		"rule does not compile":   {doc: "rules: [{name: r, expression: 'signal.severity ==', priority: P0}]", want: []string{"rules[0] (r): expression does not compile"}},
		"rule is not a bool":      {doc: "rules: [{name: r, expression: 'signal.severity', priority: P0}]", want: []string{"must be a bool"}},
		"rule type error":         {doc: "rules: [{name: r, expression: 'signal.severity + 1 == 2', priority: P0}]", want: []string{"does not compile"}},
		"rule unknown variable":   {doc: "rules: [{name: r, expression: 'pod.name == \"x\"', priority: P0}]", want: []string{"undeclared reference"}},
		"rule without name":       {doc: "rules: [{expression: 'true', priority: P0}]", want: []string{"name is empty"}},
		"rule bad priority":       {doc: "rules: [{name: r, expression: 'true', priority: high}]", want: []string{`"high" is not a priority`}},
		"every problem is listed": {doc: "priorities: {critical: {production: P9}}\nrules: [{name: r, expression: '1', priority: P0}]", want: []string{"P9", "must be a bool"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := classify.Parse([]byte(tc.doc), "1")
			require.Error(t, err)
			assert.Nil(t, p)
			for _, w := range tc.want {
				assert.True(t, strings.Contains(err.Error(), w), "error %q should contain %q", err, w)
			}
		})
	}
}

func TestDefaultPolicyFile(t *testing.T) {
	// The policy ConfigMap shipped in deploy/ must load and reproduce the contract's table.
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "deploy", "base", "config", "processing.yaml"))
	require.NoError(t, err)
	var cm corev1.ConfigMap
	require.NoError(t, yaml.UnmarshalStrict(raw, &cm))
	p, err := classify.Parse([]byte(cm.Data[classify.PolicyKey]), "1")
	require.NoError(t, err)
	for sev, row := range classify.DefaultTable() {
		for env, want := range row {
			got, _, _ := p.Priority(classify.Input{Severity: string(sev)}, env)
			assert.Equal(t, want, got, "%s/%s", sev, env)
		}
	}
}
