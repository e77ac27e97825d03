package processing

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// Field indexes on the cache; every read of an enrichment goes through one of them or a Get.
const (
	// indexOwner: pods, ReplicaSets and Jobs by their controlling owner, "Kind/name".
	indexOwner = "processing.kubernaut.io/owner"
	// indexNode: pods by spec.nodeName.
	indexNode = "processing.kubernaut.io/node"
	// indexInvolved: events by involved object, "Kind/namespace/name".
	indexInvolved = "processing.kubernaut.io/involved"
	// indexScaleTarget: HorizontalPodAutoscalers by scale target, "Kind/name".
	indexScaleTarget = "processing.kubernaut.io/scale-target"
	// indexClaim: pods by the PersistentVolumeClaims they mount (claim name).
	indexClaim = "processing.kubernaut.io/claim"
)

// Annotations kept on ReplicaSets (rollout history).
const (
	annotationRevision        = "deployment.kubernetes.io/revision"
	annotationRevisionHistory = "deployment.kubernetes.io/revision-history"
)

const maxCachedMessage = 512

// CacheOptions narrows the manager's cache for the processing service: RemediationProcessings
// and the policy ConfigMap of namespace only; cluster-wide informers for the kinds enrichment
// reads, each stripped to the fields the context uses (no pod spec beyond containers' names,
// images, resources and probe presence, the node name and the names of the claims it mounts;
// events reduced to Warning events and their kept fields; nodes without images, addresses or
// system info). PersistentVolumeClaims and StorageClasses have no informer: a claim target reads
// them live (Enricher.Live). Call it on the manager options before creating the manager.
func CacheOptions(opts *cache.Options, namespace, policyConfigMap string) {
	if opts.ByObject == nil {
		opts.ByObject = map[client.Object]cache.ByObject{}
	}
	only := map[string]cache.Config{namespace: {}}
	opts.ByObject[&processingv1.RemediationProcessing{}] = cache.ByObject{Namespaces: only, Transform: typed(stripProcessing)}
	opts.ByObject[&corev1.ConfigMap{}] = cache.ByObject{Namespaces: only,
		Field: fields.OneTermEqualSelector("metadata.name", policyConfigMap)}
	opts.ByObject[&corev1.Pod{}] = cache.ByObject{Transform: typed(stripPod)}
	opts.ByObject[&corev1.Node{}] = cache.ByObject{Transform: typed(stripNode)}
	opts.ByObject[&corev1.Namespace{}] = cache.ByObject{Transform: typed(stripNamespace)}
	opts.ByObject[&corev1.Event{}] = cache.ByObject{Transform: typed(stripEvent),
		Field: fields.OneTermEqualSelector("type", corev1.EventTypeWarning)}
	opts.ByObject[&appsv1.Deployment{}] = cache.ByObject{Transform: typed(stripDeployment)}
	opts.ByObject[&appsv1.ReplicaSet{}] = cache.ByObject{Transform: typed(stripReplicaSet)}
	opts.ByObject[&appsv1.StatefulSet{}] = cache.ByObject{Transform: typed(stripStatefulSet)}
	opts.ByObject[&appsv1.DaemonSet{}] = cache.ByObject{Transform: typed(stripDaemonSet)}
	opts.ByObject[&batchv1.Job{}] = cache.ByObject{Transform: typed(stripJob)}
	opts.ByObject[&batchv1.CronJob{}] = cache.ByObject{Transform: typed(stripCronJob)}
	opts.ByObject[&autoscalingv2.HorizontalPodAutoscaler{}] = cache.ByObject{Transform: typed(stripHPA)}
	opts.ByObject[&policyv1.PodDisruptionBudget{}] = cache.ByObject{Transform: typed(stripPDB)}
}

// cachedKinds are the kinds enrichment reads; their informers start with the manager.
func cachedKinds() []client.Object {
	return []client.Object{&corev1.Pod{}, &corev1.Node{}, &corev1.Namespace{}, &corev1.Event{},
		&appsv1.Deployment{}, &appsv1.ReplicaSet{}, &appsv1.StatefulSet{}, &appsv1.DaemonSet{},
		&batchv1.Job{}, &batchv1.CronJob{}, &autoscalingv2.HorizontalPodAutoscaler{}, &policyv1.PodDisruptionBudget{}}
}

// setupIndexes registers the field indexes (which also starts the informers of those kinds)
// and the informers of the other kinds enrichment reads.
func setupIndexes(ctx context.Context, c cache.Cache) error {
	idx := []struct {
		obj   client.Object
		field string
		fn    client.IndexerFunc
	}{
		{&corev1.Pod{}, indexOwner, controllerOwnerKey},
		{&appsv1.ReplicaSet{}, indexOwner, controllerOwnerKey},
		{&batchv1.Job{}, indexOwner, controllerOwnerKey},
		{&corev1.Pod{}, indexNode, func(o client.Object) []string {
			if n := o.(*corev1.Pod).Spec.NodeName; n != "" {
				return []string{n}
			}
			return nil
		}},
		{&corev1.Event{}, indexInvolved, func(o client.Object) []string {
			io := o.(*corev1.Event).InvolvedObject
			return []string{involvedKey(io.Kind, io.Namespace, io.Name)}
		}},
		{&corev1.Pod{}, indexClaim, func(o client.Object) []string {
			var claims []string
			for _, v := range o.(*corev1.Pod).Spec.Volumes {
				if v.PersistentVolumeClaim != nil {
					claims = append(claims, v.PersistentVolumeClaim.ClaimName)
				}
			}
			return claims
		}},
		{&autoscalingv2.HorizontalPodAutoscaler{}, indexScaleTarget, func(o client.Object) []string {
			ref := o.(*autoscalingv2.HorizontalPodAutoscaler).Spec.ScaleTargetRef
			return []string{ref.Kind + "/" + ref.Name}
		}},
	}
	for _, i := range idx {
		if err := c.IndexField(ctx, i.obj, i.field, i.fn); err != nil {
			return fmt.Errorf("indexing %T by %s: %w", i.obj, i.field, err)
		}
	}
	for _, obj := range cachedKinds() {
		if _, err := c.GetInformer(ctx, obj); err != nil {
			return fmt.Errorf("starting the informer of %T: %w", obj, err)
		}
	}
	return nil
}

func involvedKey(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }

func controllerOwnerKey(o client.Object) []string {
	if ref := metav1.GetControllerOfNoCopy(o); ref != nil {
		return []string{ref.Kind + "/" + ref.Name}
	}
	return nil
}

func typed[T any](strip func(T) T) toolscache.TransformFunc {
	return func(o any) (any, error) {
		if t, ok := o.(T); ok {
			return strip(t), nil
		}
		return o, nil
	}
}

// keptMeta keeps identity, creation, the controlling owner and, on request, labels.
func keptMeta(m *metav1.ObjectMeta, labels bool) metav1.ObjectMeta {
	out := app.IdentityMeta(m)
	for _, ref := range m.OwnerReferences {
		if ref.Controller != nil && *ref.Controller {
			out.OwnerReferences = []metav1.OwnerReference{{APIVersion: ref.APIVersion, Kind: ref.Kind, Name: ref.Name, UID: ref.UID, Controller: ref.Controller}}
			break
		}
	}
	if labels {
		out.Labels = m.Labels
	}
	return out
}

func stripContainers(cs []corev1.Container) []corev1.Container {
	out := make([]corev1.Container, 0, len(cs))
	for _, c := range cs {
		sc := corev1.Container{Name: c.Name, Image: c.Image,
			Resources: corev1.ResourceRequirements{Requests: c.Resources.Requests, Limits: c.Resources.Limits}}
		if c.LivenessProbe != nil {
			sc.LivenessProbe = &corev1.Probe{}
		}
		if c.ReadinessProbe != nil {
			sc.ReadinessProbe = &corev1.Probe{}
		}
		out = append(out, sc)
	}
	return out
}

func stripTemplate(t corev1.PodTemplateSpec) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: t.Labels}, Spec: corev1.PodSpec{Containers: stripContainers(t.Spec.Containers)}}
}

func stripProcessing(rp *processingv1.RemediationProcessing) *processingv1.RemediationProcessing {
	out := &processingv1.RemediationProcessing{TypeMeta: rp.TypeMeta, ObjectMeta: keptMeta(&rp.ObjectMeta, false)}
	out.Status.Phase, out.Status.ObservedGeneration = rp.Status.Phase, rp.Status.ObservedGeneration
	if isFinal(rp.Status.Phase) {
		return out // finished: nothing more is read from it
	}
	out.Spec = rp.Spec
	out.Spec.Alert.Payload = nil // never read; up to 64 KiB each
	out.Status = rp.Status
	return out
}

func isFinal(p processingv1.Phase) bool {
	return p == processingv1.PhaseCompleted || p == processingv1.PhaseFailed
}

func stripPod(p *corev1.Pod) *corev1.Pod {
	out := &corev1.Pod{ObjectMeta: keptMeta(&p.ObjectMeta, true)}
	out.Spec.NodeName = p.Spec.NodeName
	out.Spec.Containers = stripContainers(p.Spec.Containers)
	out.Spec.Volumes = claimVolumes(p)
	out.Status = corev1.PodStatus{Phase: p.Status.Phase, Reason: p.Status.Reason, Message: text.TruncateBytes(p.Status.Message, 256)}
	for _, c := range p.Status.Conditions {
		out.Status.Conditions = append(out.Status.Conditions, corev1.PodCondition{Type: c.Type, Status: c.Status, Reason: c.Reason,
			Message: text.TruncateBytes(c.Message, 256), LastTransitionTime: c.LastTransitionTime})
	}
	for _, cs := range p.Status.ContainerStatuses {
		out.Status.ContainerStatuses = append(out.Status.ContainerStatuses, corev1.ContainerStatus{Name: cs.Name, Ready: cs.Ready,
			RestartCount: cs.RestartCount, Image: cs.Image, State: stripState(cs.State), LastTerminationState: stripState(cs.LastTerminationState)})
	}
	return out
}

// claimVolumes keeps, of a pod's volumes, only the names of the PersistentVolumeClaims it mounts
// (a generic ephemeral volume's claim is named <pod>-<volume>); nothing for a pod without any.
func claimVolumes(p *corev1.Pod) []corev1.Volume {
	var out []corev1.Volume
	for _, v := range p.Spec.Volumes {
		claim := ""
		switch {
		case v.PersistentVolumeClaim != nil:
			claim = v.PersistentVolumeClaim.ClaimName
		case v.Ephemeral != nil:
			claim = p.Name + "-" + v.Name
		default:
			continue
		}
		out = append(out, corev1.Volume{VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
	}
	return out
}

func stripState(s corev1.ContainerState) corev1.ContainerState {
	var out corev1.ContainerState
	if s.Running != nil {
		out.Running = &corev1.ContainerStateRunning{StartedAt: s.Running.StartedAt}
	}
	if s.Waiting != nil {
		out.Waiting = &corev1.ContainerStateWaiting{Reason: s.Waiting.Reason, Message: text.TruncateBytes(s.Waiting.Message, 256)}
	}
	if s.Terminated != nil {
		t := s.Terminated
		out.Terminated = &corev1.ContainerStateTerminated{ExitCode: t.ExitCode, Reason: t.Reason, Message: text.TruncateBytes(t.Message, 256),
			StartedAt: t.StartedAt, FinishedAt: t.FinishedAt}
	}
	return out
}

func stripNode(n *corev1.Node) *corev1.Node {
	out := &corev1.Node{ObjectMeta: keptMeta(&n.ObjectMeta, false)}
	out.Spec = corev1.NodeSpec{Unschedulable: n.Spec.Unschedulable, Taints: n.Spec.Taints}
	out.Status.Allocatable = n.Status.Allocatable
	for _, c := range n.Status.Conditions {
		out.Status.Conditions = append(out.Status.Conditions, corev1.NodeCondition{Type: c.Type, Status: c.Status, Reason: c.Reason,
			Message: text.TruncateBytes(c.Message, 256), LastTransitionTime: c.LastTransitionTime})
	}
	return out
}

func stripNamespace(n *corev1.Namespace) *corev1.Namespace {
	out := &corev1.Namespace{ObjectMeta: keptMeta(&n.ObjectMeta, true)}
	out.Annotations = usefulAnnotations(n.Annotations)
	out.Status.Phase = n.Status.Phase
	return out
}

func stripEvent(e *corev1.Event) *corev1.Event {
	out := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: e.Name, Namespace: e.Namespace, UID: e.UID, ResourceVersion: e.ResourceVersion,
		CreationTimestamp: e.CreationTimestamp}}
	out.InvolvedObject = corev1.ObjectReference{Kind: e.InvolvedObject.Kind, Namespace: e.InvolvedObject.Namespace, Name: e.InvolvedObject.Name}
	out.Type, out.Reason, out.Message, out.Count = e.Type, e.Reason, text.TruncateBytes(e.Message, maxCachedMessage), e.Count
	out.FirstTimestamp, out.LastTimestamp, out.EventTime = e.FirstTimestamp, e.LastTimestamp, e.EventTime
	if e.Series != nil {
		out.Series = &corev1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return out
}

func stripConditions[T any](cs []T, f func(T) T) []T {
	out := make([]T, 0, len(cs))
	for _, c := range cs {
		out = append(out, f(c))
	}
	return out
}

func stripDeployment(d *appsv1.Deployment) *appsv1.Deployment {
	out := &appsv1.Deployment{ObjectMeta: keptMeta(&d.ObjectMeta, false)}
	out.Spec = appsv1.DeploymentSpec{Replicas: d.Spec.Replicas, Paused: d.Spec.Paused, Selector: d.Spec.Selector, Template: stripTemplate(d.Spec.Template)}
	out.Status = appsv1.DeploymentStatus{Replicas: d.Status.Replicas, ReadyReplicas: d.Status.ReadyReplicas, UpdatedReplicas: d.Status.UpdatedReplicas,
		AvailableReplicas: d.Status.AvailableReplicas, ObservedGeneration: d.Status.ObservedGeneration,
		Conditions: stripConditions(d.Status.Conditions, func(c appsv1.DeploymentCondition) appsv1.DeploymentCondition {
			c.Message = text.TruncateBytes(c.Message, 256)
			return c
		})}
	return out
}

func stripReplicaSet(r *appsv1.ReplicaSet) *appsv1.ReplicaSet {
	out := &appsv1.ReplicaSet{ObjectMeta: keptMeta(&r.ObjectMeta, false)}
	for _, k := range []string{annotationRevision, annotationRevisionHistory} {
		if v, ok := r.Annotations[k]; ok {
			if out.Annotations == nil {
				out.Annotations = map[string]string{}
			}
			out.Annotations[k] = v
		}
	}
	out.Spec.Replicas = r.Spec.Replicas
	out.Spec.Template.Spec.Containers = stripContainers(r.Spec.Template.Spec.Containers)
	out.Status = appsv1.ReplicaSetStatus{Replicas: r.Status.Replicas, ReadyReplicas: r.Status.ReadyReplicas, AvailableReplicas: r.Status.AvailableReplicas}
	return out
}

func stripStatefulSet(s *appsv1.StatefulSet) *appsv1.StatefulSet {
	out := &appsv1.StatefulSet{ObjectMeta: keptMeta(&s.ObjectMeta, false)}
	out.Spec = appsv1.StatefulSetSpec{Replicas: s.Spec.Replicas, Selector: s.Spec.Selector, Template: stripTemplate(s.Spec.Template)}
	out.Status = appsv1.StatefulSetStatus{Replicas: s.Status.Replicas, ReadyReplicas: s.Status.ReadyReplicas, UpdatedReplicas: s.Status.UpdatedReplicas,
		AvailableReplicas: s.Status.AvailableReplicas, CurrentRevision: s.Status.CurrentRevision, UpdateRevision: s.Status.UpdateRevision,
		Conditions: s.Status.Conditions}
	return out
}

func stripDaemonSet(d *appsv1.DaemonSet) *appsv1.DaemonSet {
	out := &appsv1.DaemonSet{ObjectMeta: keptMeta(&d.ObjectMeta, false)}
	out.Spec = appsv1.DaemonSetSpec{Selector: d.Spec.Selector, Template: stripTemplate(d.Spec.Template)}
	out.Status = appsv1.DaemonSetStatus{DesiredNumberScheduled: d.Status.DesiredNumberScheduled, NumberReady: d.Status.NumberReady,
		UpdatedNumberScheduled: d.Status.UpdatedNumberScheduled, NumberAvailable: d.Status.NumberAvailable, Conditions: d.Status.Conditions}
	return out
}

func stripJob(j *batchv1.Job) *batchv1.Job {
	out := &batchv1.Job{ObjectMeta: keptMeta(&j.ObjectMeta, false)}
	out.Spec.Template = stripTemplate(j.Spec.Template)
	out.Spec.Parallelism, out.Spec.Completions = j.Spec.Parallelism, j.Spec.Completions
	out.Status = batchv1.JobStatus{Active: j.Status.Active, Succeeded: j.Status.Succeeded, Failed: j.Status.Failed, Ready: j.Status.Ready,
		StartTime: j.Status.StartTime, CompletionTime: j.Status.CompletionTime,
		Conditions: stripConditions(j.Status.Conditions, func(c batchv1.JobCondition) batchv1.JobCondition {
			c.Message = text.TruncateBytes(c.Message, 256)
			return c
		})}
	return out
}

func stripCronJob(c *batchv1.CronJob) *batchv1.CronJob {
	out := &batchv1.CronJob{ObjectMeta: keptMeta(&c.ObjectMeta, false)}
	out.Spec.Schedule, out.Spec.Suspend = c.Spec.Schedule, c.Spec.Suspend
	out.Spec.JobTemplate.Spec.Template = stripTemplate(c.Spec.JobTemplate.Spec.Template)
	out.Status = batchv1.CronJobStatus{LastScheduleTime: c.Status.LastScheduleTime, LastSuccessfulTime: c.Status.LastSuccessfulTime}
	return out
}

func stripHPA(h *autoscalingv2.HorizontalPodAutoscaler) *autoscalingv2.HorizontalPodAutoscaler {
	out := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: keptMeta(&h.ObjectMeta, false)}
	out.Spec = autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: h.Spec.ScaleTargetRef, MinReplicas: h.Spec.MinReplicas,
		MaxReplicas: h.Spec.MaxReplicas, Metrics: h.Spec.Metrics}
	out.Status = h.Status
	out.Status.Conditions = stripConditions(h.Status.Conditions, func(c autoscalingv2.HorizontalPodAutoscalerCondition) autoscalingv2.HorizontalPodAutoscalerCondition {
		c.Message = text.TruncateBytes(c.Message, 256)
		return c
	})
	return out
}

func stripPDB(p *policyv1.PodDisruptionBudget) *policyv1.PodDisruptionBudget {
	out := &policyv1.PodDisruptionBudget{ObjectMeta: keptMeta(&p.ObjectMeta, false)}
	out.Spec.Selector = p.Spec.Selector
	out.Status = policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: p.Status.DisruptionsAllowed, CurrentHealthy: p.Status.CurrentHealthy,
		DesiredHealthy: p.Status.DesiredHealthy, ExpectedPods: p.Status.ExpectedPods}
	return out
}
