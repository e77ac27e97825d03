package actions

import (
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A workload's or an HPA's controller is another controller's resource; a Pod's ReplicaSet and a
// PVC's StatefulSet are the controllers the actions expect there; a reference that is not the
// controller (garbage collection only) is no controller.
func TestOtherController(t *testing.T) {
	controller := func(apiVersion, kind, name string) []metav1.OwnerReference {
		return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: name, UID: "u", Controller: ptr(true), BlockOwnerDeletion: ptr(true)}}
	}
	meta := func(refs []metav1.OwnerReference) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: "monitoring", Name: "x", OwnerReferences: refs}
	}
	tests := map[string]struct {
		obj  client.Object
		want string
	}{
		"StatefulSet of a Prometheus":                         {&appsv1.StatefulSet{ObjectMeta: meta(controller("monitoring.coreos.com/v1", "Prometheus", "k8s"))}, "Prometheus k8s"},
		"Deployment of a Knative Revision":                    {&appsv1.Deployment{ObjectMeta: meta(controller("serving.knative.dev/v1", "Revision", "web-00001"))}, "Revision web-00001"},
		"DaemonSet of an operator":                            {&appsv1.DaemonSet{ObjectMeta: meta(controller("example.com/v1", "Agent", "a"))}, "Agent a"},
		"HPA of a KEDA ScaledObject":                          {&autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: meta(controller("keda.sh/v1alpha1", "ScaledObject", "web"))}, "ScaledObject web"},
		"Deployment without owners":                           {&appsv1.Deployment{ObjectMeta: meta(nil)}, ""},
		"Deployment with an owner that is not its controller": {&appsv1.Deployment{ObjectMeta: meta([]metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "release", UID: "u"}})}, ""},
		"Pod of a ReplicaSet":                                 {&corev1.Pod{ObjectMeta: meta(controller("apps/v1", "ReplicaSet", "web-1"))}, ""},
		"PVC of a StatefulSet":                                {&corev1.PersistentVolumeClaim{ObjectMeta: meta(controller("apps/v1", "StatefulSet", "db"))}, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ref := OtherController(tc.obj)
			if tc.want == "" {
				assert.Nil(t, ref)
				return
			}
			if assert.NotNil(t, ref) {
				assert.Equal(t, tc.want, ref.Kind+" "+ref.Name)
			}
		})
	}
	ref := OtherController(tests["StatefulSet of a Prometheus"].obj)
	assert.Equal(t, "StatefulSet monitoring/x is controlled by monitoring.coreos.com/v1 Prometheus k8s, which would undo a change made to it: the change belongs in that Prometheus, and a person must make it",
		ControlledMessage("StatefulSet", tests["StatefulSet of a Prometheus"].obj, ref))
}
