// Package investigator turns an AIAnalysis request into a finding: root cause, evidence,
// confidence, risk and recommendations whose workflow steps name concrete targets.
//
// Three providers implement Investigator: Builtin (offline rules over the enriched Kubernetes
// context, the default), and the HolmesGPT and OpenAI-compatible clients in package llm. Every
// provider's answer goes through Guard (see Run): the action must be in the catalog
// (pkg/shared/actions), its parameters must pass the catalog's validation, its target must be
// the signal's target, an object of its owner chain or an object the context names (its HPA,
// its pods, its nodes), never in another namespace and never of a kind the action does not
// accept. A refused answer is sent back to the provider once with the errors; a second refusal
// ends the analysis as ManualReviewRequired.
package investigator

import (
	"context"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
)

// Request is what an investigator works on.
type Request struct {
	// Signal is the enriched signal snapshot from the AIAnalysis spec.
	Signal aiv1.SignalContext
	// Scope bounds the investigation (time window).
	Scope aiv1.InvestigationScope
	// Now is the time of the investigation (the context's collectedAt is preferred for facts).
	Now time.Time
	// AllowDrain lets node rules add drain_node as a second step after cordon_node.
	AllowDrain bool
	// Feedback, on a second attempt, lists why the previous answer was refused.
	Feedback []string
	// RepeatWindow turns on the repeat-action rule (see Run): a recommendation whose action
	// Kubernaut already ran on the same target within it ends in manual review. 0 turns the rule
	// off (and Changes and ChangesUnknown are ignored).
	RepeatWindow time.Duration
	// Changes are the operations Kubernaut ran on the signal's target within RepeatWindow before
	// Now (from datastorage's audit trail), newest first.
	Changes []Change
	// ChangesUnknown, when not empty, says why Kubernaut's recent changes to the target could not
	// be read: a recommendation is then cited as unchecked and must be approved by a person.
	ChangesUnknown string
}

// Change is one operation Kubernaut ran on a target, as its audit trail records it.
type Change struct {
	// Remediation is the RemediationRequest that ran it.
	Remediation string
	// Action is the catalog action.
	Action string
	// Target is the operation's target as kind/namespace/name (TargetString).
	Target string
	// Phase of the operation: Succeeded, Running, Failed or RolledBack (what did change, or may
	// have changed, the target).
	Phase string
	// Outcome of the remediation (Remediated, Ineffective, Inconclusive, ...), "" while it runs.
	Outcome string
	// At is when the remediation completed, or when it started while it still runs.
	At time.Time
}

// Finding is an investigator's answer.
type Finding struct {
	Outcome            aiv1.Outcome
	RootCause          string
	Summary            string
	Evidence           []string
	Confidence         float64
	Risk               aiv1.RiskLevel
	ManualReviewReason string
	// Recommendations, best first; the first is the one planned.
	Recommendations []aiv1.Recommendation
	// TokensUsed by an LLM provider, when it reports them.
	TokensUsed int64
}

// Investigator investigates one request.
type Investigator interface {
	// Name is the provider name recorded in status.provider and metric labels.
	Name() string
	// Investigate returns a finding, or an error when the provider could not answer at all
	// (after its own retries).
	Investigate(ctx context.Context, req Request) (Finding, error)
}

// Provider names.
const (
	ProviderBuiltin   = "builtin"
	ProviderHolmesGPT = "holmesgpt"
	ProviderOpenAI    = "openai"
)

// apiVersions of the kinds a context names, for targets that carry only a kind.
var apiVersions = map[string]string{
	"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1", "ReplicaSet": "apps/v1",
	"Pod": "v1", "Node": "v1", "Namespace": "v1", "PersistentVolumeClaim": "v1", "Service": "v1",
	"HorizontalPodAutoscaler": "autoscaling/v2", "Job": "batch/v1", "CronJob": "batch/v1",
}

// APIVersionOf returns the usual apiVersion of kind, or "" when unknown.
func APIVersionOf(kind string) string { return apiVersions[kind] }

// SignalTarget is the signal's target as a concrete object.
func SignalTarget(s aiv1.SignalContext) common.TargetResource {
	t := common.TargetResource{APIVersion: APIVersionOf(s.ResourceKind), Kind: s.ResourceKind, Namespace: s.Namespace, Name: s.ResourceName}
	if s.ResourceKind == "Node" || s.ResourceKind == "Namespace" {
		t.Namespace = ""
	}
	if s.KubernetesContext != nil {
		for _, o := range s.KubernetesContext.OwnerChain {
			if o.Kind == t.Kind && o.Name == t.Name && o.APIVersion != "" {
				t.APIVersion = o.APIVersion
			}
		}
	}
	return t
}

// TargetString renders a target as kind/namespace/name (kind/name when cluster-scoped).
func TargetString(t *common.TargetResource) string {
	if t == nil {
		return "(none)"
	}
	if t.Namespace == "" {
		return t.Kind + "/" + t.Name
	}
	return t.Kind + "/" + t.Namespace + "/" + t.Name
}

// window is the investigation time window (default 24h).
func window(scope aiv1.InvestigationScope) time.Duration {
	if d, err := time.ParseDuration(strings.TrimSpace(scope.TimeWindow)); err == nil && d > 0 {
		return d
	}
	return 24 * time.Hour
}

type metaTime = metav1.Time

func sortTargets(ts []common.TargetResource) {
	sort.Slice(ts, func(i, j int) bool {
		return key(ts[i].Kind, ts[i].Namespace, ts[i].Name) < key(ts[j].Kind, ts[j].Namespace, ts[j].Name)
	})
}
