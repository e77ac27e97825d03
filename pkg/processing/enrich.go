package processing

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
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

// Enricher builds the KubernetesContext of a target from a reader, normally the manager's
// cache with the informers and indexes of CacheOptions. It never lists a kind cluster-wide:
// every read is a Get or an indexed List.
type Enricher struct {
	Reader client.Reader
	// Live reads, on demand, the few kinds that have no informer (PersistentVolumeClaims and
	// StorageClasses, one Get each for a claim target); nil reads them through Reader.
	Live client.Reader
	Now  func() time.Time
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

// omitted counts what the builder left out before the byte bound (the CRD's list limits).
type omitted struct{ pods, events, nodes int }

// enrichment is what one Enrich call read.
type enrichment struct {
	kc        *common.KubernetesContext
	omitted   omitted
	nsLabels  map[string]string
	nsMissing bool

	// collected while walking the target
	workloadKind, workloadName string
	templateLabels             map[string]string
	pods                       []*corev1.Pod
	targetPod                  *corev1.Pod // the target when it is a pod: always first
	focus                      Focus
	focusPod                   *corev1.Pod // the alert's pod, when it is one of the target's: next
	focusContainer             string      // the alert's container, once its pod is known to be the target's
	nodeNames                  []string
	eventKeys                  []string
}

func (e *Enricher) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

var readOpts = []client.ListOption{client.UnsafeDisableDeepCopy}

func (e *Enricher) get(ctx context.Context, key client.ObjectKey, obj client.Object) (bool, error) {
	if err := e.Reader.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("reading %T %s: %w", obj, key, err)
	}
	return true, nil
}

// getLive reads obj with Live (no informer behind it).
func (e *Enricher) getLive(ctx context.Context, key client.ObjectKey, obj client.Object) (bool, error) {
	r := e.Live
	if r == nil {
		r = e.Reader
	}
	if err := r.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("reading %T %s: %w", obj, key, err)
	}
	return true, nil
}

func (e *Enricher) list(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if err := e.Reader.List(ctx, list, append(opts, readOpts...)...); err != nil {
		return fmt.Errorf("listing %T: %w", list, err)
	}
	return nil
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
func (e *Enricher) Enrich(ctx context.Context, t common.TargetResource, focus Focus) (*enrichment, error) {
	now := metav1.NewTime(e.now().Truncate(time.Second))
	en := &enrichment{kc: &common.KubernetesContext{CollectedAt: &now}, focus: focus}
	if t.Namespace != "" {
		ns := &corev1.Namespace{}
		ok, err := e.get(ctx, client.ObjectKey{Name: t.Namespace}, ns)
		if err != nil {
			return nil, err
		}
		if ok {
			en.nsLabels = ns.Labels
			en.kc.NamespaceLabels = capMap(ns.Labels, maxNSLabels)
			en.kc.NamespaceAnnotations = capMap(usefulAnnotations(ns.Annotations), maxNSAnnots)
		} else {
			en.nsMissing = true
		}
	}
	en.eventKeys = append(en.eventKeys, involvedKey(t.Kind, t.Namespace, t.Name))
	found := true
	var err error
	switch t.Kind {
	case "Pod":
		found, err = e.pod(ctx, en, t)
	case "Deployment":
		found, err = e.deployment(ctx, en, t.Namespace, t.Name)
	case "ReplicaSet":
		found, err = e.replicaSet(ctx, en, t)
	case "StatefulSet":
		found, err = e.statefulSet(ctx, en, t.Namespace, t.Name)
	case "DaemonSet":
		found, err = e.daemonSet(ctx, en, t.Namespace, t.Name)
	case "Job":
		found, err = e.job(ctx, en, t.Namespace, t.Name)
	case "CronJob":
		found, err = e.cronJob(ctx, en, t.Namespace, t.Name)
	case "Node":
		found, err = e.node(ctx, en, t.Name)
	case "HorizontalPodAutoscaler":
		found, err = e.hpa(ctx, en, t)
	case "PersistentVolumeClaim":
		found, err = e.pvc(ctx, en, t)
	}
	if err != nil {
		return nil, err
	}
	if en.nsMissing {
		found = false
	}
	en.kc.TargetNotFound = !found
	if en.workloadName != "" {
		if err := e.autoscaling(ctx, en, t.Namespace); err != nil {
			return nil, err
		}
	}
	e.focusOn(en, t)
	e.summarizePods(en)
	if en.kc.PVC != nil {
		if err := e.mounts(ctx, en); err != nil {
			return nil, err
		}
	}
	if err := e.nodes(ctx, en); err != nil {
		return nil, err
	}
	if err := e.events(ctx, en); err != nil {
		return nil, err
	}
	return en, nil
}

func (e *Enricher) ownedPods(ctx context.Context, ns, kind, name string) ([]*corev1.Pod, error) {
	var pods corev1.PodList
	if err := e.list(ctx, &pods, client.InNamespace(ns), client.MatchingFields{indexOwner: kind + "/" + name}); err != nil {
		return nil, err
	}
	out := make([]*corev1.Pod, 0, len(pods.Items))
	for i := range pods.Items {
		out = append(out, &pods.Items[i])
	}
	return out, nil
}

func ref(apiVersion, kind, ns, name string) common.TargetResource {
	return common.TargetResource{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name}
}

func (e *Enricher) pod(ctx context.Context, en *enrichment, t common.TargetResource) (bool, error) {
	pod := &corev1.Pod{}
	ok, err := e.get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: t.Name}, pod)
	if err != nil || !ok {
		return ok, err
	}
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
	ok, err := e.get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: t.Name}, rs)
	if err != nil || !ok {
		return ok, err
	}
	en.eventKeys = append(en.eventKeys, involvedKey("ReplicaSet", rs.Namespace, rs.Name))
	if owner := metav1.GetControllerOfNoCopy(rs); owner != nil && owner.Kind == "Deployment" {
		if len(en.kc.OwnerChain) < maxOwners {
			en.kc.OwnerChain = append(en.kc.OwnerChain, ref(owner.APIVersion, owner.Kind, rs.Namespace, owner.Name))
		}
		return e.deployment(ctx, en, rs.Namespace, owner.Name)
	}
	pods, err := e.ownedPods(ctx, rs.Namespace, "ReplicaSet", rs.Name)
	en.pods = append(en.pods, pods...)
	return true, err
}

func (e *Enricher) deployment(ctx context.Context, en *enrichment, ns, name string) (bool, error) {
	d := &appsv1.Deployment{}
	ok, err := e.get(ctx, client.ObjectKey{Namespace: ns, Name: name}, d)
	if err != nil || !ok {
		return ok, err
	}
	en.workloadKind, en.workloadName, en.templateLabels = "Deployment", d.Name, d.Spec.Template.Labels
	w := &common.WorkloadSummary{Kind: "Deployment", Name: d.Name, Replicas: d.Spec.Replicas, ReadyReplicas: d.Status.ReadyReplicas,
		UpdatedReplicas: d.Status.UpdatedReplicas, AvailableReplicas: d.Status.AvailableReplicas, Paused: d.Spec.Paused,
		Containers: specContainers(d.Spec.Template.Spec.Containers)}
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
	en.eventKeys = append(en.eventKeys, involvedKey("Deployment", ns, d.Name))

	var rsList appsv1.ReplicaSetList
	if err := e.list(ctx, &rsList, client.InNamespace(ns), client.MatchingFields{indexOwner: "Deployment/" + d.Name}); err != nil {
		return true, err
	}
	rss := rsList.Items
	slices.SortFunc(rss, func(a, b appsv1.ReplicaSet) int { return cmp.Compare(revision(&b), revision(&a)) })
	h := &common.RolloutHistory{RevisionCount: int32(len(rss))}
	for i := range rss {
		rs := &rss[i]
		en.eventKeys = append(en.eventKeys, involvedKey("ReplicaSet", ns, rs.Name))
		if i > 1 {
			continue
		}
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
		pods, err := e.ownedPods(ctx, ns, "ReplicaSet", rs.Name)
		if err != nil {
			return true, err
		}
		en.pods = append(en.pods, pods...)
	}
	if len(rss) > 0 {
		en.kc.Rollout = h
	}
	return true, nil
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
	ok, err := e.get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s)
	if err != nil || !ok {
		return ok, err
	}
	en.workloadKind, en.workloadName, en.templateLabels = "StatefulSet", s.Name, s.Spec.Template.Labels
	en.kc.Workload = &common.WorkloadSummary{Kind: "StatefulSet", Name: s.Name, Replicas: s.Spec.Replicas, ReadyReplicas: s.Status.ReadyReplicas,
		UpdatedReplicas: s.Status.UpdatedReplicas, AvailableReplicas: s.Status.AvailableReplicas, Containers: specContainers(s.Spec.Template.Spec.Containers)}
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
	en.eventKeys = append(en.eventKeys, involvedKey("StatefulSet", ns, s.Name))
	pods, err := e.ownedPods(ctx, ns, "StatefulSet", s.Name)
	en.pods = append(en.pods, pods...)
	return true, err
}

func (e *Enricher) daemonSet(ctx context.Context, en *enrichment, ns, name string) (bool, error) {
	d := &appsv1.DaemonSet{}
	ok, err := e.get(ctx, client.ObjectKey{Namespace: ns, Name: name}, d)
	if err != nil || !ok {
		return ok, err
	}
	en.workloadKind, en.workloadName, en.templateLabels = "DaemonSet", d.Name, d.Spec.Template.Labels
	desired := d.Status.DesiredNumberScheduled
	en.kc.Workload = &common.WorkloadSummary{Kind: "DaemonSet", Name: d.Name, Replicas: &desired, ReadyReplicas: d.Status.NumberReady,
		UpdatedReplicas: d.Status.UpdatedNumberScheduled, AvailableReplicas: d.Status.NumberAvailable, Containers: specContainers(d.Spec.Template.Spec.Containers)}
	en.kc.Replicas, en.kc.ReadyReplicas = &desired, &d.Status.NumberReady
	en.eventKeys = append(en.eventKeys, involvedKey("DaemonSet", ns, d.Name))
	pods, err := e.ownedPods(ctx, ns, "DaemonSet", d.Name)
	en.pods = append(en.pods, pods...)
	return true, err
}

func (e *Enricher) job(ctx context.Context, en *enrichment, ns, name string) (bool, error) {
	j := &batchv1.Job{}
	ok, err := e.get(ctx, client.ObjectKey{Namespace: ns, Name: name}, j)
	if err != nil || !ok {
		return ok, err
	}
	en.eventKeys = append(en.eventKeys, involvedKey("Job", ns, j.Name))
	owner := metav1.GetControllerOfNoCopy(j)
	if owner != nil && owner.Kind == "CronJob" && en.workloadName == "" {
		if len(en.kc.OwnerChain) < maxOwners {
			en.kc.OwnerChain = append(en.kc.OwnerChain, ref(owner.APIVersion, owner.Kind, ns, owner.Name))
		}
		if _, err := e.cronJobSummary(ctx, en, ns, owner.Name); err != nil {
			return true, err
		}
	}
	if en.workloadName == "" {
		en.workloadKind, en.workloadName = "Job", j.Name
		en.kc.Workload = jobSummary(j)
	}
	pods, err := e.ownedPods(ctx, ns, "Job", j.Name)
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
	ok, err := e.get(ctx, client.ObjectKey{Namespace: ns, Name: name}, c)
	if err != nil || !ok {
		return nil, err
	}
	en.workloadKind, en.workloadName = "CronJob", c.Name
	w := &common.WorkloadSummary{Kind: "CronJob", Name: c.Name, Containers: specContainers(c.Spec.JobTemplate.Spec.Template.Spec.Containers)}
	if c.Spec.Suspend != nil && *c.Spec.Suspend {
		w.Paused = true
	}
	en.kc.Workload = w
	en.eventKeys = append(en.eventKeys, involvedKey("CronJob", ns, c.Name))
	return c, nil
}

func (e *Enricher) cronJob(ctx context.Context, en *enrichment, ns, name string) (bool, error) {
	c, err := e.cronJobSummary(ctx, en, ns, name)
	if err != nil || c == nil {
		return c != nil, err
	}
	var jobs batchv1.JobList
	if err := e.list(ctx, &jobs, client.InNamespace(ns), client.MatchingFields{indexOwner: "CronJob/" + name}); err != nil {
		return true, err
	}
	slices.SortFunc(jobs.Items, func(a, b batchv1.Job) int { return b.CreationTimestamp.Compare(a.CreationTimestamp.Time) })
	for i := range jobs.Items {
		if i == 2 {
			break
		}
		en.eventKeys = append(en.eventKeys, involvedKey("Job", ns, jobs.Items[i].Name))
		pods, err := e.ownedPods(ctx, ns, "Job", jobs.Items[i].Name)
		if err != nil {
			return true, err
		}
		en.pods = append(en.pods, pods...)
	}
	return true, nil
}

func (e *Enricher) node(ctx context.Context, en *enrichment, name string) (bool, error) {
	n := &corev1.Node{}
	ok, err := e.get(ctx, client.ObjectKey{Name: name}, n)
	if err != nil || !ok {
		return ok, err
	}
	en.nodeNames = append(en.nodeNames, name)
	var pods corev1.PodList
	if err := e.list(ctx, &pods, client.MatchingFields{indexNode: name}); err != nil {
		return true, err
	}
	for i := range pods.Items {
		en.pods = append(en.pods, &pods.Items[i])
	}
	return true, nil
}

// autoscaling finds the HPA whose scale target is the workload and the PDB that selects its pods.
// An HPA target is its own HPA.
func (e *Enricher) autoscaling(ctx context.Context, en *enrichment, ns string) error {
	if en.kc.HPA == nil {
		var hpas autoscalingv2.HorizontalPodAutoscalerList
		if err := e.list(ctx, &hpas, client.InNamespace(ns), client.MatchingFields{indexScaleTarget: en.workloadKind + "/" + en.workloadName}); err != nil {
			return err
		}
		if len(hpas.Items) > 0 {
			en.kc.HPA = hpaSummary(&hpas.Items[0])
			en.eventKeys = append(en.eventKeys, involvedKey("HorizontalPodAutoscaler", ns, hpas.Items[0].Name))
		}
	}
	podLabels := en.templateLabels
	if podLabels == nil && len(en.pods) > 0 {
		podLabels = en.pods[0].Labels
	}
	if podLabels == nil {
		return nil
	}
	var pdbs policyv1.PodDisruptionBudgetList
	if err := e.list(ctx, &pdbs, client.InNamespace(ns)); err != nil {
		return err
	}
	for i := range pdbs.Items {
		p := &pdbs.Items[i]
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(podLabels)) {
			continue
		}
		en.kc.PDB = &common.PDBSummary{Name: p.Name, DisruptionsAllowed: p.Status.DisruptionsAllowed, CurrentHealthy: p.Status.CurrentHealthy,
			DesiredHealthy: p.Status.DesiredHealthy, ExpectedPods: p.Status.ExpectedPods}
		break
	}
	return nil
}

func hpaSummary(h *autoscalingv2.HorizontalPodAutoscaler) *common.HPASummary {
	s := &common.HPASummary{Name: h.Name, MinReplicas: 1, MaxReplicas: h.Spec.MaxReplicas,
		CurrentReplicas: h.Status.CurrentReplicas, DesiredReplicas: h.Status.DesiredReplicas}
	if h.Spec.MinReplicas != nil {
		s.MinReplicas = *h.Spec.MinReplicas
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
		if i < 2*maxPods { // events of the most relevant pods only: a node may run a hundred
			en.eventKeys = append(en.eventKeys, involvedKey("Pod", p.Namespace, p.Name))
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

func (e *Enricher) nodes(ctx context.Context, en *enrichment) error {
	for _, name := range en.nodeNames {
		n := &corev1.Node{}
		ok, err := e.get(ctx, client.ObjectKey{Name: name}, n)
		if err != nil {
			return err
		}
		en.eventKeys = append(en.eventKeys, involvedKey("Node", "", name))
		if !ok {
			continue
		}
		s := common.NodeSummary{Name: n.Name, Unschedulable: n.Spec.Unschedulable}
		for _, c := range n.Status.Conditions {
			if !slices.Contains(nodeConditionTypes, c.Type) {
				continue
			}
			if c.Type == corev1.NodeReady {
				s.Ready = string(c.Status)
			}
			s.Conditions = append(s.Conditions, condition(string(c.Type), string(c.Status), c.Reason, c.Message, c.LastTransitionTime))
			unhealthy := (c.Type == corev1.NodeReady) != (c.Status == corev1.ConditionTrue)
			if unhealthy && len(en.kc.NodeConditions) < maxNodeConds {
				nc := common.NodeCondition{Node: n.Name, Type: string(c.Type), Status: string(c.Status), Reason: text.TruncateBytes(c.Reason, 128), Message: text.TruncateBytes(c.Message, 256)}
				if !c.LastTransitionTime.IsZero() {
					at := c.LastTransitionTime
					nc.LastTransitionTime = &at
				}
				en.kc.NodeConditions = append(en.kc.NodeConditions, nc)
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
		var pods corev1.PodList
		if err := e.list(ctx, &pods, client.MatchingFields{indexNode: name}); err != nil {
			return err
		}
		s.PodCount = int32(len(pods.Items))
		en.kc.Nodes = append(en.kc.Nodes, s)
	}
	return nil
}

// events reads the Warning events about every object collected, groups them by reason and
// object and keeps the newest groups first.
func (e *Enricher) events(ctx context.Context, en *enrichment) error {
	type group struct {
		s    common.EventSummary
		last time.Time
	}
	groups := map[string]*group{}
	seen := map[string]bool{}
	for _, key := range en.eventKeys {
		if seen[key] {
			continue
		}
		seen[key] = true
		var list corev1.EventList
		if err := e.list(ctx, &list, client.MatchingFields{indexInvolved: key}); err != nil {
			return err
		}
		for i := range list.Items {
			ev := &list.Items[i]
			obj := ev.InvolvedObject.Kind + "/" + ev.InvolvedObject.Name
			first, last, count := eventTimes(ev)
			g, ok := groups[ev.Reason+"\x00"+obj]
			if !ok {
				g = &group{s: common.EventSummary{Type: ev.Type, Reason: text.TruncateBytes(ev.Reason, 128), Object: text.TruncateBytes(obj, 320)}}
				groups[ev.Reason+"\x00"+obj] = g
			}
			g.s.Count += count
			if g.s.FirstTimestamp == nil || first.Before(g.s.FirstTimestamp.Time) {
				f := metav1.NewTime(first)
				g.s.FirstTimestamp = &f
			}
			if g.s.LastTimestamp == nil || !last.Before(g.last) {
				l := metav1.NewTime(last)
				g.s.LastTimestamp, g.last, g.s.Message = &l, last, text.TruncateBytes(ev.Message, 512)
			}
		}
	}
	out := make([]*group, 0, len(groups))
	for _, g := range groups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *group) int {
		if c := b.last.Compare(a.last); c != 0 {
			return c
		}
		return cmp.Or(strings.Compare(a.s.Reason, b.s.Reason), strings.Compare(a.s.Object, b.s.Object))
	})
	for i, g := range out {
		if i == maxEvents {
			en.omitted.events = len(out) - maxEvents
			break
		}
		en.kc.RecentEvents = append(en.kc.RecentEvents, g.s)
	}
	return nil
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
	ok, err := e.get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: t.Name}, h)
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

// pvc enriches a PersistentVolumeClaim target. The claim and its StorageClass are read live (one
// Get each: no informer holds claims or classes); the pods that mount it come from the pod cache's
// claim index, most relevant first, each with its workload (see mounts).
func (e *Enricher) pvc(ctx context.Context, en *enrichment, t common.TargetResource) (bool, error) {
	c := &corev1.PersistentVolumeClaim{}
	ok, err := e.getLive(ctx, client.ObjectKey{Namespace: t.Namespace, Name: t.Name}, c)
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
	if class != "" {
		sc := &storagev1.StorageClass{}
		ok, err := e.getLive(ctx, client.ObjectKey{Name: class}, sc)
		if err != nil {
			return true, err
		}
		if ok {
			allowed := sc.AllowVolumeExpansion != nil && *sc.AllowVolumeExpansion
			s.AllowVolumeExpansion = &allowed
		}
	}
	en.kc.PVC = s
	if owner := metav1.GetControllerOfNoCopy(c); owner != nil {
		en.kc.OwnerChain = append(en.kc.OwnerChain, ref(owner.APIVersion, owner.Kind, c.Namespace, owner.Name))
	}
	if c.Spec.VolumeName != "" {
		en.eventKeys = append(en.eventKeys, involvedKey("PersistentVolume", "", c.Spec.VolumeName))
	}
	var pods corev1.PodList
	if err := e.list(ctx, &pods, client.InNamespace(c.Namespace), client.MatchingFields{indexClaim: c.Name}); err != nil {
		return true, err
	}
	for i := range pods.Items {
		en.pods = append(en.pods, &pods.Items[i])
	}
	return true, nil
}

// mounts lists the pods that mount the claim target (en.pods, already in order) with their
// top-level controller.
func (e *Enricher) mounts(ctx context.Context, en *enrichment) error {
	for _, p := range en.pods {
		if len(en.kc.PVC.MountedBy) == maxPods {
			break
		}
		w, err := e.topController(ctx, p)
		if err != nil {
			return err
		}
		en.kc.PVC.MountedBy = append(en.kc.PVC.MountedBy, common.PVCMount{Pod: p.Name, Workload: text.TruncateBytes(w, 320)})
	}
	return nil
}

// topController is a pod's controller as kind/name, followed one step further from a ReplicaSet
// to its Deployment and from a Job to its CronJob; "" for a pod without one.
func (e *Enricher) topController(ctx context.Context, p *corev1.Pod) (string, error) {
	o := metav1.GetControllerOfNoCopy(p)
	if o == nil {
		return "", nil
	}
	var parent client.Object
	switch o.Kind {
	case "ReplicaSet":
		parent = &appsv1.ReplicaSet{}
	case "Job":
		parent = &batchv1.Job{}
	default:
		return o.Kind + "/" + o.Name, nil
	}
	ok, err := e.get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: o.Name}, parent)
	if err != nil {
		return "", err
	}
	if ok {
		if po := metav1.GetControllerOfNoCopy(parent); po != nil {
			return po.Kind + "/" + po.Name, nil
		}
	}
	return o.Kind + "/" + o.Name, nil
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
