package action_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/executor/action"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/workflow"
)

// For every action that patches its target, each field change the workflow's dry-run shows for
// approval is in the executor's server-side dry-run of the same operation on the same object:
// both compute it with the action's mutation in pkg/shared/actions.
func TestValidationDiffIsTheExecutorsChange(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t, map[string]string{kev1.LabelManaged: "true"})
	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "app", Image: "example/app:1",
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi"), corev1.ResourceCPU: resource.MustParse("100m")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
				},
			}}}},
		},
	}
	require.NoError(t, env.Client.Create(ctx, d))
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas: ptr.To[int32](2), MaxReplicas: 4},
	}
	require.NoError(t, env.Client.Create(ctx, hpa))
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: ns + "-node"}}
	require.NoError(t, env.Client.Create(ctx, node))
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), node) })
	// A taint Kubernaut added (untaint_node removes no other).
	node.Spec.Taints = []corev1.Taint{{Key: "example.com/degraded", Effect: corev1.TaintEffectNoSchedule}}
	node.Annotations = map[string]string{action.AnnotationTaints: `["example.com/degraded:NoSchedule"]`}
	require.NoError(t, env.Client.Update(ctx, node))

	deployment := common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: "web"}
	nodeTarget := common.TargetResource{APIVersion: "v1", Kind: "Node", Name: node.Name}
	tests := map[string]struct {
		action actions.Name
		target common.TargetResource
		params map[string]string
	}{
		"increase_resources by a factor": {action: actions.IncreaseResources, target: deployment, params: map[string]string{"memoryFactor": "1.5"}},
		"increase_resources to values":   {action: actions.IncreaseResources, target: deployment, params: map[string]string{"cpu": "250m", "memoryLimit": "512Mi"}},
		"scale_deployment":               {action: actions.ScaleDeployment, target: deployment, params: map[string]string{"replicas": "4"}},
		"update_hpa": {action: actions.UpdateHPA, target: common.TargetResource{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Namespace: ns, Name: "web"},
			params: map[string]string{"maxReplicas": "8"}},
		"cordon_node":  {action: actions.CordonNode, target: nodeTarget},
		"taint_node":   {action: actions.TaintNode, target: nodeTarget, params: map[string]string{"key": "example.com/oom", "effect": "NoSchedule"}},
		"untaint_node": {action: actions.UntaintNode, target: nodeTarget, params: map[string]string{"key": "example.com/degraded"}},
	}
	wfClient, err := client.New(env.AsService(t, "workflow", ns), client.Options{Scheme: app.NewScheme()})
	require.NoError(t, err)
	exClient, err := client.New(env.AsService(t, "executor", ns), client.Options{Scheme: app.NewScheme()})
	require.NoError(t, err)
	v := &workflow.Validator{Reader: wfClient, Writer: wfClient, Executor: "system:serviceaccount:" + ns + ":kubernaut-executor"}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			a, ok := actions.Lookup(string(tt.action))
			require.True(t, ok)
			params := a.WithDefaults(tt.params)
			validated := common.Operation{Name: "step", Action: string(tt.action), Target: tt.target, Parameters: params}
			res, err := v.Validate(ctx, &validated)
			require.NoError(t, err)
			require.True(t, res.Valid, "%s: %+v", res.Message, res.Checks)
			require.NotEmpty(t, res.Diff)

			impl, ok := action.For(string(tt.action))
			require.True(t, ok)
			aenv := &action.Env{Client: exClient, Limits: action.DefaultLimits(), Now: time.Now}
			op := &action.Op{Operation: validated, Params: params, Deadline: time.Now().Add(time.Minute),
				ID: action.Identity{Execution: ns + "/run", UID: "44444444-4444-4444-4444-444444444444", Operation: "step", Time: time.Now()}}
			plan, err := impl.Plan(ctx, aenv, op)
			require.NoError(t, err)
			out, err := plan.Apply(ctx, true)
			require.NoError(t, err)
			for _, fc := range res.Diff {
				assert.Contains(t, out, fc.Path+": "+orNone(fc.Before)+" → "+orNone(fc.After), "the workflow approved a change the executor would not make")
			}
		})
	}
}

func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}
