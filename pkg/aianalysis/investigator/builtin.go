package investigator

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// Builtin is the offline, deterministic investigator: a few rules over the enriched Kubernetes
// context, each of which fires only on exact facts. It reasons from the alert it was given, not
// from any fact lying around: the alert's name and its `reason` label select which rules may
// apply (ClassifySignal, SignalTable), the alert's `container` label restricts the facts to that
// container, only the workload's current pods (those of the current ReplicaSet) count as
// evidence for an action, and a fact with a time counts only when it happened at most
// EvidenceWindow before the alert began firing (signalLabels and firingTime of the AIAnalysis),
// or since. Anything the rules cannot explain ends as ManualReviewRequired with what was seen
// and what was set aside; a wrong action is far worse than none.
//
// Signal → rules (the order in which they are tried):
//
//	KubePodCrashLooping                                   oom, rollback (crash loop), restart
//	KubeContainerWaiting, reason ImagePullBackOff|ErrImagePull|InvalidImageName|ErrImageNeverPull
//	                                                      rollback (image pull)
//	KubeContainerWaiting, any other reason                none: the configuration needs a person
//	KubePodOOMKilled, *OOM* names, reason=OOMKilled        oom
//	*Memory* names (not overcommit or quota)              oom
//	KubePodNotReady                                       oom, rollback, restart, unschedulable
//	KubeDeploymentReplicasMismatch, KubeDeploymentRolloutStuck, KubeStatefulSetReplicasMismatch,
//	KubeStatefulSetUpdateNotRolledOut, KubeDaemonSetRolloutStuck
//	                                                      oom, rollback, restart, unschedulable
//	KubeHpaMaxedOut                                       hpa
//	KubeNodeNotReady, KubeNodeUnreachable                 node (NotReady)
//	KubeNodePressure                                      node (the pressure its `condition` names)
//	latency, error-rate, SLO names                        none
//	the other kubernetes-mixin alerts                     none
//	any other name                                        oom, rollback — only with a `container`
//	                                                      label and strong evidence about it
//
// Rules:
//   - node: the target Node is NotReady, or under the pressure the alert names → cordon_node
//     (then drain_node when AllowDrain); recovered → NoActionRequired.
//   - oom: the alerting container of a current pod was OOMKilled in the evidence window →
//     increase_resources on the owning workload, memory limit × MemoryFactor capped at MaxMemory.
//     A container without a memory limit in its pod template (the kill came from the node, not
//     from its limit), a container that is not in the template, or a limit at the cap → manual.
//   - rollback: crash loop or image pull failure of pods of the current revision, which became
//     current in the window before the alert began firing and before the failures began, with a
//     previous revision → rollback_deployment.
//   - restart: repeated, recent liveness-probe failures of current pods without a rollout in the
//     window → rollout_restart.
//   - hpa: HPA at its maximum while saturated (ScalingLimited, desired above max, or a metric
//     above its target) → update_hpa raising maxReplicas by HPAFactor.
//   - unschedulable: pods cannot be scheduled → manual review that says why.
//
// Not guessed: a crash loop with no recent change, an unschedulable pod, healthy pods (latency
// or error-rate alerts), a missing target, an OOM without a memory limit to scale, facts about
// another container, another revision or an older incident.
//
// A truncated context (kubernetesContext.truncated) lowers the confidence by TruncationPenalty
// when the cut part is one the rule that fired reads (pods and pod conditions for the pod rules,
// events for rollback and restart, the workload's containers for oom; a cut this investigator
// does not know is assumed to matter), which with the default approval policy means a person
// approves; with no pods left at all the pod rules abstain.
type Builtin struct {
	// MemoryFactor multiplies the memory limit after an OOMKill (default 1.5).
	MemoryFactor float64
	// MaxMemory caps the new memory limit (default 8Gi).
	MaxMemory resource.Quantity
	// HPAFactor multiplies the HPA's maxReplicas (default 1.5, at least +1).
	HPAFactor float64
	// MaxHPAReplicas caps the new maxReplicas (default 100).
	MaxHPAReplicas int32
	// EvidenceWindow: a fact with a time (an OOM kill, a liveness failure) explains the signal
	// only when it happened at most this long before the alert began firing, or since (default
	// 1h; never more than the investigation window).
	EvidenceWindow time.Duration
	// TruncationPenalty is taken off the confidence when the context was cut where the rule
	// that fired reads it (default 0.15).
	TruncationPenalty float64
}

// NewBuiltin returns the builtin investigator with its defaults.
func NewBuiltin() *Builtin {
	return &Builtin{MemoryFactor: 1.5, MaxMemory: resource.MustParse("8Gi"), HPAFactor: 1.5, MaxHPAReplicas: 100,
		EvidenceWindow: time.Hour, TruncationPenalty: 0.15}
}

// Name is "builtin".
func (b *Builtin) Name() string { return ProviderBuiltin }

// Confidence levels of the rules (the approval policy's default threshold is 0.8).
const (
	confStrong   = 0.9
	confGood     = 0.85
	confModerate = 0.7
)

// clockSkew is how much later than the alert's start a rollout may seem to begin and still be
// counted as before it (the clocks of Prometheus and the API server differ a little).
const clockSkew = time.Minute

// maxSetAside bounds the facts set aside that the evidence cites.
const maxSetAside = 5

// facts is the request with the few derived facts every rule reads.
type facts struct {
	req      Request
	kc       *common.KubernetesContext
	ns       string
	target   common.TargetResource
	workload *common.TargetResource
	now      time.Time
	window   time.Duration

	// class is what the alert says is wrong; it selects the rules.
	class SignalClass
	// container is the alert's `container` label ("" when it names none).
	container string
	// anchor is when the alert began firing (firingTime), or now when that is unknown.
	anchor time.Time
	firing bool
	// lookback is how long before anchor a fact may have happened and still count.
	lookback time.Duration
	// currentRS is the current revision's pods' owner, "ReplicaSet/<name>", "" when unknown.
	currentRS string
	// setAside lists facts the rules did not count (other container, other revision, older).
	setAside []string
}

func ts(t *metaTime) string {
	if t == nil {
		return "unknown time"
	}
	return t.UTC().Format(time.RFC3339)
}

func tstr(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (b *Builtin) newFacts(req Request) *facts {
	sig := req.Signal
	f := &facts{req: req, kc: sig.KubernetesContext, ns: sig.Namespace, target: SignalTarget(sig), now: req.Now, window: window(req.Scope),
		class: ClassifySignal(sig.SignalName, sig.SignalLabels)}
	f.container = AlertingContainer(f.class, sig.SignalLabels)
	if f.kc != nil && f.kc.CollectedAt != nil {
		f.now = f.kc.CollectedAt.Time
	}
	f.anchor = f.now
	if sig.FiringTime != nil && !sig.FiringTime.IsZero() {
		f.firing = true
		if sig.FiringTime.Time.Before(f.now) {
			f.anchor = sig.FiringTime.Time
		}
	}
	f.lookback = b.EvidenceWindow
	if f.lookback <= 0 || f.lookback > f.window {
		f.lookback = f.window
	}
	if f.kc != nil {
		if w := f.kc.Workload; w != nil {
			f.workload = &common.TargetResource{APIVersion: APIVersionOf(w.Kind), Kind: w.Kind, Namespace: f.ns, Name: w.Name}
		}
		if r := f.kc.Rollout; r != nil && r.Current != nil && r.Current.Name != "" && f.workload != nil && f.workload.Kind == "Deployment" {
			f.currentRS = "ReplicaSet/" + r.Current.Name
		}
	}
	return f
}

// AlertingContainer is the container an alert is about: its `container` label when the alert
// comes from a per-container series (its class says so and it names the pod too), else "".
func AlertingContainer(c SignalClass, labels map[string]string) string {
	if !c.PerContainer || labels["pod"] == "" {
		return ""
	}
	return labels["container"]
}

// recent reports whether t lies in the evidence window: at most lookback before the alert
// began firing, or later.
func (f *facts) recent(t *metaTime) bool {
	return t != nil && !t.Time.Before(f.anchor.Add(-f.lookback))
}

// alerting reports whether container is the one the alert names (any, when it names none).
func (f *facts) alerting(container string) bool { return f.container == "" || container == f.container }

// current reports whether p belongs to the workload's current revision (true when unknown).
func (f *facts) current(p *common.PodSummary) bool {
	return f.currentRS == "" || !strings.HasPrefix(p.Owner, "ReplicaSet/") || p.Owner == f.currentRS
}

func (f *facts) aside(line string) {
	if len(f.setAside) < maxSetAside {
		f.setAside = append(f.setAside, "set aside: "+text.TruncateBytes(line, 480))
	}
}

// signalLine says which alert is investigated and which rules it lets apply.
func (f *facts) signalLine() string {
	sig := f.req.Signal
	var labels []string
	for _, k := range []string{"reason", "container", "pod", "condition", "horizontalpodautoscaler", "node"} {
		v := sig.SignalLabels[k]
		if k == "container" {
			v = f.container // a scrape target's container label is not the alert's
		}
		if v != "" {
			labels = append(labels, k+"="+v)
		}
	}
	name := sig.SignalName
	if len(labels) > 0 {
		name += " (" + strings.Join(labels, ", ") + ")"
	}
	when := "firing time unknown, facts weighed from the time of analysis"
	if f.firing {
		when = "firing since " + tstr(sig.FiringTime.Time)
	}
	if nt := sig.NamedTarget; nt != nil {
		when += ", named " + TargetString(nt)
	}
	rules := "none"
	if len(f.class.Rules) > 0 {
		rs := make([]string, len(f.class.Rules))
		for i, r := range f.class.Rules {
			rs[i] = string(r)
		}
		rules = strings.Join(rs, ", ")
	}
	return text.TruncateBytes(fmt.Sprintf("signal %s, %s: class %q, rules that may apply: %s", name, when, f.class.Name, rules), 1024)
}

// Investigate applies the rules the signal selects.
func (b *Builtin) Investigate(_ context.Context, req Request) (Finding, error) {
	f := b.newFacts(req)
	out := b.investigate(f)
	ev := make([]string, 0, len(out.Evidence)+len(f.setAside)+1)
	ev = append(ev, f.signalLine())
	ev = append(ev, out.Evidence...)
	out.Evidence = append(ev, f.setAside...)
	return out, nil
}

func (b *Builtin) investigate(f *facts) Finding {
	if f.kc == nil {
		return manual(f, "no Kubernetes context was collected for the signal",
			[]string{"kubernetesContext: absent"})
	}
	if f.kc.TargetNotFound {
		return manual(f, fmt.Sprintf("the target %s was not found when the signal was processed", TargetString(&f.target)),
			[]string{fmt.Sprintf("targetNotFound: true (%s)", TargetString(&f.target))})
	}
	c := f.class
	if len(c.Rules) == 0 {
		return manual(f, fmt.Sprintf("no builtin rule applies to signal %q (%s: %s); the cluster facts: %s", f.req.Signal.SignalName, c.Name, c.Why, healthSummary(f)),
			healthEvidence(f))
	}
	if c.Has(RuleNode) {
		if f.target.Kind != "Node" {
			return manual(f, fmt.Sprintf("signal %q is about a node, but its target is %s", f.req.Signal.SignalName, TargetString(&f.target)), healthEvidence(f))
		}
		return b.nodeRule(f)
	}
	if f.target.Kind == "Node" {
		return manual(f, fmt.Sprintf("signal %q is about pods or workloads (%s), but its target is %s", f.req.Signal.SignalName, c.Name, TargetString(&f.target)), healthEvidence(f))
	}
	if !c.Known && f.container == "" {
		return manual(f, fmt.Sprintf("signal %q is not one the builtin rules know and names no container: its cause cannot be told from the cluster facts (%s)", f.req.Signal.SignalName, healthSummary(f)),
			healthEvidence(f))
	}
	if len(f.kc.Pods) == 0 && !c.Has(RuleHPA) {
		if cuts := f.cutsFor(RuleOOM); len(cuts) > 0 {
			return manual(f, "the Kubernetes context was truncated and holds no pods ("+strings.Join(cuts, "; ")+"): the facts the rules need were cut",
				[]string{"truncated: " + strings.Join(f.kc.Truncated, "; ")})
		}
	}
	for _, r := range c.Rules {
		var out Finding
		var ok bool
		switch r {
		case RuleOOM:
			out, ok = b.oomRule(f)
		case RuleRollback:
			out, ok = b.failureRule(f)
		case RuleRestart:
			out, ok = b.livenessRule(f)
		case RuleHPA:
			out, ok = b.hpaRule(f)
		case RuleUnschedulable:
			out, ok = unschedulableRule(f)
		}
		if ok {
			return b.finish(f, r, out)
		}
	}
	return manual(f, fmt.Sprintf("the cluster facts do not explain signal %q: %s", f.req.Signal.SignalName, healthSummary(f)),
		healthEvidence(f))
}

// finish lowers the confidence of a recommendation whose facts were cut, and lets an unknown
// signal lead to an action only on strong evidence.
func (b *Builtin) finish(f *facts, rule Rule, out Finding) Finding {
	if out.Outcome != aiv1.OutcomeActionRecommended {
		return out
	}
	if held := f.heldByController(out); held != nil {
		return *held
	}
	if cuts := f.cutsFor(rule); len(cuts) > 0 && b.TruncationPenalty > 0 {
		before := out.Confidence
		out.Confidence = math.Max(0, out.Confidence-b.TruncationPenalty)
		for i := range out.Recommendations {
			out.Recommendations[i].Confidence = math.Max(0, out.Recommendations[i].Confidence-b.TruncationPenalty)
		}
		out.Evidence = append(out.Evidence, text.TruncateBytes(fmt.Sprintf("the context was truncated where the %s rule reads it (%s): confidence lowered from %.2f to %.2f",
			rule, strings.Join(cuts, "; "), before, out.Confidence), 1024))
	}
	if !f.class.Known && out.Recommendations[0].Confidence < confStrong {
		top := out.Recommendations[0]
		return manual(f, fmt.Sprintf("signal %q is not one the builtin rules know; %s would be the %s rule's answer for container %s, but its evidence is not strong enough (confidence %.2f, below %.2f) to act on an unknown signal",
			f.req.Signal.SignalName, top.Action, rule, f.container, top.Confidence, confStrong), out.Evidence)
	}
	return out
}

// heldByController turns a recommendation that would change a workload another controller
// controls (an operator's resource, next in the owner chain) into a manual review: that
// controller would undo the change, so the fix belongs in its resource, which no catalog action
// changes. The root cause stays what the rule found. Nil when no step targets such a workload.
func (f *facts) heldByController(out Finding) *Finding {
	for _, rec := range out.Recommendations {
		for _, s := range rec.WorkflowSteps {
			c := ControllerOf(f.req.Signal, s.Target)
			if c == nil {
				continue
			}
			why := fmt.Sprintf("the fix would be %s on %s, but %s %s %s controls it and would undo a change made to it: the change belongs in that %s",
				s.Action, TargetString(s.Target), c.APIVersion, c.Kind, c.Name, c.Kind)
			return &Finding{
				Outcome:            aiv1.OutcomeManualReviewRequired,
				RootCause:          out.RootCause,
				Summary:            fmt.Sprintf("No automatic action for %s on %s: %s. A person must review it.", f.req.Signal.SignalName, TargetString(&f.target), why),
				Evidence:           append(out.Evidence, fmt.Sprintf("ownerChain: %s is controlled by %s %s", TargetString(s.Target), c.Kind, c.Name)),
				Risk:               aiv1.RiskLow,
				ManualReviewReason: why,
			}
		}
	}
	return nil
}

// cutsFor returns the notes of kubernetesContext.truncated that matter to rule.
func (f *facts) cutsFor(rule Rule) []string {
	var out []string
	for _, n := range f.kc.Truncated {
		if truncationMatters(n, rule) {
			out = append(out, n)
		}
	}
	return out
}

func truncationMatters(note string, rule Rule) bool {
	podRule := rule == RuleOOM || rule == RuleRollback || rule == RuleRestart
	n := strings.ToLower(note)
	switch {
	case strings.Contains(n, "messages shortened"), strings.Contains(n, "healthy container"),
		strings.Contains(n, "namespace annotations"), strings.HasPrefix(n, "nodeconditions"),
		strings.Contains(n, "containers other than"), strings.Contains(n, "container other than"):
		// Processing keeps the alert's container whole; the others are not this alert's facts.
		return false
	case strings.Contains(n, "event"):
		return rule == RuleRollback || rule == RuleRestart
	case strings.Contains(n, "workload.containers"):
		return rule == RuleOOM
	case strings.Contains(n, "pod"):
		return podRule
	case strings.Contains(n, "node"):
		return false // the node rule finds its node or says it is missing
	}
	return true // a cut this investigator does not know: assume it matters
}

// manual is a ManualReviewRequired finding.
func manual(f *facts, why string, evidence []string) Finding {
	return Finding{
		Outcome:            aiv1.OutcomeManualReviewRequired,
		RootCause:          "not determined: " + why,
		Summary:            fmt.Sprintf("No automatic action for %s on %s: %s. A person must review it.", f.req.Signal.SignalName, TargetString(&f.target), why),
		Evidence:           evidence,
		Confidence:         0,
		Risk:               aiv1.RiskLow,
		ManualReviewReason: why,
	}
}

// recommend is an ActionRecommended finding with one recommendation (and optional alternatives).
func recommend(rootCause, summary string, evidence []string, confidence float64, recs ...aiv1.Recommendation) Finding {
	for i := range recs {
		recs[i].ID = fmt.Sprintf("rec-%d", i+1)
		recs[i].RiskLevel = StepsRisk(recs[i].WorkflowSteps)
	}
	return Finding{
		Outcome: aiv1.OutcomeActionRecommended, RootCause: rootCause, Summary: summary, Evidence: evidence,
		Confidence: confidence, Risk: recs[0].RiskLevel, Recommendations: recs,
	}
}

// StepsRisk is the highest catalog risk of the steps' actions (high for an unknown action).
func StepsRisk(steps []common.WorkflowStep) aiv1.RiskLevel {
	risk := aiv1.RiskLow
	for _, s := range steps {
		a, ok := actions.Lookup(s.Action)
		r := aiv1.RiskHigh
		if ok {
			r = aiv1.RiskLevel(a.Risk)
		}
		if riskRank(r) > riskRank(risk) {
			risk = r
		}
	}
	return risk
}

func riskRank(r aiv1.RiskLevel) int {
	switch r {
	case aiv1.RiskLow:
		return 1
	case aiv1.RiskMedium:
		return 2
	case aiv1.RiskHigh:
		return 3
	}
	return 0
}

func step(name string, action actions.Name, target common.TargetResource, params map[string]string, dependsOn ...string) common.WorkflowStep {
	t := target
	return common.WorkflowStep{Name: name, Action: string(action), Target: &t, Parameters: params, DependsOn: dependsOn}
}

// ---- node ----

var pressureConditions = []string{"MemoryPressure", "DiskPressure", "PIDPressure"}

// nodeProblem reports whether problem is what the alert is about: NotReady for the not-ready
// alerts, the pressure its `condition` label names (any pressure without one) for KubeNodePressure.
func (f *facts) nodeProblem(problem string) bool {
	if f.class.Name == classNodeDown.Name {
		return problem == "NotReady"
	}
	cond := f.req.Signal.SignalLabels["condition"]
	if problem == "NotReady" {
		return false
	}
	return cond == "" || cond == problem
}

func (b *Builtin) nodeRule(f *facts) Finding {
	var node *common.NodeSummary
	for i := range f.kc.Nodes {
		if f.kc.Nodes[i].Name == f.target.Name {
			node = &f.kc.Nodes[i]
		}
	}
	if node == nil {
		return manual(f, fmt.Sprintf("node %s is not described in the context", f.target.Name), []string{"nodes: no entry for " + f.target.Name})
	}
	var problems, others, evidence []string
	notReady := node.Ready == "False" || node.Ready == "Unknown"
	if notReady {
		if f.nodeProblem("NotReady") {
			problems = append(problems, "NotReady")
		} else {
			others = append(others, "NotReady")
		}
	}
	for _, c := range node.Conditions {
		if c.Type == "Ready" {
			evidence = append(evidence, fmt.Sprintf("node %s condition Ready=%s reason=%s since %s", node.Name, c.Status, c.Reason, ts(c.LastTransitionTime)))
		}
		for _, p := range pressureConditions {
			if c.Type == p && c.Status == "True" {
				if f.nodeProblem(p) {
					problems = append(problems, p)
				} else {
					others = append(others, p)
				}
				evidence = append(evidence, fmt.Sprintf("node %s condition %s=True reason=%s since %s", node.Name, p, c.Reason, ts(c.LastTransitionTime)))
			}
		}
	}
	if notReady && len(evidence) == 0 {
		evidence = append(evidence, fmt.Sprintf("node %s Ready=%s", node.Name, node.Ready))
	}
	if len(problems) == 0 {
		if len(others) > 0 {
			return manual(f, fmt.Sprintf("what signal %q reports no longer holds on node %s, but the node now shows %s: that is another problem, for its own alert or a person",
				f.req.Signal.SignalName, node.Name, strings.Join(others, " and ")), evidence)
		}
		return Finding{
			Outcome:    aiv1.OutcomeNoActionRequired,
			RootCause:  fmt.Sprintf("node %s is Ready with no pressure condition: it has recovered", node.Name),
			Summary:    fmt.Sprintf("Node %s is Ready and under no pressure now; nothing to do.", node.Name),
			Evidence:   []string{fmt.Sprintf("node %s Ready=%s, unschedulable=%t, no pressure condition True", node.Name, node.Ready, node.Unschedulable)},
			Confidence: confGood, Risk: aiv1.RiskLow,
		}
	}
	evidence = append(evidence, fmt.Sprintf("node %s unschedulable=%t, %d pods bound", node.Name, node.Unschedulable, node.PodCount))
	target := common.TargetResource{APIVersion: "v1", Kind: "Node", Name: node.Name}
	rootCause := fmt.Sprintf("node %s is %s", node.Name, strings.Join(problems, " and "))
	var steps []common.WorkflowStep
	if !node.Unschedulable {
		steps = append(steps, step("cordon-node", actions.CordonNode, target, nil))
	}
	if f.req.AllowDrain {
		var deps []string
		if len(steps) > 0 {
			deps = []string{"cordon-node"}
		}
		steps = append(steps, step("drain-node", actions.DrainNode, target, map[string]string{"ignoreDaemonSets": "true"}, deps...))
	}
	if len(steps) == 0 {
		return manual(f, fmt.Sprintf("%s but it is already cordoned and draining is not allowed by policy", rootCause), evidence)
	}
	conf := confGood
	if problems[0] == "NotReady" {
		conf = confStrong
	}
	desc := fmt.Sprintf("Cordon node %s so that no new pods are placed on it", node.Name)
	if len(steps) == 2 || steps[0].Action == string(actions.DrainNode) {
		desc = fmt.Sprintf("Cordon and drain node %s so that its pods move to healthy nodes", node.Name)
	}
	return recommend(rootCause, fmt.Sprintf("Node %s is %s; %s.", node.Name, strings.Join(problems, " and "), strings.ToLower(desc[:1])+desc[1:]), evidence, conf,
		aiv1.Recommendation{Action: steps[0].Action, Description: desc, Confidence: conf,
			Rationale: "a node that is not ready or under resource pressure keeps receiving pods unless it is cordoned", WorkflowSteps: steps})
}

// ---- oom ----

type oomHit struct {
	pod       string
	container string
	at        *metaTime
	restarts  int32
	limit     string
	request   string
}

func (b *Builtin) oomRule(f *facts) (Finding, bool) {
	var hits []oomHit
	var stale []string
	for i := range f.kc.Pods {
		p := &f.kc.Pods[i]
		for _, c := range p.Containers {
			terminatedNow := c.State == "Terminated" && c.Reason == "OOMKilled"
			if !terminatedNow && c.LastTerminationReason != "OOMKilled" {
				continue
			}
			at := c.LastTerminatedAt
			switch {
			case !f.alerting(c.Name):
				stale = append(stale, fmt.Sprintf("pod %s container %s was OOMKilled (%s), but the alert is about container %s", p.Name, c.Name, ts(at), f.container))
			case !f.current(p):
				stale = append(stale, fmt.Sprintf("pod %s container %s was OOMKilled (%s), but the pod belongs to %s, not to the current revision %s", p.Name, c.Name, ts(at), p.Owner, f.currentRS))
			case !terminatedNow && !f.recent(at):
				stale = append(stale, fmt.Sprintf("pod %s container %s was last OOMKilled at %s, more than %s before the alert began firing (%s): it does not explain this alert",
					p.Name, c.Name, ts(at), dur(f.lookback), tstr(f.anchor)))
			default:
				hits = append(hits, oomHit{pod: p.Name, container: c.Name, at: at, restarts: c.RestartCount, limit: c.Limits["memory"], request: c.Requests["memory"]})
			}
		}
	}
	if len(hits) == 0 {
		for _, s := range stale {
			f.aside(s)
		}
		if len(stale) > 0 && len(f.class.Rules) == 1 {
			// The alert is about an OOM kill, and the kills in the context are not this one.
			return manual(f, "the OOM kills in the context do not explain the alert: "+stale[0], nil), true
		}
		return Finding{}, false
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].restarts > hits[j].restarts })
	h := hits[0]
	var evidence []string
	for _, x := range hits {
		evidence = append(evidence, fmt.Sprintf("pod %s container %s: last terminated OOMKilled (exit 137) at %s, restartCount=%d", x.pod, x.container, ts(x.at), x.restarts))
	}
	for _, s := range stale {
		f.aside(s)
	}
	rootCause := fmt.Sprintf("container %s of %s exceeds its memory limit and is OOMKilled", h.container, f.workloadString())
	// The template's values are what increase_resources changes: when the context has the
	// template, they are the ones that count (a pod's limit may come from a LimitRange default or
	// an older template).
	if f.kc.Workload != nil && len(f.kc.Workload.Containers) > 0 {
		var spec *common.ContainerSpecSummary
		for i := range f.kc.Workload.Containers {
			if f.kc.Workload.Containers[i].Name == h.container {
				spec = &f.kc.Workload.Containers[i]
			}
		}
		if spec == nil {
			return manual(f, rootCause+fmt.Sprintf(", but container %s is not in the pod template of %s (an injected sidecar?): increase_resources cannot change it", h.container, f.workloadString()), evidence), true
		}
		if spec.Limits["memory"] == "" && h.limit != "" {
			evidence = append(evidence, fmt.Sprintf("pod %s has memory limit %s, but the pod template of %s sets none (a LimitRange default?)", h.pod, h.limit, f.workloadString()))
			return manual(f, fmt.Sprintf("container %s of %s was OOMKilled at its memory limit %s, but that limit does not come from its pod template (a LimitRange default?): the new limit is a person's choice",
				h.container, f.workloadString(), h.limit), evidence), true
		}
		h.limit, h.request = spec.Limits["memory"], spec.Requests["memory"]
	}
	evidence = append(evidence, fmt.Sprintf("container %s memory request=%s limit=%s", h.container, orNone(h.request), orNone(h.limit)))
	if f.workload == nil || !acceptsKind(actions.IncreaseResources, f.workload) {
		return manual(f, rootCause+", but it has no Deployment, StatefulSet or DaemonSet owner whose resources could be raised", evidence), true
	}
	if h.limit == "" {
		return manual(f, fmt.Sprintf("container %s of %s was OOMKilled but has no memory limit: the kill came from the node running out of memory, not from the container's own limit, so raising its memory would not stop it",
			h.container, f.workloadString()), evidence), true
	}
	cur, err := resource.ParseQuantity(h.limit)
	if err != nil {
		return manual(f, rootCause+fmt.Sprintf(", but its memory limit %q cannot be read", h.limit), evidence), true
	}
	if cur.Cmp(b.MaxMemory) >= 0 {
		return manual(f, rootCause+fmt.Sprintf(", but its memory %s is already at or above the cap %s: the workload likely leaks memory", cur.String(), b.MaxMemory.String()), evidence), true
	}
	newLimit := scaleMemory(cur, b.MemoryFactor, b.MaxMemory)
	params := map[string]string{"container": h.container, "memoryLimit": newLimit.String()}
	newRequest := newLimit
	if h.request != "" {
		if req, err := resource.ParseQuantity(h.request); err == nil {
			newRequest = scaleMemory(req, b.MemoryFactor, newLimit)
		}
	}
	params["memory"] = newRequest.String()
	conf := confGood
	if len(hits) > 1 || h.restarts >= 2 {
		conf = confStrong
	}
	rec := aiv1.Recommendation{
		Action:        string(actions.IncreaseResources),
		Description:   fmt.Sprintf("Raise the memory of container %s of %s from %s to %s", h.container, f.workloadString(), cur.String(), newLimit.String()),
		Confidence:    conf,
		Rationale:     fmt.Sprintf("the container is killed for exceeding its memory; %.1f× the current value (capped at %s) gives it headroom", b.MemoryFactor, b.MaxMemory.String()),
		WorkflowSteps: []common.WorkflowStep{step("increase-memory", actions.IncreaseResources, *f.workload, params)},
	}
	recs := []aiv1.Recommendation{rec}
	// OOMs that began after a fresh rollout may be a regression of the new version: say so,
	// lower the confidence (so a person approves) and offer the rollback as the alternative.
	if r, ok := f.recentRollout(); ok && h.at != nil && !h.at.Time.Before(r.BecameCurrentAt.Time) && f.workload.Kind == "Deployment" && f.kc.Rollout.Previous != nil {
		evidence = append(evidence, fmt.Sprintf("revision %d (%s) became current at %s, before the OOMKills", r.Revision, r.Name, ts(r.BecameCurrentAt)))
		conf = confModerate
		recs[0].Confidence = conf
		recs = append(recs, aiv1.Recommendation{
			Action: string(actions.RollbackDeployment), Description: fmt.Sprintf("Roll %s back to revision %d", f.workloadString(), f.kc.Rollout.Previous.Revision),
			Confidence: confModerate - 0.1, Rationale: "the OOMKills began after the latest rollout; the new version may use more memory",
			WorkflowSteps: []common.WorkflowStep{step("rollback", actions.RollbackDeployment, *f.workload, revisionParam(f.kc.Rollout.Previous))},
		})
	}
	return recommend(rootCause, fmt.Sprintf("%s was OOMKilled %d time(s) since %s; raise its memory to %s.", h.container, len(hits), tstr(f.anchor.Add(-f.lookback)), newLimit.String()), evidence, conf, recs...), true
}

// scaleMemory multiplies q by factor, rounds up to a whole Mi and caps it at max.
func scaleMemory(q resource.Quantity, factor float64, max resource.Quantity) resource.Quantity {
	const mi = 1 << 20
	v := int64(math.Ceil(float64(q.Value())*factor/mi)) * mi
	if v > max.Value() {
		v = max.Value()
	}
	if v%(1<<30) == 0 {
		return resource.MustParse(strconv.FormatInt(v>>30, 10) + "Gi")
	}
	return resource.MustParse(strconv.FormatInt(v/mi, 10) + "Mi")
}

// ---- rollback: crash loop / image pull after a rollout ----

type failure struct {
	pod, container, reason, owner string
	since                         *metaTime // earliest known failure time
	restarts                      int32
	message                       string
}

// failures lists the failing containers the alert is about (its container, when it names one),
// of every revision: failing pods of an older revision argue against a rollback.
func (f *facts) failures() (crash, pull []failure) {
	for _, p := range f.kc.Pods {
		for _, c := range p.Containers {
			if !f.alerting(c.Name) {
				if imagePullReasons[c.Reason] || c.Reason == "CrashLoopBackOff" {
					f.aside(fmt.Sprintf("pod %s container %s: %s, but the alert is about container %s", p.Name, c.Name, c.Reason, f.container))
				}
				continue
			}
			switch {
			case imagePullReasons[c.Reason]:
				pull = append(pull, failure{pod: p.Name, container: c.Name, reason: c.Reason, owner: p.Owner, since: p.CreatedAt, message: c.Message})
			case c.Reason == "CrashLoopBackOff" || (c.RestartCount >= 3 && c.LastExitCode != nil && *c.LastExitCode != 0 && c.LastTerminationReason != "OOMKilled"):
				since := c.LastTerminatedAt
				if p.CreatedAt != nil {
					since = p.CreatedAt
				}
				crash = append(crash, failure{pod: p.Name, container: c.Name, reason: orNone(c.Reason), owner: p.Owner, since: since, restarts: c.RestartCount, message: exitString(c)})
			}
		}
	}
	return crash, pull
}

func exitString(c common.ContainerSummary) string {
	if c.LastExitCode == nil {
		return "last exit code unknown"
	}
	return fmt.Sprintf("last exit code %d (%s)", *c.LastExitCode, orNone(c.LastTerminationReason))
}

// onsetBound is how soon after a rollout failures must begin to be blamed on it.
const onsetBound = time.Hour

// onset is when a pod began failing: the first BackOff/Failed event about it, else its creation.
func (f *facts) onset(x failure) *metaTime {
	var first *metaTime
	for _, e := range f.kc.RecentEvents {
		if e.Object == "Pod/"+x.pod && (e.Reason == "BackOff" || e.Reason == "Failed") && e.FirstTimestamp != nil {
			if first == nil || e.FirstTimestamp.Before(first) {
				first = e.FirstTimestamp
			}
		}
	}
	if first != nil {
		return first
	}
	return x.since
}

// recentRollout returns the current revision and whether it became current within the
// investigation window before the alert began firing (or since).
func (f *facts) recentRollout() (*common.RevisionSummary, bool) {
	if f.kc.Rollout == nil || f.kc.Rollout.Current == nil || f.kc.Rollout.Current.BecameCurrentAt == nil {
		return nil, false
	}
	r := f.kc.Rollout.Current
	return r, f.anchor.Sub(r.BecameCurrentAt.Time) <= f.window
}

func (b *Builtin) failureRule(f *facts) (Finding, bool) {
	crash, pull := f.failures()
	if !f.class.weighs(failCrash) {
		crash = nil
	}
	if !f.class.weighs(failPull) {
		pull = nil
	}
	if len(crash) == 0 && len(pull) == 0 {
		return Finding{}, false
	}
	kind := failCrash
	fails := crash
	if len(pull) > 0 {
		kind, fails = failPull, pull
	}
	var evidence []string
	for _, x := range fails {
		line := fmt.Sprintf("pod %s (%s) container %s: %s", x.pod, orNone(x.owner), x.container, x.reason)
		if x.restarts > 0 {
			line += fmt.Sprintf(", restartCount=%d", x.restarts)
		}
		if x.message != "" {
			line += ", " + x.message
		}
		evidence = append(evidence, text.TruncateBytes(line, 512))
	}
	r, recent := f.recentRollout()
	if r != nil {
		evidence = append(evidence, fmt.Sprintf("current revision %d (%s) became current at %s; images %s", r.Revision, r.Name, ts(r.BecameCurrentAt), strings.Join(r.Images, ", ")))
	}
	prev := (*common.RevisionSummary)(nil)
	if f.kc.Rollout != nil {
		prev = f.kc.Rollout.Previous
	}
	if prev != nil {
		evidence = append(evidence, fmt.Sprintf("previous revision %d (%s): images %s, %d/%d ready", prev.Revision, prev.Name, strings.Join(prev.Images, ", "), prev.ReadyReplicas, prev.Replicas))
	}
	// After the rollout: the revision became current before the alert began firing, the
	// failing pods belong to it and began failing after it became current, within onsetBound
	// of it (pods that ran for hours and then failed point to something else).
	afterRollout := recent && prev != nil
	why := fmt.Sprintf("%s with no rollout in the %s before the alert", kind, dur(f.window))
	if r != nil && recent && prev == nil {
		why = kind + " after a rollout, but there is no previous revision to roll back to"
	}
	if afterRollout && f.firing && r.BecameCurrentAt.Time.After(f.anchor.Add(clockSkew)) {
		afterRollout = false
		why = fmt.Sprintf("%s reported by an alert firing since %s, before revision %d became current at %s: the latest rollout did not start it", kind, tstr(f.anchor), r.Revision, ts(r.BecameCurrentAt))
	}
	for _, x := range fails {
		if !afterRollout {
			break
		}
		if r.Name != "" && x.owner != "" && x.owner != "ReplicaSet/"+r.Name {
			afterRollout = false
			why = fmt.Sprintf("%s of pod %s, which belongs to %s, not to the current revision %s", kind, x.pod, x.owner, r.Name)
		}
		if onset := f.onset(x); onset != nil {
			d := onset.Time.Sub(r.BecameCurrentAt.Time)
			evidence = append(evidence, fmt.Sprintf("pod %s began failing at %s", x.pod, ts(onset)))
			if d < -time.Second || d > onsetBound {
				afterRollout = false
				why = fmt.Sprintf("%s that began %s after the latest rollout (more than %s): something else changed", kind, dur(d), dur(onsetBound))
			}
		}
	}
	if !afterRollout {
		if kind == failCrash && f.class.Has(RuleRestart) {
			if out, ok := b.livenessRule(f); ok {
				return out, true
			}
		}
		return manual(f, why+"; the cause is not in the cluster facts (application error, dependency or configuration outside the workload)", evidence), true
	}
	if f.workload == nil || f.workload.Kind != "Deployment" {
		return manual(f, fmt.Sprintf("%s began after the latest rollout, but the workload is %s, not a Deployment that rollback_deployment can roll back", kind, f.workloadString()), evidence), true
	}
	conf := confGood
	if prev.ReadyReplicas > 0 || (kind == failPull && !sameImages(r.Images, prev.Images)) {
		conf = confStrong
	}
	rootCause := fmt.Sprintf("the rollout of revision %d of %s at %s introduced a %s", r.Revision, f.workloadString(), ts(r.BecameCurrentAt), kind)
	return recommend(rootCause,
		fmt.Sprintf("Pods of revision %d fail (%s) since it became current; roll back to revision %d.", r.Revision, kind, prev.Revision), evidence, conf,
		aiv1.Recommendation{
			Action: string(actions.RollbackDeployment), Description: fmt.Sprintf("Roll %s back to revision %d", f.workloadString(), prev.Revision),
			Confidence: conf, Rationale: "the failures began with the latest rollout; the previous revision ran",
			WorkflowSteps: []common.WorkflowStep{step("rollback", actions.RollbackDeployment, *f.workload, revisionParam(prev))},
		}), true
}

// weighs reports whether the rollback rule weighs failures of kind for this class.
func (c SignalClass) weighs(kind string) bool {
	for _, k := range c.Failures {
		if k == kind {
			return true
		}
	}
	return false
}

func revisionParam(prev *common.RevisionSummary) map[string]string {
	if prev == nil || prev.Revision < 1 {
		return nil
	}
	return map[string]string{"revision": strconv.FormatInt(prev.Revision, 10)}
}

func sameImages(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(x)
	sort.Strings(y)
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// ---- restart: liveness failures ----

// podOf returns the pod an event is about when the context describes it.
func (f *facts) podOf(object string) *common.PodSummary {
	name, ok := strings.CutPrefix(object, "Pod/")
	if !ok {
		return nil
	}
	for i := range f.kc.Pods {
		if f.kc.Pods[i].Name == name {
			return &f.kc.Pods[i]
		}
	}
	return nil
}

func (b *Builtin) livenessRule(f *facts) (Finding, bool) {
	var count int32
	var evidence []string
	for _, e := range f.kc.RecentEvents {
		if e.Reason != "Unhealthy" || !strings.Contains(e.Message, "Liveness probe failed") {
			continue
		}
		n := max(e.Count, 1)
		line := text.TruncateBytes(fmt.Sprintf("event Unhealthy on %s ×%d (first %s, last %s): %s", e.Object, n, ts(e.FirstTimestamp), ts(e.LastTimestamp), e.Message), 480)
		if p := f.podOf(e.Object); p != nil && !f.current(p) {
			f.aside(line + fmt.Sprintf(" — %s belongs to %s, not to the current revision", e.Object, p.Owner))
			continue
		}
		if last := e.LastTimestamp; last != nil && !f.recent(last) {
			f.aside(line + " — older than the evidence window")
			continue
		}
		count += n
		evidence = append(evidence, line)
	}
	if count < 3 {
		return Finding{}, false
	}
	evidence = append(evidence, fmt.Sprintf("%d liveness-probe failures in total", count))
	if r, recent := f.recentRollout(); recent {
		evidence = append(evidence, fmt.Sprintf("revision %d (%s) became current at %s, within the %s before the alert", r.Revision, r.Name, ts(r.BecameCurrentAt), dur(f.window)))
		return manual(f, "repeated liveness-probe failures after a recent rollout: restarting would not undo the change", evidence), true
	}
	if f.workload == nil || !acceptsKind(actions.RolloutRestart, f.workload) {
		return manual(f, fmt.Sprintf("repeated liveness-probe failures, but the owner %s cannot be restarted by rollout_restart", f.workloadString()), evidence), true
	}
	return recommend(fmt.Sprintf("containers of %s stop answering their liveness probe (hung process) with no recent change", f.workloadString()),
		fmt.Sprintf("%d liveness-probe failures and no rollout in the %s before the alert; restart the pods of %s.", count, dur(f.window), f.workloadString()), evidence, confModerate,
		aiv1.Recommendation{
			Action: string(actions.RolloutRestart), Description: "Restart the pods of " + f.workloadString() + " with a rolling restart",
			Confidence: confModerate, Rationale: "nothing changed recently; a rolling restart clears a hung state without downtime",
			WorkflowSteps: []common.WorkflowStep{step("rollout-restart", actions.RolloutRestart, *f.workload, nil)},
		}), true
}

// ---- hpa: at its maximum ----

var metricRe = regexp.MustCompile(`^([^:]+):\s*([0-9.]+)(\S*).*\(target ([0-9.]+)(\S*)\)`)

func (b *Builtin) hpaRule(f *facts) (Finding, bool) {
	h := f.kc.HPA
	if h == nil {
		return manual(f, "the alert is about a HorizontalPodAutoscaler, but the context describes none", healthEvidence(f)), true
	}
	if f.target.Kind == "HorizontalPodAutoscaler" && h.Name != f.target.Name {
		return manual(f, fmt.Sprintf("the alert is about HorizontalPodAutoscaler %s, but the context describes %s", f.target.Name, h.Name), healthEvidence(f)), true
	}
	evidence := []string{fmt.Sprintf("HPA %s: current %d replicas, min %d, max %d, desired %d", h.Name, h.CurrentReplicas, h.MinReplicas, h.MaxReplicas, h.DesiredReplicas)}
	if h.MaxReplicas == 0 || !(h.AtMaximum || h.CurrentReplicas >= h.MaxReplicas) {
		return manual(f, fmt.Sprintf("HPA %s is no longer at its maximum (%d of %d replicas)", h.Name, h.CurrentReplicas, h.MaxReplicas), evidence), true
	}
	saturated := false
	if h.ScalingLimited && h.ScalingLimitedReason == "TooManyReplicas" {
		saturated = true
		evidence = append(evidence, "HPA condition ScalingLimited=True reason TooManyReplicas")
	}
	if h.DesiredReplicas > h.MaxReplicas {
		saturated = true
	}
	for _, m := range h.CurrentMetrics {
		if g := metricRe.FindStringSubmatch(m); g != nil && g[3] == g[5] {
			v, err1 := strconv.ParseFloat(g[2], 64)
			t, err2 := strconv.ParseFloat(g[4], 64)
			if err1 == nil && err2 == nil && v > t {
				saturated = true
				evidence = append(evidence, "HPA metric above target: "+m)
			}
		}
	}
	if !saturated {
		evidence = append(evidence, "HPA metrics: "+strings.Join(h.CurrentMetrics, "; "))
		return manual(f, fmt.Sprintf("HPA %s is at its maximum of %d replicas, but its load is within target: more replicas are not needed", h.Name, h.MaxReplicas), evidence), true
	}
	if f.kc.Workload != nil && f.kc.Workload.Replicas != nil && f.kc.Workload.ReadyReplicas < *f.kc.Workload.Replicas {
		evidence = append(evidence, fmt.Sprintf("%s: %d of %d replicas ready", f.workloadString(), f.kc.Workload.ReadyReplicas, *f.kc.Workload.Replicas))
	}
	if h.MaxReplicas >= b.MaxHPAReplicas {
		return manual(f, fmt.Sprintf("HPA %s is at its maximum of %d replicas, already at the cap %d", h.Name, h.MaxReplicas, b.MaxHPAReplicas), evidence), true
	}
	newMax := int32(math.Ceil(float64(h.MaxReplicas) * b.HPAFactor))
	if newMax <= h.MaxReplicas {
		newMax = h.MaxReplicas + 1
	}
	newMax = min(newMax, b.MaxHPAReplicas)
	target := common.TargetResource{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Namespace: f.ns, Name: h.Name}
	return recommend(fmt.Sprintf("%s is saturated and its HPA %s cannot scale beyond %d replicas", f.workloadString(), h.Name, h.MaxReplicas),
		fmt.Sprintf("HPA %s is at its maximum (%d) while its load exceeds the target; raise maxReplicas to %d.", h.Name, h.MaxReplicas, newMax), evidence, confGood,
		aiv1.Recommendation{
			Action: string(actions.UpdateHPA), Description: fmt.Sprintf("Raise maxReplicas of HPA %s from %d to %d", h.Name, h.MaxReplicas, newMax),
			Confidence: confGood, Rationale: "the autoscaler wants more replicas than its maximum allows",
			WorkflowSteps: []common.WorkflowStep{step("raise-hpa-max", actions.UpdateHPA, target, map[string]string{"maxReplicas": strconv.Itoa(int(newMax))})},
		}), true
}

// ---- unschedulable: explained, never acted on ----

func unschedulableRule(f *facts) (Finding, bool) {
	var evidence []string
	for _, p := range f.kc.Pods {
		for _, c := range p.Conditions {
			if c.Type == "PodScheduled" && c.Status == "False" {
				evidence = append(evidence, text.TruncateBytes(fmt.Sprintf("pod %s PodScheduled=False reason=%s: %s", p.Name, c.Reason, c.Message), 512))
			}
		}
	}
	if len(evidence) == 0 {
		return Finding{}, false
	}
	return manual(f, "pods cannot be scheduled (capacity, affinity, taints or quota); no catalog action safely creates room", evidence), true
}

// ---- helpers ----

func healthSummary(f *facts) string {
	ready, total, restarts := 0, 0, int32(0)
	states := map[string]int{}
	for _, p := range f.kc.Pods {
		total++
		allReady := true
		for _, c := range p.Containers {
			restarts += c.RestartCount
			allReady = allReady && c.Ready
			if c.Reason != "" && c.State != "Running" {
				states["container "+c.Name+" "+c.Reason]++
			}
		}
		if allReady && p.Phase == "Running" {
			ready++
		}
	}
	if total == 0 {
		return "no pods are described in the context"
	}
	s := fmt.Sprintf("%d of %d pods running and ready, %d restarts in total", ready, total, restarts)
	if len(states) > 0 {
		seen := make([]string, 0, len(states))
		for k, n := range states {
			seen = append(seen, fmt.Sprintf("%s in %d pod(s)", k, n))
		}
		sort.Strings(seen)
		s += ", " + strings.Join(seen, ", ")
	}
	if len(f.setAside) > 0 {
		s += fmt.Sprintf("; %d fact(s) set aside as not about this alert (see the evidence)", len(f.setAside))
	}
	return s + "; nothing the rules for this signal act on"
}

func healthEvidence(f *facts) []string {
	var ev []string
	for _, p := range f.kc.Pods {
		var cs []string
		for _, c := range p.Containers {
			s := fmt.Sprintf("%s ready=%t restarts=%d state=%s", c.Name, c.Ready, c.RestartCount, orNone(c.State))
			if c.Reason != "" {
				s += " reason=" + c.Reason
			}
			if c.LastTerminationReason != "" {
				s += fmt.Sprintf(" last terminated %s at %s", c.LastTerminationReason, ts(c.LastTerminatedAt))
			}
			cs = append(cs, s)
		}
		ev = append(ev, text.TruncateBytes(fmt.Sprintf("pod %s phase=%s node=%s: %s", p.Name, p.Phase, orNone(p.NodeName), strings.Join(cs, "; ")), 512))
		if len(ev) >= 5 {
			break
		}
	}
	if w := f.kc.Workload; w != nil && w.Replicas != nil {
		ev = append(ev, fmt.Sprintf("%s: %d/%d ready, %d updated, %d available", f.workloadString(), w.ReadyReplicas, *w.Replicas, w.UpdatedReplicas, w.AvailableReplicas))
	}
	for _, e := range f.kc.RecentEvents {
		ev = append(ev, text.TruncateBytes(fmt.Sprintf("event %s %s on %s ×%d: %s", e.Type, e.Reason, e.Object, e.Count, e.Message), 512))
		if len(ev) >= 10 {
			break
		}
	}
	if len(ev) == 0 {
		ev = append(ev, "no pods, workload or events in the context")
	}
	return ev
}

func (f *facts) workloadString() string {
	if f.workload == nil {
		return TargetString(&f.target)
	}
	return f.workload.Kind + "/" + f.workload.Name
}

func acceptsKind(name actions.Name, t *common.TargetResource) bool {
	a, ok := actions.Lookup(string(name))
	return ok && a.AcceptsKind(t.APIVersion, t.Kind)
}

// dur renders a duration without zero units ("24h", "1h30m").
func dur(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
