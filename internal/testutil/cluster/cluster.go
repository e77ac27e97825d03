// Package cluster creates, as an administrator, the objects a cluster's own controllers and
// kubelets would have created (Deployments with their ReplicaSets and Pods, Nodes), statuses
// written through the status subresource as they would write them, for tests of the services
// that read them.
package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Objects creates objects with C, failing T on an error.
type Objects struct {
	T testing.TB
	C client.Client
}

// Create creates obj.
func (h Objects) Create(obj client.Object) {
	h.T.Helper()
	require.NoError(h.T, h.C.Create(context.Background(), obj), "creating %T %s", obj, obj.GetName())
}

// SetStatus writes obj's status (set by mutate) through the status subresource.
func SetStatus[T client.Object](h Objects, obj T, mutate func(T)) {
	h.T.Helper()
	mutate(obj)
	require.NoError(h.T, h.C.Status().Update(context.Background(), obj), "updating the status of %T %s", obj, obj.GetName())
}

// Resources requests cpu and mem and limits memory to limMem.
func Resources(cpu, mem, limMem string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(limMem)},
	}
}

// Container is container name running image (cpu 100m, memory 128Mi/256Mi, an HTTP liveness probe).
func Container(name, image string) corev1.Container {
	return corev1.Container{Name: name, Image: image, Resources: Resources("100m", "128Mi", "256Mi"),
		LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}}}}
}

// Deployment creates Deployment ns/name of one container app running image.
func (h Objects) Deployment(ns, name, image string, replicas int32) *appsv1.Deployment {
	h.T.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(replicas), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{Container("app", image)}}}},
	}
	h.Create(d)
	return d
}

// ControllerRef is the controller owner reference to owner.
func ControllerRef(owner client.Object, apiVersion, kind string) []metav1.OwnerReference {
	return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: owner.GetName(), UID: owner.GetUID(), Controller: ptr.To(true)}}
}

// ReplicaSet creates revision rev of d with image, as the Deployment controller would.
func (h Objects) ReplicaSet(d *appsv1.Deployment, rev int, image string, replicas, ready int32, created time.Time) *appsv1.ReplicaSet {
	h.T.Helper()
	hash := fmt.Sprintf("r%d", rev)
	labels := map[string]string{"app": d.Name, "pod-template-hash": hash}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name + "-" + hash, Labels: labels,
			Annotations:     map[string]string{"deployment.kubernetes.io/revision": fmt.Sprint(rev)},
			OwnerReferences: ControllerRef(d, "apps/v1", "Deployment")},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To(replicas), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{Container("app", image)}}}},
	}
	h.Create(rs)
	_ = created // creation time is the API server's; ordering comes from creating in order
	SetStatus(h, rs, func(rs *appsv1.ReplicaSet) { rs.Status.Replicas, rs.Status.ReadyReplicas = replicas, ready })
	return rs
}

// Pod creates a pod owned by owner on node, and writes its status as the kubelet would.
func (h Objects) Pod(ns string, owner client.Object, ownerAPI, ownerKind, name, node, image string, status func(*corev1.Pod)) *corev1.Pod {
	h.T.Helper()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{Container("app", image)}},
	}
	if owner != nil {
		p.OwnerReferences = ControllerRef(owner, ownerAPI, ownerKind)
		if app := owner.GetLabels()["app"]; app != "" {
			p.Labels = map[string]string{"app": app}
		}
	}
	h.Create(p)
	if status != nil {
		SetStatus(h, p, status)
	}
	return p
}

// Node creates Node name, Ready with room for pods, mutate changing its status, deleted when
// the test ends.
func (h Objects) Node(name string, mutate func(*corev1.Node)) *corev1.Node {
	h.T.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	h.Create(n)
	h.T.Cleanup(func() { _ = h.C.Delete(context.Background(), n) })
	SetStatus(h, n, func(n *corev1.Node) {
		now := metav1.Now()
		n.Status.Allocatable = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("16Gi"), corev1.ResourcePods: resource.MustParse("110")}
		n.Status.Capacity = n.Status.Allocatable
		n.Status.Conditions = []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: now, LastTransitionTime: now},
			{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", LastHeartbeatTime: now, LastTransitionTime: now},
		}
		if mutate != nil {
			mutate(n)
		}
	})
	return n
}
