package action_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/executor/action"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/workflow"
)

// The drain a person approves is the drain that runs: on the same node, the Pods the workflow's
// validation lists as evicted (and dry-runs) are exactly the Pods the executor's drain_node
// evicts, with mirror, DaemonSet, terminating, ended and protected Pods on the node; and a drain
// the executor refuses whatever its limits fails validation with the same cause. Each runs as its
// service, under its generated RBAC.
func TestDrainValidationListsTheEvictionsTheExecutorMakes(t *testing.T) {
	tests := map[string]struct {
		pods   []*corev1.Pod
		params map[string]string
		// evicted are the Pods both list and the executor evicts; empty with refusal.
		evicted []string
		// refusal is the executor's reason, validation its reason and the message both carry.
		refusal, validation, message string
	}{
		"mirror, DaemonSet, terminating, ended and unmanaged ended Pods": {
			pods: []*corev1.Pod{
				drainPod("web-a", controlledBy("ReplicaSet", "web-1"), nil),
				drainPod("agent", controlledBy("DaemonSet", "agent"), nil),
				drainPod("static", controlledBy("Node", "self"), func(p *corev1.Pod) {
					p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
					p.OwnerReferences[0].APIVersion = "v1"
				}),
				drainPod("leaving", controlledBy("ReplicaSet", "web-1"), func(p *corev1.Pod) { p.Finalizers = []string{"kubernaut.io/test-hold"} }),
				drainPod("job-done", nil, func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
				drainPod("job-failed", controlledBy("Job", "batch"), func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }),
			},
			params:  map[string]string{"ignoreDaemonSets": "true"},
			evicted: []string{"job-done", "job-failed", "web-a"},
		},
		"a protected Pod": {
			pods: []*corev1.Pod{
				drainPod("web-a", controlledBy("ReplicaSet", "web-1"), nil),
				drainPod("keep", controlledBy("ReplicaSet", "web-1"), func(p *corev1.Pod) { p.Labels = map[string]string{kev1.LabelProtected: "true"} }),
			},
			params:     map[string]string{"ignoreDaemonSets": "true"},
			refusal:    kev1.ReasonProtected,
			validation: workflowv1.ReasonTargetMismatch,
			message:    "/keep",
		},
		"DaemonSet Pods with ignoreDaemonSets false": {
			pods: []*corev1.Pod{
				drainPod("web-a", controlledBy("ReplicaSet", "web-1"), nil),
				drainPod("agent", controlledBy("DaemonSet", "agent"), nil),
			},
			params:     map[string]string{"ignoreDaemonSets": "false"},
			refusal:    kev1.ReasonInvalidParameters,
			validation: workflowv1.ReasonInvalidParameters,
			message:    "/agent",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			ns := env.Namespace(t, map[string]string{kev1.LabelManaged: "true"})
			node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: ns + "-node"}}
			require.NoError(t, env.Client.Create(ctx, node))
			t.Cleanup(func() { _ = env.Client.Delete(context.Background(), node) })
			terminating := createPods(t, ns, node.Name, tt.pods)
			params := map[string]string{"gracePeriodSeconds": "0", "deleteEmptyDirData": "false", "timeout": "30s"}
			for k, v := range tt.params {
				params[k] = v
			}
			target := common.TargetResource{APIVersion: "v1", Kind: "Node", Name: node.Name}
			operation := common.Operation{Name: "drain", Action: string(actions.DrainNode), Target: target, Parameters: params}

			// The workflow's validation, as the workflow service.
			wfClient, err := client.New(env.AsService(t, "workflow", ns), client.Options{Scheme: app.NewScheme()})
			require.NoError(t, err)
			env.AsService(t, "executor", ns)
			v := &workflow.Validator{Reader: wfClient, Writer: wfClient, Executor: "system:serviceaccount:" + ns + ":kubernaut-executor"}
			validated := operation
			res, err := v.Validate(ctx, &validated)
			require.NoError(t, err)

			// The executor's drain, as the executor.
			exCfg := env.AsService(t, "executor", ns)
			exClient, err := client.New(exCfg, client.Options{Scheme: app.NewScheme()})
			require.NoError(t, err)
			cs, err := kubernetes.NewForConfig(exCfg)
			require.NoError(t, err)
			impl, ok := action.For(string(actions.DrainNode))
			require.True(t, ok)
			aenv := &action.Env{Client: exClient, Clientset: cs, Limits: action.DefaultLimits(), Now: time.Now}
			op := &action.Op{Operation: validated, Params: params, Deadline: time.Now().Add(30 * time.Second),
				ID: action.Identity{Execution: ns + "/drain", UID: "11111111-1111-1111-1111-111111111111", Operation: "drain", Time: time.Now()}}
			plan, planErr := impl.Plan(ctx, aenv, op)

			if tt.refusal != "" {
				assert.False(t, res.Valid, "validation passed a drain the executor refuses: %+v", res.Checks)
				assert.Equal(t, tt.validation, res.Reason)
				assert.Contains(t, res.Message, tt.message)
				rf, ok := action.AsRefusal(planErr)
				require.True(t, ok, "the executor did not refuse: %v", planErr)
				assert.Equal(t, tt.refusal, rf.Reason)
				assert.Contains(t, rf.Message, tt.message)
				assert.Empty(t, gone(t, env.Client, ns, tt.pods, terminating), "nothing is evicted")
				return
			}
			require.True(t, res.Valid, "%s: %+v", res.Message, res.Checks)
			listed := listedPods(t, res, ns, evictList)
			assert.Equal(t, tt.evicted, listed, "the Pods validation lists for approval")

			require.NoError(t, planErr)
			_, err = plan.Apply(ctx, false)
			require.NoError(t, err)
			assert.EventuallyWithT(t, func(c *assert.CollectT) {
				done, waiting, err := impl.Verify(ctx, aenv, op)
				assert.NoError(c, err)
				assert.True(c, done, waiting)
			}, 20*time.Second, 200*time.Millisecond)
			assert.Equal(t, listed, gone(t, env.Client, ns, tt.pods, terminating), "the Pods the executor evicted are the ones validation listed")
		})
	}
}

func controlledBy(kind, name string) *metav1.OwnerReference {
	return &metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, UID: "00000000-0000-0000-0000-00000000000a", Controller: ptr.To(true)}
}

func drainPod(name string, owner *metav1.OwnerReference, mutate func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}}}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	if mutate != nil {
		mutate(p)
	}
	return p
}

// The failed Pods the workflow's validation lists (and dry-run deletes) are exactly the ones
// the executor's delete_failed_pods deletes: never a protected or a terminating Pod, never more
// than maxPods.
func TestDeleteFailedPodsValidationListsTheDeletionsTheExecutorMakes(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t, map[string]string{kev1.LabelManaged: "true"})
	failed := func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }
	pods := []*corev1.Pod{
		drainPod("crashed-1", controlledBy("ReplicaSet", "web-1"), failed),
		drainPod("crashed-2", controlledBy("ReplicaSet", "web-1"), failed),
		drainPod("crashed-3", controlledBy("ReplicaSet", "web-1"), failed),
		drainPod("a-evidence", controlledBy("ReplicaSet", "web-1"), func(p *corev1.Pod) {
			failed(p)
			p.Labels = map[string]string{kev1.LabelProtected: "true"}
		}),
		drainPod("a-leaving", controlledBy("ReplicaSet", "web-1"), func(p *corev1.Pod) {
			failed(p)
			p.Finalizers = []string{"kubernaut.io/test-hold"}
		}),
		drainPod("running", controlledBy("ReplicaSet", "web-1"), func(p *corev1.Pod) { p.Status.Phase = corev1.PodRunning }),
	}
	terminating := createPods(t, ns, "", pods)
	params := map[string]string{"maxPods": "2"}
	operation := common.Operation{Name: "clean", Action: string(actions.DeleteFailedPods),
		Target: common.TargetResource{APIVersion: "v1", Kind: "Namespace", Name: ns}, Parameters: params}

	wfClient, err := client.New(env.AsService(t, "workflow", ns), client.Options{Scheme: app.NewScheme()})
	require.NoError(t, err)
	exCfg := env.AsService(t, "executor", ns)
	v := &workflow.Validator{Reader: wfClient, Writer: wfClient, Executor: "system:serviceaccount:" + ns + ":kubernaut-executor"}
	validated := operation
	res, err := v.Validate(ctx, &validated)
	require.NoError(t, err)
	require.True(t, res.Valid, "%s: %+v", res.Message, res.Checks)
	listed := listedPods(t, res, ns, deleteList)
	assert.Len(t, listed, 2, "maxPods")

	exClient, err := client.New(exCfg, client.Options{Scheme: app.NewScheme()})
	require.NoError(t, err)
	impl, ok := action.For(string(actions.DeleteFailedPods))
	require.True(t, ok)
	aenv := &action.Env{Client: exClient, Limits: action.DefaultLimits(), Now: time.Now}
	op := &action.Op{Operation: validated, Params: params, Deadline: time.Now().Add(30 * time.Second),
		ID: action.Identity{Execution: ns + "/clean", UID: "22222222-2222-2222-2222-222222222222", Operation: "clean", Time: time.Now()}}
	plan, err := impl.Plan(ctx, aenv, op)
	require.NoError(t, err)
	_, err = plan.Apply(ctx, false)
	require.NoError(t, err)
	assert.Equal(t, listed, gone(t, env.Client, ns, pods, terminating), "the Pods the executor deleted are the ones validation listed")
}

// A NoExecute taint evicts the Pods that do not tolerate it: the workflow's validation names the
// Pods the executor's selection names, and refuses, as the executor does, a taint that would
// evict a protected Pod.
func TestNoExecuteTaintValidationNamesThePodsTheExecutorChecks(t *testing.T) {
	tests := map[string]struct {
		pods    []*corev1.Pod
		listed  string
		refusal string
	}{
		"tolerating and mirror Pods stay": {
			pods: []*corev1.Pod{
				drainPod("web-a", controlledBy("ReplicaSet", "web-1"), nil),
				drainPod("tolerant", controlledBy("ReplicaSet", "web-1"), func(p *corev1.Pod) {
					p.Spec.Tolerations = []corev1.Toleration{{Key: "example.com/broken", Operator: corev1.TolerationOpExists}}
				}),
				drainPod("static", controlledBy("Node", "self"), func(p *corev1.Pod) {
					p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
				}),
			},
			listed: "the NoExecute taint evicts 1 Pods (%s/web-a)",
		},
		"a protected Pod": {
			pods: []*corev1.Pod{
				drainPod("web-a", controlledBy("ReplicaSet", "web-1"), nil),
				drainPod("keep", controlledBy("ReplicaSet", "web-1"), func(p *corev1.Pod) { p.Labels = map[string]string{kev1.LabelProtected: "true"} }),
			},
			refusal: kev1.ReasonProtected,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			ns := env.Namespace(t, map[string]string{kev1.LabelManaged: "true"})
			node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: ns + "-node"}}
			require.NoError(t, env.Client.Create(ctx, node))
			t.Cleanup(func() { _ = env.Client.Delete(context.Background(), node) })
			for _, p := range tt.pods {
				p = p.DeepCopy()
				p.Namespace, p.Spec.NodeName = ns, node.Name
				require.NoError(t, env.Client.Create(ctx, p))
			}
			params := map[string]string{"key": "example.com/broken", "effect": "NoExecute"}
			operation := common.Operation{Name: "taint", Action: string(actions.TaintNode),
				Target: common.TargetResource{APIVersion: "v1", Kind: "Node", Name: node.Name}, Parameters: params}

			wfClient, err := client.New(env.AsService(t, "workflow", ns), client.Options{Scheme: app.NewScheme()})
			require.NoError(t, err)
			exCfg := env.AsService(t, "executor", ns)
			v := &workflow.Validator{Reader: wfClient, Writer: wfClient, Executor: "system:serviceaccount:" + ns + ":kubernaut-executor"}
			validated := operation
			res, err := v.Validate(ctx, &validated)
			require.NoError(t, err)

			exClient, err := client.New(exCfg, client.Options{Scheme: app.NewScheme()})
			require.NoError(t, err)
			impl, ok := action.For(string(actions.TaintNode))
			require.True(t, ok)
			aenv := &action.Env{Client: exClient, Limits: action.DefaultLimits(), Now: time.Now}
			op := &action.Op{Operation: validated, Params: params, Deadline: time.Now().Add(30 * time.Second),
				ID: action.Identity{Execution: ns + "/taint", UID: "33333333-3333-3333-3333-333333333333", Operation: "taint", Time: time.Now()}}
			_, planErr := impl.Plan(ctx, aenv, op)

			if tt.refusal != "" {
				assert.False(t, res.Valid, "validation passed a taint the executor refuses: %+v", res.Checks)
				assert.Equal(t, workflowv1.ReasonTargetMismatch, res.Reason)
				assert.Contains(t, res.Message, ns+"/keep")
				rf, ok := action.AsRefusal(planErr)
				require.True(t, ok, "the executor did not refuse: %v", planErr)
				assert.Equal(t, tt.refusal, rf.Reason)
				assert.Contains(t, rf.Message, ns+"/keep")
				return
			}
			require.True(t, res.Valid, "%s: %+v", res.Message, res.Checks)
			require.NoError(t, planErr)
			assert.Contains(t, res.Checks[1].Message, fmt.Sprintf(tt.listed, ns))
		})
	}
}

var (
	evictList  = regexp.MustCompile(`(\d+) Pods to evict(?: \(([^)]*)\))?`)
	deleteList = regexp.MustCompile(`(\d+) failed Pods(?: \(([^)]*)\))?`)
)

// listedPods returns the names of the Pods the TargetResolves check lists (list), sorted.
func listedPods(t *testing.T, res workflowv1.ValidationResult, ns string, list *regexp.Regexp) []string {
	t.Helper()
	for _, c := range res.Checks {
		if c.Type != workflowv1.CheckTargetResolves {
			continue
		}
		m := list.FindStringSubmatch(c.Message)
		require.NotNil(t, m, c.Message)
		var names []string
		for _, id := range strings.Split(m[2], ", ") {
			if id != "" {
				names = append(names, strings.TrimPrefix(id, ns+"/"))
			}
		}
		slices.Sort(names)
		return names
	}
	t.Fatalf("no %s check in %+v", workflowv1.CheckTargetResolves, res.Checks)
	return nil
}

// createPods creates copies of pods in ns (on node, when one is named) with their status when it
// has a phase, and deletes at once those holding a finalizer: it returns the names of those
// terminating Pods (their finalizers are removed when the test ends).
func createPods(t *testing.T, ns, node string, pods []*corev1.Pod) (terminating []string) {
	t.Helper()
	ctx := context.Background()
	for _, p := range pods {
		p = p.DeepCopy()
		p.Namespace = ns
		if node != "" {
			p.Spec.NodeName = node
		}
		status := p.Status
		require.NoError(t, env.Client.Create(ctx, p))
		if status.Phase != "" {
			p.Status = status
			require.NoError(t, env.Client.Status().Update(ctx, p))
		}
		if len(p.Finalizers) > 0 {
			require.NoError(t, env.Client.Delete(ctx, p))
			terminating = append(terminating, p.Name)
			t.Cleanup(func() {
				_ = env.Client.Patch(context.Background(), p, client.RawPatch(client.Merge.Type(), []byte(`{"metadata":{"finalizers":null}}`)))
			})
		}
	}
	return terminating
}

// gone returns the Pods deleted or being deleted that were not terminating before, sorted.
func gone(t *testing.T, c client.Client, ns string, pods []*corev1.Pod, terminating []string) []string {
	t.Helper()
	var out []string
	for _, p := range pods {
		if slices.Contains(terminating, p.Name) {
			continue
		}
		live := &corev1.Pod{}
		err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: p.Name}, live)
		if apierrors.IsNotFound(err) || (err == nil && live.DeletionTimestamp != nil) {
			out = append(out, p.Name)
			continue
		}
		require.NoError(t, err)
	}
	slices.Sort(out)
	return out
}
