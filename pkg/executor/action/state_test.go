package action

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func deployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "u1", Annotations: map[string]string{"a": "b"}},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "app", Image: "app:1", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")}}},
			{Name: "sidecar", Image: "side:1"},
		}}}},
	}
}

func TestStateRevertsOnlyTheChangedFields(t *testing.T) {
	before := deployment()
	after := before.DeepCopy()
	after.Spec.Replicas = ptr.To[int32](4)
	after.Spec.Template.Spec.Containers[0].Resources.Requests[corev1.ResourceMemory] = resource.MustParse("256Mi")
	st, err := NewState(before, after)
	require.NoError(t, err)
	var paths []string
	for _, f := range st.Fields {
		paths = append(paths, f.Path)
	}
	assert.Equal(t, []string{"/spec/replicas", "/spec/template/spec/containers/0/resources/requests/memory"}, paths)

	// Someone rolled forward since: a new image; the revert keeps it.
	live := after.DeepCopy()
	live.Spec.Template.Spec.Containers[0].Image = "app:2"
	m, err := toJSONMap(live)
	require.NoError(t, err)
	ops, changed := revertOps(m, st, "id")
	require.Empty(t, changed)
	raw, err := json.Marshal(ops)
	require.NoError(t, err)
	assert.JSONEq(t, `[
		{"op":"test","path":"/metadata/uid","value":"u1"},
		{"op":"test","path":"/spec/template/spec/containers/0/name","value":"app"},
		{"op":"test","path":"/spec/template/spec/containers/0/resources/requests/memory","value":"256Mi"},
		{"op":"replace","path":"/spec/template/spec/containers/0/resources/requests/memory","value":"128Mi"},
		{"op":"test","path":"/spec/replicas","value":4},
		{"op":"replace","path":"/spec/replicas","value":2},
		{"op":"add","path":"/metadata/annotations/kubernaut.io~1last-remediation","value":"id"}
	]`, string(raw))

	// Someone changed a field the change wrote: not reverted.
	live.Spec.Replicas = ptr.To[int32](6)
	m, err = toJSONMap(live)
	require.NoError(t, err)
	ops, changed = revertOps(m, st, "id")
	assert.Nil(t, ops)
	assert.Equal(t, []string{"/spec/replicas"}, changed)

	// The containers reordered: the container's field is not where the change wrote it.
	live = after.DeepCopy()
	c := live.Spec.Template.Spec.Containers
	c[0], c[1] = c[1], c[0]
	m, err = toJSONMap(live)
	require.NoError(t, err)
	_, changed = revertOps(m, st, "id")
	assert.Contains(t, changed, "/spec/template/spec/containers/0/resources/requests/memory (its list element moved or is gone)")
}

func TestStateRevertsListElements(t *testing.T) {
	before := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: "u"}, Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: "a", Effect: corev1.TaintEffectNoSchedule}}}}
	after := before.DeepCopy()
	after.Spec.Taints = append(after.Spec.Taints, corev1.Taint{Key: "example.com/x", Effect: corev1.TaintEffectNoExecute})
	after.Spec.Unschedulable = true
	after.Annotations = map[string]string{AnnotationTaints: `["example.com/x:NoExecute"]`}
	st, err := NewState(before, after)
	require.NoError(t, err)

	// Kubernetes added a taint meanwhile: it stays, ours goes.
	live := after.DeepCopy()
	live.Spec.Taints = append([]corev1.Taint{{Key: "node.kubernetes.io/not-ready", Effect: corev1.TaintEffectNoSchedule}}, live.Spec.Taints...)
	m, err := toJSONMap(live)
	require.NoError(t, err)
	ops, changed := revertOps(m, st, "id")
	require.Empty(t, changed)
	raw, err := json.Marshal(ops)
	require.NoError(t, err)
	assert.JSONEq(t, `[
		{"op":"test","path":"/metadata/uid","value":"u"},
		{"op":"test","path":"/spec/unschedulable","value":true},
		{"op":"remove","path":"/spec/unschedulable"},
		{"op":"test","path":"/spec/taints/2","value":{"key":"example.com/x","effect":"NoExecute"}},
		{"op":"remove","path":"/spec/taints/2"},
		{"op":"test","path":"/metadata/annotations/kubernaut.io~1taints","value":"[\"example.com/x:NoExecute\"]"},
		{"op":"remove","path":"/metadata/annotations/kubernaut.io~1taints"},
		{"op":"add","path":"/metadata/annotations/kubernaut.io~1last-remediation","value":"id"}
	]`, string(raw))
}
