package gateway

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
)

// RBAC of the gateway (generated into deploy/base/rbac/gateway by `make manifests`).
// +kubebuilder:rbac:groups=remediation.kubernaut.io,resources=remediationrequests,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=remediation.kubernaut.io,resources=remediationrequests/status,verbs=get;patch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get
// +kubebuilder:rbac:groups=apps,resources=replicasets,verbs=get
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create

// AnnotationGeneration holds the generation of a RemediationRequest within its fingerprint.
const AnnotationGeneration = "kubernaut.io/signal-generation"

// Namespace labels read for the environment, in order.
var environmentLabels = []string{"kubernaut.io/environment", "environment"}

const fingerprintField = "spec.signalFingerprint"

// Config tunes the gateway.
type Config struct {
	// Namespace holds the RemediationRequests.
	Namespace string
	// Cooldown keeps a finished request absorbing duplicates for this long after it ended.
	Cooldown time.Duration
	// MaxPayloadBytes caps spec.originalPayload (at most 65536, the CRD's limit).
	MaxPayloadBytes int
	// Priorities is the severity × environment table.
	Priorities PriorityTable
	// APITimeout bounds the API server calls for one signal; past it the answer is 503.
	APITimeout time.Duration
	// RetryAfter is the Retry-After sent with 503.
	RetryAfter time.Duration
}

// DefaultConfig returns the defaults.
func DefaultConfig(namespace string) Config {
	return Config{
		Namespace: namespace, Cooldown: 5 * time.Minute, MaxPayloadBytes: 32 << 10,
		Priorities: DefaultPriorityTable(), APITimeout: 5 * time.Second, RetryAfter: 5 * time.Second,
	}
}

// Gateway turns signals into RemediationRequests.
type Gateway struct {
	cfg    Config
	client client.Client // writes go to the API server; reads of RRs and Namespaces from the cache
	reader client.Reader // uncached reads
	log    logr.Logger
	now    func() time.Time

	mu     sync.Mutex
	slots  map[string]*slot
	latest map[string]*remediationv1.RemediationRequest // last object this replica wrote, by fingerprint
}

// CacheOptions narrows a manager's cache for the gateway: RemediationRequests only in the
// system namespace, without their payload, labels and annotations of the signal (memory stays
// small with many requests). Namespaces are read as metadata only.
func CacheOptions(base cache.Options, namespace string) cache.Options {
	if base.ByObject == nil {
		base.ByObject = map[client.Object]cache.ByObject{}
	}
	base.ByObject[&remediationv1.RemediationRequest{}] = cache.ByObject{
		Namespaces: map[string]cache.Config{namespace: {}},
		Transform:  StripRemediationRequest,
	}
	return base
}

// StripRemediationRequest drops what the gateway never reads from a cached RemediationRequest.
func StripRemediationRequest(obj any) (any, error) {
	rr, ok := obj.(*remediationv1.RemediationRequest)
	if !ok {
		return obj, nil
	}
	rr.ManagedFields = nil
	rr.Spec.OriginalPayload = nil
	rr.Spec.SignalLabels = nil
	rr.Spec.SignalAnnotations = nil
	rr.Spec.ProviderData = nil
	rr.Status.Conditions = nil
	rr.Status.Escalations = nil
	rr.Status.NotificationRequestRefs = nil
	return rr, nil
}

// New registers the gateway's index and informers on mgr. The manager's cache must have been
// built with CacheOptions.
func New(ctx context.Context, mgr manager.Manager, cfg Config) (*Gateway, error) {
	if cfg.Priorities == nil {
		cfg.Priorities = DefaultPriorityTable()
	}
	if cfg.MaxPayloadBytes <= 0 || cfg.MaxPayloadBytes > 65536 {
		cfg.MaxPayloadBytes = 65536
	}
	if cfg.APITimeout <= 0 {
		cfg.APITimeout = 5 * time.Second
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 5 * time.Second
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &remediationv1.RemediationRequest{}, fingerprintField, func(o client.Object) []string {
		return []string{o.(*remediationv1.RemediationRequest).Spec.SignalFingerprint}
	}); err != nil {
		return nil, fmt.Errorf("indexing RemediationRequests by fingerprint: %w", err)
	}
	nsMeta := &metav1.PartialObjectMetadata{}
	nsMeta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if _, err := mgr.GetCache().GetInformer(ctx, nsMeta); err != nil {
		return nil, fmt.Errorf("watching namespaces: %w", err)
	}
	return &Gateway{
		cfg: cfg, client: mgr.GetClient(), reader: mgr.GetAPIReader(),
		log: mgr.GetLogger().WithName("gateway"), now: time.Now,
		slots: map[string]*slot{}, latest: map[string]*remediationv1.RemediationRequest{},
	}, nil
}

// Outcome statuses.
const (
	StatusCreated   = "created"
	StatusDuplicate = "duplicate"
	StatusResolved  = "resolved"
	StatusRejected  = "rejected"
	StatusIgnored   = "ignored"
	StatusFailed    = "unavailable"
)

// Outcome is what happened to one signal.
type Outcome struct {
	Status             string `json:"status"`
	Fingerprint        string `json:"fingerprint,omitempty"`
	RemediationRequest string `json:"remediationRequest,omitempty"`
	OccurrenceCount    int32  `json:"occurrenceCount,omitempty"`
	Reason             string `json:"reason,omitempty"`
	// err is set when the API server could not be reached (→ 503).
	err error
}

// errUnavailable marks failures that deserve a 503.
var errUnavailable = errors.New("the API server is unavailable")

// Handle stores one signal: it resolves the target, then creates, counts or resolves.
func (g *Gateway) Handle(ctx context.Context, s *Signal) Outcome {
	signalsReceived.WithLabelValues(s.Source).Inc()
	ctx, cancel := context.WithTimeout(ctx, g.cfg.APITimeout)
	defer cancel()
	target, err := g.resolveTarget(ctx, s.Target)
	if err != nil {
		return g.unavailable(s, err)
	}
	s.Target = target
	fp := Fingerprint(target)
	var out Outcome
	if s.Resolved {
		out = g.resolve(ctx, s, fp)
	} else {
		out = g.submit(ctx, s, fp)
	}
	out.Fingerprint = fp
	switch out.Status {
	case StatusCreated:
		signalsCreated.WithLabelValues(s.Source).Inc()
	case StatusDuplicate:
		signalsDeduplicated.WithLabelValues(s.Source).Inc()
	case StatusResolved:
		signalsResolved.WithLabelValues(s.Source, strconv.FormatBool(out.RemediationRequest != "")).Inc()
	case StatusFailed:
		signalsRejected.WithLabelValues(s.Source, "unavailable").Inc()
	case StatusRejected:
		signalsRejected.WithLabelValues(s.Source, "invalid").Inc()
	}
	return out
}

func (g *Gateway) unavailable(s *Signal, err error) Outcome {
	signalsRejected.WithLabelValues(s.Source, "unavailable").Inc()
	return Outcome{Status: StatusFailed, Reason: err.Error(), err: err}
}

// classify turns an API error into an outcome: invalid objects are rejected, anything else
// (unreachable, timeouts, 5xx, throttling) is unavailable.
func classify(op string, err error) Outcome {
	if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
		return Outcome{Status: StatusRejected, Reason: fmt.Sprintf("the API server rejected the RemediationRequest: %v", err)}
	}
	apiErrors.WithLabelValues(op).Inc()
	return Outcome{Status: StatusFailed, Reason: fmt.Sprintf("%s: %v", op, err), err: fmt.Errorf("%w: %s: %w", errUnavailable, op, err)}
}

// isActive says whether rr absorbs duplicates at now.
func (g *Gateway) isActive(rr *remediationv1.RemediationRequest, now time.Time) bool {
	if rr.DeletionTimestamp != nil {
		return false
	}
	if !rr.Status.OverallPhase.IsTerminal() {
		return true
	}
	end := rr.Status.CompletionTime
	if end == nil {
		return now.Sub(rr.CreationTimestamp.Time) < g.cfg.Cooldown
	}
	return now.Sub(end.Time) < g.cfg.Cooldown
}

func generation(rr *remediationv1.RemediationRequest) int64 {
	g, err := strconv.ParseInt(rr.Annotations[AnnotationGeneration], 10, 64)
	if err != nil {
		return 0
	}
	return g
}

// newest returns the newest known request of a fingerprint: the last one this replica wrote,
// or the cache's newest generation, whichever generation is higher.
func (g *Gateway) newest(ctx context.Context, fp string) (*remediationv1.RemediationRequest, error) {
	g.mu.Lock()
	best := g.latest[fp]
	g.mu.Unlock()
	var list remediationv1.RemediationRequestList
	if err := g.client.List(ctx, &list, client.InNamespace(g.cfg.Namespace), client.MatchingFields{fingerprintField: fp}); err != nil {
		return nil, err
	}
	for i := range list.Items {
		rr := &list.Items[i]
		if best == nil || generation(rr) > generation(best) {
			best = rr
		}
	}
	return best, nil
}

func (g *Gateway) remember(fp string, rr *remediationv1.RemediationRequest) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.latest) > 20000 {
		g.latest = map[string]*remediationv1.RemediationRequest{}
	}
	if old := g.latest[fp]; old == nil || generation(rr) >= generation(old) {
		stripped, _ := StripRemediationRequest(rr.DeepCopy())
		g.latest[fp] = stripped.(*remediationv1.RemediationRequest)
	}
}
