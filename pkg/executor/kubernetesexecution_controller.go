package executor

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/executor/action"
	"github.com/kubernaut/kubernaut/pkg/shared/skeleton"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// +kubebuilder:rbac:groups=kubernetesexecution.kubernaut.io,resources=kubernetesexecutions,verbs=get;list;watch
// +kubebuilder:rbac:groups=kubernetesexecution.kubernaut.io,resources=kubernetesexecutions/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=nodes,verbs=list;watch

const controllerName = "kubernetesexecution"

// Reconciler runs KubernetesExecutions.
type Reconciler struct {
	// Client writes the KubernetesExecution's status.
	Client client.Client
	// Reader reads KubernetesExecutions live from the API server, never from the cache, so that
	// a stale copy can never make an operation run twice.
	Reader client.Reader
	// ChainReader reads the chain (RemediationRequest, AIAnalysis, WorkflowExecution) from the
	// manager's cache, slimmed by CacheOptions; a chain it does not show intact is read again
	// with Reader (default the manager's client; nil or Reader: always live).
	ChainReader client.Reader
	// ConfigReader reads the safety ConfigMap (the manager's cache).
	ConfigReader client.Reader
	// Env reads and changes targets, live (a client without cache).
	Env *action.Env
	// Namespace holds the KubernetesExecutions and the safety ConfigMap.
	Namespace string
	// ConfigMapName is the safety ConfigMap (default DefaultConfigMapName).
	ConfigMapName string
	Recorder      events.EventRecorder
	// Now is the clock (default time.Now).
	Now func() time.Time
	// PollInterval is how often a post-condition is checked (default 2s).
	PollInterval time.Duration
	// MaxConcurrentReconciles bounds parallel executions (default DefaultMaxConcurrentReconciles).
	MaxConcurrentReconciles int
	// AfterChange, when set, is called after an operation's change and before the status write
	// that records it. Tests simulate a crash there: when it returns an error the reconcile ends
	// without writing status.
	AfterChange func(ke *kev1.KubernetesExecution, operation string) error

	// changeMu serializes the last checks before a change (reserve): the budgets and the
	// one-node-action-at-a-time rule are counted from the executions' status and the
	// reservations not yet seen there, so two reconciles of this (leader-elected, hence only)
	// executor never both pass them on the last change allowed.
	changeMu sync.Mutex
	// reserved are the operations reserved that the cache may not show yet (changeMu).
	reserved map[string]reservation
}

// CacheOptions narrows the manager's cache to namespace and, among ConfigMaps, to the safety
// ConfigMap; of Nodes it keeps only what the recovery of cordoned nodes watches. Targets are
// never cached: they are read live right before they are changed.
func CacheOptions(opts *cache.Options, namespace, configMap string) {
	if configMap == "" {
		configMap = DefaultConfigMapName
	}
	opts.DefaultNamespaces = map[string]cache.Config{namespace: {}}
	if opts.ByObject == nil {
		opts.ByObject = map[client.Object]cache.ByObject{}
	}
	opts.ByObject[&corev1.ConfigMap{}] = cache.ByObject{Field: fields.OneTermEqualSelector("metadata.name", configMap)}
	opts.ByObject[&corev1.Node{}] = cache.ByObject{Transform: slimNode}
	chainCacheOptions(opts)
}

// DefaultMaxConcurrentReconciles is how many executions run in parallel by default: a reconcile
// mostly waits on the API server, and with 4 an alert storm queued behind them (issue 26).
const DefaultMaxConcurrentReconciles = 16

// SetupWithManager fills the defaults and registers the controller.
func (r *Reconciler) SetupWithManager(_ context.Context, mgr manager.Manager) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.Reader == nil {
		r.Reader = mgr.GetAPIReader()
	}
	if r.ConfigReader == nil {
		r.ConfigReader = mgr.GetClient()
	}
	if r.ChainReader == nil {
		r.ChainReader = mgr.GetClient()
	}
	if r.ConfigMapName == "" {
		r.ConfigMapName = DefaultConfigMapName
	}
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder("executor")
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.PollInterval == 0 {
		r.PollInterval = 2 * time.Second
	}
	if r.MaxConcurrentReconciles == 0 {
		r.MaxConcurrentReconciles = DefaultMaxConcurrentReconciles
	}
	if r.Env == nil {
		direct, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
		if err != nil {
			return fmt.Errorf("creating the executor's live client: %w", err)
		}
		cs, err := kubernetes.NewForConfig(mgr.GetConfig())
		if err != nil {
			return fmt.Errorf("creating the executor's clientset: %w", err)
		}
		r.Env = &action.Env{Client: direct, Clientset: cs, Now: r.Now}
	}
	err := builder.ControllerManagedBy(mgr).
		Named(controllerName).
		For(&kev1.KubernetesExecution{}, builder.WithPredicates(predicate.GenerationChangedPredicate{}, notFinished)).
		// A change of the safety ConfigMap (the kill switch lifted, a configuration fixed) wakes
		// every execution that holds.
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(r.unfinished)).
		Watches(&remediationv1.RemediationRequest{}, handler.EnqueueRequestsFromMapFunc(r.namedExecution)).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
	if err != nil {
		return err
	}
	return (&nodeRecovery{r: r}).setup(mgr)
}

// unfinished lists the executions of the namespace that have not reached a final phase.
func (r *Reconciler) unfinished(ctx context.Context, o client.Object) []reconcile.Request {
	if o.GetNamespace() != r.Namespace || o.GetName() != r.ConfigMapName {
		return nil
	}
	var list kev1.KubernetesExecutionList
	if err := r.Client.List(ctx, &list, client.InNamespace(r.Namespace)); err != nil {
		log.FromContext(ctx).Error(err, "Listing the executions to wake after a change of the safety ConfigMap")
		return nil
	}
	var out []reconcile.Request
	for _, ke := range list.Items {
		if !ke.Status.Phase.IsTerminal() {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&ke)})
		}
	}
	return out
}

// notFinished passes executions that have not reached a final phase (a final phase is never left).
var notFinished = predicate.NewPredicateFuncs(func(o client.Object) bool {
	ke, ok := o.(*kev1.KubernetesExecution)
	return !ok || !ke.Status.Phase.IsTerminal()
})

// scope is what one reconcile works on.
type scope struct {
	ke *kev1.KubernetesExecution
	// patch writes the status, with the resourceVersion of the last write as precondition: a
	// second writer (an old leader) loses instead of overwriting progress.
	patch *skeleton.Patcher
	cfg   SafetyConfig
	env   *action.Env
	now   time.Time
	// checked holds the operations validated in this reconcile; the first change may reuse its
	// check when nothing was changed since.
	checked map[int]*checked
	changed bool
	// crashed: the AfterChange hook stopped the reconcile; nothing more is written.
	crashed bool
	// quiet: nothing of this reconcile is written, not even observedGeneration (a new
	// execution's short wait for its request to name it).
	quiet bool
	// chain is what the verified chain said (nil until verified in this reconcile).
	chain *chain
	// held: the reconcile stopped before a change (paused, or the configuration unusable).
	held bool

	// What setConditions derives the conditions from, with the status: holdReason is the Ready
	// reason of a hold in this reconcile; resumed, that it lifted the hold of an earlier one;
	// finishReason, the Ready reason of the final phase it reached; safe, its SafetyValidated
	// verdict (nil: none).
	holdReason   string
	resumed      bool
	finishReason string
	safe         *metav1.Condition
}

// cooldownChecks reports whether the per-target cooldown is checked: the one check that
// safetyValidation turns off (the ConfigMap's, or the execution's where the ConfigMap allows
// it). Every other check always runs.
func (s *scope) cooldownChecks() bool {
	if !s.cfg.SafetyValidation {
		return false
	}
	sv := s.ke.Spec.ExecutionConfig.SafetyValidation
	return sv == nil || *sv || !s.cfg.AllowSkipSafetyValidation
}

func (s *scope) dryRun() bool {
	return s.ke.Spec.ExecutionConfig.DryRun || s.cfg.DryRun || (s.chain != nil && s.chain.dryRun)
}

// Reconcile advances one KubernetesExecution as far as it can: validation, then each operation
// in order, writing progress to status before and after every change.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	// From the cache: every status write is conditional on this copy's resourceVersion (the
	// optimistic lock), and an operation is marked Running in such a write before its change, so
	// a stale copy ends in a conflict (and a requeue) before anything is changed.
	ke := &kev1.KubernetesExecution{}
	if err := r.Client.Get(ctx, req.NamespacedName, ke); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if ke.Status.Phase.IsTerminal() {
		return ctrl.Result{}, nil
	}
	logger := log.FromContext(ctx).WithValues("kubernetesExecution", klog.KObj(ke))
	ctx = log.IntoContext(ctx, logger)
	s := &scope{ke: ke, now: r.Now(), checked: map[int]*checked{}}
	s.patch = skeleton.NewPatcher(r.Client, ke, skeleton.WithOptimisticLock(), skeleton.WithConditions(func() { setConditions(s) }))
	defer func() {
		if !s.crashed && !s.quiet { // crashed: the AfterChange hook simulated a crash, nothing more is written
			s.patch.Finish(ctx, &res, &retErr)
		}
	}()
	cfg, err := r.safetyConfig(ctx)
	if err != nil {
		if ke.Status.Phase != kev1.PhaseExecuting {
			r.init(s)
			r.refuseAll(s, refusal(kev1.ReasonSafetyConfigInvalid, "%v", err))
			return ctrl.Result{}, nil
		}
		// Operations already made stay; the next change waits for a usable configuration
		// (the ConfigMap watch wakes the execution).
		r.hold(ctx, s, kev1.ReasonSafetyConfigInvalid, fmt.Sprintf("holding before the next change: %v", err))
		return ctrl.Result{}, nil
	}
	s.cfg = cfg
	s.env = &action.Env{Client: r.Env.Client, Clientset: r.Env.Clientset, Limits: cfg.Limits, Now: r.Now}
	if cfg.Paused {
		r.hold(ctx, s, action.ReasonPaused, fmt.Sprintf("paused by %s=true in the safety ConfigMap %s/%s: holding before the next change", KeyPaused, r.Namespace, r.ConfigMapName))
		return ctrl.Result{}, nil
	}
	r.resume(s)
	switch ke.Status.Phase {
	case "", kev1.PhasePending, kev1.PhaseValidating:
		if wait, err := r.reconcileValidating(ctx, s); err != nil || wait > 0 {
			return ctrl.Result{RequeueAfter: wait}, err
		}
	}
	if ke.Status.Phase != kev1.PhaseExecuting {
		return ctrl.Result{}, nil
	}
	return r.reconcileExecuting(ctx, s)
}

// hold stops the reconcile before the next change: the execution keeps its phase and says why
// in its message and Ready condition, and continues when woken with the reason gone.
func (r *Reconciler) hold(ctx context.Context, s *scope, reason, msg string) {
	s.held = true
	holdsTotal.WithLabelValues(reason).Inc()
	prev := s.holdReason // the hold in force: this reconcile's, else the earlier one's unless lifted
	if c := meta.FindStatusCondition(s.ke.Status.Conditions, kev1.ConditionReady); prev == "" && c != nil && !s.resumed {
		prev = c.Reason
	}
	if prev != reason {
		r.Recorder.Eventf(s.ke, nil, corev1.EventTypeWarning, reason, "Hold", "%s", msg)
		log.FromContext(ctx).Info("Holding before the next change", "reason", reason, "message", msg)
	}
	s.ke.Status.Message = text.TruncateBytes(msg, maxMessage)
	s.holdReason = reason
}

// resume clears a hold of an earlier reconcile.
func (r *Reconciler) resume(s *scope) {
	c := meta.FindStatusCondition(s.ke.Status.Conditions, kev1.ConditionReady)
	if c == nil || (c.Reason != action.ReasonPaused && c.Reason != kev1.ReasonSafetyConfigInvalid) || s.ke.Status.Phase.IsTerminal() {
		return
	}
	s.resumed = true
}

// setConditions computes Ready and SafetyValidated, in one place, before every status write
// (skeleton.WithConditions).
func setConditions(s *scope) {
	st := &s.ke.Status
	switch {
	case st.Phase.IsTerminal():
		if s.finishReason != "" {
			setCondition(s, kev1.ConditionReady, st.Phase == kev1.PhaseCompleted, s.finishReason, st.Message)
		}
	case s.holdReason != "":
		setCondition(s, kev1.ConditionReady, false, s.holdReason, st.Message)
	case st.Phase == kev1.PhaseExecuting:
		setCondition(s, kev1.ConditionReady, false, kev1.ReasonExecuting, "running operations")
	case s.resumed:
		meta.RemoveStatusCondition(&st.Conditions, kev1.ConditionReady)
	}
	if s.safe != nil {
		meta.SetStatusCondition(&st.Conditions, *s.safe)
	}
}

// safetyConfig reads the safety ConfigMap. An absent, unreadable or invalid ConfigMap is an
// error: the executor refuses (or holds) rather than guess (a deleted ConfigMap must never turn
// a deliberate dryRun or pause into live changes).
func (r *Reconciler) safetyConfig(ctx context.Context) (SafetyConfig, error) {
	cm := &corev1.ConfigMap{}
	err := r.ConfigReader.Get(ctx, types.NamespacedName{Namespace: r.Namespace, Name: r.ConfigMapName}, cm)
	switch {
	case apierrors.IsNotFound(err):
		configValid.Set(0)
		return SafetyConfig{}, fmt.Errorf("the safety ConfigMap %s/%s does not exist; nothing is changed until it does", r.Namespace, r.ConfigMapName)
	case err != nil:
		configValid.Set(0)
		return SafetyConfig{}, fmt.Errorf("reading the safety ConfigMap %s/%s: %w", r.Namespace, r.ConfigMapName, err)
	}
	cfg, err := ParseSafetyConfig(cm.Data)
	if err != nil {
		configValid.Set(0)
		return cfg, fmt.Errorf("safety ConfigMap %s/%s: %w", r.Namespace, r.ConfigMapName, err)
	}
	configValid.Set(1)
	paused.Set(boolGauge(cfg.Paused))
	return cfg, nil
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
