package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/skeleton"
)

// +kubebuilder:rbac:groups=remediation.kubernaut.io,resources=remediationrequests,verbs=get;list;watch;delete;patch;update
// +kubebuilder:rbac:groups=remediation.kubernaut.io,resources=remediationrequests/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=remediationprocessing.kubernaut.io,resources=remediationprocessings,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=aianalysis.kubernaut.io,resources=aianalyses,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=workflowexecution.kubernaut.io,resources=workflowexecutions,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=kubernetesexecution.kubernaut.io,resources=kubernetesexecutions,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=notification.kubernaut.io,resources=notificationrequests,verbs=get;list;watch;create

const controllerName = "remediation-orchestrator"

// Reconciler drives RemediationRequests.
type Reconciler struct {
	Client client.Client
	// APIReader reads objects whose big fields the cache drops (payload, Kubernetes context).
	APIReader client.Reader
	Recorder  events.EventRecorder
	Config    Config
	Notifier  Escalator
	Audit     Auditor
	// Now returns the current time (tests may shift it); nil means time.Now.
	Now func() time.Time

	admission admission
	// fingerprints finds the requests of a fingerprint for the consecutive-failure block.
	fingerprints fingerprints
	// written remembers the resourceVersion of our last status patch per request, so a reconcile
	// that reads an older copy from the cache waits for the watch event of its own write.
	written sync.Map // types.NamespacedName → int64
	// approvingSeen remembers when an AIAnalysis was first observed in Approving, for the latency histogram.
	approvingSeen sync.Map // types.NamespacedName (request) → time.Time
	// finished holds the final state of children that left the cache, while their request needs them.
	finished finishedChildren
	wake     chan event.GenericEvent
}

func (r *Reconciler) retryMaxBackoff() time.Duration {
	if r.Config.RetryMaxBackoff < 100*time.Millisecond {
		return 30 * time.Second
	}
	return r.Config.RetryMaxBackoff
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// SetupWithManager registers the controller, its field indexes, watches on the five child kinds
// and the cache-backed metrics.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder(controllerName)
	}
	if err := setupIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		return fmt.Errorf("indexing remediation requests: %w", err)
	}
	if err := r.fingerprints.start(ctx, mgr.GetCache()); err != nil {
		return err
	}
	r.wake = make(chan event.GenericEvent, 1024)
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error { return r.sweepRetention(ctx) })); err != nil {
		return fmt.Errorf("adding the retention sweep: %w", err)
	}
	registerMetrics(mgr.GetCache(), r.Config.Namespace)
	return ctrl.NewControllerManagedBy(mgr).
		Named("remediationrequest").
		For(&remediationv1.RemediationRequest{}, builder.WithPredicates(r.settledAtStart())).
		Watches(&processingv1.RemediationProcessing{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			return toParent(o.(*processingv1.RemediationProcessing).Spec.RemediationRequestRef)
		})).
		Watches(&aiv1.AIAnalysis{}, handler.EnqueueRequestsFromMapFunc(r.mapAIAnalysis)).
		Watches(&workflowv1.WorkflowExecution{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			return toParent(o.(*workflowv1.WorkflowExecution).Spec.RemediationRequestRef)
		})).
		Watches(&kev1.KubernetesExecution{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			return toParent(o.(*kev1.KubernetesExecution).Spec.RemediationRequestRef)
		})).
		Watches(&notificationv1.NotificationRequest{}, handler.EnqueueRequestForOwner(mgr.GetScheme(), mgr.GetRESTMapper(),
			&remediationv1.RemediationRequest{}, handler.OnlyControllerOwner()), builder.OnlyMetadata).
		WatchesRawSource(source.Channel(r.wake, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: r.Config.MaxConcurrentReconciles,
			// Retries of unavailable services back off from 100ms to at most RetryMaxBackoff.
			RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](100*time.Millisecond, r.retryMaxBackoff()),
		}).
		Complete(r)
}

func toParent(ref common.ObjectReference) []reconcile.Request {
	if ref.Name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}}}
}

func (r *Reconciler) mapAIAnalysis(_ context.Context, o client.Object) []reconcile.Request {
	a := o.(*aiv1.AIAnalysis)
	reqs := toParent(a.Spec.RemediationRequestRef)
	if a.Status.Phase == aiv1.PhaseApproving && len(reqs) == 1 {
		r.approvingSeen.LoadOrStore(reqs[0].NamespacedName, time.Now())
	}
	return reqs
}

// scope is what one reconcile read and decided.
type scope struct {
	rr *remediationv1.RemediationRequest
	// patch writes rr's status (see newScope); startPhase is the phase the reconcile read.
	patch      *skeleton.Patcher
	startPhase remediationv1.Phase
	now        time.Time
	rp         *processingv1.RemediationProcessing
	aia        *aiv1.AIAnalysis
	wfe        *workflowv1.WorkflowExecution
	ke         *kev1.KubernetesExecution
	// freedSlot is set when the request left the active set in this reconcile.
	freedSlot bool
	// childInvalid is set when the request failed because a child was refused as invalid.
	childInvalid bool
	// requeue is the earliest deadline this reconcile must come back at (zero: none).
	requeue time.Duration
}

func (s *scope) requeueAfter(d time.Duration) {
	if d <= 0 {
		d = time.Millisecond
	}
	if s.requeue == 0 || d < s.requeue {
		s.requeue = d
	}
}

// Reconcile moves one RemediationRequest forward.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	rr := &remediationv1.RemediationRequest{}
	if err := r.Client.Get(ctx, req.NamespacedName, rr); err != nil {
		if apierrors.IsNotFound(err) {
			r.written.Delete(req.NamespacedName)
			r.approvingSeen.Delete(req.NamespacedName)
			r.finished.forgetRequest(req.NamespacedName)
			if r.admission.forget(req.NamespacedName) {
				// Deleted after its admission, before the cache showed it active: its slot is free.
				r.wakeBlocked(ctx, req.Namespace, 10)
			}
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("getting %s: %w", req.NamespacedName, err)
	}
	logger := log.FromContext(ctx).WithValues("remediationRequest", klog.KObj(rr), "phase", rr.Status.OverallPhase)
	ctx = log.IntoContext(ctx, logger)

	if r.staleRead(req.NamespacedName, rr) {
		// Our own newer write is on its way through the watch; it triggers the next reconcile.
		return ctrl.Result{}, nil
	}

	if !rr.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, rr)
	}
	if err := r.holdDeletionForAudit(ctx, rr); err != nil {
		return ctrl.Result{}, err
	}

	s := r.newScope(rr)
	defer func() {
		if retErr == nil && s.requeue > 0 {
			res.RequeueAfter = s.requeue
		}
		if s.patch.Finish(ctx, &res, &retErr) && s.freedSlot {
			r.wakeBlocked(ctx, s.rr.Namespace, 10) // the oldest few; those still without room stay Blocked without a write
		}
	}()

	if needsChildren(rr) {
		if err := r.loadChildren(ctx, s); err != nil {
			return ctrl.Result{}, err
		}
	} else {
		r.finished.forgetRequest(req.NamespacedName)
	}
	var errs []error
	var terminal error
	if err := r.reconcilePhase(ctx, s); err != nil {
		if invalid := (*childInvalidError)(nil); errors.As(err, &invalid) && !s.rr.Status.OverallPhase.IsTerminal() {
			r.failInvalid(s, invalid)
			terminal = reconcile.TerminalError(err)
		} else {
			errs = append(errs, err)
		}
	}
	// The outbox and the one-off side effects of terminal requests run after every phase step.
	if err := r.flushAudit(ctx, s); err != nil {
		errs = append(errs, err)
	}
	if s.rr.Status.OverallPhase.IsTerminal() {
		if err := r.reconcileTerminal(ctx, s); err != nil {
			errs = append(errs, err)
		}
	}
	r.setConditions(s)
	if p := s.rr.Status.OverallPhase; p != remediationv1.PhaseAnalyzing && p != "" {
		r.approvingSeen.Delete(req.NamespacedName) // only the first Approving observation is measured
	}
	if len(errs) > 0 {
		return ctrl.Result{}, errs[0]
	}
	return ctrl.Result{}, terminal
}

// failInvalid fails the request because the API server refused one of its children as
// invalid, with the API server's message; the Ready condition's reason is ChildInvalid.
func (r *Reconciler) failInvalid(s *scope, err *childInvalidError) {
	st := &s.rr.Status
	phase := st.OverallPhase
	if phase == "" || phase == remediationv1.PhasePending || phase == remediationv1.PhaseBlocked {
		phase = remediationv1.PhaseProcessing // the first child is the RemediationProcessing
	}
	r.admission.release(keyOf(s.rr))
	r.fail(s, remediationv1.ReasonChildInvalid, err.reason(), "")
	st.FailedPhase = phase
	s.childInvalid = true
}

// staleRead reports whether the cached copy is older than our last status write.
func (r *Reconciler) staleRead(key types.NamespacedName, rr *remediationv1.RemediationRequest) bool {
	v, ok := r.written.Load(key)
	if !ok {
		return false
	}
	cur, err := strconv.ParseInt(rr.ResourceVersion, 10, 64)
	if err != nil {
		return false
	}
	if cur < v.(int64) {
		return true
	}
	// The cache caught up with our write: forget it (10,000 finished requests keep no entry).
	r.written.CompareAndDelete(key, v)
	return false
}

// newScope starts a reconcile of rr: its status is written by one merge patch from this
// snapshot when it changed (skeleton.Patcher), and each write's resourceVersion is remembered
// (staleRead).
func (r *Reconciler) newScope(rr *remediationv1.RemediationRequest) *scope {
	return &scope{rr: rr, startPhase: rr.Status.OverallPhase, now: r.now(), patch: skeleton.NewPatcher(r.Client, rr, skeleton.OnWrite(func() {
		if v, err := strconv.ParseInt(rr.ResourceVersion, 10, 64); err == nil {
			r.written.Store(client.ObjectKeyFromObject(rr), v)
		}
	}))}
}

// needsChildren reports whether a reconcile of rr reads its children: every reconcile of a
// request that runs, and of a finished one while its audit trail still has phases to store
// (the records name each child's phase). The other reconciles of finished requests (retention,
// the outcome notification) never do, so 10,000 finished requests cost no child reads.
func needsChildren(rr *remediationv1.RemediationRequest) bool {
	return !rr.Status.OverallPhase.IsTerminal() || len(rr.Status.Audit.PendingPhases) > 0
}

// loadChildren reads the children named in the status: unfinished ones from the cache, finished
// ones (which have left the cache) from finishedChildren or, the first time, from the API server.
func (r *Reconciler) loadChildren(ctx context.Context, s *scope) error {
	st := &s.rr.Status
	get := func(ref *common.ObjectReference, obj client.Object) (client.Object, error) {
		if ref == nil {
			return nil, nil
		}
		key := types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}
		err := r.Client.Get(ctx, key, obj)
		if err == nil {
			return obj, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("getting %s: %w", key, err)
		}
		if done, ok := r.finished.get(key); ok {
			return done, nil
		}
		// Finished (the cache selects unfinished children only), created a moment ago and not
		// yet in the cache, or gone: ask the API server.
		if err := r.APIReader.Get(ctx, key, obj); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, nil
			}
			return nil, fmt.Errorf("reading %s: %w", key, err)
		}
		childReads.Inc()
		if childFinished(obj) {
			r.finished.put(obj)
		}
		return obj, nil
	}
	if o, err := get(st.RemediationProcessingRef, &processingv1.RemediationProcessing{}); err != nil {
		return err
	} else if o != nil {
		s.rp = o.(*processingv1.RemediationProcessing)
	}
	if o, err := get(st.AIAnalysisRef, &aiv1.AIAnalysis{}); err != nil {
		return err
	} else if o != nil {
		s.aia = o.(*aiv1.AIAnalysis)
	}
	if o, err := get(st.WorkflowExecutionRef, &workflowv1.WorkflowExecution{}); err != nil {
		return err
	} else if o != nil {
		s.wfe = o.(*workflowv1.WorkflowExecution)
	}
	if o, err := get(st.KubernetesExecutionRef, &kev1.KubernetesExecution{}); err != nil {
		return err
	} else if o != nil {
		s.ke = o.(*kev1.KubernetesExecution)
	}
	return nil
}

// childFinished reports whether a child is in a terminal phase: it never changes again, and the
// cache no longer holds it (see unfinished).
func childFinished(obj client.Object) bool {
	switch c := obj.(type) {
	case *processingv1.RemediationProcessing:
		return c.Status.Phase.IsTerminal()
	case *aiv1.AIAnalysis:
		return c.Status.Phase.IsTerminal()
	case *workflowv1.WorkflowExecution:
		return c.Status.Phase.IsTerminal()
	case *kev1.KubernetesExecution:
		return c.Status.Phase.IsTerminal()
	}
	return false
}

// wakeBlocked enqueues the oldest Blocked requests after a request left the active set.
func (r *Reconciler) wakeBlocked(ctx context.Context, namespace string, n int) {
	var list remediationv1.RemediationRequestList
	if err := r.Client.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{indexBlocked: "true"}); err != nil {
		return
	}
	sortByCreation(list.Items)
	for i := range list.Items {
		if i >= n {
			break
		}
		if !r.tryWake(&list.Items[i]) {
			return
		}
	}
}

// tryWake enqueues a reconcile of rr through the wake channel, unless the channel is full (the
// caller's next pass will try again).
func (r *Reconciler) tryWake(rr *remediationv1.RemediationRequest) bool {
	select {
	case r.wake <- event.GenericEvent{Object: rr}:
		return true
	default:
		return false
	}
}
