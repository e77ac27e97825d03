package investigator

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// Refusal is one guardrail violation.
type Refusal = aiv1.GuardrailRefusal

// Allowed is the set of objects a recommendation may act on for one request.
type Allowed struct {
	// Namespace of the signal; namespaced targets must be in it.
	Namespace string
	targets   map[string]common.TargetResource // key kind/namespace/name
}

func key(kind, ns, name string) string { return kind + "/" + ns + "/" + name }

// AllowedTargets lists the signal's target and what it owns or uses: its owner chain and
// workload, its pods, its HPA, and its namespace. Never the nodes of a workload's pods.
func AllowedTargets(sig aiv1.SignalContext) *Allowed {
	a := &Allowed{Namespace: sig.Namespace, targets: map[string]common.TargetResource{}}
	add := func(t common.TargetResource) {
		if t.APIVersion == "" {
			t.APIVersion = APIVersionOf(t.Kind)
		}
		a.targets[key(t.Kind, t.Namespace, t.Name)] = t
	}
	add(SignalTarget(sig))
	if sig.Namespace != "" {
		add(common.TargetResource{Kind: "Namespace", Name: sig.Namespace})
	}
	kc := sig.KubernetesContext
	if kc == nil {
		return a
	}
	for _, o := range kc.OwnerChain {
		if o.Namespace == "" && o.Kind != "Node" {
			o.Namespace = sig.Namespace
		}
		add(o)
	}
	if w := kc.Workload; w != nil {
		add(common.TargetResource{Kind: w.Kind, Namespace: sig.Namespace, Name: w.Name})
	}
	if kc.HPA != nil {
		add(common.TargetResource{Kind: "HorizontalPodAutoscaler", Namespace: sig.Namespace, Name: kc.HPA.Name})
	}
	for _, p := range kc.Pods {
		add(common.TargetResource{Kind: "Pod", Namespace: sig.Namespace, Name: p.Name})
	}
	// The nodes a workload's pods run on are not the workload's: a node action (a cordon, a drain,
	// a taint) for one workload's signal would move every other tenant of the node. A node is a
	// target only when the signal is about that node (added above as the signal's target).
	return a
}

// List returns the allowed targets as kind/namespace/name strings, sorted.
func (a *Allowed) List() []common.TargetResource {
	out := make([]common.TargetResource, 0, len(a.targets))
	for _, t := range a.targets {
		out = append(out, t)
	}
	sortTargets(out)
	return out
}

func (a *Allowed) has(t common.TargetResource) bool {
	_, ok := a.targets[key(t.Kind, t.Namespace, t.Name)]
	return ok
}

var stepName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9_]*[a-z0-9])?$`)

// CheckRecommendation returns the refusals of one recommendation and completes its steps'
// targets (a missing target is the signal's target; a missing apiVersion is the kind's usual one).
func CheckRecommendation(allowed *Allowed, sig aiv1.SignalContext, rec *aiv1.Recommendation) []Refusal {
	var out []Refusal
	refuse := func(reason aiv1.RefusalReason, action string, t *common.TargetResource, msg string) {
		out = append(out, Refusal{Reason: reason, Action: text.TruncateBytes(action, 128), Target: text.TruncateBytes(TargetString(t), 512), Message: text.TruncateBytes(msg, 1024)})
	}
	if _, ok := actions.Lookup(rec.Action); !ok {
		refuse(aiv1.RefusalUnknownAction, rec.Action, nil, fmt.Sprintf("action %q is not in the catalog", rec.Action))
	}
	if len(rec.WorkflowSteps) == 0 {
		refuse(aiv1.RefusalMalformedAnswer, rec.Action, nil, "the recommendation has no workflow steps")
	}
	if len(rec.WorkflowSteps) > 20 {
		refuse(aiv1.RefusalMalformedAnswer, rec.Action, nil, "more than 20 workflow steps")
	}
	names := map[string]bool{}
	for i := range rec.WorkflowSteps {
		s := &rec.WorkflowSteps[i]
		if !stepName.MatchString(s.Name) || len(s.Name) > 63 || names[s.Name] {
			refuse(aiv1.RefusalMalformedAnswer, s.Action, s.Target, fmt.Sprintf("step name %q is empty, malformed or repeated", s.Name))
		}
		names[s.Name] = true
	}
	for i := range rec.WorkflowSteps {
		s := &rec.WorkflowSteps[i]
		for _, d := range s.DependsOn {
			if !names[d] || d == s.Name {
				refuse(aiv1.RefusalMalformedAnswer, s.Action, s.Target, fmt.Sprintf("step %q depends on unknown step %q", s.Name, d))
			}
		}
		a, ok := actions.Lookup(s.Action)
		if !ok {
			refuse(aiv1.RefusalUnknownAction, s.Action, s.Target, fmt.Sprintf("step %q: action %q is not in the catalog", s.Name, s.Action))
			continue
		}
		if problems := a.Validate(s.Parameters); len(problems) > 0 {
			msgs := make([]string, len(problems))
			for j, p := range problems {
				msgs[j] = p.Error()
			}
			refuse(aiv1.RefusalInvalidParameters, s.Action, s.Target, fmt.Sprintf("step %q: %s", s.Name, strings.Join(msgs, "; ")))
		}
		if s.Target == nil {
			t := SignalTarget(sig)
			s.Target = &t
		}
		t := s.Target
		if t.APIVersion == "" {
			for _, k := range a.TargetKinds {
				if k.Kind == t.Kind && k.Group != actions.Wildcard && k.Version != actions.Wildcard {
					t.APIVersion = k.APIVersion()
				}
			}
			if t.APIVersion == "" {
				t.APIVersion = APIVersionOf(t.Kind)
			}
		}
		clusterScoped := t.Kind == "Node" || t.Kind == "Namespace"
		switch {
		case clusterScoped && t.Namespace != "":
			refuse(aiv1.RefusalTargetOtherNamespace, s.Action, t, fmt.Sprintf("step %q: %s is cluster-scoped and has no namespace", s.Name, t.Kind))
			continue
		case !clusterScoped && t.Namespace != allowed.Namespace:
			refuse(aiv1.RefusalTargetOtherNamespace, s.Action, t, fmt.Sprintf("step %q: target namespace %q is not the signal's namespace %q", s.Name, t.Namespace, allowed.Namespace))
			continue
		}
		if !a.AcceptsKind(t.APIVersion, t.Kind) {
			refuse(aiv1.RefusalTargetKindNotAccepted, s.Action, t, fmt.Sprintf("step %q: action %s does not accept %s %s", s.Name, s.Action, t.APIVersion, t.Kind))
			continue
		}
		if !allowed.has(*t) {
			refuse(aiv1.RefusalTargetNotInContext, s.Action, t, fmt.Sprintf("step %q: %s is neither the signal's target, an owner, nor an object the context names", s.Name, TargetString(t)))
			continue
		}
		if c := ControllerOf(sig, t); c != nil {
			refuse(aiv1.RefusalTargetControlled, s.Action, t, fmt.Sprintf("step %q: %s is controlled by %s %s %s, which would undo the change", s.Name, TargetString(t), c.APIVersion, c.Kind, c.Name))
		}
	}
	return out
}

// Check applies the guardrails to a finding: it returns the refusals (nil when the finding
// passes) and, for a passing finding, completes targets and sets risk from the catalog (a model
// may not lower it) and bounds every text to what status accepts.
func Check(req Request, f *Finding) []Refusal {
	var out []Refusal
	switch f.Outcome {
	case aiv1.OutcomeActionRecommended:
		if len(f.Recommendations) == 0 {
			out = append(out, Refusal{Reason: aiv1.RefusalMalformedAnswer, Message: "outcome ActionRecommended without recommendations"})
		}
	case aiv1.OutcomeNoActionRequired, aiv1.OutcomeManualReviewRequired:
		f.Recommendations = nil
	default:
		out = append(out, Refusal{Reason: aiv1.RefusalMalformedAnswer, Message: fmt.Sprintf("unknown outcome %q", f.Outcome)})
	}
	allowed := AllowedTargets(req.Signal)
	for i := range f.Recommendations {
		out = append(out, CheckRecommendation(allowed, req.Signal, &f.Recommendations[i])...)
	}
	if len(out) > 0 {
		return out
	}
	bound(f)
	return nil
}

// bound fits a finding into the status limits and clamps numbers.
func bound(f *Finding) {
	f.RootCause = text.TruncateBytes(f.RootCause, 4096)
	f.Summary = text.TruncateBytes(f.Summary, 8192)
	f.ManualReviewReason = text.TruncateBytes(f.ManualReviewReason, 2048)
	if len(f.Evidence) > 20 {
		f.Evidence = f.Evidence[:20]
	}
	for i := range f.Evidence {
		f.Evidence[i] = text.TruncateBytes(f.Evidence[i], 1024)
	}
	f.Confidence = clamp(f.Confidence)
	if len(f.Recommendations) > 10 {
		f.Recommendations = f.Recommendations[:10]
	}
	for i := range f.Recommendations {
		r := &f.Recommendations[i]
		if r.ID == "" || len(r.ID) > 63 {
			r.ID = fmt.Sprintf("rec-%d", i+1)
		}
		r.Description = text.TruncateBytes(r.Description, 2048)
		r.Rationale = text.TruncateBytes(r.Rationale, 4096)
		r.Confidence = clamp(r.Confidence)
		if cat := StepsRisk(r.WorkflowSteps); riskRank(cat) > riskRank(r.RiskLevel) {
			r.RiskLevel = cat
		}
	}
	if len(f.Recommendations) > 0 {
		f.Risk = f.Recommendations[0].RiskLevel
	}
	if riskRank(f.Risk) == 0 {
		f.Risk = aiv1.RiskLow
	}
}

func clamp(x float64) float64 {
	if x != x || x < 0 { // NaN or negative
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}

// Result is the outcome of Run: the finding to record and every refusal on the way.
type Result struct {
	Finding  Finding
	Refusals []Refusal
	// Attempts is how many answers the provider gave (1, or 2 after a refusal).
	Attempts int
	// Repeat is the earlier change the top recommendation would have repeated (the finding is
	// then ManualReviewRequired), nil otherwise.
	Repeat *Change
}

// Run asks inv, applies the guardrails, asks once more with the errors when the answer is
// refused, and turns a second refusal into ManualReviewRequired. An accepted answer then goes
// through the repeat-action rule (CheckRepeat), whatever the provider. A provider error is
// returned as is (after the provider's own retries).
func Run(ctx context.Context, inv Investigator, req Request) (Result, error) {
	var res Result
	var tokens int64
	for attempt := 1; attempt <= 2; attempt++ {
		f, err := inv.Investigate(ctx, req)
		if err != nil {
			return res, err
		}
		res.Attempts = attempt
		tokens += f.TokensUsed
		refusals := Check(req, &f)
		if len(refusals) == 0 {
			res.Repeat = CheckRepeat(req, &f)
			bound(&f)
			f.TokensUsed = tokens
			res.Finding = f
			return res, nil
		}
		for _, r := range refusals {
			r.Attempt = int32(attempt)
			res.Refusals = append(res.Refusals, r)
		}
		if inv.Name() == ProviderBuiltin {
			break // deterministic: asking again gives the same answer
		}
		req.Feedback = nil
		for _, r := range refusals {
			req.Feedback = append(req.Feedback, fmt.Sprintf("%s: %s", r.Reason, r.Message))
		}
	}
	var why []string
	for _, r := range res.Refusals {
		why = append(why, string(r.Reason)+" ("+r.Message+")")
	}
	reason := text.TruncateBytes("the provider's recommendation was refused by the guardrails: "+strings.Join(why, "; "), 2048)
	res.Finding = Finding{
		Outcome: aiv1.OutcomeManualReviewRequired, RootCause: "not determined: " + reason,
		Summary:            "The provider's answers named actions or targets outside what is allowed; nothing will be done automatically.",
		Evidence:           []string{text.TruncateBytes(reason, 1024)},
		Risk:               aiv1.RiskLow,
		ManualReviewReason: reason,
		TokensUsed:         tokens,
	}
	if len(res.Refusals) > 10 {
		res.Refusals = res.Refusals[len(res.Refusals)-10:]
	}
	bound(&res.Finding)
	return res, nil
}

// HistoryUnknownEvidence starts the evidence line of a recommendation that could not be checked
// against Kubernaut's recent changes to its target; the approval policy reads it (HistoryUnknown)
// and asks a person.
const HistoryUnknownEvidence = "history unknown: "

// HistoryUnknown reports whether evidence says the recent changes could not be read.
func HistoryUnknown(evidence []string) bool {
	for _, e := range evidence {
		if strings.HasPrefix(e, HistoryUnknownEvidence) {
			return true
		}
	}
	return false
}

// CheckRepeat is the repeat-action rule, applied to every provider's accepted answer: Kubernaut's
// own recent changes are evidence. When the top recommendation runs an action that Kubernaut
// already ran on the same target within req.RepeatWindow, the problem came back after that fix:
// repeating it would ratchet the same change (another ×1.5 of memory, another +50% of replicas)
// without fixing the cause, so the finding becomes ManualReviewRequired and says what was done
// when; the repeated change is returned. A repeating alternative is dropped. When the changes
// could not be read (req.ChangesUnknown), a recommendation is kept but its first evidence line
// says so (HistoryUnknownEvidence), and the approval policy then requires a person. The
// recent changes are cited in the evidence either way. A zero RepeatWindow turns the rule off.
func CheckRepeat(req Request, f *Finding) *Change {
	if req.RepeatWindow <= 0 || f.Outcome != aiv1.OutcomeActionRecommended || len(f.Recommendations) == 0 {
		return nil
	}
	if req.ChangesUnknown != "" {
		line := text.TruncateBytes(HistoryUnknownEvidence+"Kubernaut's changes to "+TargetString(ptrTo(SignalTarget(req.Signal)))+
			" in the last "+dur(req.RepeatWindow)+" could not be read ("+req.ChangesUnknown+"): a repeat of the same action cannot be ruled out, so a person must approve", 1024)
		f.Evidence = append([]string{line}, f.Evidence...)
		return nil
	}
	since := req.Now.Add(-req.RepeatWindow)
	var cited []string
	for _, c := range req.Changes {
		if c.At.Before(since) {
			continue
		}
		cited = append(cited, changeString(c))
	}
	if len(cited) == 0 {
		f.Evidence = append(f.Evidence, fmt.Sprintf("history: Kubernaut changed nothing on the targets of this signal in the last %s", dur(req.RepeatWindow)))
	}
	kept := f.Recommendations[:0:0]
	for i, rec := range f.Recommendations {
		c := repeatOf(req.Changes, rec, since)
		if c == nil {
			kept = append(kept, rec)
			continue
		}
		if i > 0 {
			f.Evidence = append(f.Evidence, text.TruncateBytes(fmt.Sprintf("alternative %s dropped: it repeats %s", rec.Action, changeString(*c)), 1024))
			continue
		}
		reason := fmt.Sprintf("%s was applied to %s at %s (remediation %s, %s%s); the problem is back within %s: a repeat would ratchet the same change without fixing the cause",
			c.Action, c.Target, tstr(c.At), c.Remediation, c.Phase, outcomeSuffix(c.Outcome), dur(req.RepeatWindow))
		if c.Outcome == OutcomeIneffective && c.At.Before(since) {
			reason = fmt.Sprintf("%s was applied to %s at %s (remediation %s, %s) and verification found it Ineffective: the same action on the same target did not help then, so it is not recommended again without a person",
				c.Action, c.Target, tstr(c.At), c.Remediation, c.Phase)
		}
		evidence := append([]string{"repeat refused: " + reason}, cited...)
		evidence = append(evidence, f.Evidence...)
		*f = Finding{
			Outcome:            aiv1.OutcomeManualReviewRequired,
			RootCause:          text.TruncateBytes("recurring after an earlier remediation: "+f.RootCause, 4096),
			Summary:            text.TruncateBytes(fmt.Sprintf("The investigation recommends %s on %s again, but Kubernaut already did that at %s and the problem came back. A person must find the cause. Diagnosis: %s", c.Action, c.Target, tstr(c.At), f.Summary), 8192),
			Evidence:           evidence,
			Risk:               aiv1.RiskLow,
			ManualReviewReason: reason,
			TokensUsed:         f.TokensUsed,
		}
		return c
	}
	f.Recommendations = kept
	f.Evidence = append(f.Evidence, cited...)
	return nil
}

// repeatOf returns the change that rec repeats: the same action on the same target since since.
func repeatOf(changes []Change, rec aiv1.Recommendation, since time.Time) *Change {
	for _, s := range rec.WorkflowSteps {
		for i := range changes {
			c := &changes[i]
			if c.Action == s.Action && c.Target == TargetString(s.Target) && (!c.At.Before(since) || c.Outcome == OutcomeIneffective) {
				return c
			}
		}
	}
	return nil
}

// OutcomeIneffective is the verified outcome of a remediation that did not help.
const OutcomeIneffective = "Ineffective"

// IneffectiveMemory is how long an Ineffective outcome keeps the same action on the same target
// from being recommended again without a person, whatever the repeat window: verification showed
// it did not help.
const IneffectiveMemory = 30 * 24 * time.Hour

func changeString(c Change) string {
	return text.TruncateBytes(fmt.Sprintf("history: Kubernaut ran %s on %s at %s (remediation %s, %s%s)", c.Action, c.Target, tstr(c.At), c.Remediation, c.Phase, outcomeSuffix(c.Outcome)), 1024)
}

func outcomeSuffix(outcome string) string {
	if outcome == "" {
		return ", still running"
	}
	return ", outcome " + outcome
}

func ptrTo[T any](v T) *T { return &v }

// ControllerOf is the controller that sig's context names for t: for a workload (a Deployment,
// StatefulSet or DaemonSet) the entry after it in the owner chain, or the first one when it is
// the signal's target (processing adds a workload's own controller, an operator's resource,
// after it); for the context's HPA, its controller (a KEDA ScaledObject). That controller would
// undo a change made to t. Nil when there is none.
func ControllerOf(sig aiv1.SignalContext, t *common.TargetResource) *common.TargetResource {
	kc := sig.KubernetesContext
	if t == nil || kc == nil {
		return nil
	}
	switch t.Kind {
	case "Deployment", "StatefulSet", "DaemonSet":
	case "HorizontalPodAutoscaler":
		if kc.HPA != nil && kc.HPA.Name == t.Name {
			return kc.HPA.Controller
		}
		return nil
	default:
		return nil
	}
	next := -1
	if t.Kind == sig.ResourceKind && t.Name == sig.ResourceName {
		next = 0
	}
	for i, o := range kc.OwnerChain {
		if o.Kind == t.Kind && o.Name == t.Name {
			next = i + 1
		}
	}
	if next < 0 || next >= len(kc.OwnerChain) {
		return nil
	}
	return &kc.OwnerChain[next]
}
