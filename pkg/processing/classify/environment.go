// Package classify decides the environment and the business priority of a signal: pure logic
// over the signal, its namespace and the operator's policy (a ConfigMap, see Parse), with CEL
// rules compiled and type-checked when the policy is loaded.
package classify

import (
	"strings"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
)

// Label keys read on namespaces and signals.
const (
	// LabelEnvironment is the namespace (or signal) label that names the environment.
	LabelEnvironment = remediationv1.LabelEnvironment
	// LabelCriticality is the namespace label that raises the business priority (for example "high").
	LabelCriticality = "kubernaut.io/criticality"
	// LabelEnvironmentShort and LabelEnv are the conventional environment labels.
	LabelEnvironmentShort = "environment"
	LabelEnv              = "env"
)

// NormalizeEnvironment maps an environment name to the contract's values; ok is false when the
// name is not one of them or a known spelling (prod, stg, dev, qa, …).
func NormalizeEnvironment(s string) (remediationv1.Environment, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "production", "prod", "prd", "live":
		return remediationv1.EnvironmentProduction, true
	case "staging", "stage", "stg", "preprod", "pre-production", "uat":
		return remediationv1.EnvironmentStaging, true
	case "development", "dev", "develop":
		return remediationv1.EnvironmentDevelopment, true
	case "test", "testing", "qa":
		return remediationv1.EnvironmentTest, true
	}
	return remediationv1.EnvironmentUnknown, false
}

// Input is what classification looks at.
type Input struct {
	// SignalName, Severity, Fingerprint and Labels/Annotations are the signal's.
	SignalName  string
	Severity    string
	Fingerprint string
	Labels      map[string]string
	Annotations map[string]string
	// Kind, Namespace and Name are the signal's target.
	Kind      string
	Namespace string
	Name      string
	// NamespaceLabels are the labels of the target's namespace (nil when unknown).
	NamespaceLabels map[string]string
}

// Environment decides the environment and records its source. Sources, in order: the namespace
// label kubernaut.io/environment; the namespace labels environment, env; the signal's own label
// (kubernaut.io/environment, environment, env); the policy's namespace overrides; the namespace
// name's parts (prod, production, staging, stg, dev, test, …); otherwise unknown. A value that
// is not an environment is skipped and the next source is consulted.
func (p *Policy) Environment(in Input) (remediationv1.Environment, processingv1.EnvironmentSource) {
	if env, ok := NormalizeEnvironment(in.NamespaceLabels[LabelEnvironment]); ok {
		return env, processingv1.EnvironmentFromNamespaceLabel
	}
	for _, k := range []string{LabelEnvironmentShort, LabelEnv} {
		if env, ok := NormalizeEnvironment(in.NamespaceLabels[k]); ok {
			return env, processingv1.EnvironmentFromNamespaceEnvLabel
		}
	}
	for _, k := range []string{LabelEnvironment, LabelEnvironmentShort, LabelEnv} {
		if env, ok := NormalizeEnvironment(in.Labels[k]); ok {
			return env, processingv1.EnvironmentFromSignalLabel
		}
	}
	if p != nil && in.Namespace != "" {
		if env, ok := p.namespaceOverride(in.Namespace); ok {
			return env, processingv1.EnvironmentFromPolicyOverride
		}
	}
	if env, ok := environmentFromName(in.Namespace); ok {
		return env, processingv1.EnvironmentFromNamespaceName
	}
	return remediationv1.EnvironmentUnknown, processingv1.EnvironmentFromDefault
}

// environmentFromName looks for an environment word among the parts of a namespace name
// ("shop-prod" → production, "payments-stg-eu" → staging); production wins over the others
// when a name holds several.
func environmentFromName(ns string) (remediationv1.Environment, bool) {
	if ns == "" {
		return remediationv1.EnvironmentUnknown, false
	}
	parts := strings.FieldsFunc(strings.ToLower(ns), func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	found := map[remediationv1.Environment]bool{}
	for _, part := range parts {
		switch part {
		case "prod", "production", "prd":
			found[remediationv1.EnvironmentProduction] = true
		case "staging", "stg", "stage":
			found[remediationv1.EnvironmentStaging] = true
		case "dev", "development":
			found[remediationv1.EnvironmentDevelopment] = true
		case "test", "testing", "qa":
			found[remediationv1.EnvironmentTest] = true
		}
	}
	for _, env := range []remediationv1.Environment{remediationv1.EnvironmentProduction, remediationv1.EnvironmentStaging,
		remediationv1.EnvironmentDevelopment, remediationv1.EnvironmentTest} {
		if found[env] {
			return env, true
		}
	}
	return remediationv1.EnvironmentUnknown, false
}
