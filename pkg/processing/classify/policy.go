package classify

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"sigs.k8s.io/yaml"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
)

// PolicyKey is the ConfigMap data key that holds the policy document.
const PolicyKey = "policy.yaml"

// DefaultVersion is the policy version recorded when the built-in policy classified a signal.
const DefaultVersion = "default"

// maxRules bounds the rules of one policy; ruleCostLimit bounds the work of one evaluation.
const (
	maxRules      = 100
	ruleCostLimit = 10000
)

// Document is the policy as operators write it (ConfigMap key policy.yaml):
//
//	priorities:          # severity × environment; cells left out keep the contract's default
//	  critical: {production: P0, staging: P1, development: P2, unknown: P1}
//	criticality:         # value of the namespace label kubernaut.io/criticality → levels to raise
//	  critical: 2
//	  high: 1
//	environments:        # namespace overrides, first match wins (exact names or path.Match patterns)
//	  - {namespace: payments, environment: production}
//	  - {namespace: "team-a-*", environment: staging}
//	rules:               # CEL, first match wins, consulted before the table
//	  - name: payments-critical
//	    expression: 'namespaceLabels["team"] == "payments" && signal.severity == "critical"'
//	    priority: P0
type Document struct {
	Priorities   map[string]map[string]string `json:"priorities,omitempty"`
	Criticality  map[string]int               `json:"criticality,omitempty"`
	Environments []EnvironmentOverride        `json:"environments,omitempty"`
	Rules        []RuleSpec                   `json:"rules,omitempty"`
}

// EnvironmentOverride maps namespaces (an exact name or a path.Match pattern) to an environment.
type EnvironmentOverride struct {
	Namespace   string `json:"namespace"`
	Environment string `json:"environment"`
}

// RuleSpec is one CEL rule. The expression must be a bool over these variables:
//   - signal: map(string, string) with keys name, severity, fingerprint, environment, kind,
//     namespace and targetName;
//   - labels, annotations: the signal's labels and annotations, map(string, string);
//   - namespaceLabels: the target namespace's labels, map(string, string).
//
// A missing map key is an evaluation error, which counts as no match: write `"team" in labels`
// or `labels.?team.orValue("") == "x"` for optional keys.
type RuleSpec struct {
	Name       string `json:"name"`
	Expression string `json:"expression"`
	Priority   string `json:"priority"`
}

// Policy is a loaded, validated policy. The zero value is not usable; see Default and Parse.
type Policy struct {
	// Version is the ConfigMap's resourceVersion, or DefaultVersion.
	Version string

	table       map[remediationv1.Severity]map[remediationv1.Environment]remediationv1.Priority
	criticality map[string]int
	envs        []EnvironmentOverride
	rules       []rule
}

type rule struct {
	name     string
	priority remediationv1.Priority
	program  cel.Program
}

var priorities = []remediationv1.Priority{remediationv1.PriorityP0, remediationv1.PriorityP1, remediationv1.PriorityP2, remediationv1.PriorityP3}

func priorityIndex(p remediationv1.Priority) int {
	for i, q := range priorities {
		if q == p {
			return i
		}
	}
	return -1
}

// DefaultTable is the contract's severity × environment table (test counts as development).
func DefaultTable() map[remediationv1.Severity]map[remediationv1.Environment]remediationv1.Priority {
	return remediationv1.DefaultPriorityTable()
}

// DefaultCriticality raises "critical" namespaces by two levels and "high" ones by one.
func DefaultCriticality() map[string]int { return map[string]int{"critical": 2, "high": 1} }

// Default is the built-in policy: the contract's table, the default criticality raise, no
// overrides and no rules.
func Default() *Policy {
	return &Policy{Version: DefaultVersion, table: DefaultTable(), criticality: DefaultCriticality()}
}

var celEnv = func() *cel.Env {
	env, err := cel.NewEnv(
		cel.Variable("signal", cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable("labels", cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable("annotations", cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable("namespaceLabels", cel.MapType(cel.StringType, cel.StringType)),
		cel.OptionalTypes(),
	)
	if err != nil {
		panic(err) // static declarations
	}
	return env
}()

// Parse validates a policy document and compiles its rules; every problem is reported. version
// is recorded in the result (the ConfigMap's resourceVersion).
func Parse(doc []byte, version string) (*Policy, error) {
	var d Document
	if err := yaml.UnmarshalStrict(doc, &d); err != nil {
		return nil, fmt.Errorf("%s is not a valid policy document: %w", PolicyKey, err)
	}
	p := Default()
	p.Version = version
	var errs []error
	for sev, row := range d.Priorities {
		s := remediationv1.Severity(sev)
		if _, ok := p.table[s]; !ok {
			errs = append(errs, fmt.Errorf("priorities: unknown severity %q (want critical, warning or info)", sev))
			continue
		}
		for env, prio := range row {
			e := remediationv1.Environment(env)
			switch e {
			case remediationv1.EnvironmentProduction, remediationv1.EnvironmentStaging, remediationv1.EnvironmentDevelopment,
				remediationv1.EnvironmentTest, remediationv1.EnvironmentUnknown:
			default:
				errs = append(errs, fmt.Errorf("priorities.%s: unknown environment %q (want production, staging, development, test or unknown)", sev, env))
				continue
			}
			if priorityIndex(remediationv1.Priority(prio)) < 0 {
				errs = append(errs, fmt.Errorf("priorities.%s.%s: %q is not a priority (want P0, P1, P2 or P3)", sev, env, prio))
				continue
			}
			p.table[s][e] = remediationv1.Priority(prio)
		}
	}
	if d.Criticality != nil {
		p.criticality = map[string]int{}
		for value, levels := range d.Criticality {
			if levels < 0 || levels > 3 {
				errs = append(errs, fmt.Errorf("criticality.%s: %d levels is out of range 0..3", value, levels))
				continue
			}
			p.criticality[value] = levels
		}
	}
	for i, o := range d.Environments {
		if o.Namespace == "" {
			errs = append(errs, fmt.Errorf("environments[%d]: namespace is empty", i))
		} else if _, err := path.Match(o.Namespace, ""); err != nil {
			errs = append(errs, fmt.Errorf("environments[%d]: namespace pattern %q: %w", i, o.Namespace, err))
		}
		if _, ok := NormalizeEnvironment(o.Environment); !ok {
			errs = append(errs, fmt.Errorf("environments[%d]: %q is not an environment (want production, staging, development or test)", i, o.Environment))
		}
		p.envs = append(p.envs, o)
	}
	if len(d.Rules) > maxRules {
		errs = append(errs, fmt.Errorf("rules: %d rules, at most %d", len(d.Rules), maxRules))
	}
	seen := map[string]bool{}
	for i, r := range d.Rules {
		where := fmt.Sprintf("rules[%d]", i)
		if r.Name != "" {
			where = fmt.Sprintf("rules[%d] (%s)", i, r.Name)
		}
		if r.Name == "" {
			errs = append(errs, fmt.Errorf("%s: name is empty", where))
		} else if seen[r.Name] {
			errs = append(errs, fmt.Errorf("%s: name is used twice", where))
		}
		seen[r.Name] = true
		prio := remediationv1.Priority(r.Priority)
		if priorityIndex(prio) < 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a priority (want P0, P1, P2 or P3)", where, r.Priority))
		}
		prog, err := compile(r.Expression)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		p.rules = append(p.rules, rule{name: r.Name, priority: prio, program: prog})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

func compile(expr string) (cel.Program, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, errors.New("expression is empty")
	}
	ast, iss := celEnv.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("expression does not compile: %w", iss.Err())
	}
	if ast.OutputType() != cel.BoolType {
		return nil, fmt.Errorf("expression must be a bool, not %s", ast.OutputType())
	}
	prog, err := celEnv.Program(ast, cel.CostLimit(ruleCostLimit))
	if err != nil {
		return nil, fmt.Errorf("expression cannot run: %w", err)
	}
	return prog, nil
}

func (p *Policy) namespaceOverride(ns string) (remediationv1.Environment, bool) {
	for _, o := range p.envs {
		if ok, _ := path.Match(o.Namespace, ns); ok || o.Namespace == ns {
			return NormalizeEnvironment(o.Environment)
		}
	}
	return remediationv1.EnvironmentUnknown, false
}

// Result is the classification of one signal.
type Result struct {
	Environment       remediationv1.Environment
	EnvironmentSource processingv1.EnvironmentSource
	Priority          remediationv1.Priority
	// Rule names what decided the priority: "rule:<name>", or "table:<severity>/<environment>"
	// optionally followed by "+criticality:<value>".
	Rule string
	// RuleErrors are the rules whose evaluation failed (treated as no match).
	RuleErrors []error
}

// Classify decides environment and priority.
func (p *Policy) Classify(in Input) Result {
	env, src := p.Environment(in)
	res := Result{Environment: env, EnvironmentSource: src}
	res.Priority, res.Rule, res.RuleErrors = p.Priority(in, env)
	return res
}

// Priority decides the business priority: the first CEL rule that matches, otherwise the table
// cell of severity × environment (test counts as development unless the table has a test
// column), raised by the namespace's kubernaut.io/criticality label.
func (p *Policy) Priority(in Input, env remediationv1.Environment) (remediationv1.Priority, string, []error) {
	var errs []error
	if len(p.rules) > 0 {
		vars := map[string]any{
			"signal": map[string]string{
				"name": in.SignalName, "severity": in.Severity, "fingerprint": in.Fingerprint, "environment": string(env),
				"kind": in.Kind, "namespace": in.Namespace, "targetName": in.Name,
			},
			"labels":          orEmpty(in.Labels),
			"annotations":     orEmpty(in.Annotations),
			"namespaceLabels": orEmpty(in.NamespaceLabels),
		}
		for _, r := range p.rules {
			out, _, err := r.program.Eval(vars)
			if err != nil {
				errs = append(errs, fmt.Errorf("rule %s: %w", r.name, err))
				continue
			}
			if out == types.True {
				return r.priority, "rule:" + r.name, errs
			}
		}
	}
	sev := remediationv1.Severity(in.Severity)
	row, ok := p.table[sev]
	if !ok {
		sev = remediationv1.SeverityWarning
		row = p.table[sev]
	}
	column := env
	if _, ok := row[column]; !ok && column == remediationv1.EnvironmentTest {
		column = remediationv1.EnvironmentDevelopment
	}
	prio, ok := row[column]
	if !ok {
		column = remediationv1.EnvironmentUnknown
		prio = row[column]
	}
	ruleName := fmt.Sprintf("table:%s/%s", sev, column)
	if value := strings.ToLower(strings.TrimSpace(in.NamespaceLabels[LabelCriticality])); value != "" {
		if levels := p.criticality[value]; levels > 0 {
			i := max(priorityIndex(prio)-levels, 0)
			if priorities[i] != prio {
				prio = priorities[i]
				ruleName += "+criticality:" + value
			}
		}
	}
	return prio, ruleName, errs
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
