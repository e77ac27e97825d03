package aianalysis

import (
	"context"
	"fmt"
	"sync"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/skeleton"
)

const controllerName = "aianalysis"

// HistoryClient reads past success rates from datastorage (auditapi.Client implements it).
type HistoryClient interface {
	Effectiveness(ctx context.Context, signalName, action string) (auditapi.Effectiveness, error)
}

// Reconciler analyses AIAnalysis resources and gates their recommendations on approval.
type Reconciler struct {
	// Client reads from the manager's cache and writes.
	Client client.Client
	// APIReader reads an unfinished analysis live before working on it, so that a stale cache
	// never makes an investigation (minutes of an LLM) run twice.
	APIReader client.Reader
	Recorder  events.EventRecorder
	// Investigator is the provider (builtin, holmesgpt or openai).
	Investigator investigator.Investigator
	// History, when set, is asked for past success rates (includeHistoricalPatterns).
	History HistoryClient
	// RepeatWindow turns on the repeat-action rule: an action Kubernaut ran on a target within it
	// is not recommended for that target again (manual review instead, whatever the provider).
	// 0 turns the rule off; the command always sets it (--repeat-action-window, default 6h).
	RepeatWindow time.Duration
	// Changes reads Kubernaut's past remediations of the target for that rule. When it is nil or
	// cannot answer, a recommendation says so in its evidence and the approval policy requires a
	// person: a repeat cannot be ruled out.
	Changes ChangeHistory
	// TrackRecords reads actions' verified records for the gated environments' autonomy; nil
	// means no action can earn autonomy (a person approves every change there).
	TrackRecords TrackRecords
	// Policy reads the approval policy; nil uses the defaults.
	Policy *PolicySource
	// Defaults fill spec.holmesGPTConfig of new analyses.
	Defaults aiv1.HolmesGPTConfig
	// Identity is the username written as decidedBy on expiry; resolved with a
	// SelfSubjectReview when empty.
	Identity string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MaxConcurrentReconciles bounds parallel investigations (default DefaultMaxConcurrentReconciles).
	MaxConcurrentReconciles int

	identityOnce sync.Mutex
}

// Permissions of the aianalysis service; `make manifests` turns them into deploy/base/rbac/aianalysis.
// +kubebuilder:rbac:groups=aianalysis.kubernaut.io,resources=aianalyses,verbs=get;list;watch;patch;update
// +kubebuilder:rbac:groups=aianalysis.kubernaut.io,resources=aianalyses/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=aianalysis.kubernaut.io,resources=aiapprovalrequests,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=aianalysis.kubernaut.io,resources=aiapprovalrequests/status,verbs=get;patch;update
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch,resourceNames=kubernaut-aianalysis-approval-policy
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=selfsubjectreviews,verbs=create

// CacheOptions narrows the manager's cache to namespace and, for ConfigMaps, to the one
// approval policy (the RBAC grants only that name). AIAnalyses are cached as identity and
// phase only: the reconciler reads every unfinished analysis live before working on it, so the
// cache never holds the enriched contexts and results of the thousands of finished ones.
// Call it before creating the manager.
func CacheOptions(opts *cache.Options, namespace, policyName string) {
	skeleton.SlimCache(opts, namespace, &aiv1.AIAnalysis{})
	opts.ByObject[&corev1.ConfigMap{}] = cache.ByObject{Field: fields.OneTermEqualSelector("metadata.name", policyName)}
}

// DefaultMaxConcurrentReconciles is how many analyses are investigated in parallel by default: the
// builtin investigator mostly waits on the API server and datastorage (with an LLM provider, keep
// it within the endpoint's rate limit).
const DefaultMaxConcurrentReconciles = 16

// SetupWithManager registers the controller; it watches AIAnalyses and the AIApprovalRequests
// they own.
func (r *Reconciler) SetupWithManager(_ context.Context, mgr ctrl.Manager) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder(controllerName)
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.MaxConcurrentReconciles == 0 {
		r.MaxConcurrentReconciles = DefaultMaxConcurrentReconciles
	}
	if r.Investigator == nil {
		r.Investigator = investigator.NewBuiltin()
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(controllerName).
		For(&aiv1.AIAnalysis{}, builder.WithPredicates(unfinished)).
		Owns(&aiv1.AIApprovalRequest{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
}

// unfinished skips analyses already in a final phase (a final phase is never left).
var unfinished = predicate.NewPredicateFuncs(func(o client.Object) bool {
	a, ok := o.(*aiv1.AIAnalysis)
	return !ok || !a.Status.Phase.IsTerminal()
})

// scope is what one reconcile works on.
type scope struct {
	a   *aiv1.AIAnalysis
	now time.Time
	res reconcile.Result
}

func (s *scope) requeueAfter(d time.Duration) {
	if d <= 0 {
		d = time.Millisecond
	}
	if s.res.RequeueAfter == 0 || d < s.res.RequeueAfter {
		s.res.RequeueAfter = d
	}
}

// Reconcile moves one analysis through its phases; its status is written once, at the end,
// when it changed.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (res reconcile.Result, retErr error) {
	a := &aiv1.AIAnalysis{}
	if err := r.Client.Get(ctx, req.NamespacedName, a); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if a.Status.Phase.IsTerminal() {
		return reconcile.Result{}, nil
	}
	// The cache holds identity and phase only (CacheOptions); the work needs the whole object,
	// as it is now.
	if err := r.APIReader.Get(ctx, req.NamespacedName, a); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if a.Status.Phase.IsTerminal() {
		return reconcile.Result{}, nil
	}
	logger := log.FromContext(ctx).WithValues("aiAnalysis", klog.KObj(a), "provider", r.Investigator.Name())
	ctx = log.IntoContext(ctx, logger)
	if a.Spec.HolmesGPTConfig == nil {
		if err := r.fillConfig(ctx, a); err != nil {
			return reconcile.Result{}, err
		}
	}
	p := skeleton.NewPatcher(r.Client, a, skeleton.WithConditions(func() { setConditions(a) }))
	s := &scope{a: a, now: r.Now()}
	defer p.Finish(ctx, &res, &retErr)
	if err := r.reconcilePhases(ctx, s); err != nil {
		return reconcile.Result{}, err
	}
	return s.res, nil
}

// fillConfig writes the provider defaults into spec.holmesGPTConfig.
func (r *Reconciler) fillConfig(ctx context.Context, a *aiv1.AIAnalysis) error {
	before := a.DeepCopy()
	cfg := r.Defaults
	cfg.Toolsets = append([]string(nil), r.Defaults.Toolsets...)
	a.Spec.HolmesGPTConfig = &cfg
	if err := r.Client.Patch(ctx, a, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("filling spec.holmesGPTConfig of %s: %w", klog.KObj(a), err)
	}
	return nil
}

// identity is the username this controller authenticates as (for decidedBy on expiry).
func (r *Reconciler) identity(ctx context.Context) (string, error) {
	r.identityOnce.Lock()
	defer r.identityOnce.Unlock()
	if r.Identity != "" {
		return r.Identity, nil
	}
	review := &authnv1.SelfSubjectReview{}
	if err := r.Client.Create(ctx, review); err != nil {
		return "", fmt.Errorf("asking the API server who this service is (SelfSubjectReview): %w", err)
	}
	r.Identity = review.Status.UserInfo.Username
	return r.Identity, nil
}
