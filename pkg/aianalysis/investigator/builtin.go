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
// context, each of which fires only on exact facts. Anything the rules cannot explain ends as
// ManualReviewRequired with what was seen; a wrong action is far worse than none.
//
// Rules, in order:
//  1. Node target NotReady or under pressure → cordon_node (then drain_node when AllowDrain).
//  2. Container OOMKilled in the window → increase_resources on the owning workload, memory
//     limit × MemoryFactor capped at MaxMemory.
//  3. Crash loop or image pull failure of pods of the current revision, which became current in
//     the window before the failures began, with a previous revision → rollback_deployment.
//  4. Repeated liveness-probe failures without a rollout in the window → rollout_restart.
//  5. HPA at its maximum while saturated (ScalingLimited, desired above max, or a metric above
//     its target) → update_hpa raising maxReplicas by HPAFactor.
//
// Not guessed: a crash loop with no recent change, an unschedulable pod, healthy pods (latency
// or error-rate alerts), a missing target, OOM without a memory limit to scale.
type Builtin struct {
	// MemoryFactor multiplies the memory limit after an OOMKill (default 1.5).
	MemoryFactor float64
	// MaxMemory caps the new memory limit (default 8Gi).
	MaxMemory resource.Quantity
	// HPAFactor multiplies the HPA's maxReplicas (default 1.5, at least +1).
	HPAFactor float64
	// MaxHPAReplicas caps the new maxReplicas (default 100).
	MaxHPAReplicas int32
}

// NewBuiltin returns the builtin investigator with its defaults.
func NewBuiltin() *Builtin {
	return &Builtin{MemoryFactor: 1.5, MaxMemory: resource.MustParse("8Gi"), HPAFactor: 1.5, MaxHPAReplicas: 100}
}

// Name is "builtin".
func (b *Builtin) Name() string { return ProviderBuiltin }

// Confidence levels of the rules (the approval policy's default threshold is 0.8).
const (
	confStrong   = 0.9
	confGood     = 0.85
	confModerate = 0.7
)

// facts is the request with the few derived facts every rule reads.
type facts struct {
	req      Request
	kc       *common.KubernetesContext
	ns       string
	target   common.TargetResource
	workload *common.TargetResource
	now      time.Time
	window   time.Duration
}

func ts(t *metaTime) string {
	if t == nil {
		return "unknown time"
	}
	return t.UTC().Format(time.RFC3339)
}

// Investigate applies the rules.
func (b *Builtin) Investigate(_ context.Context, req Request) (Finding, error) {
	f := &facts{req: req, kc: req.Signal.KubernetesContext, ns: req.Signal.Namespace, target: SignalTarget(req.Signal), now: req.Now, window: window(req.Scope)}
	if f.kc == nil {
		return manual(f, "no Kubernetes context was collected for the signal",
			[]string{"kubernetesContext: absent"}), nil
	}
	if f.kc.CollectedAt != nil {
		f.now = f.kc.CollectedAt.Time
	}
	if f.kc.TargetNotFound {
		return manual(f, fmt.Sprintf("the target %s was not found when the signal was processed", TargetString(&f.target)),
			[]string{fmt.Sprintf("targetNotFound: true (%s)", TargetString(&f.target))}), nil
	}
	if w := f.kc.Workload; w != nil {
		f.workload = &common.TargetResource{APIVersion: APIVersionOf(w.Kind), Kind: w.Kind, Namespace: f.ns, Name: w.Name}
	}
	if f.target.Kind == "Node" {
		return b.nodeRule(f), nil
	}
	for _, rule := range []func(*facts) (Finding, bool){b.oomRule, b.failureRule, b.livenessRule, b.hpaRule, unschedulableRule} {
		if out, ok := rule(f); ok {
			return out, nil
		}
	}
	return manual(f, fmt.Sprintf("the cluster facts do not explain signal %q: %s", f.req.Signal.SignalName, healthSummary(f)),
		healthEvidence(f)), nil
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

// ---- rule 1: nodes ----

var pressureConditions = []string{"MemoryPressure", "DiskPressure", "PIDPressure"}

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
	var problems, evidence []string
	notReady := node.Ready == "False" || node.Ready == "Unknown"
	if notReady {
		problems = append(problems, "NotReady")
	}
	for _, c := range node.Conditions {
		if c.Type == "Ready" {
			evidence = append(evidence, fmt.Sprintf("node %s condition Ready=%s reason=%s since %s", node.Name, c.Status, c.Reason, ts(c.LastTransitionTime)))
		}
		for _, p := range pressureConditions {
			if c.Type == p && c.Status == "True" {
				problems = append(problems, p)
				evidence = append(evidence, fmt.Sprintf("node %s condition %s=True reason=%s since %s", node.Name, p, c.Reason, ts(c.LastTransitionTime)))
			}
		}
	}
	if notReady && len(evidence) == 0 {
		evidence = append(evidence, fmt.Sprintf("node %s Ready=%s", node.Name, node.Ready))
	}
	if len(problems) == 0 {
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
	if notReady {
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

// ---- rule 2: OOMKilled ----

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
	for _, p := range f.kc.Pods {
		for _, c := range p.Containers {
			oom := c.LastTerminationReason == "OOMKilled" || (c.State == "Terminated" && c.Reason == "OOMKilled")
			if !oom {
				continue
			}
			at := c.LastTerminatedAt
			if at != nil && f.now.Sub(at.Time) > f.window {
				continue
			}
			hits = append(hits, oomHit{pod: p.Name, container: c.Name, at: at, restarts: c.RestartCount, limit: c.Limits["memory"], request: c.Requests["memory"]})
		}
	}
	if len(hits) == 0 {
		return Finding{}, false
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].restarts > hits[j].restarts })
	h := hits[0]
	var evidence []string
	for _, x := range hits {
		evidence = append(evidence, fmt.Sprintf("pod %s container %s: last terminated OOMKilled (exit 137) at %s, restartCount=%d", x.pod, x.container, ts(x.at), x.restarts))
	}
	// The template's values are what increase_resources changes; prefer them over the pod's.
	if f.kc.Workload != nil {
		for _, c := range f.kc.Workload.Containers {
			if c.Name == h.container {
				if v := c.Limits["memory"]; v != "" {
					h.limit = v
				}
				if v := c.Requests["memory"]; v != "" {
					h.request = v
				}
			}
		}
	}
	evidence = append(evidence, fmt.Sprintf("container %s memory request=%s limit=%s", h.container, orNone(h.request), orNone(h.limit)))
	rootCause := fmt.Sprintf("container %s of %s exceeds its memory limit and is OOMKilled", h.container, f.workloadString())
	if f.workload == nil || !acceptsKind(actions.IncreaseResources, f.workload) {
		return manual(f, rootCause+", but it has no Deployment, StatefulSet or DaemonSet owner whose resources could be raised", evidence), true
	}
	base := h.limit
	if base == "" {
		base = h.request
	}
	if base == "" {
		return manual(f, rootCause+", but the container has neither a memory limit nor a request to scale from", evidence), true
	}
	cur, err := resource.ParseQuantity(base)
	if err != nil {
		return manual(f, rootCause+fmt.Sprintf(", but its memory value %q cannot be read", base), evidence), true
	}
	if cur.Cmp(b.MaxMemory) >= 0 {
		return manual(f, rootCause+fmt.Sprintf(", but its memory %s is already at or above the cap %s: the workload likely leaks memory", cur.String(), b.MaxMemory.String()), evidence), true
	}
	newLimit := scaleMemory(cur, b.MemoryFactor, b.MaxMemory)
	params := map[string]string{"container": h.container}
	if h.limit != "" {
		params["memoryLimit"] = newLimit.String()
	}
	newRequest := newLimit
	if h.request != "" && h.limit != "" {
		req, err := resource.ParseQuantity(h.request)
		if err == nil {
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
	return recommend(rootCause, fmt.Sprintf("%s was OOMKilled %d time(s) in the last %s; raise its memory to %s.", h.container, len(hits), dur(f.window), newLimit.String()), evidence, conf, recs...), true
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

// ---- rule 3: crash loop / image pull after a rollout ----

var imagePullReasons = map[string]bool{"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true, "ErrImageNeverPull": true}

type failure struct {
	pod, container, reason, owner string
	since                         *metaTime // earliest known failure time
	restarts                      int32
	message                       string
}

func (f *facts) failures() (crash, pull []failure) {
	for _, p := range f.kc.Pods {
		for _, c := range p.Containers {
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

func (f *facts) recentRollout() (*common.RevisionSummary, bool) {
	if f.kc.Rollout == nil || f.kc.Rollout.Current == nil || f.kc.Rollout.Current.BecameCurrentAt == nil {
		return nil, false
	}
	r := f.kc.Rollout.Current
	return r, f.now.Sub(r.BecameCurrentAt.Time) <= f.window
}

func (b *Builtin) failureRule(f *facts) (Finding, bool) {
	crash, pull := f.failures()
	if len(crash) == 0 && len(pull) == 0 {
		return Finding{}, false
	}
	kind := "crash loop"
	fails := crash
	if len(pull) > 0 {
		kind, fails = "image pull failure", pull
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
	// After the rollout: the failing pods belong to the current revision and began failing
	// after it became current, within onsetBound of it (pods that ran for hours and then
	// failed point to something else).
	afterRollout := recent && prev != nil
	why := fmt.Sprintf("%s with no rollout in the last %s", kind, dur(f.window))
	if r != nil && recent && prev == nil {
		why = kind + " after a rollout, but there is no previous revision to roll back to"
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
		if kind == "crash loop" {
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
	if prev.ReadyReplicas > 0 || (kind == "image pull failure" && !sameImages(r.Images, prev.Images)) {
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

// ---- rule 4: liveness failures ----

func (b *Builtin) livenessRule(f *facts) (Finding, bool) {
	var count int32
	var evidence []string
	var first *metaTime
	for _, e := range f.kc.RecentEvents {
		if e.Reason == "Unhealthy" && strings.Contains(e.Message, "Liveness probe failed") {
			count += max(e.Count, 1)
			evidence = append(evidence, text.TruncateBytes(fmt.Sprintf("event Unhealthy on %s ×%d (first %s, last %s): %s", e.Object, max(e.Count, 1), ts(e.FirstTimestamp), ts(e.LastTimestamp), e.Message), 512))
			if e.FirstTimestamp != nil && (first == nil || e.FirstTimestamp.Before(first)) {
				first = e.FirstTimestamp
			}
		}
	}
	if count < 3 {
		return Finding{}, false
	}
	evidence = append(evidence, fmt.Sprintf("%d liveness-probe failures in total", count))
	if r, recent := f.recentRollout(); recent {
		evidence = append(evidence, fmt.Sprintf("revision %d (%s) became current at %s, within the last %s", r.Revision, r.Name, ts(r.BecameCurrentAt), dur(f.window)))
		return manual(f, "repeated liveness-probe failures after a recent rollout: restarting would not undo the change", evidence), true
	}
	if f.workload == nil || !acceptsKind(actions.RolloutRestart, f.workload) {
		return manual(f, fmt.Sprintf("repeated liveness-probe failures, but the owner %s cannot be restarted by rollout_restart", f.workloadString()), evidence), true
	}
	return recommend(fmt.Sprintf("containers of %s stop answering their liveness probe (hung process) with no recent change", f.workloadString()),
		fmt.Sprintf("%d liveness-probe failures and no rollout in the last %s; restart the pods of %s.", count, dur(f.window), f.workloadString()), evidence, confModerate,
		aiv1.Recommendation{
			Action: string(actions.RolloutRestart), Description: "Restart the pods of " + f.workloadString() + " with a rolling restart",
			Confidence: confModerate, Rationale: "nothing changed recently; a rolling restart clears a hung state without downtime",
			WorkflowSteps: []common.WorkflowStep{step("rollout-restart", actions.RolloutRestart, *f.workload, nil)},
		}), true
}

// ---- rule 5: HPA at its maximum ----

var metricRe = regexp.MustCompile(`^([^:]+):\s*([0-9.]+)(\S*).*\(target ([0-9.]+)(\S*)\)`)

func (b *Builtin) hpaRule(f *facts) (Finding, bool) {
	h := f.kc.HPA
	if h == nil || h.MaxReplicas == 0 || !(h.AtMaximum || h.CurrentReplicas >= h.MaxReplicas) {
		return Finding{}, false
	}
	evidence := []string{fmt.Sprintf("HPA %s: current %d replicas, min %d, max %d, desired %d", h.Name, h.CurrentReplicas, h.MinReplicas, h.MaxReplicas, h.DesiredReplicas)}
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
		return Finding{}, false
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

// ---- not guessed: unschedulable pods ----

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
	for _, p := range f.kc.Pods {
		total++
		allReady := true
		for _, c := range p.Containers {
			restarts += c.RestartCount
			allReady = allReady && c.Ready
		}
		if allReady && p.Phase == "Running" {
			ready++
		}
	}
	if total == 0 {
		return "no pods are described in the context"
	}
	return fmt.Sprintf("%d of %d pods running and ready, %d restarts in total, no OOMKill, crash loop, image pull, probe or scheduling failure", ready, total, restarts)
}

func healthEvidence(f *facts) []string {
	var ev []string
	for _, p := range f.kc.Pods {
		var cs []string
		for _, c := range p.Containers {
			cs = append(cs, fmt.Sprintf("%s ready=%t restarts=%d state=%s", c.Name, c.Ready, c.RestartCount, orNone(c.State)))
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
