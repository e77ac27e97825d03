package mutate

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ktypes "k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubernaut/kubernaut/pkg/shared/actions"
	"github.com/kubernaut/kubernaut/pkg/shared/objdiff"
)

func rl(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func deployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "dep-uid",
			Annotations: map[string]string{RevisionAnnotation: "3"}},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{
				{Name: "app", Image: "web:3", Resources: corev1.ResourceRequirements{
					Requests: rl("memory", "128Mi"), Limits: rl("memory", "256Mi")}},
				{Name: "proxy", Image: "proxy:1"},
			}},
		}},
	}
}

// withResources gives every container of d the requests and limits.
func withResources(d *appsv1.Deployment, requests, limits corev1.ResourceList) *appsv1.Deployment {
	for i := range d.Spec.Template.Spec.Containers {
		d.Spec.Template.Spec.Containers[i].Resources = corev1.ResourceRequirements{Requests: requests.DeepCopy(), Limits: limits.DeepCopy()}
	}
	return d
}

// diff applies the action to a copy of obj and returns the changed fields as text.
func diff(t *testing.T, action actions.Name, obj client.Object, params map[string]string, in Inputs) ([]string, error) {
	t.Helper()
	desired := obj.DeepCopyObject().(client.Object)
	if err := Apply(action, desired, params, in); err != nil {
		return nil, err
	}
	changes, err := objdiff.Diff(obj, desired)
	require.NoError(t, err)
	var out []string
	for _, c := range changes {
		out = append(out, c.Path+": "+c.Before+" → "+c.After)
	}
	return out, nil
}

func TestApply(t *testing.T) {
	now := time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC)
	rs := func(rev, image string, owner ktypes.UID) appsv1.ReplicaSet {
		return appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "web-" + rev, Namespace: "shop",
				Annotations:     map[string]string{RevisionAnnotation: rev},
				OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "web", UID: owner, Controller: new(true)}}},
			Spec: appsv1.ReplicaSetSpec{Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: "h" + rev}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
			}},
		}
	}
	history := []appsv1.ReplicaSet{rs("1", "web:1", "dep-uid"), rs("2", "web:2", "dep-uid"), rs("3", "web:3", "dep-uid"), rs("4", "other:4", "other-uid")}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: "a", Value: "1", Effect: corev1.TaintEffectNoSchedule}}}}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MinReplicas: new(int32(2)), MaxReplicas: 5}}
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "shop"},
		Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{Requests: rl("storage", "10Gi")}}}

	tests := map[string]struct {
		action  actions.Name
		obj     client.Object
		params  map[string]string
		in      Inputs
		want    []string
		wantErr error
	}{
		"increase memory of one container raises the lower limit": {
			action: actions.IncreaseResources, obj: deployment(), params: map[string]string{"container": "app", "memory": "512Mi"},
			want: []string{
				`spec.template.spec.containers[name=app].resources.limits.memory: "256Mi" → "512Mi"`,
				`spec.template.spec.containers[name=app].resources.requests.memory: "128Mi" → "512Mi"`,
			},
		},
		"increase with explicit limits on every container": {
			action: actions.IncreaseResources, obj: deployment(), params: map[string]string{"memory": "300Mi", "memoryLimit": "1Gi", "cpu": "250m"},
			want: []string{
				`spec.template.spec.containers[name=app].resources.limits.memory: "256Mi" → "1Gi"`,
				`spec.template.spec.containers[name=app].resources.requests.cpu:  → "250m"`,
				`spec.template.spec.containers[name=app].resources.requests.memory: "128Mi" → "300Mi"`,
				`spec.template.spec.containers[name=proxy].resources.limits.memory:  → "1Gi"`,
				`spec.template.spec.containers[name=proxy].resources.requests.cpu:  → "250m"`,
				`spec.template.spec.containers[name=proxy].resources.requests.memory:  → "300Mi"`,
			},
		},
		"a limit below the existing request is left for the API server to refuse": {
			action: actions.IncreaseResources, obj: deployment(), params: map[string]string{"container": "app", "cpu": "100m", "memoryLimit": "64Mi"},
			want: []string{
				`spec.template.spec.containers[name=app].resources.limits.memory: "256Mi" → "64Mi"`,
				`spec.template.spec.containers[name=app].resources.requests.cpu:  → "100m"`,
			},
		},
		"memory factor multiplies the request and the limit of one container": {
			action: actions.IncreaseResources, obj: deployment(), params: map[string]string{"container": "app", "memoryFactor": "1.5"},
			want: []string{
				`spec.template.spec.containers[name=app].resources.limits.memory: "256Mi" → "384Mi"`,
				`spec.template.spec.containers[name=app].resources.requests.memory: "128Mi" → "192Mi"`,
			},
		},
		"a factor leaves a missing limit unset": {
			action: actions.IncreaseResources, obj: withResources(deployment(), rl("cpu", "333m"), nil), params: map[string]string{"container": "app", "cpuFactor": "1.5"},
			want: []string{`spec.template.spec.containers[name=app].resources.requests.cpu: "333m" → "500m"`},
		},
		"a factor of a limit alone": {
			action: actions.IncreaseResources, obj: withResources(deployment(), nil, rl("cpu", "1")), params: map[string]string{"container": "app", "cpuFactor": "1.25"},
			want: []string{`spec.template.spec.containers[name=app].resources.limits.cpu: "1" → "1250m"`},
		},
		"a factor of one resource with a new value of the other": {
			action: actions.IncreaseResources, obj: deployment(), params: map[string]string{"container": "app", "memoryFactor": "2", "cpu": "250m"},
			want: []string{
				`spec.template.spec.containers[name=app].resources.limits.memory: "256Mi" → "512Mi"`,
				`spec.template.spec.containers[name=app].resources.requests.cpu:  → "250m"`,
				`spec.template.spec.containers[name=app].resources.requests.memory: "128Mi" → "256Mi"`,
			},
		},
		"a factor on every container": {
			action: actions.IncreaseResources, obj: withResources(deployment(), rl("memory", "100M"), nil), params: map[string]string{"memoryFactor": "2"},
			want: []string{
				`spec.template.spec.containers[name=app].resources.requests.memory: "100M" → "191Mi"`,
				`spec.template.spec.containers[name=proxy].resources.requests.memory: "100M" → "191Mi"`,
			},
		},
		"a factor of a resource the container lacks": {
			action: actions.IncreaseResources, obj: deployment(), params: map[string]string{"container": "app", "cpuFactor": "2"},
			wantErr: ErrNoCurrentValue,
		},
		"a factor on every container when one lacks the resource": {
			action: actions.IncreaseResources, obj: deployment(), params: map[string]string{"memoryFactor": "2"},
			wantErr: ErrNoCurrentValue,
		},
		"a factor with a new limit of the same resource": {
			action: actions.IncreaseResources, obj: deployment(), params: map[string]string{"memoryFactor": "2", "memoryLimit": "1Gi"},
			wantErr: ErrInvalidParameters,
		},
		"an unreadable factor": {
			action: actions.IncreaseResources, obj: deployment(), params: map[string]string{"memoryFactor": "1,5"},
			wantErr: ErrInvalidParameters,
		},
		"unknown container": {
			action: actions.IncreaseResources, obj: deployment(), params: map[string]string{"container": "db", "memory": "1Gi"},
			wantErr: ErrContainerNotFound,
		},
		"increase on a Pod": {
			action: actions.IncreaseResources, obj: &corev1.Pod{}, params: map[string]string{"memory": "1Gi"},
			wantErr: ErrUnsupportedTarget,
		},
		"rollout restart": {
			action: actions.RolloutRestart, obj: deployment(), in: Inputs{Now: now},
			want: []string{`spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]:  → "2026-12-02T13:00:00Z"`},
		},
		"scale": {
			action: actions.ScaleDeployment, obj: &autoscalingv1.Scale{Spec: autoscalingv1.ScaleSpec{Replicas: 1}}, params: map[string]string{"replicas": "3"},
			want: []string{"spec.replicas: 1 → 3"},
		},
		"scale needs the scale subresource": {
			action: actions.ScaleStatefulSet, obj: deployment(), params: map[string]string{"replicas": "3"},
			wantErr: ErrUnsupportedTarget,
		},
		"rollback to previous revision": {
			action: actions.RollbackDeployment, obj: deployment(), in: Inputs{ReplicaSets: history},
			want: []string{`spec.template.spec.containers[name=app].image: "web:3" → "web:2"`,
				`spec.template.spec.containers[name=app].resources.limits.memory: "256Mi" → `,
				`spec.template.spec.containers[name=app].resources.requests.memory: "128Mi" → `,
				`spec.template.spec.containers[name=proxy].image: "proxy:1" → `,
				`spec.template.spec.containers[name=proxy].name: "proxy" → `,
				`spec.template.spec.containers[name=proxy].resources: {} → `,
			},
		},
		"rollback to a named revision": {
			action: actions.RollbackDeployment, obj: deployment(), params: map[string]string{"revision": "1"}, in: Inputs{ReplicaSets: history[:1]},
			want: []string{`spec.template.spec.containers[name=app].image: "web:3" → "web:1"`,
				`spec.template.spec.containers[name=app].resources.limits.memory: "256Mi" → `,
				`spec.template.spec.containers[name=app].resources.requests.memory: "128Mi" → `,
				`spec.template.spec.containers[name=proxy].image: "proxy:1" → `,
				`spec.template.spec.containers[name=proxy].name: "proxy" → `,
				`spec.template.spec.containers[name=proxy].resources: {} → `,
			},
		},
		"rollback with only the current revision": {
			action: actions.RollbackDeployment, obj: deployment(), in: Inputs{ReplicaSets: history[2:]},
			wantErr: ErrNoPreviousRevision,
		},
		"rollback to a revision of another Deployment": {
			action: actions.RollbackDeployment, obj: deployment(), params: map[string]string{"revision": "4"}, in: Inputs{ReplicaSets: history},
			wantErr: ErrRevisionNotFound,
		},
		"rollback to the current revision": {
			action: actions.RollbackDeployment, obj: deployment(), params: map[string]string{"revision": "3"}, in: Inputs{ReplicaSets: history},
			wantErr: ErrRevisionNotFound,
		},
		"cordon":        {action: actions.CordonNode, obj: node, want: []string{"spec.unschedulable:  → true"}},
		"drain cordons": {action: actions.DrainNode, obj: node, want: []string{"spec.unschedulable:  → true"}},
		"uncordon of a schedulable node changes nothing": {action: actions.UncordonNode, obj: node},
		"taint adds": {
			action: actions.TaintNode, obj: node, params: map[string]string{"key": "b", "effect": "NoExecute"},
			want: []string{`spec.taints[1].effect:  → "NoExecute"`, `spec.taints[1].key:  → "b"`},
		},
		"taint replaces the value of the same key and effect": {
			action: actions.TaintNode, obj: node, params: map[string]string{"key": "a", "value": "2", "effect": "NoSchedule"},
			want: []string{`spec.taints[0].value: "1" → "2"`},
		},
		"untaint": {
			action: actions.UntaintNode, obj: node, params: map[string]string{"key": "a"},
			want: []string{`spec.taints[0].effect: "NoSchedule" → `, `spec.taints[0].key: "a" → `, `spec.taints[0].value: "1" → `},
		},
		"untaint of a missing taint": {
			action: actions.UntaintNode, obj: node, params: map[string]string{"key": "a", "effect": "NoExecute"},
			wantErr: ErrTaintNotFound,
		},
		"update hpa": {
			action: actions.UpdateHPA, obj: hpa, params: map[string]string{"maxReplicas": "10"},
			want: []string{"spec.maxReplicas: 5 → 10"},
		},
		"update hpa min above existing max": {
			action: actions.UpdateHPA, obj: hpa, params: map[string]string{"minReplicas": "6"},
			wantErr: ErrInvalidBounds,
		},
		"expand pvc": {
			action: actions.ExpandPVC, obj: pvc, params: map[string]string{"size": "20Gi"},
			want: []string{`spec.resources.requests.storage: "10Gi" → "20Gi"`},
		},
		"shrink pvc": {
			action: actions.ExpandPVC, obj: pvc, params: map[string]string{"size": "5Gi"},
			wantErr: ErrNotAnIncrease,
		},
		"restart_pod changes no object": {
			action: actions.RestartPod, obj: &corev1.Pod{}, wantErr: ErrNotMutating,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := diff(t, tc.action, tc.obj, tc.params, tc.in)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("changes (-want +got):\n%s", d)
			}
			assert.Equal(t, tc.wantErr == nil && tc.action != actions.RestartPod, Mutates(tc.action))
		})
	}
}

func TestRollbackDropsTheHashLabel(t *testing.T) {
	d := deployment()
	rs := appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Annotations: map[string]string{RevisionAnnotation: "2"},
		OwnerReferences: []metav1.OwnerReference{{UID: "dep-uid", Controller: new(true)}}},
		Spec: appsv1.ReplicaSetSpec{Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{
			Labels: map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: "abc"}}}}}
	rev, err := RollbackTemplate(d, []appsv1.ReplicaSet{rs}, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(2), rev)
	assert.Equal(t, map[string]string{"app": "web"}, d.Spec.Template.Labels)
	assert.Equal(t, "abc", rs.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey], "the ReplicaSet is not modified")
}

func TestFactorErrorNamesTheContainers(t *testing.T) {
	d := deployment()
	d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, corev1.Container{Name: "log"})
	err := IncreaseResources(&d.Spec.Template, map[string]string{"memoryFactor": "2"})
	require.ErrorIs(t, err, ErrNoCurrentValue)
	assert.Equal(t, "no current value to multiply: memoryFactor multiplies the current memory request and limit, and containers proxy, log have neither; "+
		"name a container that has one, or give memory instead", err.Error())
}

func TestMultiply(t *testing.T) {
	tests := map[string]struct {
		q, factor string
		name      corev1.ResourceName
		want      string
	}{
		"memory in Mi":                         {"128Mi", "1.5", corev1.ResourceMemory, "192Mi"},
		"memory rounded up to a whole Mi":      {"100M", "2", corev1.ResourceMemory, "191Mi"},
		"memory in Gi when whole":              {"1Gi", "2", corev1.ResourceMemory, "2Gi"},
		"memory above 1Gi in Mi":               {"1Gi", "1.5", corev1.ResourceMemory, "1536Mi"},
		"a few bytes become 1Mi":               {"10", "1.1", corev1.ResourceMemory, "1Mi"},
		"cpu in millicores":                    {"100m", "1.5", corev1.ResourceCPU, "150m"},
		"cpu rounded up to a whole millicore":  {"333m", "1.5", corev1.ResourceCPU, "500m"},
		"cpu with an exact decimal":            {"3m", "1.333333", corev1.ResourceCPU, "4m"},
		"whole cpus":                           {"2", "2", corev1.ResourceCPU, "4"},
		"cpu below a millicore counts as one":  {"0.1m", "2", corev1.ResourceCPU, "2m"},
		"beyond a quantity is the largest one": {"8Ei", "4", corev1.ResourceMemory, resource.NewQuantity(math.MaxInt64, resource.BinarySI).String()},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f, err := actions.ParseFactor(tc.factor)
			require.NoError(t, err)
			got := Multiply(resource.MustParse(tc.q), tc.name, f)
			assert.Equal(t, tc.want, got.String())
		})
	}
}
