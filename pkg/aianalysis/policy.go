package aianalysis

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// DefaultPolicyConfigMap is the name of the approval policy ConfigMap in --namespace.
const DefaultPolicyConfigMap = "kubernaut-aianalysis-approval-policy"

// PolicyKey is the ConfigMap key holding the policy YAML.
const PolicyKey = "policy.yaml"

// ApprovalPolicy says when a human must approve a recommendation before it is planned.
type ApprovalPolicy struct {
	// MinConfidence: a recommendation below it needs approval (default 0.8).
	MinConfidence float64 `json:"minConfidence"`
	// HighRiskEnvironments: in these environments a high-risk recommendation needs approval
	// (default [production]).
	HighRiskEnvironments []string `json:"highRiskEnvironments"`
	// RequireApprovalForActions: a recommendation with a step running one of these actions always
	// needs approval (default [drain_node]).
	RequireApprovalForActions []string `json:"requireApprovalForActions"`
	// RequireApprovalForLLMProviders: every recommendation of a provider other than builtin
	// needs approval (default true).
	RequireApprovalForLLMProviders bool `json:"requireApprovalForLLMProviders"`
	// AllowDrainNode lets the builtin node rule add drain_node after cordon_node (default false).
	AllowDrainNode bool `json:"allowDrainNode"`
	// ApprovalTimeout is how long a human has to decide (default 15m); then the request expires.
	ApprovalTimeout metav1.Duration `json:"approvalTimeout"`
	// GatedEnvironments: every change in these environments needs a person unless its action
	// has earned autonomy there (see Autonomy); default [production, unknown]. The other
	// environments follow the rules above.
	GatedEnvironments []string `json:"gatedEnvironments"`
	// Autonomy grants actions the right to earn unattended changes in gated environments.
	Autonomy AutonomyPolicy `json:"autonomy"`
	// RequireApprovalForGitOps: a change to a workload that Argo CD or Flux applies from Git
	// needs a person, whatever the environment (default true): it drifts from Git, and the next
	// sync or drift correction reverts it.
	RequireApprovalForGitOps bool `json:"requireApprovalForGitOps"`
}

// DefaultApprovalPolicy is the policy used when the ConfigMap is absent.
func DefaultApprovalPolicy() ApprovalPolicy {
	return ApprovalPolicy{
		MinConfidence:                  0.8,
		HighRiskEnvironments:           []string{"production"},
		RequireApprovalForActions:      []string{string(actions.DrainNode)},
		RequireApprovalForLLMProviders: true,
		ApprovalTimeout:                metav1.Duration{Duration: 15 * time.Minute},
		GatedEnvironments:              []string{"production", "unknown"},
		Autonomy:                       DefaultAutonomyPolicy(),
		RequireApprovalForGitOps:       true,
	}
}

func isCatalogAction(a string) bool {
	_, ok := actions.Lookup(a)
	return ok
}

// ParsePolicy reads a policy; absent fields keep their defaults.
func ParsePolicy(data string) (ApprovalPolicy, error) {
	p := DefaultApprovalPolicy()
	if err := yaml.UnmarshalStrict([]byte(data), &p); err != nil {
		return DefaultApprovalPolicy(), fmt.Errorf("parsing the approval policy: %w", err)
	}
	var errs []string
	if p.MinConfidence < 0 || p.MinConfidence > 1 {
		errs = append(errs, fmt.Sprintf("minConfidence must be between 0 and 1, not %g", p.MinConfidence))
	}
	for _, a := range p.RequireApprovalForActions {
		if _, ok := actions.Lookup(a); !ok {
			errs = append(errs, fmt.Sprintf("requireApprovalForActions: %q is not a catalog action", a))
		}
	}
	if p.ApprovalTimeout.Duration <= 0 {
		errs = append(errs, "approvalTimeout must be positive")
	}
	for _, env := range p.GatedEnvironments {
		if !slices.Contains(environments, env) {
			errs = append(errs, fmt.Sprintf("gatedEnvironments: %q is not an environment (%v)", env, environments))
		}
	}
	errs = append(errs, p.Autonomy.validate()...)
	if len(errs) > 0 {
		return DefaultApprovalPolicy(), fmt.Errorf("invalid approval policy: %s", strings.Join(errs, "; "))
	}
	return p, nil
}

// Requires returns why approval is needed for the top recommendation of f, or nil when not.
func (p ApprovalPolicy) Requires(f investigator.Finding, environment, provider string) []string {
	if f.Outcome != aiv1.OutcomeActionRecommended || len(f.Recommendations) == 0 {
		return nil
	}
	top := f.Recommendations[0]
	var why []string
	if top.Confidence < p.MinConfidence {
		why = append(why, fmt.Sprintf("confidence %.2f is below %.2f", top.Confidence, p.MinConfidence))
	}
	if top.RiskLevel == aiv1.RiskHigh && slices.Contains(p.HighRiskEnvironments, environment) {
		why = append(why, fmt.Sprintf("high-risk action in %s", environment))
	}
	for _, s := range top.WorkflowSteps {
		if slices.Contains(p.RequireApprovalForActions, s.Action) {
			why = append(why, fmt.Sprintf("action %s always requires approval", s.Action))
		}
	}
	if investigator.HistoryUnknown(f.Evidence) {
		// Not configurable: without the history, this may be the ratchet the repeat rule stops.
		why = append(why, "Kubernaut's recent changes to the target could not be read: a repeat of the same action cannot be ruled out")
	}
	if p.RequireApprovalForLLMProviders && provider != investigator.ProviderBuiltin {
		why = append(why, fmt.Sprintf("recommendations of the %s provider require approval", provider))
	}
	return why
}

// GitOpsRequires returns why a person must approve the top recommendation of f when one of its
// steps changes the workload that kc says a GitOps tool applies from Git; nil otherwise, or when
// the policy does not ask for it.
func (p ApprovalPolicy) GitOpsRequires(f investigator.Finding, kc *common.KubernetesContext, namespace string) []string {
	if !p.RequireApprovalForGitOps || f.Outcome != aiv1.OutcomeActionRecommended || len(f.Recommendations) == 0 ||
		kc == nil || kc.Workload == nil || kc.Workload.GitOps == nil {
		return nil
	}
	w, g := kc.Workload, kc.Workload.GitOps
	for _, s := range f.Recommendations[0].WorkflowSteps {
		if t := s.Target; t != nil && t.Kind == w.Kind && t.Name == w.Name && t.Namespace == namespace {
			return []string{fmt.Sprintf("%s %s/%s is applied from Git by %s: the change drifts from Git and the next sync or drift correction reverts it, so make it in Git as well",
				w.Kind, namespace, w.Name, g)}
		}
	}
	return nil
}

// PolicySource reads the approval policy ConfigMap (from the manager's cache, so a change
// applies to the next analysis) and keeps the parsed policy of each resourceVersion.
type PolicySource struct {
	Reader    client.Reader
	Namespace string
	Name      string

	mu      sync.Mutex
	version string
	policy  ApprovalPolicy
	err     error
}

// Get returns the current policy and its version ("default" without a ConfigMap). An invalid
// ConfigMap yields the defaults and the error, so a typo never loosens the gate.
func (s *PolicySource) Get(ctx context.Context) (ApprovalPolicy, string, error) {
	if s == nil || s.Reader == nil {
		return DefaultApprovalPolicy(), "default", nil
	}
	cm := &corev1.ConfigMap{}
	if err := s.Reader.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: s.Name}, cm); err != nil {
		if apierrors.IsNotFound(err) {
			return DefaultApprovalPolicy(), "default", nil
		}
		return DefaultApprovalPolicy(), "", fmt.Errorf("reading the approval policy %s/%s: %w", s.Namespace, s.Name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cm.ResourceVersion != s.version {
		s.policy, s.err = ParsePolicy(cm.Data[PolicyKey])
		s.version = cm.ResourceVersion
	}
	return s.policy, s.version, s.err
}
