package processing

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrlbuilder "sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/processing/classify"
	"github.com/kubernaut/kubernaut/pkg/shared/skeleton"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// Permissions of the processing service; `make manifests` turns them into deploy/base/rbac/processing.
// It watches only its own kind and its policy ConfigMap (the informers of its cache). Everything
// an enrichment reads is read live, with the verbs those reads need and no watch: get by name
// (namespaces, nodes, the target and its owners, claims, storage classes), list with label or
// field selectors (pods, ReplicaSets, Jobs, events, HPAs and PDBs of the target's namespace,
// the pods on a node). It writes only the status of its own kind and events. Its leader-election
// Lease is granted in its namespace only, by the Role kubernaut-leader-election
// (deploy/base/leader-election.yaml).
// +kubebuilder:rbac:groups=remediationprocessing.kubernaut.io,resources=remediationprocessings,verbs=get;list;watch
// +kubebuilder:rbac:groups=remediationprocessing.kubernaut.io,resources=remediationprocessings/status,verbs=patch
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list
// +kubebuilder:rbac:groups="",resources=events,verbs=list
// +kubebuilder:rbac:groups="",resources=namespaces;nodes;persistentvolumeclaims,verbs=get
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets,verbs=get
// +kubebuilder:rbac:groups=apps,resources=replicasets,verbs=get;list
// +kubebuilder:rbac:groups=batch,resources=cronjobs,verbs=get
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=list
// +kubebuilder:rbac:groups=storage.k8s.io,resources=storageclasses,verbs=get

const controllerName = "remediationprocessing"

// Config tunes the controller.
type Config struct {
	// Namespace holds the RemediationProcessings and the policy ConfigMap.
	Namespace string
	// PolicyConfigMap is the name of the policy ConfigMap in Namespace.
	PolicyConfigMap string
	// EnrichmentTimeout bounds the reads of one enrichment; a read still waiting then fails the
	// processing with reason EnrichmentTimedOut. Other read errors are retried until the same
	// time has passed since the processing started, then fail it with reason EnrichmentFailed.
	EnrichmentTimeout time.Duration
	// MaxConcurrentReconciles is the number of processings worked on in parallel.
	MaxConcurrentReconciles int
	// MaxContextBytes bounds the serialized KubernetesContext.
	MaxContextBytes int
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Namespace: "kubernaut-system", PolicyConfigMap: "kubernaut-processing-policy", EnrichmentTimeout: 10 * time.Second,
		MaxConcurrentReconciles: 16, MaxContextBytes: MaxContextBytes}
}

// Reconciler enriches and classifies RemediationProcessings.
type Reconciler struct {
	Config
	// Client reads RemediationProcessings (from the cache) and patches their status.
	Client client.Client
	// Reader is where enrichment reads the cluster (default: the manager's API reader, live).
	Reader client.Reader
	// APIReader reads a RemediationProcessing live when the cache shows it mid-way (default: the
	// manager's API reader): the watch event of our own Enriching patch must not enrich it twice.
	APIReader client.Reader
	Recorder  events.EventRecorder
	Policy    *PolicyStore
	Now       func() time.Time

	enricherOnce sync.Once
	enricher     *Enricher
}

// SetupWithManager registers the RemediationProcessing controller and the policy ConfigMap's
// controller, the only informers of the service.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr manager.Manager) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.Reader == nil {
		r.Reader = mgr.GetAPIReader()
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder("processing")
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.MaxConcurrentReconciles == 0 {
		r.MaxConcurrentReconciles = DefaultConfig().MaxConcurrentReconciles
	}
	if r.MaxContextBytes == 0 {
		r.MaxContextBytes = MaxContextBytes
	}
	if r.EnrichmentTimeout == 0 {
		r.EnrichmentTimeout = DefaultConfig().EnrichmentTimeout
	}
	if r.Policy == nil {
		r.Policy = &PolicyStore{Reader: mgr.GetCache(), Recorder: r.Recorder, Namespace: r.Namespace, Name: r.PolicyConfigMap}
	}
	// The policy is read from the cache by the first reconcile, which may run before the
	// policy controller started its informer.
	if _, err := mgr.GetCache().GetInformer(ctx, &corev1.ConfigMap{}); err != nil {
		return fmt.Errorf("starting the informer of the policy ConfigMap: %w", err)
	}
	if err := ctrlbuilder.ControllerManagedBy(mgr).
		Named(controllerName).
		For(&processingv1.RemediationProcessing{}, ctrlbuilder.WithPredicates(notFinished)).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r); err != nil {
		return err
	}
	policyName, policyNS := r.PolicyConfigMap, r.Namespace
	return ctrlbuilder.ControllerManagedBy(mgr).
		Named("processing-policy").
		For(&corev1.ConfigMap{}, ctrlbuilder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			return o.GetName() == policyName && o.GetNamespace() == policyNS
		}))).
		Complete(r.Policy)
}

var notFinished = predicate.NewPredicateFuncs(func(o client.Object) bool {
	rp, ok := o.(*processingv1.RemediationProcessing)
	return !ok || !rp.Status.Phase.IsTerminal()
})

// Reconcile takes one RemediationProcessing from Pending to Completed or Failed.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (res reconcile.Result, retErr error) {
	rp := &processingv1.RemediationProcessing{}
	if err := r.Client.Get(ctx, req.NamespacedName, rp); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if rp.Status.Phase.IsTerminal() {
		return reconcile.Result{}, nil
	}
	if rp.Status.Phase == processingv1.PhaseEnriching || rp.Status.Phase == processingv1.PhaseClassifying {
		// Enriching is written only with a retry after a failed read, or was left by a processing
		// cut short by a restart; the cached copy may lag the completion that followed it.
		if err := r.APIReader.Get(ctx, req.NamespacedName, rp); err != nil {
			return reconcile.Result{}, client.IgnoreNotFound(err)
		}
		if rp.Status.Phase.IsTerminal() {
			return reconcile.Result{}, nil
		}
	}
	logger := log.FromContext(ctx).WithValues("remediationProcessing", klog.KObj(rp), "target", rp.Spec.Alert.TargetResource.Kind+"/"+rp.Spec.Alert.TargetResource.Name)
	ctx = log.IntoContext(ctx, logger)
	s := &scope{rp: rp}
	p := skeleton.NewPatcher(r.Client, rp, skeleton.WithConditions(func() { setConditions(s) }))
	defer p.Finish(ctx, &res, &retErr)
	if rp.Status.Phase == "" || rp.Status.Phase == processingv1.PhasePending || rp.Status.StartTime == nil {
		// Enriching and its start time are written with the reconcile's end: with the result when
		// the reads finish (one status write per processing, which an alert storm multiplies), or
		// with the retry after a failed read, whose deadline counts from this start.
		r.reconcileStart(rp)
	}
	return r.reconcileEnrich(ctx, s)
}

// scope is what one reconcile works on.
type scope struct {
	rp *processingv1.RemediationProcessing
	// failReason is the Ready reason of a processing this reconcile failed.
	failReason string
}

// setConditions computes Ready from the phase and the message, in one place, before every
// status write (skeleton.WithConditions).
func setConditions(s *scope) {
	st := &s.rp.Status
	ready := metav1.Condition{Type: processingv1.ConditionReady, Status: metav1.ConditionFalse, Reason: processingv1.ReasonInProgress,
		Message: text.TruncateBytes(st.Message, 1024), ObservedGeneration: s.rp.Generation}
	switch st.Phase {
	case "", processingv1.PhasePending:
		return
	case processingv1.PhaseCompleted:
		ready.Status, ready.Reason = metav1.ConditionTrue, processingv1.ReasonEnriched
		if es := st.EnrichedSignal; es != nil && es.KubernetesContext != nil && es.KubernetesContext.TargetNotFound {
			ready.Reason = processingv1.ReasonTargetNotFound
		}
	case processingv1.PhaseFailed:
		ready.Reason = s.failReason
		if ready.Reason == "" {
			ready.Reason = processingv1.ReasonEnrichFailed
		}
	}
	meta.SetStatusCondition(&st.Conditions, ready)
}

func (r *Reconciler) now() metav1.Time { return metav1.NewTime(r.Now().Truncate(time.Second)) }

func (r *Reconciler) reconcileStart(rp *processingv1.RemediationProcessing) {
	now := r.now()
	rp.Status.Phase = processingv1.PhaseEnriching
	if rp.Status.StartTime == nil {
		rp.Status.StartTime = &now
	}
	rp.Status.Message = "reading the target's Kubernetes context"
}

func (r *Reconciler) fail(s *scope, reason, message string) {
	rp, now := s.rp, r.now()
	rp.Status.Phase, rp.Status.Message, rp.Status.CompletionTime = processingv1.PhaseFailed, text.TruncateBytes(message, 1024), &now
	s.failReason = reason
	r.Recorder.Eventf(rp, nil, corev1.EventTypeWarning, reason, "Enrich", "%s", text.TruncateBytes(message, 1000))
}

// reconcileEnrich reads the context (Enriching), classifies (Classifying) and completes.
func (r *Reconciler) reconcileEnrich(ctx context.Context, s *scope) (reconcile.Result, error) {
	rp := s.rp
	t := rp.Spec.Alert.TargetResource
	start := time.Now()
	readCtx, cancel := context.WithTimeout(ctx, r.EnrichmentTimeout)
	r.enricherOnce.Do(func() { r.enricher = &Enricher{Reader: r.Reader, Now: r.Now} })
	// Shared reads serve it only when begun after it was created (creationTimestamp has whole
	// seconds).
	en, err := r.enricher.EnrichSince(readCtx, t, FocusOf(rp.Spec.Alert.Labels), rp.CreationTimestamp.Add(time.Second))
	cancel()
	enrichmentDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return reconcile.Result{}, err // shutting down
		case errors.Is(err, context.DeadlineExceeded) || readCtx.Err() != nil:
			enrichments.WithLabelValues(resultTimedOut).Inc()
			r.fail(s, processingv1.ReasonEnrichmentTimedOut, fmt.Sprintf("reading the context of %s %s/%s did not finish within %s: %v", t.Kind, t.Namespace, t.Name, r.EnrichmentTimeout, err))
			return reconcile.Result{}, nil
		case rp.Status.StartTime != nil && r.Now().Sub(rp.Status.StartTime.Time) > r.EnrichmentTimeout:
			enrichments.WithLabelValues(resultFailed).Inc()
			r.fail(s, processingv1.ReasonEnrichFailed, fmt.Sprintf("reading the context of %s %s/%s kept failing for %s: %v", t.Kind, t.Namespace, t.Name, r.EnrichmentTimeout, err))
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("enriching %s: %w", klog.KObj(rp), err)
	}

	rp.Status.Phase = processingv1.PhaseClassifying
	policy, err := r.Policy.Current(ctx)
	if err != nil {
		return reconcile.Result{}, err
	}
	a := rp.Spec.Alert
	res := policy.Classify(classify.Input{SignalName: a.SignalName, Severity: a.Severity, Fingerprint: a.Fingerprint, Labels: a.Labels,
		Annotations: a.Annotations, Kind: t.Kind, Namespace: t.Namespace, Name: t.Name, NamespaceLabels: en.nsLabels})
	for _, e := range res.RuleErrors {
		ruleErrors.Inc()
		log.FromContext(ctx).V(1).Info("Policy rule failed", "error", e.Error())
	}
	priorityFrom := "table"
	if len(res.Rule) > 5 && res.Rule[:5] == "rule:" {
		priorityFrom = "rule"
	}
	classifications.WithLabelValues(string(res.EnvironmentSource), priorityFrom).Inc()

	kc := en.kc
	size := en.bound(r.MaxContextBytes)
	contextBytes.Observe(float64(size))
	if len(kc.Truncated) > 0 {
		contextTruncations.Inc()
	}
	rp.Status.EnrichedSignal = &processingv1.EnrichedSignal{
		Fingerprint: a.Fingerprint, Severity: a.Severity, Environment: string(res.Environment), BusinessPriority: string(res.Priority),
		EnvironmentSource: res.EnvironmentSource, PriorityRule: text.TruncateBytes(res.Rule, 256), PolicyVersion: text.TruncateBytes(policy.Version, 64),
		ContextBytes: int32(size), Namespace: t.Namespace, ResourceKind: t.Kind, ResourceName: t.Name, KubernetesContext: kc,
	}
	now := r.now()
	rp.Status.Phase, rp.Status.CompletionTime = processingv1.PhaseCompleted, &now
	if kc.TargetNotFound {
		enrichments.WithLabelValues(resultDegraded).Inc()
		degradedEnrichments.Inc()
		rp.Status.Message = fmt.Sprintf("%s %s/%s was not found: completed with the context still known", t.Kind, t.Namespace, t.Name)
		r.Recorder.Eventf(rp, nil, corev1.EventTypeWarning, processingv1.ReasonTargetNotFound, "Enrich", "%s", rp.Status.Message)
		return reconcile.Result{}, nil
	}
	enrichments.WithLabelValues(resultEnriched).Inc()
	rp.Status.Message = fmt.Sprintf("enriched (%d bytes) and classified %s/%s (%s)", size, res.Environment, res.Priority, res.Rule)
	return reconcile.Result{}, nil
}
