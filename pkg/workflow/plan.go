package workflow

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// DefaultWorkflowTimeout bounds a workflow whose execution config the API server did not fill in.
const DefaultWorkflowTimeout = 20 * time.Minute

// StepTimeout is the timeout of a step: its own when it sets one; otherwise its action's in the
// catalog (actions.Action.Timeout: a cordon a minute, a rollout five, a drain ten); the
// workflow's executionConfig.stepTimeout is the default for an action without one. a is the zero
// Action for an unknown action.
func StepTimeout(a actions.Action, step common.WorkflowStep, cfg workflowv1.ExecutionConfig) time.Duration {
	if step.Timeout != nil {
		return step.Timeout.Duration
	}
	if a.Timeout > 0 {
		return a.Timeout
	}
	if cfg.StepTimeout != nil {
		return cfg.StepTimeout.Duration
	}
	return 0
}

// Plan is a workflow's steps turned into ordered operations.
type Plan struct {
	// Operations in an order that respects dependsOn and concurrencyLimit: the order in which
	// they start when each takes its whole timeout.
	Operations []common.Operation
	// Estimated is the longest the operations may take (each bounded by its timeout, at most
	// concurrencyLimit at once).
	Estimated time.Duration
	// CriticalPath names the operations on the longest chain.
	CriticalPath []string
}

// PlanError is a workflow that cannot be planned.
type PlanError struct {
	// Reason is the typed reason of the first problem (workflowv1.Reason*).
	Reason string
	// Message lists every problem.
	Message string
	// Results has one entry per step; steps without problems are valid.
	Results []workflowv1.ValidationResult
}

func (e *PlanError) Error() string { return e.Message }

// stepProblem is one thing wrong with one step.
type stepProblem struct {
	reason, message string
}

// NewPlan checks the steps of spec against the action catalog, resolves targets, fills in
// catalog defaults, timeouts and retries, and orders the operations. Every problem of every step
// is reported at once in a *PlanError.
func NewPlan(spec *workflowv1.WorkflowExecutionSpec) (*Plan, error) {
	steps := spec.WorkflowDefinition.Steps
	cfg := spec.ExecutionConfig
	workflowTimeout := durationOr(cfg.WorkflowTimeout, DefaultWorkflowTimeout)
	limit := int(max(cfg.ConcurrencyLimit, 1))

	index := make(map[string]int, len(steps))
	problems := make([][]stepProblem, len(steps))
	add := func(i int, reason, format string, args ...any) {
		problems[i] = append(problems[i], stepProblem{reason, fmt.Sprintf(format, args...)})
	}
	for i, s := range steps {
		if _, dup := index[s.Name]; dup {
			add(i, workflowv1.ReasonInvalidWorkflow, "the name %q is used by an earlier step", s.Name)
			continue
		}
		index[s.Name] = i
	}
	ops := make([]common.Operation, len(steps))
	for i, s := range steps {
		op := common.Operation{Name: s.Name, Action: s.Action, MaxRetries: s.MaxRetries, DependsOn: slices.Clone(s.DependsOn)}
		for _, d := range s.DependsOn {
			switch j, ok := index[d]; {
			case !ok:
				add(i, workflowv1.ReasonInvalidWorkflow, "dependsOn names %q, which is not a step of the workflow", d)
			case j == i:
				add(i, workflowv1.ReasonDependencyCycle, "depends on itself")
			}
		}
		a, ok := actions.Lookup(s.Action)
		timeout := StepTimeout(a, s, cfg)
		if timeout <= 0 && (ok || s.Timeout != nil) {
			add(i, workflowv1.ReasonInvalidWorkflow, "timeout must be greater than zero, got %s", timeout)
		}
		op.Timeout = &metav1.Duration{Duration: timeout}
		if !ok {
			add(i, workflowv1.ReasonUnknownAction, "unknown action %q (known actions: %s)", s.Action, strings.Join(actions.Names(), ", "))
			ops[i] = op
			continue
		}
		target, msg := resolveTarget(a, s.Target, spec.TargetResource)
		if msg != "" {
			add(i, workflowv1.ReasonUnsupportedTarget, "%s", msg)
		}
		op.Target = target
		if ps := a.Validate(s.Parameters); len(ps) > 0 {
			var ve error = &actions.ValidationError{Action: s.Action, Problems: ps}
			add(i, workflowv1.ReasonInvalidParameters, "%s", ve.Error())
		}
		op.Parameters = a.WithDefaults(s.Parameters)
		// An action's own time limit (drain_node's timeout) must fit in the step's.
		if p, ok := a.Param("timeout"); ok && p.Type == actions.ParamDuration {
			if d, err := time.ParseDuration(op.Parameters["timeout"]); err == nil && timeout > 0 && d > timeout {
				add(i, workflowv1.ReasonInvalidParameters, "parameter timeout %s is longer than the step's timeout %s", d, timeout)
			}
		}
		if len(op.Parameters) == 0 {
			op.Parameters = nil
		}
		ops[i] = op
	}
	if err := planError(steps, problems); err != nil {
		return nil, err
	}
	if cycle := findCycle(steps, index); cycle != nil {
		msg := "the steps depend on each other in a cycle: " + strings.Join(cycle, " → ")
		results := make([]workflowv1.ValidationResult, len(steps))
		for i, s := range steps {
			results[i] = workflowv1.ValidationResult{Step: s.Name, Valid: !slices.Contains(cycle, s.Name)}
			if !results[i].Valid {
				results[i].Message, results[i].Reason = msg, workflowv1.ReasonDependencyCycle
			}
		}
		return nil, &PlanError{Reason: workflowv1.ReasonDependencyCycle, Message: msg, Results: results}
	}
	p := schedule(ops, index, limit)
	if p.Estimated > workflowTimeout {
		msg := fmt.Sprintf("the operations may take up to %s (%s, at most %d at once), more than workflowTimeout %s",
			p.Estimated, strings.Join(p.CriticalPath, " → "), limit, workflowTimeout)
		results := make([]workflowv1.ValidationResult, len(steps))
		for i, s := range steps {
			results[i] = workflowv1.ValidationResult{Step: s.Name, Valid: true}
		}
		return nil, &PlanError{Reason: workflowv1.ReasonExceedsWorkflowTimeout, Message: msg, Results: results}
	}
	return p, nil
}

func planError(steps []common.WorkflowStep, problems [][]stepProblem) *PlanError {
	var e *PlanError
	results := make([]workflowv1.ValidationResult, len(steps))
	var msgs []string
	for i, s := range steps {
		results[i] = workflowv1.ValidationResult{Step: s.Name, Valid: len(problems[i]) == 0}
		if len(problems[i]) == 0 {
			continue
		}
		if e == nil {
			e = &PlanError{Reason: problems[i][0].reason}
		}
		parts := make([]string, len(problems[i]))
		for j, p := range problems[i] {
			parts[j] = p.message
		}
		results[i].Reason = problems[i][0].reason
		results[i].Message = text.TruncateBytes(strings.Join(parts, "; "), 2048)
		msgs = append(msgs, "step "+s.Name+": "+strings.Join(parts, "; "))
	}
	if e == nil {
		return nil
	}
	e.Message = strings.Join(msgs, "; ")
	e.Results = results
	return e
}

// resolveTarget returns the step's target, defaulting to the workflow's, with apiVersion filled
// in from the catalog and the namespace from the workflow's target; or a message saying why it
// does not fit the action.
func resolveTarget(a actions.Action, step, workflow *common.TargetResource) (common.TargetResource, string) {
	var t common.TargetResource
	switch {
	case step != nil:
		t = *step
	case workflow != nil:
		t = *workflow
	default:
		return t, "the step has no target and the workflow no targetResource"
	}
	if t.APIVersion == "" {
		for _, k := range a.TargetKinds {
			if k.Kind == t.Kind {
				t.APIVersion = k.APIVersion()
				break
			}
		}
	}
	if !a.AcceptsKind(t.APIVersion, t.Kind) {
		kinds := make([]string, len(a.TargetKinds))
		for i, k := range a.TargetKinds {
			kinds[i] = k.String()
		}
		return t, fmt.Sprintf("action %s acts on %s, not on %s %s %s", a.Name, strings.Join(kinds, ", "), t.APIVersion, t.Kind, t.Name)
	}
	switch {
	case clusterScoped(t.Kind):
		t.Namespace = ""
	case t.Namespace == "" && workflow != nil:
		t.Namespace = workflow.Namespace
	}
	if t.Namespace == "" && !clusterScoped(t.Kind) {
		return t, fmt.Sprintf("the target %s %s has no namespace", t.Kind, t.Name)
	}
	return t, ""
}

func clusterScoped(kind string) bool {
	return kind == actions.KindNode.Kind || kind == actions.KindNamespace.Kind
}

// findCycle returns a dependency cycle as step names, first name repeated at the end, or nil.
func findCycle(steps []common.WorkflowStep, index map[string]int) []string {
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]int, len(steps))
	var path []int
	var cycle []string
	var visit func(i int) bool
	visit = func(i int) bool {
		state[i] = onPath
		path = append(path, i)
		for _, d := range steps[i].DependsOn {
			j, ok := index[d]
			if !ok {
				continue
			}
			switch state[j] {
			case onPath:
				start := slices.Index(path, j)
				for _, k := range path[start:] {
					cycle = append(cycle, steps[k].Name)
				}
				cycle = append(cycle, steps[j].Name)
				return true
			case unseen:
				if visit(j) {
					return true
				}
			}
		}
		path = path[:len(path)-1]
		state[i] = done
		return false
	}
	for i := range steps {
		if state[i] == unseen && visit(i) {
			// The path was followed along dependsOn (from a step to what it waits for); show it
			// in execution order.
			slices.Reverse(cycle)
			return cycle
		}
	}
	return nil
}

// schedule orders the operations as they would start if each took its whole timeout, with at
// most limit running at once, ready operations starting in the order of the steps. The order is
// topological; the finish time of the last is the estimate.
func schedule(ops []common.Operation, index map[string]int, limit int) *Plan {
	n := len(ops)
	start := make([]time.Duration, n)
	finish := make([]time.Duration, n)
	started := make([]bool, n)
	prev := make([]int, n) // the operation whose end let this one start, for the critical path
	for i := range prev {
		prev[i] = -1
	}
	var order []int
	var running []int
	now := time.Duration(0)
	for len(order) < n {
		for i := 0; i < n && len(running) < limit; i++ {
			if started[i] {
				continue
			}
			ready, last := true, -1
			for _, d := range ops[i].DependsOn {
				j := index[d]
				if !started[j] || finish[j] > now {
					ready = false
					break
				}
				if last < 0 || finish[j] > finish[last] {
					last = j
				}
			}
			if !ready {
				continue
			}
			if last < 0 && now > 0 {
				last = latestFinishedAt(order, finish, now)
			}
			started[i], start[i], prev[i] = true, now, last
			finish[i] = now + ops[i].Timeout.Duration
			order = append(order, i)
			running = append(running, i)
		}
		// Advance to the next finish.
		sort.Slice(running, func(a, b int) bool { return finish[running[a]] < finish[running[b]] })
		if len(running) == 0 {
			break // cannot happen without a cycle
		}
		now = finish[running[0]]
		for len(running) > 0 && finish[running[0]] <= now {
			running = running[1:]
		}
	}
	p := &Plan{Operations: make([]common.Operation, 0, n)}
	last := -1
	for _, i := range order {
		p.Operations = append(p.Operations, ops[i])
		if last < 0 || finish[i] > finish[last] {
			last = i
		}
	}
	if last >= 0 {
		p.Estimated = finish[last]
		for i := last; i >= 0; i = prev[i] {
			p.CriticalPath = append(p.CriticalPath, ops[i].Name)
		}
		slices.Reverse(p.CriticalPath)
	}
	return p
}

// latestFinishedAt returns an operation that finished exactly at now (it freed the slot).
func latestFinishedAt(order []int, finish []time.Duration, now time.Duration) int {
	for _, j := range slices.Backward(order) {
		if finish[j] == now {
			return j
		}
	}
	return -1
}

func durationOr(d *metav1.Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return d.Duration
}
