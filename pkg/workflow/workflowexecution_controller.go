package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	ctrlbuilder "sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	corev1 "k8s.io/api/core/v1"

	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/skeleton"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

const controllerName = "workflowexecution"

// DefaultExecutorServiceAccount is the user name of the executor's ServiceAccount as deploy/
// installs it.
const DefaultExecutorServiceAccount = "system:serviceaccount:kubernaut-system:kubernaut-executor"

// Permissions of the workflow service; `make manifests` turns them into deploy/base/rbac/workflow.
// Its own kind:
// +kubebuilder:rbac:groups=workflowexecution.kubernaut.io,resources=workflowexecutions,verbs=get;list;watch
// +kubebuilder:rbac:groups=workflowexecution.kubernaut.io,resources=workflowexecutions/status,verbs=get;update;patch
// Reading the targets it validates (live gets, no watches) and what they resolve to:
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets;replicasets,verbs=get;list
// +kubebuilder:rbac:groups="",resources=pods;nodes;namespaces;persistentvolumeclaims,verbs=get;list
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get
// Asking whether the executor may use the action's verbs:
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
// Server-side dry-runs of the executor's calls. The API server authorizes a dry-run like the
// real call, so these are the executor's write verbs; the workflow service only ever sends them
// with dryRun=All.
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets,verbs=patch
// +kubebuilder:rbac:groups=apps,resources=deployments/scale;statefulsets/scale,verbs=get;patch
// +kubebuilder:rbac:groups="",resources=nodes;persistentvolumeclaims,verbs=patch
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=delete
// +kubebuilder:rbac:groups="",resources=pods/eviction,verbs=create

// Reconciler plans and validates WorkflowExecutions.
type Reconciler struct {
	// Client writes status and sends dry-runs and SubjectAccessReviews.
	Client client.Client
	// Reader reads WorkflowExecutions and targets live from the API server.
	Reader client.Reader
	// ExecutorServiceAccount is the user name whose permissions are checked.
	ExecutorServiceAccount string
	Recorder               events.EventRecorder
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MaxConcurrentReconciles bounds parallel validations (default DefaultMaxConcurrentReconciles).
	MaxConcurrentReconciles int
}

// CacheOptions narrows the manager's cache to the WorkflowExecutions of namespace, keeping of
// each only what the watch reads (the reconciler reads every workflow live). Targets are never
// cached: they are read live when validated.
func CacheOptions(opts *cache.Options, namespace string) {
	skeleton.SlimCache(opts, namespace, &workflowv1.WorkflowExecution{})
}

// DefaultMaxConcurrentReconciles is how many workflows are validated in parallel by default: a
// validation mostly waits on the API server.
const DefaultMaxConcurrentReconciles = 16

// SetupWithManager registers the controller.
func (r *Reconciler) SetupWithManager(_ context.Context, mgr manager.Manager) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.Reader == nil {
		r.Reader = mgr.GetAPIReader()
	}
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder("workflow")
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.ExecutorServiceAccount == "" {
		r.ExecutorServiceAccount = DefaultExecutorServiceAccount
	}
	if _, err := ServiceAccountGroups(r.ExecutorServiceAccount); err != nil {
		return err
	}
	if r.MaxConcurrentReconciles == 0 {
		r.MaxConcurrentReconciles = DefaultMaxConcurrentReconciles
	}
	return ctrlbuilder.ControllerManagedBy(mgr).
		Named(controllerName).
		For(&workflowv1.WorkflowExecution{}, ctrlbuilder.WithPredicates(predicate.GenerationChangedPredicate{}, notFinished)).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: r.MaxConcurrentReconciles,
			// Transient failures retry quickly enough for the workflow timeout to be noticed.
			RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](100*time.Millisecond, 30*time.Second),
		}).
		Complete(r)
}

var notFinished = predicate.NewPredicateFuncs(func(o client.Object) bool {
	w, ok := o.(*workflowv1.WorkflowExecution)
	return !ok || !w.Status.Phase.IsTerminal()
})

// scope is what one reconcile works on.
type scope struct {
	wfe      *workflowv1.WorkflowExecution
	now      time.Time
	deadline time.Time
	// failReason is the Ready reason of a workflow this reconcile failed.
	failReason string
}

// Reconcile plans and validates one WorkflowExecution.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (res reconcile.Result, retErr error) {
	wfe := &workflowv1.WorkflowExecution{}
	if err := r.Reader.Get(ctx, req.NamespacedName, wfe); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if wfe.Status.Phase.IsTerminal() {
		return reconcile.Result{}, nil
	}
	logger := log.FromContext(ctx).WithValues("workflowExecution", klog.KObj(wfe), "remediationRequest", wfe.Spec.RemediationRequestRef.Name)
	ctx = log.IntoContext(ctx, logger)
	now := r.Now()
	s := &scope{wfe: wfe, now: now}
	p := skeleton.NewPatcher(r.Client, wfe, skeleton.WithConditions(func() { setConditions(s) }))
	defer p.Finish(ctx, &res, &retErr)
	if wfe.Status.StartTime == nil {
		wfe.Status.StartTime = &metav1.Time{Time: now}
	}
	wfe.Status.DryRun = wfe.Spec.ExecutionConfig.DryRun
	s.deadline = wfe.Status.StartTime.Add(durationOr(wfe.Spec.ExecutionConfig.WorkflowTimeout, DefaultWorkflowTimeout))
	if !now.Before(s.deadline) {
		r.fail(ctx, s, workflowv1.ReasonWorkflowTimedOut, fmt.Sprintf("planning and validation did not finish within workflowTimeout %s", s.deadline.Sub(wfe.Status.StartTime.Time)))
		return reconcile.Result{}, nil
	}
	if wfe.Status.Phase == "" || wfe.Status.Phase == workflowv1.PhasePending || wfe.Status.Phase == workflowv1.PhasePlanning {
		// The plan is written with the validation's result (one status write per workflow, which
		// an alert storm multiplies), or with the retry of a validation that could not finish.
		if err := r.reconcilePlanning(ctx, s); err != nil || wfe.Status.Phase.IsTerminal() {
			return reconcile.Result{}, err
		}
	}
	return r.reconcileValidating(ctx, s)
}

// reconcilePlanning turns the steps into ordered operations, or fails the workflow.
func (r *Reconciler) reconcilePlanning(ctx context.Context, s *scope) error {
	wfe := s.wfe
	setPhase(wfe, workflowv1.PhasePlanning, "planning the steps")
	start := time.Now()
	p, err := NewPlan(&wfe.Spec)
	planningDuration.Observe(time.Since(start).Seconds())
	var pe *PlanError
	if errors.As(err, &pe) {
		wfe.Status.ValidationResults = pe.Results
		wfe.Status.Operations = nil
		r.fail(ctx, s, pe.Reason, pe.Message)
		return reconcile.TerminalError(err)
	}
	if err != nil {
		return err
	}
	wfe.Status.Operations = p.Operations
	wfe.Status.EstimatedDuration = &metav1.Duration{Duration: p.Estimated}
	setPhase(wfe, workflowv1.PhaseValidating,
		fmt.Sprintf("%s%d operations planned (up to %s); validating them against the cluster", dryRunPrefix(wfe), len(p.Operations), p.Estimated))
	return nil
}

// reconcileValidating checks every operation against the live cluster.
func (r *Reconciler) reconcileValidating(ctx context.Context, s *scope) (reconcile.Result, error) {
	wfe := s.wfe
	vctx, cancel := context.WithDeadline(ctx, s.deadline)
	defer cancel()
	v := &Validator{Reader: r.Reader, Writer: r.Client, Executor: r.ExecutorServiceAccount, Now: r.Now, Analyzed: wfe.Spec.AnalyzedTarget}
	start := time.Now()
	results := make([]workflowv1.ValidationResult, len(wfe.Status.Operations))
	var failed []string
	reason := ""
	for i := range wfe.Status.Operations {
		op := &wfe.Status.Operations[i]
		res, err := v.Validate(vctx, op)
		if err != nil {
			wfe.Status.Message = text.TruncateBytes(fmt.Sprintf("%svalidating %s, will retry: %v", dryRunPrefix(wfe), op.Name, err), 1024)
			if vctx.Err() != nil {
				return reconcile.Result{RequeueAfter: time.Until(s.deadline) + time.Millisecond}, nil
			}
			return reconcile.Result{}, err
		}
		results[i] = res
		if !res.Valid {
			failed = append(failed, "step "+res.Step+": "+res.Message)
			validationFailures.WithLabelValues(res.Reason).Inc()
			if reason == "" {
				reason = res.Reason
			}
		}
	}
	validationDuration.Observe(time.Since(start).Seconds())
	wfe.Status.ValidationResults = results
	if len(failed) > 0 {
		r.fail(ctx, s, reason, strings.Join(failed, "; "))
		return reconcile.Result{}, reconcile.TerminalError(errors.New(reason))
	}
	wfe.Status.CompletionTime = &metav1.Time{Time: r.Now()}
	msg := fmt.Sprintf("%d operations planned and validated against the cluster", len(wfe.Status.Operations))
	if wfe.Spec.ExecutionConfig.DryRun {
		msg = "dry run: " + msg + "; the executor will only dry-run them and change nothing"
	}
	setPhase(wfe, workflowv1.PhaseCompleted, msg)
	workflows.WithLabelValues(string(workflowv1.PhaseCompleted)).Inc()
	r.Recorder.Eventf(wfe, nil, corev1.EventTypeNormal, workflowv1.ReasonValidated, "Validate", "%s", msg)
	log.FromContext(ctx).Info("Workflow validated", "operations", len(wfe.Status.Operations), "dryRun", wfe.Spec.ExecutionConfig.DryRun)
	return reconcile.Result{}, nil
}

func (r *Reconciler) fail(ctx context.Context, s *scope, reason, msg string) {
	wfe := s.wfe
	msg = dryRunPrefix(wfe) + msg
	wfe.Status.CompletionTime = &metav1.Time{Time: r.Now()}
	s.failReason = reason
	setPhase(wfe, workflowv1.PhaseFailed, msg)
	workflows.WithLabelValues(string(workflowv1.PhaseFailed)).Inc()
	r.Recorder.Eventf(wfe, nil, corev1.EventTypeWarning, reason, "Validate", "%s", text.TruncateBytes(msg, 1024))
	log.FromContext(ctx).Info("Workflow failed", "reason", reason, "message", msg)
}

// setPhase sets the phase and the message; setConditions derives Ready from them.
func setPhase(wfe *workflowv1.WorkflowExecution, phase workflowv1.Phase, msg string) {
	wfe.Status.Phase = phase
	wfe.Status.Message = text.TruncateBytes(msg, 1024)
}

// setConditions computes Ready from the phase, the message and the failure reason, in one place,
// before every status write (skeleton.WithConditions).
func setConditions(s *scope) {
	st := &s.wfe.Status
	ready := metav1.Condition{Type: workflowv1.ConditionReady, Status: metav1.ConditionFalse, Message: st.Message, ObservedGeneration: s.wfe.Generation}
	switch st.Phase {
	case workflowv1.PhasePlanning:
		ready.Reason = workflowv1.ReasonPlanning
	case workflowv1.PhaseValidating:
		ready.Reason = workflowv1.ReasonValidating
	case workflowv1.PhaseCompleted:
		ready.Status, ready.Reason = metav1.ConditionTrue, workflowv1.ReasonValidated
	case workflowv1.PhaseFailed:
		ready.Reason = s.failReason
	default:
		return
	}
	if ready.Reason == "" {
		return // failed in an earlier reconcile: Ready says why already
	}
	meta.SetStatusCondition(&st.Conditions, ready)
}

func dryRunPrefix(wfe *workflowv1.WorkflowExecution) string {
	if wfe.Spec.ExecutionConfig.DryRun {
		return "dry run: "
	}
	return ""
}
