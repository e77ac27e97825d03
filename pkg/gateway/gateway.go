package gateway

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/gateway/internal/slim"
)

// RBAC of the gateway (generated into deploy/base/rbac/gateway by `make manifests`).
// +kubebuilder:rbac:groups=remediation.kubernaut.io,resources=remediationrequests,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=remediation.kubernaut.io,resources=remediationrequests/status,verbs=get;patch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// Target resolution reads the metadata of the kinds of the built-in table (existence and
// controller owner references), and indexes Nodes (name and InternalIP) for node and instance.
// +kubebuilder:rbac:groups="",resources=pods;persistentvolumeclaims;persistentvolumes,verbs=get
// +kubebuilder:rbac:groups="",resources=nodes,verbs=list;watch
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets;replicasets,verbs=get
// +kubebuilder:rbac:groups=batch,resources=jobs;cronjobs,verbs=get
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create

// AnnotationGeneration holds the generation of a RemediationRequest within its fingerprint.
const AnnotationGeneration = slim.AnnotationGeneration

// Namespace labels read for the environment, in order.
var environmentLabels = []string{common.LabelNamespaceEnvironment, "environment"}

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
	// Mappings are the operator's target mappings, tried before the built-in table.
	Mappings []Mapping
	// OwnerCacheSize caps the objects whose metadata target resolution remembers.
	OwnerCacheSize int
	// OwnerCacheTTL is how long an object's metadata is remembered (absent objects: at most 10s).
	OwnerCacheTTL time.Duration
}

// DefaultConfig returns the defaults.
func DefaultConfig(namespace string) Config {
	return Config{
		Namespace: namespace, Cooldown: 5 * time.Minute, MaxPayloadBytes: 32 << 10,
		Priorities: DefaultPriorityTable(), APITimeout: 5 * time.Second, RetryAfter: 5 * time.Second,
		OwnerCacheSize: 10000, OwnerCacheTTL: 5 * time.Minute,
	}
}

// Gateway turns signals into RemediationRequests.
type Gateway struct {
	cfg    Config
	client client.Client // reads Namespaces from the manager's cache
	reader client.Reader // uncached metadata reads (new namespaces)
	rrs    *requests     // RemediationRequests: slim informer, reads and writes
	nodes  *nodeIndex    // Nodes: name and InternalIPs
	res    *resolver     // labels → target
	log    logr.Logger
	now    func() time.Time

	mu     sync.Mutex
	slots  map[string]*slot
	latest map[string]*rrState // last object this replica wrote, by fingerprint
}

// New registers the gateway's informers on mgr: Namespaces as metadata in the manager's cache,
// RemediationRequests of cfg.Namespace in the gateway's own slim informer (see rrState), and
// the node index. cfg.Mappings must have been checked (LoadMappings, ParseMappings).
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
	if cfg.OwnerCacheSize <= 0 {
		cfg.OwnerCacheSize = 10000
	}
	if cfg.OwnerCacheTTL <= 0 {
		cfg.OwnerCacheTTL = 5 * time.Minute
	}
	for i := range cfg.Mappings {
		if p := cfg.Mappings[i].problems(); len(p) > 0 {
			return nil, fmt.Errorf("target mapping %d (label %q): %s", i, cfg.Mappings[i].Label, strings.Join(p, "; "))
		}
	}
	rrs, err := newRequests(mgr, cfg.Namespace)
	if err != nil {
		return nil, err
	}
	if err := mgr.Add(rrs); err != nil {
		return nil, fmt.Errorf("adding the RemediationRequest informer: %w", err)
	}
	nsMeta := &metav1.PartialObjectMetadata{}
	nsMeta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if _, err := mgr.GetCache().GetInformer(ctx, nsMeta); err != nil {
		return nil, fmt.Errorf("watching namespaces: %w", err)
	}
	nodes, err := newNodeIndex(mgr)
	if err != nil {
		return nil, err
	}
	if err := mgr.Add(nodes); err != nil {
		return nil, fmt.Errorf("adding the Node informer: %w", err)
	}
	g := &Gateway{
		cfg: cfg, client: mgr.GetClient(), reader: mgr.GetAPIReader(), rrs: rrs, nodes: nodes,
		log: mgr.GetLogger().WithName("gateway"), now: time.Now,
		slots: map[string]*slot{}, latest: map[string]*rrState{},
	}
	g.res = &resolver{
		rules: rules(cfg.Mappings), meta: newMetaCache(mgr.GetAPIReader(), cfg.OwnerCacheSize, cfg.OwnerCacheTTL),
		nodes: nodes, namespaceExists: g.namespaceExists,
	}
	return g, nil
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
	var (
		res Resolution
		err error
	)
	if s.Source == SourceKubernetesEvent {
		res, err = g.res.fromObject(ctx, s.Name, s.Labels, s.Target, s.EventNamespace)
	} else {
		res, err = g.res.fromLabels(ctx, s.Name, s.Labels)
	}
	if err != nil {
		return g.unavailable(s, err)
	}
	s.Target, s.Resolution = res.Target, res
	fp := Fingerprint(res.Target)
	var out Outcome
	if s.Resolved {
		out = g.resolve(ctx, s, fp)
	} else {
		out = g.submit(ctx, s, fp)
	}
	out.Fingerprint = fp
	if !res.Resolved() && (out.Status == StatusCreated || out.Status == StatusDuplicate) {
		signalsUnresolved.WithLabelValues(res.Reason).Inc()
		if out.Status == StatusDuplicate {
			g.log.V(1).Info("Unresolved signal counted as a duplicate", "signal", s.Name, "remediationRequest", out.RemediationRequest, "reason", res.Reason)
		}
	}
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
func (g *Gateway) isActive(rr *rrState, now time.Time) bool {
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

// newest returns the newest known request of a fingerprint: the last one this replica wrote,
// or the informer's newest generation, whichever generation is higher (on a tie, the one with
// the newer status: this replica's own write, unless the informer has seen a later one).
func (g *Gateway) newest(fp string) *rrState {
	g.mu.Lock()
	best := g.latest[fp]
	g.mu.Unlock()
	for _, rr := range g.rrs.cached(fp) {
		if best == nil || rr.Generation() > best.Generation() ||
			(rr.Generation() == best.Generation() && rr.UID == best.UID && newerVersion(rr.ResourceVersion, best.ResourceVersion)) {
			best = rr
		}
	}
	return best
}

// newerVersion compares resourceVersions of one object. They are opaque in general, but etcd's
// are integers; anything else counts as not newer, which only costs a conflict and a re-read.
func newerVersion(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	return err1 == nil && err2 == nil && x > y
}

// remember keeps the object this replica just wrote as the fingerprint's newest.
func (g *Gateway) remember(fp string, rr *rrState) {
	rr.ManagedFields = nil
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.latest) > 20000 {
		g.latest = map[string]*rrState{}
	}
	if old := g.latest[fp]; old == nil || rr.Generation() >= old.Generation() {
		g.latest[fp] = rr
	}
}
