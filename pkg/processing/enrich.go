package processing

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// Bounds of the lists the CRD allows (see common.KubernetesContext).
const (
	maxPods       = 10
	maxNodes      = 5
	maxEvents     = 20
	maxContainers = 10
	maxNodeConds  = 20
	maxNSLabels   = 64
	maxNSAnnots   = 16
	maxTaints     = 16
	maxOwners     = 8
)

// Annotations read on ReplicaSets (rollout history).
const (
	annotationRevision        = "deployment.kubernetes.io/revision"
	annotationRevisionHistory = "deployment.kubernetes.io/revision-history"
)

// Enricher builds the KubernetesContext of a target from live reads of the API server, made
// when an incident needs them: the target's namespace (by name), the target and its owners (by
// name), its pods and ReplicaSets (by the workload's label selector, in the target's
// namespace), its HPA and PDB (in that namespace), the nodes of its most relevant pods (by
// name) and the Warning events about all of these (see events). It holds no copy of the
// cluster (only, for a few seconds and within a fixed bound, the Warning events of the
// namespaces it just read, shared by the enrichments in them): its memory does not grow with the
// cluster, every list is paged and bounded (see reads.go), independent reads run in parallel, at
// most readFanOut at once per enrichment, and nothing is read twice within one enrichment.
type Enricher struct {
	// Reader reads the cluster: the API server (the manager's API reader), never a cache.
	Reader client.Reader
	Now    func() time.Time
	// MaxEventScan is the most Warning events of one namespace read whole (0: maxEventScan); a
	// namespace holding more is noisy, read object by object.
	MaxEventScan int

	// digests are the Warning events of the namespaces read recently (see digest); nodes the
	// facts of the nodes read recently (see nodeFacts).
	// scans bounds the namespaces whose events are read whole at once.
	sharedOnce sync.Once
	digests    *shared[*digest]
	nodeFacts  *shared[*nodeFacts]
	scans      chan struct{}
}

func (e *Enricher) share() {
	e.sharedOnce.Do(func() {
		e.digests = &shared[*digest]{max: maxDigestGroups}
		e.nodeFacts = &shared[*nodeFacts]{max: maxNodeFacts}
		e.scans = make(chan struct{}, wholeScans)
	})
}

// Focus is what an alert names inside its target: the pod and the container of its labels (a
// kube-state-metrics pod alert carries both; the gateway resolves the pod to its workload). The
// named pod comes first among the pods, and the named container first within each pod and is
// never cut by the bound. Both count only when the pod is one of the target's own pods: scrape
// topology can put the exporter's pod and container on an alert about something else.
type Focus struct {
	Pod       string
	Container string
}

// FocusOf reads the focus from an alert's labels ("pod" and "container").
func FocusOf(labels map[string]string) Focus {
	return Focus{Pod: labels["pod"], Container: labels["container"]}
}

// omitted counts what the builder left out before the byte bound (the CRD's list limits), and
// says what a read bound cut (unread).
type omitted struct {
	pods, events, nodes int
	unread              []string
}

// eventKey is an object whose Warning events the context shows.
type eventKey struct{ kind, namespace, name string }

// scope is the namespace its events are recorded in: its own, or default for a cluster-scoped
// object.
func (k eventKey) scope() string {
	if k.namespace == "" {
		return clusterEventNamespace
	}
	return k.namespace
}

// enrichment is what one Enrich call read.
type enrichment struct {
	*reads
	kc        *common.KubernetesContext
	omitted   omitted
	nsLabels  map[string]string
	nsMissing bool

	// collected while walking the target
	workloadKind, workloadName string
	pods                       []*corev1.Pod // stripped (stripPod)
	targetPod                  *corev1.Pod   // the target when it is a pod: always first
	focus                      Focus
	focusPod                   *corev1.Pod // the alert's pod, when it is one of the target's: next
	focusContainer             string      // the alert's container, once its pod is known to be the target's
	nodeNames                  []string
	since                      time.Time    // shared reads older than this do not serve it
	targetNS                   string       // the target's namespace ("" for a Node)
	targetNode                 *corev1.Node // a Node target, read once
	targetNodePods             int          // the pods read on it
	hpaFound                   *autoscalingv2.HorizontalPodAutoscaler
	pdbFound                   *policyv1.PodDisruptionBudget
	// eventKeys are the objects whose events are read in any case; scanKeys those whose events
	// are only picked from the namespace's whole read (older ReplicaSets, less relevant pods).
	eventKeys, scanKeys []eventKey
}

func (e *Enricher) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Context returns the KubernetesContext of target, focused on what the alert names, bounded to
// limit bytes of JSON, and its size.
func (e *Enricher) Context(ctx context.Context, t common.TargetResource, focus Focus, limit int) (*common.KubernetesContext, int, error) {
	en, err := e.Enrich(ctx, t, focus)
	if err != nil {
		return nil, 0, err
	}
	return en.kc, en.bound(limit), nil
}

// bound trims the context to limit bytes, never cutting the focus container.
func (en *enrichment) bound(limit int) int {
	return bound(en.kc, limit, en.omitted, en.focusContainer)
}

// Enrich reads what is known about target. A target (or namespace) that does not exist sets
// targetNotFound and keeps whatever is still known (namespace, events); read errors are returned.
// The reads go in rounds: the namespace, the Warning events of the target's namespace and of
// default beside the target (and its owners, pods, ReplicaSets, HPA and PDB, in parallel once
// the workload is known); then, once the most relevant pods are chosen, their nodes (and the
// events of other namespaces, if any). What other enrichments read recently (events, nodes)
// serves whatever its age; see EnrichSince.
func (e *Enricher) Enrich(ctx context.Context, t common.TargetResource, focus Focus) (*enrichment, error) {
	return e.EnrichSince(ctx, t, focus, time.Time{})
}

// EnrichSince is Enrich for an incident known since since (its RemediationProcessing's
// creation): of what other enrichments read recently, only what they began to read after since
// serves it.
func (e *Enricher) EnrichSince(ctx context.Context, t common.TargetResource, focus Focus, since time.Time) (*enrichment, error) {
	e.share()
	start := e.now()
	if since.After(start) { // what it reads itself serves it, even within the second of its creation
		since = start
	}
	now := metav1.NewTime(start.Truncate(time.Second))
	en := &enrichment{reads: newReads(e.Reader), kc: &common.KubernetesContext{CollectedAt: &now}, focus: focus, since: since}
	defer func() { enrichmentReads.Observe(float64(en.count.Load())) }()
	en.targetNS = t.Namespace
	en.eventKeys = append(en.eventKeys, eventKey{t.Kind, t.Namespace, t.Name})
	found := true
	// The events of the target's namespace and of default (nodes, volumes) are read whole: that
	// needs nothing else, so it begins at once, beside the target.
	events := func(ns string) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := e.digestOf(ctx, en, ns)
			return err
		}
	}
	var targetEvents func(context.Context) error
	if t.Namespace != "" {
		targetEvents = events(t.Namespace)
	}
	err := fanOut(ctx,
		func(ctx context.Context) error { return en.namespace(ctx, t.Namespace) },
		func(ctx context.Context) (err error) {
			found, err = e.target(ctx, en, t)
			return err
		},
		targetEvents, events(clusterEventNamespace))
	if err != nil {
		return nil, err
	}
	if en.nsMissing {
		found = false
	}
	en.kc.TargetNotFound = !found
	en.autoscaling(t.Namespace)
	e.focusOn(en, t)
	e.summarizePods(en)
	for _, n := range en.nodeNames {
		en.eventKeys = append(en.eventKeys, eventKey{"Node", "", n})
	}
	var mounts func(context.Context) error
	if en.kc.PVC != nil {
		mounts = func(ctx context.Context) error { return e.mounts(ctx, en) }
	}
	if err := fanOut(ctx,
		func(ctx context.Context) error { return e.nodes(ctx, en) },
		func(ctx context.Context) error { return e.events(ctx, en) },
		mounts); err != nil {
		return nil, err
	}
	en.omitted.unread = en.partial
	return en, nil
}

// namespace reads the target's namespace (labels and useful annotations).
func (en *enrichment) namespace(ctx context.Context, name string) error {
	if name == "" {
		return nil
	}
	ns := &corev1.Namespace{}
	ok, err := en.get(ctx, client.ObjectKey{Name: name}, ns)
	if err != nil {
		return err
	}
	if !ok {
		en.nsMissing = true
		return nil
	}
	en.nsLabels = ns.Labels
	en.kc.NamespaceLabels = capMap(ns.Labels, maxNSLabels)
	en.kc.NamespaceAnnotations = capMap(usefulAnnotations(ns.Annotations), maxNSAnnots)
	return nil
}

// target reads the target by its kind; false when it does not exist.
func (e *Enricher) target(ctx context.Context, en *enrichment, t common.TargetResource) (bool, error) {
	switch t.Kind {
	case "Pod":
		return e.pod(ctx, en, t)
	case "Deployment":
		return e.deployment(ctx, en, t.Namespace, t.Name)
	case "ReplicaSet":
		return e.replicaSet(ctx, en, t)
	case "StatefulSet":
		return e.statefulSet(ctx, en, t.Namespace, t.Name)
	case "DaemonSet":
		return e.daemonSet(ctx, en, t.Namespace, t.Name)
	case "Job":
		return e.job(ctx, en, t.Namespace, t.Name)
	case "CronJob":
		return e.cronJob(ctx, en, t.Namespace, t.Name)
	case "Node":
		return e.node(ctx, en, t.Name)
	case "HorizontalPodAutoscaler":
		return e.hpa(ctx, en, t)
	case "PersistentVolumeClaim":
		return e.pvc(ctx, en, t)
	}
	return true, nil
}

// addController adds the workload's own controller, when it has one, to the owner chain: another
// controller's resource (an operator's) that keeps the workload as that resource says, so that
// the analysis sees who would undo a change made to the workload itself.
func (en *enrichment) addController(w client.Object) {
	if c := actions.OtherController(w); c != nil && len(en.kc.OwnerChain) < maxOwners {
		en.kc.OwnerChain = append(en.kc.OwnerChain, ref(c.APIVersion, c.Kind, w.GetNamespace(), c.Name))
	}
}

// Where GitOps tools say that they apply an object from Git.
const (
	annotationArgoCDTracking = "argocd.argoproj.io/tracking-id" // "<app>:<group>/<kind>:<namespace>/<name>"
	labelFluxKustomization   = "kustomize.toolkit.fluxcd.io/name"
	labelFluxKustomizationNS = "kustomize.toolkit.fluxcd.io/namespace"
	labelFluxHelmRelease     = "helm.toolkit.fluxcd.io/name"
	labelFluxHelmReleaseNS   = "helm.toolkit.fluxcd.io/namespace"
)

// gitOpsOf names the GitOps object that applies o from Git, from Argo CD's tracking-id annotation
// (the default tracking method since Argo CD 3.0; an application in another namespace than Argo
// CD's is "<namespace>_<name>") or Flux's ownership labels; nil when neither is there. Argo CD's
// older label tracking (app.kubernetes.io/instance) is not read: Helm charts set that label too.
func gitOpsOf(o metav1.Object) *common.GitOpsSource {
	bound := func(s string) string { return text.TruncateBytes(s, 253) }
	if id := o.GetAnnotations()[annotationArgoCDTracking]; id != "" {
		app, _, _ := strings.Cut(id, ":")
		ns, name, found := strings.Cut(app, "_")
		if !found {
			ns, name = "", app
		}
		if name != "" {
			return &common.GitOpsSource{Tool: "ArgoCD", Kind: "Application", Namespace: bound(ns), Name: bound(name)}
		}
	}
	l := o.GetLabels()
	if name := l[labelFluxKustomization]; name != "" {
		return &common.GitOpsSource{Tool: "Flux", Kind: "Kustomization", Namespace: bound(l[labelFluxKustomizationNS]), Name: bound(name)}
	}
	if name := l[labelFluxHelmRelease]; name != "" {
		return &common.GitOpsSource{Tool: "Flux", Kind: "HelmRelease", Namespace: bound(l[labelFluxHelmReleaseNS]), Name: bound(name)}
	}
	return nil
}

// controlledBy keeps the objects whose controller is kind (any name, for name "").
func controlledBy(kind, name string) func(metav1.Object) bool {
	return func(o metav1.Object) bool {
		ref := metav1.GetControllerOfNoCopy(o)
		return ref != nil && ref.Kind == kind && (name == "" || ref.Name == name)
	}
}

// podsOf reads the pods of ns that sel selects and keep accepts (nil: all), stripped; nothing
// without a selector. A workload's pods carry its selector's labels, and the pods it controls
// are those it selects, so this is the workload's pods without listing the namespace.
func (e *Enricher) podsOf(ctx context.Context, en *enrichment, ns string, sel labels.Selector, keep func(metav1.Object) bool) ([]*corev1.Pod, error) {
	if sel == nil {
		return nil, nil
	}
	return e.podsWhere(ctx, en, keep, "pods matching "+sel.String(), client.InNamespace(ns), client.MatchingLabelsSelector{Selector: sel})
}

// podsWhere lists the pods that opts select, paged and bounded, and keeps, stripped, those keep
// accepts (nil: all); what, when the bound cuts the list, says which pods were cut.
func (e *Enricher) podsWhere(ctx context.Context, en *enrichment, keep func(metav1.Object) bool, what string, opts ...client.ListOption) ([]*corev1.Pod, error) {
	var out []*corev1.Pod
	complete, err := listPages(ctx, en.reads, func() *corev1.PodList { return &corev1.PodList{} }, podPage, maxPodsRead, func(l *corev1.PodList) bool {
		for i := range l.Items {
			if keep == nil || keep(&l.Items[i]) {
				out = append(out, stripPod(&l.Items[i]))
			}
		}
		return true
	}, opts...)
	if err != nil {
		return nil, err
	}
	if !complete {
		en.cut(fmt.Sprintf("%s beyond the first %d not read", what, maxPodsRead))
	}
	return out, nil
}

func ref(apiVersion, kind, ns, name string) common.TargetResource {
	return common.TargetResource{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name}
}

func (e *Enricher) pod(ctx context.Context, en *enrichment, t common.TargetResource) (bool, error) {
	full := &corev1.Pod{}
	ok, err := en.get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: t.Name}, full)
	if err != nil || !ok {
		return ok, err
	}
	pod := stripPod(full)
	en.targetPod = pod
	owner := metav1.GetControllerOfNoCopy(pod)
	if owner == nil {
		en.pods = []*corev1.Pod{pod}
		return true, nil
	}
	en.kc.OwnerChain = append(en.kc.OwnerChain, ref(owner.APIVersion, owner.Kind, pod.Namespace, owner.Name))
	switch owner.Kind {
	case "ReplicaSet":
		_, err = e.replicaSet(ctx, en, ref(owner.APIVersion, owner.Kind, pod.Namespace, owner.Name))
	case "StatefulSet":
		_, err = e.statefulSet(ctx, en, pod.Namespace, owner.Name)
	case "DaemonSet":
		_, err = e.daemonSet(ctx, en, pod.Namespace, owner.Name)
	case "Job":
		_, err = e.job(ctx, en, pod.Namespace, owner.Name)
	}
	// The target pod comes first, whatever else the workload holds.
	en.pods = slices.DeleteFunc(en.pods, func(p *corev1.Pod) bool { return p.Name == pod.Name })
	en.pods = append([]*corev1.Pod{pod}, en.pods...)
	return true, err
}

func (e *Enricher) replicaSet(ctx context.Context, en *enrichment, t common.TargetResource) (bool, error) {
	rs := &appsv1.ReplicaSet{}
	ok, err := en.get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: t.Name}, rs)
	if err != nil || !ok {
		return ok, err
	}
	en.eventKeys = append(en.eventKeys, eventKey{"ReplicaSet", rs.Namespace, rs.Name})
	if owner := metav1.GetControllerOfNoCopy(rs); owner != nil && owner.Kind == "Deployment" {
		if len(en.kc.OwnerChain) < maxOwners {
			en.kc.OwnerChain = append(en.kc.OwnerChain, ref(owner.APIVersion, owner.Kind, rs.Namespace, owner.Name))
		}
		return e.deployment(ctx, en, rs.Namespace, owner.Name)
	}
	sel, _ := selectorOf(rs.Spec.Selector)
	pods, err := e.podsOf(ctx, en, rs.Namespace, sel, controlledBy("ReplicaSet", rs.Name))
	en.pods = append(en.pods, pods...)
	return true, err
}

func (e *Enricher) deployment(ctx context.Context, en *enrichment, ns, name string) (bool, error) {
	d := &appsv1.Deployment{}
	ok, err := en.get(ctx, client.ObjectKey{Namespace: ns, Name: name}, d)
	if err != nil || !ok {
		return ok, err
	}
	en.workloadKind, en.workloadName = "Deployment", d.Name
	en.addController(d)
	w := &common.WorkloadSummary{Kind: "Deployment", Name: d.Name, Replicas: d.Spec.Replicas, ReadyReplicas: d.Status.ReadyReplicas,
		UpdatedReplicas: d.Status.UpdatedReplicas, AvailableReplicas: d.Status.AvailableReplicas, Paused: d.Spec.Paused,
		Containers: specContainers(d.Spec.Template.Spec.Containers), GitOps: gitOpsOf(d)}
	var progressing *appsv1.DeploymentCondition
	for i, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing {
			progressing = &d.Status.Conditions[i]
		}
		healthy := c.Status == corev1.ConditionTrue && c.Type != appsv1.DeploymentReplicaFailure
		if c.Type == appsv1.DeploymentReplicaFailure {
			healthy = c.Status != corev1.ConditionTrue
		}
		if !healthy && len(w.Conditions) < 8 {
			w.Conditions = append(w.Conditions, condition(string(c.Type), string(c.Status), c.Reason, c.Message, c.LastTransitionTime))
		}
	}
	en.kc.Workload = w
	en.kc.Replicas, en.kc.ReadyReplicas = d.Spec.Replicas, &d.Status.ReadyReplicas
	en.eventKeys = append(en.eventKeys, eventKey{"Deployment", ns, d.Name})

	// Its ReplicaSets and pods carry its selector's labels: both are read by it, in parallel
	// with its HPA and PDB.
	sel, _ := selectorOf(d.Spec.Selector)
	var rss []appsv1.ReplicaSet
	var pods []*corev1.Pod
	if err := fanOut(ctx,
		func(ctx context.Context) (err error) {
			rss, err = e.replicaSetsOf(ctx, en, d, sel)
			return err
		},
		func(ctx context.Context) (err error) {
			pods, err = e.podsOf(ctx, en, ns, sel, controlledBy("ReplicaSet", ""))
			return err
		},
		e.hpaTask(en, ns, "Deployment", d.Name),
		e.pdbTask(en, ns, d.Spec.Template.Labels)); err != nil {
		return true, err
	}
	slices.SortFunc(rss, func(a, b appsv1.ReplicaSet) int { return cmp.Compare(revision(&b), revision(&a)) })
	h := &common.RolloutHistory{RevisionCount: int32(len(rss))}
	var shown []string // the current and previous revisions: their pods are the workload's
	for i := range rss {
		rs := &rss[i]
		if i > 1 {
			en.scanKeys = append(en.scanKeys, eventKey{"ReplicaSet", ns, rs.Name})
			continue
		}
		en.eventKeys = append(en.eventKeys, eventKey{"ReplicaSet", ns, rs.Name})
		shown = append(shown, rs.Name)
		r := &common.RevisionSummary{Revision: revision(rs), Name: rs.Name, Images: images(rs.Spec.Template.Spec.Containers),
			Replicas: rs.Status.Replicas, ReadyReplicas: rs.Status.ReadyReplicas}
		at := rs.CreationTimestamp
		// A rollback makes an old ReplicaSet current again (its revision is bumped and the old
		// numbers go to revision-history); the Deployment's progress condition then tells when.
		if i == 0 && rs.Annotations[annotationRevisionHistory] != "" && progressing != nil && progressing.LastUpdateTime.After(at.Time) {
			at = progressing.LastUpdateTime
		}
		r.BecameCurrentAt = &at
		if i == 0 {
			h.Current = r
		} else {
			h.Previous = r
		}
	}
	for _, p := range pods {
		if o := metav1.GetControllerOfNoCopy(p); o != nil && slices.Contains(shown, o.Name) {
			en.pods = append(en.pods, p)
		}
	}
	if len(rss) > 0 {
		en.kc.Rollout = h
	}
	return true, nil
}

// replicaSetsOf reads the ReplicaSets that Deployment d controls (by its selector).
func (e *Enricher) replicaSetsOf(ctx context.Context, en *enrichment, d *appsv1.Deployment, sel labels.Selector) ([]appsv1.ReplicaSet, error) {
	if sel == nil {
		return nil, nil
	}
	var out []appsv1.ReplicaSet
	owned := controlledBy("Deployment", d.Name)
	complete, err := listPages(ctx, en.reads, func() *appsv1.ReplicaSetList { return &appsv1.ReplicaSetList{} }, ownedPage, maxOwnedRead,
		func(l *appsv1.ReplicaSetList) bool {
			for i := range l.Items {
				if owned(&l.Items[i]) {
					out = append(out, l.Items[i])
				}
			}
			return true
		}, client.InNamespace(d.Namespace), client.MatchingLabelsSelector{Selector: sel})
	if err != nil {
		return nil, err
	}
	if !complete {
		en.cut(fmt.Sprintf("ReplicaSets of %s beyond the first %d not read", d.Name, maxOwnedRead))
	}
	return out, nil
}

func revision(rs *appsv1.ReplicaSet) int64 {
	n, _ := strconv.ParseInt(rs.Annotations[annotationRevision], 10, 64)
	return n
}

func images(cs []corev1.Container) []string {
	var out []string
	for _, c := range cs {
		if len(out) == maxContainers {
			break
		}
		out = append(out, c.Name+"="+c.Image)
	}
	return out
}

func (e *Enricher) statefulSet(ctx context.Context, en *enrichment, ns, name string) (bool, error) {
	s := &appsv1.StatefulSet{}
	ok, err := en.get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s)
	if err != nil || !ok {
		return ok, err
	}
	en.workloadKind, en.workloadName = "StatefulSet", s.Name
	en.addController(s)
	en.kc.Workload = &common.WorkloadSummary{Kind: "StatefulSet", Name: s.Name, Replicas: s.Spec.Replicas, ReadyReplicas: s.Status.ReadyReplicas,
		UpdatedReplicas: s.Status.UpdatedReplicas, AvailableReplicas: s.Status.AvailableReplicas, Containers: specContainers(s.Spec.Template.Spec.Containers),
		GitOps: gitOpsOf(s)}
	en.kc.Replicas, en.kc.ReadyReplicas = s.Spec.Replicas, &s.Status.ReadyReplicas
	if s.Status.CurrentRevision != "" || s.Status.UpdateRevision != "" {
		h := &common.RolloutHistory{}
		if s.Status.UpdateRevision != "" && s.Status.UpdateRevision != s.Status.CurrentRevision {
			h.Current = &common.RevisionSummary{Name: s.Status.UpdateRevision, Images: images(s.Spec.Template.Spec.Containers), Replicas: s.Status.UpdatedReplicas}
			if s.Status.CurrentRevision != "" {
				h.Previous = &common.RevisionSummary{Name: s.Status.CurrentRevision}
			}
		} else {
			h.Current = &common.RevisionSummary{Name: s.Status.CurrentRevision, Images: images(s.Spec.Template.Spec.Containers), Replicas: s.Status.Replicas,
				ReadyReplicas: s.Status.ReadyReplicas}
		}
		en.kc.Rollout = h
	}
	en.eventKeys = append(en.eventKeys, eventKey{"StatefulSet", ns, s.Name})
	sel, _ := selectorOf(s.Spec.Selector)
	var pods []*corev1.Pod
	err = fanOut(ctx,
		func(ctx context.Context) (err error) {
			pods, err = e.podsOf(ctx, en, ns, sel, controlledBy("StatefulSet", s.Name))
			return err
		},
		e.hpaTask(en, ns, "StatefulSet", s.Name),
		e.pdbTask(en, ns, s.Spec.Template.Labels))
	en.pods = append(en.pods, pods...)
	return true, err
}

// daemonSet reads a DaemonSet, its pods and PDB (a DaemonSet has no scale subresource: no HPA
// can scale it).
func (e *Enricher) daemonSet(ctx context.Context, en *enrichment, ns, name string) (bool, error) {
	d := &appsv1.DaemonSet{}
	ok, err := en.get(ctx, client.ObjectKey{Namespace: ns, Name: name}, d)
	if err != nil || !ok {
		return ok, err
	}
	en.workloadKind, en.workloadName = "DaemonSet", d.Name
	en.addController(d)
	desired := d.Status.DesiredNumberScheduled
	en.kc.Workload = &common.WorkloadSummary{Kind: "DaemonSet", Name: d.Name, Replicas: &desired, ReadyReplicas: d.Status.NumberReady,
		UpdatedReplicas: d.Status.UpdatedNumberScheduled, AvailableReplicas: d.Status.NumberAvailable, Containers: specContainers(d.Spec.Template.Spec.Containers),
		GitOps: gitOpsOf(d)}
	en.kc.Replicas, en.kc.ReadyReplicas = &desired, &d.Status.NumberReady
	en.eventKeys = append(en.eventKeys, eventKey{"DaemonSet", ns, d.Name})
	sel, _ := selectorOf(d.Spec.Selector)
	var pods []*corev1.Pod
	err = fanOut(ctx,
		func(ctx context.Context) (err error) {
			pods, err = e.podsOf(ctx, en, ns, sel, controlledBy("DaemonSet", d.Name))
			return err
		},
		e.pdbTask(en, ns, d.Spec.Template.Labels))
	en.pods = append(en.pods, pods...)
	return true, err
}

// job reads a Job, its pods and PDB, and the CronJob that owns it (the workload then). Neither
// kind has a scale subresource: no HPA can scale them.
func (e *Enricher) job(ctx context.Context, en *enrichment, ns, name string) (bool, error) {
	j := &batchv1.Job{}
	ok, err := en.get(ctx, client.ObjectKey{Namespace: ns, Name: name}, j)
	if err != nil || !ok {
		return ok, err
	}
	en.eventKeys = append(en.eventKeys, eventKey{"Job", ns, j.Name})
	var cronJob func(context.Context) error
	if owner := metav1.GetControllerOfNoCopy(j); owner != nil && owner.Kind == "CronJob" && en.workloadName == "" {
		if len(en.kc.OwnerChain) < maxOwners {
			en.kc.OwnerChain = append(en.kc.OwnerChain, ref(owner.APIVersion, owner.Kind, ns, owner.Name))
		}
		cronJob = func(ctx context.Context) error {
			_, err := e.cronJobSummary(ctx, en, ns, owner.Name)
			return err
		}
	}
	sel, _ := selectorOf(j.Spec.Selector)
	var pods []*corev1.Pod
	err = fanOut(ctx, cronJob,
		func(ctx context.Context) (err error) {
			pods, err = e.podsOf(ctx, en, ns, sel, controlledBy("Job", j.Name))
			return err
		},
		e.pdbTask(en, ns, j.Spec.Template.Labels))
	if en.workloadName == "" {
		en.workloadKind, en.workloadName = "Job", j.Name
		en.kc.Workload = jobSummary(j)
	}
	en.pods = append(en.pods, pods...)
	return true, err
}

func jobSummary(j *batchv1.Job) *common.WorkloadSummary {
	w := &common.WorkloadSummary{Kind: "Job", Name: j.Name, Replicas: j.Spec.Completions, AvailableReplicas: j.Status.Succeeded,
		Containers: specContainers(j.Spec.Template.Spec.Containers)}
	if j.Status.Ready != nil {
		w.ReadyReplicas = *j.Status.Ready
	}
	for _, c := range j.Status.Conditions {
		if c.Status == corev1.ConditionTrue && len(w.Conditions) < 8 {
			w.Conditions = append(w.Conditions, condition(string(c.Type), string(c.Status), c.Reason, c.Message, c.LastTransitionTime))
		}
	}
	return w
}

func (e *Enricher) cronJobSummary(ctx context.Context, en *enrichment, ns, name string) (*batchv1.CronJob, error) {
	c := &batchv1.CronJob{}
	ok, err := en.get(ctx, client.ObjectKey{Namespace: ns, Name: name}, c)
	if err != nil || !ok {
		return nil, err
	}
	en.workloadKind, en.workloadName = "CronJob", c.Name
	w := &common.WorkloadSummary{Kind: "CronJob", Name: c.Name, Containers: specContainers(c.Spec.JobTemplate.Spec.Template.Spec.Containers)}
	if c.Spec.Suspend != nil && *c.Spec.Suspend {
		w.Paused = true
	}
	en.kc.Workload = w
	en.eventKeys = append(en.eventKeys, eventKey{"CronJob", ns, c.Name})
	return c, nil
}

// cronJob reads a CronJob, its two newest Jobs (their metadata listed, then each read for its
// selector) and their pods, and its PDB.
func (e *Enricher) cronJob(ctx context.Context, en *enrichment, ns, name string) (bool, error) {
	c, err := e.cronJobSummary(ctx, en, ns, name)
	if err != nil || c == nil {
		return c != nil, err
	}
	var jobs []metav1.PartialObjectMetadata
	owned := controlledBy("CronJob", name)
	newList := func() *metav1.PartialObjectMetadataList {
		l := &metav1.PartialObjectMetadataList{}
		l.SetGroupVersionKind(batchv1.SchemeGroupVersion.WithKind("JobList"))
		return l
	}
	pdb := e.pdbTask(en, ns, c.Spec.JobTemplate.Spec.Template.Labels)
	complete, err := listPages(ctx, en.reads, newList, ownedPage, maxOwnedRead, func(l *metav1.PartialObjectMetadataList) bool {
		for i := range l.Items {
			if owned(&l.Items[i]) {
				jobs = append(jobs, l.Items[i])
			}
		}
		return true
	}, client.InNamespace(ns))
	if err != nil {
		return true, err
	}
	if !complete {
		en.cut(fmt.Sprintf("Jobs of %s/%s beyond the first %d not read", ns, name, maxOwnedRead))
	}
	slices.SortFunc(jobs, func(a, b metav1.PartialObjectMetadata) int {
		return b.CreationTimestamp.Compare(a.CreationTimestamp.Time)
	})
	jobs = jobs[:min(len(jobs), 2)]
	pods := make([][]*corev1.Pod, len(jobs))
	tasks := []func(context.Context) error{pdb}
	for i := range jobs {
		en.eventKeys = append(en.eventKeys, eventKey{"Job", ns, jobs[i].Name})
		tasks = append(tasks, func(ctx context.Context) error {
			j := &batchv1.Job{}
			ok, err := en.get(ctx, client.ObjectKey{Namespace: ns, Name: jobs[i].Name}, j)
			if err != nil || !ok {
				return err
			}
			sel, _ := selectorOf(j.Spec.Selector)
			pods[i], err = e.podsOf(ctx, en, ns, sel, controlledBy("Job", j.Name))
			return err
		})
	}
	err = fanOut(ctx, tasks...)
	for _, p := range pods {
		en.pods = append(en.pods, p...)
	}
	return true, err
}

// node reads a Node target and the pods it runs (all namespaces, by spec.nodeName).
func (e *Enricher) node(ctx context.Context, en *enrichment, name string) (bool, error) {
	n := &corev1.Node{}
	var found bool
	var pods []*corev1.Pod
	if err := fanOut(ctx,
		func(ctx context.Context) (err error) {
			found, err = en.get(ctx, client.ObjectKey{Name: name}, n)
			return err
		},
		func(ctx context.Context) (err error) {
			pods, err = e.podsWhere(ctx, en, nil, "pods on node "+name, client.MatchingFields{"spec.nodeName": name})
			return err
		}); err != nil || !found {
		return found, err
	}
	en.nodeNames = append(en.nodeNames, name)
	en.targetNode, en.targetNodePods = n, len(pods)
	en.pods = append(en.pods, pods...)
	return true, nil
}

// hpaTask finds the HPA whose scale target is the workload (none when the target is an HPA:
// the context has it already).
func (e *Enricher) hpaTask(en *enrichment, ns, kind, name string) func(context.Context) error {
	if en.kc.HPA != nil {
		return nil
	}
	return func(ctx context.Context) error {
		_, err := listPages(ctx, en.reads, func() *autoscalingv2.HorizontalPodAutoscalerList { return &autoscalingv2.HorizontalPodAutoscalerList{} },
			ownedPage, maxOwnedRead, func(l *autoscalingv2.HorizontalPodAutoscalerList) bool {
				for i := range l.Items {
					if ref := l.Items[i].Spec.ScaleTargetRef; ref.Kind == kind && ref.Name == name {
						en.hpaFound = &l.Items[i]
						return false
					}
				}
				return true
			}, client.InNamespace(ns))
		return err
	}
}

// pdbTask finds the PDB that selects the workload's pods (by its pod template's labels).
func (e *Enricher) pdbTask(en *enrichment, ns string, podLabels map[string]string) func(context.Context) error {
	if podLabels == nil {
		return nil
	}
	return func(ctx context.Context) error {
		_, err := listPages(ctx, en.reads, func() *policyv1.PodDisruptionBudgetList { return &policyv1.PodDisruptionBudgetList{} },
			ownedPage, maxOwnedRead, func(l *policyv1.PodDisruptionBudgetList) bool {
				for i := range l.Items {
					sel, ok := selectorOf(l.Items[i].Spec.Selector)
					if ok && sel.Matches(labels.Set(podLabels)) {
						en.pdbFound = &l.Items[i]
						return false
					}
				}
				return true
			}, client.InNamespace(ns))
		return err
	}
}

// autoscaling puts the workload's HPA and PDB, found while reading it, into the context.
func (en *enrichment) autoscaling(ns string) {
	if h := en.hpaFound; h != nil && en.kc.HPA == nil {
		en.kc.HPA = hpaSummary(h)
		en.eventKeys = append(en.eventKeys, eventKey{"HorizontalPodAutoscaler", ns, h.Name})
	}
	if p := en.pdbFound; p != nil {
		en.kc.PDB = &common.PDBSummary{Name: p.Name, DisruptionsAllowed: p.Status.DisruptionsAllowed, CurrentHealthy: p.Status.CurrentHealthy,
			DesiredHealthy: p.Status.DesiredHealthy, ExpectedPods: p.Status.ExpectedPods}
	}
}

func hpaSummary(h *autoscalingv2.HorizontalPodAutoscaler) *common.HPASummary {
	s := &common.HPASummary{Name: h.Name, MinReplicas: 1, MaxReplicas: h.Spec.MaxReplicas,
		CurrentReplicas: h.Status.CurrentReplicas, DesiredReplicas: h.Status.DesiredReplicas}
	if h.Spec.MinReplicas != nil {
		s.MinReplicas = *h.Spec.MinReplicas
	}
	if c := actions.OtherController(h); c != nil {
		t := ref(c.APIVersion, c.Kind, h.Namespace, c.Name)
		s.Controller = &t
	}
	s.AtMaximum = s.MaxReplicas > 0 && s.CurrentReplicas >= s.MaxReplicas
	for _, c := range h.Status.Conditions {
		if c.Type == autoscalingv2.ScalingLimited && c.Status == corev1.ConditionTrue {
			s.ScalingLimited, s.ScalingLimitedReason = true, text.TruncateBytes(c.Reason, 128)
		}
	}
	targets := map[string]string{}
	for _, m := range h.Spec.Metrics {
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil {
			targets[string(m.Resource.Name)] = metricTarget(m.Resource.Target)
		}
	}
	for _, m := range h.Status.CurrentMetrics {
		if len(s.CurrentMetrics) == 8 {
			break
		}
		var line string
		switch {
		case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil:
			name := string(m.Resource.Name)
			line = name + ": " + metricValue(m.Resource.Current)
			if t := targets[name]; t != "" {
				line += " (target " + t + ")"
			}
		case m.Type == autoscalingv2.ContainerResourceMetricSourceType && m.ContainerResource != nil:
			line = m.ContainerResource.Container + "/" + string(m.ContainerResource.Name) + ": " + metricValue(m.ContainerResource.Current)
		case m.Type == autoscalingv2.PodsMetricSourceType && m.Pods != nil:
			line = m.Pods.Metric.Name + ": " + metricValue(m.Pods.Current)
		case m.Type == autoscalingv2.ExternalMetricSourceType && m.External != nil:
			line = m.External.Metric.Name + ": " + metricValue(m.External.Current)
		case m.Type == autoscalingv2.ObjectMetricSourceType && m.Object != nil:
			line = m.Object.Metric.Name + ": " + metricValue(m.Object.Current)
		default:
			continue
		}
		s.CurrentMetrics = append(s.CurrentMetrics, text.TruncateBytes(line, 256))
	}
	return s
}

func metricValue(v autoscalingv2.MetricValueStatus) string {
	switch {
	case v.AverageUtilization != nil:
		return fmt.Sprintf("%d%% of requests", *v.AverageUtilization)
	case v.AverageValue != nil:
		return v.AverageValue.String() + " average"
	case v.Value != nil:
		return v.Value.String()
	}
	return "unknown"
}

func metricTarget(t autoscalingv2.MetricTarget) string {
	switch {
	case t.AverageUtilization != nil:
		return fmt.Sprintf("%d%%", *t.AverageUtilization)
	case t.AverageValue != nil:
		return t.AverageValue.String() + " average"
	case t.Value != nil:
		return t.Value.String()
	}
	return ""
}

func condition(typ, status, reason, message string, at metav1.Time) common.ConditionSummary {
	c := common.ConditionSummary{Type: text.TruncateBytes(typ, 63), Status: status, Reason: text.TruncateBytes(reason, 128), Message: text.TruncateBytes(message, 256)}
	if !at.IsZero() {
		c.LastTransitionTime = &at
	}
	return c
}

func specContainers(cs []corev1.Container) []common.ContainerSpecSummary {
	var out []common.ContainerSpecSummary
	for _, c := range cs {
		if len(out) == maxContainers {
			break
		}
		out = append(out, common.ContainerSpecSummary{Name: c.Name, Image: text.TruncateBytes(c.Image, 512), Requests: quantities(c.Resources.Requests),
			Limits: quantities(c.Resources.Limits), HasLivenessProbe: c.LivenessProbe != nil})
	}
	return out
}

func quantities(rl corev1.ResourceList) map[string]string {
	if len(rl) == 0 {
		return nil
	}
	out := make(map[string]string, len(rl))
	for k, v := range rl {
		if len(out) == 8 {
			break
		}
		out[string(k)] = v.String()
	}
	return out
}

// podTrouble scores how much is wrong with a pod, to order pods most relevant first.
func podTrouble(p *corev1.Pod) int {
	score := 0
	if p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodPending || p.Status.Phase == corev1.PodUnknown {
		score += 4
	}
	for i := range p.Status.ContainerStatuses {
		score += containerTrouble(&p.Status.ContainerStatuses[i])
	}
	return score
}

func containerTrouble(cs *corev1.ContainerStatus) int {
	score := 0
	if !cs.Ready {
		score += 2
	}
	if cs.State.Waiting != nil || cs.State.Terminated != nil {
		score += 2
	}
	if cs.RestartCount > 0 {
		score++
	}
	return score
}

// focusTrouble scores the named container of a pod (0 when it has none).
func focusTrouble(p *corev1.Pod, container string) int {
	if container == "" {
		return 0
	}
	for i := range p.Status.ContainerStatuses {
		if p.Status.ContainerStatuses[i].Name == container {
			return containerTrouble(&p.Status.ContainerStatuses[i])
		}
	}
	return 0
}

// summarizePods orders the pods most relevant first (the target pod, the alert's pod, then by
// the trouble of the alert's container, by trouble, newest) and summarises the first few.
func (e *Enricher) summarizePods(en *enrichment) {
	pods := en.pods
	if len(pods) == 0 {
		return
	}
	target, focus, container := en.targetPod, en.focusPod, en.focusContainer
	slices.SortStableFunc(pods, func(a, b *corev1.Pod) int {
		for _, first := range []*corev1.Pod{target, focus} {
			if first == nil || a == b {
				continue
			}
			if a == first {
				return -1
			}
			if b == first {
				return 1
			}
		}
		if c := cmp.Compare(focusTrouble(b, container), focusTrouble(a, container)); c != 0 {
			return c
		}
		if c := cmp.Compare(podTrouble(b), podTrouble(a)); c != 0 {
			return c
		}
		if c := b.CreationTimestamp.Compare(a.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	if len(en.nodeNames) == 0 { // not a Node target: the nodes are those of the most relevant pods
		for _, p := range pods {
			if p.Spec.NodeName != "" && !slices.Contains(en.nodeNames, p.Spec.NodeName) && len(en.nodeNames) < maxNodes {
				if len(en.nodeNames) >= 3 && podTrouble(p) == 0 {
					break
				}
				en.nodeNames = append(en.nodeNames, p.Spec.NodeName)
			}
		}
	}
	for i, p := range pods {
		if i < maxPods {
			en.kc.Pods = append(en.kc.Pods, podSummary(p, container))
		}
		// events of the most relevant pods only: a node may run a hundred
		switch {
		case i < maxPods:
			en.eventKeys = append(en.eventKeys, eventKey{"Pod", p.Namespace, p.Name})
		case i < 2*maxPods:
			en.scanKeys = append(en.scanKeys, eventKey{"Pod", p.Namespace, p.Name})
		}
	}
	if len(pods) > maxPods {
		en.omitted.pods = len(pods) - maxPods
	}
}

// podSummary summarises a pod, the container named first (when it has one) first.
func podSummary(p *corev1.Pod, first string) common.PodSummary {
	created := p.CreationTimestamp
	s := common.PodSummary{Name: p.Name, Phase: string(p.Status.Phase), NodeName: p.Spec.NodeName, Reason: text.TruncateBytes(p.Status.Reason, 128), CreatedAt: &created}
	if o := metav1.GetControllerOfNoCopy(p); o != nil {
		s.Owner = text.TruncateBytes(o.Kind+"/"+o.Name, 320)
	}
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && len(s.Conditions) < 8 {
			s.Conditions = append(s.Conditions, condition(string(c.Type), string(c.Status), c.Reason, c.Message, c.LastTransitionTime))
		}
	}
	statuses := map[string]*corev1.ContainerStatus{}
	for i := range p.Status.ContainerStatuses {
		statuses[p.Status.ContainerStatuses[i].Name] = &p.Status.ContainerStatuses[i]
	}
	for _, c := range focusFirst(p.Spec.Containers, first) {
		if len(s.Containers) == maxContainers {
			break
		}
		cs := common.ContainerSummary{Name: c.Name, Image: text.TruncateBytes(c.Image, 512), Requests: quantities(c.Resources.Requests), Limits: quantities(c.Resources.Limits)}
		if st, ok := statuses[c.Name]; ok {
			cs.Ready, cs.RestartCount = st.Ready, st.RestartCount
			switch {
			case st.State.Running != nil:
				cs.State = "Running"
				at := st.State.Running.StartedAt
				cs.StartedAt = &at
			case st.State.Waiting != nil:
				cs.State, cs.Reason, cs.Message = "Waiting", text.TruncateBytes(st.State.Waiting.Reason, 128), text.TruncateBytes(st.State.Waiting.Message, 256)
			case st.State.Terminated != nil:
				t := st.State.Terminated
				code := t.ExitCode
				cs.State, cs.Reason, cs.Message, cs.ExitCode = "Terminated", text.TruncateBytes(t.Reason, 128), text.TruncateBytes(t.Message, 256), &code
			}
			if t := st.LastTerminationState.Terminated; t != nil {
				code := t.ExitCode
				at := t.FinishedAt
				cs.LastTerminationReason, cs.LastExitCode = text.TruncateBytes(t.Reason, 128), &code
				if !at.IsZero() {
					cs.LastTerminatedAt = &at
				}
			}
		}
		s.Containers = append(s.Containers, cs)
	}
	return s
}

// focusFirst returns cs with the container called name first (cs itself when it is already
// first or absent).
func focusFirst(cs []corev1.Container, name string) []corev1.Container {
	i := slices.IndexFunc(cs, func(c corev1.Container) bool { return c.Name == name })
	if i <= 0 {
		return cs
	}
	out := make([]corev1.Container, 0, len(cs))
	out = append(out, cs[i])
	out = append(out, cs[:i]...)
	return append(out, cs[i+1:]...)
}

var nodeConditionTypes = []corev1.NodeConditionType{corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure, corev1.NodeNetworkUnavailable}

// nodeFacts is what the context says of a node: its summary (with the pods it runs) and its
// unhealthy conditions; found false for a node that does not exist. The facts of the nodes read
// recently are shared by the enrichments (Enricher.nodeFacts) for nodeFactsTTL, at most
// maxNodeFacts nodes: the nodes of a cluster are everybody's, and an alert storm names the same
// few again and again.
type nodeFacts struct {
	found     bool
	summary   common.NodeSummary
	unhealthy []common.NodeCondition
}

// nodes reads the nodes of the most relevant pods, by name, and counts the pods each runs, all
// in parallel (a Node target's node and pods were read with the target).
func (e *Enricher) nodes(ctx context.Context, en *enrichment) error {
	facts := make([]*nodeFacts, len(en.nodeNames))
	var tasks []func(context.Context) error
	for i, name := range en.nodeNames {
		if en.targetNode != nil && en.targetNode.Name == name {
			facts[i] = factsOf(en.targetNode, en.targetNodePods)
			continue
		}
		tasks = append(tasks, func(ctx context.Context) (err error) {
			facts[i], err = e.nodeFacts.get(ctx, name, en.since, e.now, func(ctx context.Context) (*nodeFacts, int, time.Duration, error) {
				f, err := e.readNode(ctx, en, name)
				return f, 1, nodeFactsTTL, err
			})
			return err
		})
	}
	if err := fanOut(ctx, tasks...); err != nil {
		return err
	}
	for _, f := range facts {
		if f == nil || !f.found {
			continue
		}
		en.kc.Nodes = append(en.kc.Nodes, *f.summary.DeepCopy()) // the bound edits the context in place
		for _, c := range f.unhealthy {
			if len(en.kc.NodeConditions) < maxNodeConds {
				en.kc.NodeConditions = append(en.kc.NodeConditions, c)
			}
		}
	}
	return nil
}

// readNode reads a node by name and counts the pods it runs, in parallel.
func (e *Enricher) readNode(ctx context.Context, en *enrichment, name string) (*nodeFacts, error) {
	n := &corev1.Node{}
	var found bool
	var count int
	if err := fanOut(ctx,
		func(ctx context.Context) (err error) {
			found, err = en.get(ctx, client.ObjectKey{Name: name}, n)
			return err
		},
		func(ctx context.Context) (err error) {
			count, err = e.podsOnNode(ctx, en, name)
			return err
		}); err != nil {
		return nil, err
	}
	if !found {
		return &nodeFacts{}, nil
	}
	return factsOf(n, count), nil
}

// podsOnNode counts the pods a node runs, from their metadata (by spec.nodeName, which the API
// server's watch cache indexes).
func (e *Enricher) podsOnNode(ctx context.Context, en *enrichment, name string) (int, error) {
	n := 0
	complete, err := listPages(ctx, en.reads, func() *metav1.PartialObjectMetadataList {
		l := &metav1.PartialObjectMetadataList{}
		l.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("PodList"))
		return l
	}, podPage, maxPodsRead, func(l *metav1.PartialObjectMetadataList) bool {
		n += len(l.Items)
		return true
	}, client.MatchingFields{"spec.nodeName": name})
	if err != nil {
		return 0, err
	}
	if !complete {
		en.cut(fmt.Sprintf("pods on %s counted up to %d", name, maxPodsRead))
	}
	return n, nil
}

// factsOf summarises a node that runs podCount pods.
func factsOf(n *corev1.Node, podCount int) *nodeFacts {
	f := &nodeFacts{found: true}
	s := common.NodeSummary{Name: n.Name, Unschedulable: n.Spec.Unschedulable, PodCount: int32(podCount)}
	for _, c := range n.Status.Conditions {
		if !slices.Contains(nodeConditionTypes, c.Type) {
			continue
		}
		if c.Type == corev1.NodeReady {
			s.Ready = string(c.Status)
		}
		s.Conditions = append(s.Conditions, condition(string(c.Type), string(c.Status), c.Reason, c.Message, c.LastTransitionTime))
		if unhealthy := (c.Type == corev1.NodeReady) != (c.Status == corev1.ConditionTrue); unhealthy {
			nc := common.NodeCondition{Node: n.Name, Type: string(c.Type), Status: string(c.Status), Reason: text.TruncateBytes(c.Reason, 128), Message: text.TruncateBytes(c.Message, 256)}
			if !c.LastTransitionTime.IsZero() {
				at := c.LastTransitionTime
				nc.LastTransitionTime = &at
			}
			f.unhealthy = append(f.unhealthy, nc)
		}
	}
	for _, t := range n.Spec.Taints {
		if len(s.Taints) == maxTaints {
			break
		}
		taint := t.Key
		if t.Value != "" {
			taint += "=" + t.Value
		}
		s.Taints = append(s.Taints, text.TruncateBytes(taint+":"+string(t.Effect), 384))
	}
	alloc := corev1.ResourceList{}
	for _, k := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourcePods, corev1.ResourceEphemeralStorage} {
		if v, ok := n.Status.Allocatable[k]; ok {
			alloc[k] = v
		}
	}
	s.Allocatable = quantities(alloc)
	f.summary = s
	return f
}

func eventTimes(ev *corev1.Event) (first, last time.Time, count int32) {
	first, last, count = ev.FirstTimestamp.Time, ev.LastTimestamp.Time, ev.Count
	if ev.Series != nil {
		if ev.Series.LastObservedTime.After(last) {
			last = ev.Series.LastObservedTime.Time
		}
		count = max(count, ev.Series.Count)
	}
	if last.IsZero() {
		last = ev.EventTime.Time
	}
	if last.IsZero() {
		last = ev.CreationTimestamp.Time
	}
	if first.IsZero() {
		first = last
	}
	return first, last, max(count, 1)
}

// usefulAnnotations keeps the namespace annotations that matter to a remediation.
func usefulAnnotations(in map[string]string) map[string]string {
	var out map[string]string
	for k, v := range in {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "kubernaut.io/") || strings.Contains(lk, "environment") || strings.Contains(lk, "criticality") ||
			strings.Contains(lk, "owner") || strings.Contains(lk, "team") || strings.Contains(lk, "oncall") {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = text.TruncateBytes(v, 256)
		}
	}
	return out
}

func capMap(m map[string]string, n int) map[string]string {
	if len(m) <= n {
		return m
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make(map[string]string, n)
	for _, k := range keys[:n] {
		out[k] = m[k]
	}
	return out
}

// hpa enriches a HorizontalPodAutoscaler target: the HPA itself, then its scale target as if
// that workload were the target (its pods, rollout, PDB and events), with the owner chain
// HorizontalPodAutoscaler → workload. update_hpa acts on the HPA; the workload's actions on
// the workload the context names.
func (e *Enricher) hpa(ctx context.Context, en *enrichment, t common.TargetResource) (bool, error) {
	h := &autoscalingv2.HorizontalPodAutoscaler{}
	ok, err := en.get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: t.Name}, h)
	if err != nil || !ok {
		return ok, err
	}
	en.kc.HPA = hpaSummary(h)
	st := h.Spec.ScaleTargetRef
	if st.Kind == "" || st.Name == "" {
		return true, nil
	}
	en.kc.OwnerChain = append(en.kc.OwnerChain, ref(st.APIVersion, st.Kind, h.Namespace, st.Name))
	if gv, err := schema.ParseGroupVersion(st.APIVersion); err != nil || gv.Group != appsv1.GroupName {
		return true, nil // a scale target Kubernaut does not read (a custom resource)
	}
	switch st.Kind {
	case "Deployment":
		_, err = e.deployment(ctx, en, h.Namespace, st.Name)
	case "StatefulSet":
		_, err = e.statefulSet(ctx, en, h.Namespace, st.Name)
	case "ReplicaSet":
		_, err = e.replicaSet(ctx, en, ref(st.APIVersion, st.Kind, h.Namespace, st.Name))
	}
	return true, err
}

// annotationLegacyStorageClass names the class of claims created before spec.storageClassName.
const annotationLegacyStorageClass = "volume.beta.kubernetes.io/storage-class"

// pvc enriches a PersistentVolumeClaim target: the claim and its StorageClass (one Get each),
// and the pods that mount it, most relevant first, each with its workload (see mounts). Nothing
// records which pods mount a claim, so they are found in the pods of its namespace (paged and
// bounded), or, for a generic ephemeral volume's claim, read at once from the pod that owns it.
func (e *Enricher) pvc(ctx context.Context, en *enrichment, t common.TargetResource) (bool, error) {
	c := &corev1.PersistentVolumeClaim{}
	ok, err := en.get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: t.Name}, c)
	if err != nil || !ok {
		return ok, err
	}
	s := &common.PVCSummary{Name: c.Name, Phase: string(c.Status.Phase), VolumeName: c.Spec.VolumeName}
	if q, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
		s.Requested = q.String()
	}
	capacity, hasCapacity := c.Status.Capacity[corev1.ResourceStorage]
	if hasCapacity {
		s.Capacity = capacity.String()
	}
	if q, ok := c.Status.AllocatedResources[corev1.ResourceStorage]; ok && (!hasCapacity || q.Cmp(capacity) != 0) {
		s.Allocated = q.String()
	}
	if st, ok := c.Status.AllocatedResourceStatuses[corev1.ResourceStorage]; ok {
		s.ResizeStatus = text.TruncateBytes(string(st), 64)
	}
	for _, m := range c.Spec.AccessModes {
		if len(s.AccessModes) < 4 {
			s.AccessModes = append(s.AccessModes, string(m))
		}
	}
	if c.Spec.VolumeMode != nil {
		s.VolumeMode = string(*c.Spec.VolumeMode)
	}
	for _, cond := range c.Status.Conditions {
		if len(s.Conditions) < 8 {
			s.Conditions = append(s.Conditions, condition(string(cond.Type), string(cond.Status), cond.Reason, cond.Message, cond.LastTransitionTime))
		}
	}
	class := ""
	if c.Spec.StorageClassName != nil {
		class = *c.Spec.StorageClassName
	} else {
		class = c.Annotations[annotationLegacyStorageClass]
	}
	s.StorageClassName = class
	var pods []*corev1.Pod
	err = fanOut(ctx,
		func(ctx context.Context) error {
			if class == "" {
				return nil
			}
			sc := &storagev1.StorageClass{}
			ok, err := en.get(ctx, client.ObjectKey{Name: class}, sc)
			if ok {
				allowed := sc.AllowVolumeExpansion != nil && *sc.AllowVolumeExpansion
				s.AllowVolumeExpansion = &allowed
			}
			return err
		},
		func(ctx context.Context) (err error) {
			pods, err = e.mountingPods(ctx, en, c)
			return err
		})
	if err != nil {
		return true, err
	}
	en.kc.PVC = s
	if owner := metav1.GetControllerOfNoCopy(c); owner != nil {
		en.kc.OwnerChain = append(en.kc.OwnerChain, ref(owner.APIVersion, owner.Kind, c.Namespace, owner.Name))
	}
	if c.Spec.VolumeName != "" {
		en.eventKeys = append(en.eventKeys, eventKey{"PersistentVolume", "", c.Spec.VolumeName})
	}
	en.pods = append(en.pods, pods...)
	return true, nil
}

// mountingPods reads the pods that mount claim c.
func (e *Enricher) mountingPods(ctx context.Context, en *enrichment, c *corev1.PersistentVolumeClaim) ([]*corev1.Pod, error) {
	mounts := func(o metav1.Object) bool {
		p, ok := o.(*corev1.Pod)
		return ok && slices.ContainsFunc(claimVolumes(p), func(v corev1.Volume) bool { return v.PersistentVolumeClaim.ClaimName == c.Name })
	}
	if owner := metav1.GetControllerOfNoCopy(c); owner != nil && owner.Kind == "Pod" && owner.APIVersion == "v1" {
		// A generic ephemeral volume's claim: only the pod that owns it may mount it.
		p := &corev1.Pod{}
		ok, err := en.get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: owner.Name}, p)
		if err != nil || !ok || !mounts(p) {
			return nil, err
		}
		return []*corev1.Pod{stripPod(p)}, nil
	}
	return e.podsWhere(ctx, en, mounts, "pods of "+c.Namespace, client.InNamespace(c.Namespace))
}

// parentKey names the controller of a pod that mounts a claim target.
type parentKey struct {
	kind string
	key  client.ObjectKey
}

// mounts lists the pods that mount the claim target (en.pods, already in order) with their
// top-level controller: a ReplicaSet's Deployment, a Job's CronJob (each parent read once).
func (e *Enricher) mounts(ctx context.Context, en *enrichment) error {
	pods := en.pods[:min(len(en.pods), maxPods)]
	var keys []parentKey
	for _, p := range pods {
		if o := metav1.GetControllerOfNoCopy(p); o != nil && (o.Kind == "ReplicaSet" || o.Kind == "Job") {
			if k := (parentKey{o.Kind, client.ObjectKey{Namespace: p.Namespace, Name: o.Name}}); !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	parents := make([]client.Object, len(keys))
	tasks := make([]func(context.Context) error, 0, len(keys))
	for i, k := range keys {
		tasks = append(tasks, func(ctx context.Context) error {
			var obj client.Object = &appsv1.ReplicaSet{}
			if k.kind == "Job" {
				obj = &batchv1.Job{}
			}
			ok, err := en.get(ctx, k.key, obj)
			if ok {
				parents[i] = obj
			}
			return err
		})
	}
	if err := fanOut(ctx, tasks...); err != nil {
		return err
	}
	for _, p := range pods {
		w := ""
		if o := metav1.GetControllerOfNoCopy(p); o != nil {
			w = o.Kind + "/" + o.Name
			i := slices.Index(keys, parentKey{o.Kind, client.ObjectKey{Namespace: p.Namespace, Name: o.Name}})
			if i >= 0 && parents[i] != nil {
				if po := metav1.GetControllerOfNoCopy(parents[i]); po != nil {
					w = po.Kind + "/" + po.Name
				}
			}
		}
		en.kc.PVC.MountedBy = append(en.kc.PVC.MountedBy, common.PVCMount{Pod: p.Name, Workload: text.TruncateBytes(w, 320)})
	}
	return nil
}

// focusOn settles what the alert's pod and container labels point at: the pod when it is one of
// the target's pods, the container when the target's pods or workload have one of that name.
// Nodes are not focused (their pods are everybody's, and node alerts name the exporter's pod).
func (e *Enricher) focusOn(en *enrichment, t common.TargetResource) {
	f := en.focus
	if t.Kind == "Node" || t.Namespace == "" {
		return
	}
	if f.Pod != "" && en.targetPod == nil {
		for _, p := range en.pods {
			if p.Name == f.Pod && p.Namespace == t.Namespace {
				en.focusPod = p
				break
			}
		}
	}
	if f.Container == "" {
		return
	}
	for _, p := range en.pods {
		if slices.ContainsFunc(p.Spec.Containers, func(c corev1.Container) bool { return c.Name == f.Container }) {
			en.focusContainer = f.Container
			break
		}
	}
	if w := en.kc.Workload; w != nil {
		if i := slices.IndexFunc(w.Containers, func(c common.ContainerSpecSummary) bool { return c.Name == f.Container }); i >= 0 {
			en.focusContainer = f.Container
			c := w.Containers[i]
			w.Containers = append([]common.ContainerSpecSummary{c}, slices.Delete(w.Containers, i, i+1)...)
		}
	}
}
