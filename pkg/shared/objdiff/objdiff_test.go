package objdiff

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func deployment(mutate func(*appsv1.Deployment)) *appsv1.Deployment {
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", ResourceVersion: "10", Generation: 3, UID: "u1"},
		Spec: appsv1.DeploymentSpec{
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
				{Name: "app", Image: "web:1", Resources: corev1.ResourceRequirements{
					Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
				}},
				{Name: "sidecar", Image: "proxy:1"},
			}}},
		},
		Status: appsv1.DeploymentStatus{Replicas: 2},
	}
	if mutate != nil {
		mutate(d)
	}
	return d
}

func TestDiff(t *testing.T) {
	tests := map[string]struct {
		before, after any
		want          []Change
	}{
		"identical": {
			before: deployment(nil), after: deployment(nil),
		},
		"container keyed by name, memory limit raised, request added": {
			before: deployment(nil),
			after: deployment(func(d *appsv1.Deployment) {
				c := &d.Spec.Template.Spec.Containers[0]
				c.Resources.Limits[corev1.ResourceMemory] = resource.MustParse("512Mi")
				c.Resources.Requests = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")}
			}),
			want: []Change{
				{Path: "spec.template.spec.containers[name=app].resources.limits.memory", Before: `"256Mi"`, After: `"512Mi"`},
				{Path: "spec.template.spec.containers[name=app].resources.requests.memory", After: `"512Mi"`},
			},
		},
		"server-managed fields and status are ignored": {
			before: deployment(nil),
			after: deployment(func(d *appsv1.Deployment) {
				d.ResourceVersion, d.Generation, d.UID = "11", 4, "u2"
				d.CreationTimestamp = metav1.Now()
				d.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "x"}}
				d.Status.Replicas = 3
			}),
		},
		"replicas and annotation with dots": {
			before: deployment(nil),
			after: deployment(func(d *appsv1.Deployment) {
				d.Spec.Replicas = new(int32(3))
				d.Spec.Template.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}
			}),
			want: []Change{
				{Path: "spec.replicas", After: "3"},
				{Path: `spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]`, After: `"2026-01-01T00:00:00Z"`},
			},
		},
		"container removed lists its leaves": {
			before: deployment(nil),
			after: deployment(func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.Containers = d.Spec.Template.Spec.Containers[:1]
			}),
			want: []Change{
				{Path: "spec.template.spec.containers[name=sidecar].image", Before: `"proxy:1"`},
				{Path: "spec.template.spec.containers[name=sidecar].name", Before: `"sidecar"`},
				{Path: "spec.template.spec.containers[name=sidecar].resources", Before: `{}`},
			},
		},
		"unnamed list elements by index (taints)": {
			before: &corev1.Node{Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: "a", Effect: corev1.TaintEffectNoSchedule}}}},
			after: &corev1.Node{Spec: corev1.NodeSpec{Unschedulable: true, Taints: []corev1.Taint{
				{Key: "a", Effect: corev1.TaintEffectNoSchedule}, {Key: "b", Value: "1", Effect: corev1.TaintEffectNoExecute},
			}}},
			want: []Change{
				{Path: "spec.taints[1].effect", After: `"NoExecute"`},
				{Path: "spec.taints[1].key", After: `"b"`},
				{Path: "spec.taints[1].value", After: `"1"`},
				{Path: "spec.unschedulable", After: "true"},
			},
		},
		"unstructured maps, type change and removal": {
			before: map[string]any{"spec": map[string]any{"a": "x", "b": map[string]any{"c": 1}, "big": int64(1) << 60}},
			after:  map[string]any{"spec": map[string]any{"a": []any{"x"}, "big": (int64(1) << 60) + 1}},
			want: []Change{
				{Path: "spec.a", Before: `"x"`, After: `["x"]`},
				{Path: "spec.b.c", Before: "1"},
				{Path: "spec.big", Before: "1152921504606846976", After: "1152921504606846977"},
			},
		},
		"nil before lists every field": {
			before: nil,
			after:  map[string]any{"metadata": map[string]any{"name": "n", "uid": "x"}, "spec": map[string]any{"x": true}},
			want: []Change{
				{Path: "metadata.name", After: `"n"`},
				{Path: "spec.x", After: "true"},
			},
		},
		"duplicate names fall back to index": {
			before: map[string]any{"l": []any{map[string]any{"name": "a", "v": 1}, map[string]any{"name": "a", "v": 2}}},
			after:  map[string]any{"l": []any{map[string]any{"name": "a", "v": 1}, map[string]any{"name": "a", "v": 3}}},
			want:   []Change{{Path: "l[1].v", Before: "2", After: "3"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Diff(tc.before, tc.after)
			require.NoError(t, err)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Diff() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiffRejectsUnmarshalable(t *testing.T) {
	_, err := Diff(map[string]any{"f": func() {}}, nil)
	assert.ErrorContains(t, err, "before")
}

func TestFormat(t *testing.T) {
	changes := []Change{
		{Path: "spec.replicas", Before: "1", After: "3"},
		{Path: "spec.template.spec.containers[name=app].resources.limits.memory", Before: `"256Mi"`, After: `"512Mi"`},
		{Path: "spec.paused", Before: "true"},
	}
	all := "spec.replicas: 1 → 3\n" +
		`spec.template.spec.containers[name=app].resources.limits.memory: "256Mi" → "512Mi"` + "\n" +
		"spec.paused: true → (none)"
	tests := map[string]struct {
		changes []Change
		max     int
		want    string
	}{
		"unbounded":                     {changes: changes, max: 0, want: all},
		"exactly fits":                  {changes: changes, max: len(all), want: all},
		"empty":                         {changes: nil, max: 10, want: ""},
		"two dropped":                   {changes: changes, max: 40, want: "spec.replicas: 1 → 3\n… 2 more"},
		"nothing fits":                  {changes: changes, max: 15, want: "… 3 more"},
		"marker cut":                    {changes: changes, max: 4, want: "… "},
		"last line fits without marker": {changes: changes[:2], max: len("spec.replicas: 1 → 3\n") + 80, want: "spec.replicas: 1 → 3\n… 1 more"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Format(tc.changes, tc.max)
			assert.Equal(t, tc.want, got)
			if tc.max > 0 {
				assert.LessOrEqual(t, len(got), tc.max)
			}
			assert.True(t, tc.max <= 0 || !strings.Contains(got, "→") || len(got) <= tc.max)
		})
	}
}
