package actions

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// NewObject returns an empty object of a kind a catalog action targets, or nil for any other.
func NewObject(kind string) client.Object {
	switch kind {
	case "Deployment":
		return &appsv1.Deployment{}
	case "StatefulSet":
		return &appsv1.StatefulSet{}
	case "DaemonSet":
		return &appsv1.DaemonSet{}
	case "Pod":
		return &corev1.Pod{}
	case "Node":
		return &corev1.Node{}
	case "Namespace":
		return &corev1.Namespace{}
	case "PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}
	case "HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}
	}
	return nil
}

// OtherController returns the controller of a Deployment, StatefulSet, DaemonSet or
// HorizontalPodAutoscaler: another controller's resource that keeps the object as its own spec
// says (an operator's, for example the Prometheus that owns the StatefulSet prometheus-k8s, or
// a KEDA ScaledObject that owns its HPA). It undoes a change made to the object itself, so such
// a change belongs in that resource, a person's call. Nil when the object has no controller or
// is of another kind (a Pod's ReplicaSet, a PVC's StatefulSet are not such controllers: they do
// not revert what the actions change there).
func OtherController(obj client.Object) *metav1.OwnerReference {
	switch obj.(type) {
	case *appsv1.Deployment, *appsv1.StatefulSet, *appsv1.DaemonSet, *autoscalingv2.HorizontalPodAutoscaler:
		return metav1.GetControllerOf(obj)
	}
	return nil
}

// ControlledMessage says why a change to obj, controlled by ref (OtherController), is not made.
func ControlledMessage(kind string, obj client.Object, ref *metav1.OwnerReference) string {
	return fmt.Sprintf("%s %s is controlled by %s %s %s, which would undo a change made to it: the change belongs in that %s, and a person must make it",
		kind, describeKey(obj), ref.APIVersion, ref.Kind, ref.Name, ref.Kind)
}
