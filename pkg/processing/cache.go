package processing

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// CacheOptions narrows the manager's cache for the processing service to what it owns: the
// RemediationProcessings (stripped) and the policy ConfigMap of namespace, nothing else.
// Enrichment reads the cluster live (see Enricher), so the cache never holds the cluster's pods,
// events or nodes; a read of any other kind from the cache fails instead of quietly starting a
// cluster-wide informer. Call it on the manager options before creating the manager.
func CacheOptions(opts *cache.Options, namespace, policyConfigMap string) {
	if opts.ByObject == nil {
		opts.ByObject = map[client.Object]cache.ByObject{}
	}
	only := map[string]cache.Config{namespace: {}}
	opts.ByObject[&processingv1.RemediationProcessing{}] = cache.ByObject{Namespaces: only, Transform: typed(stripProcessing)}
	opts.ByObject[&corev1.ConfigMap{}] = cache.ByObject{Namespaces: only,
		Field: fields.OneTermEqualSelector("metadata.name", policyConfigMap)}
	opts.ReaderFailOnMissingInformer = true
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

func stripProcessing(rp *processingv1.RemediationProcessing) *processingv1.RemediationProcessing {
	out := &processingv1.RemediationProcessing{TypeMeta: rp.TypeMeta, ObjectMeta: keptMeta(&rp.ObjectMeta, false)}
	out.Status.Phase, out.Status.ObservedGeneration = rp.Status.Phase, rp.Status.ObservedGeneration
	if rp.Status.Phase.IsTerminal() {
		return out // finished: nothing more is read from it
	}
	out.Spec = rp.Spec
	out.Spec.Alert.Payload = nil // never read; up to 64 KiB each
	out.Status = rp.Status
	return out
}

// stripPod keeps of a pod what the context uses (no spec beyond the containers' names, images,
// resources and probe presence, the node name and the names of the claims it mounts): the pods
// an enrichment reads are kept in this form while it runs.
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
