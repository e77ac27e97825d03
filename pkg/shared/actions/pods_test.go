package actions

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
)

func pod(name, owner string, change func(*corev1.Pod)) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}}
	if owner != "" {
		p.OwnerReferences = []metav1.OwnerReference{{Kind: owner, Name: "o", Controller: ptr(true)}}
	}
	if change != nil {
		change(&p)
	}
	return p
}

// The one selection of the pods a drain or a NoExecute taint evicts, which the workflow's
// validation lists and the executor evicts.
func TestSelectEvictions(t *testing.T) {
	now := metav1.Now()
	noExecute := corev1.Taint{Key: "example.com/broken", Effect: corev1.TaintEffectNoExecute}
	tests := map[string]struct {
		pods    []corev1.Pod
		opts    EvictOptions
		evicted []string
		kept    []string
		reason  string
	}{
		"mirror and terminating pods stay, ended pods are evicted, DaemonSet pods left in place": {
			pods: []corev1.Pod{
				pod("web", "ReplicaSet", nil),
				pod("static", "Node", func(p *corev1.Pod) { p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"} }),
				pod("leaving", "ReplicaSet", func(p *corev1.Pod) { p.DeletionTimestamp = &now }),
				pod("done", "", func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
				pod("failed", "Job", func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }),
				pod("agent", "DaemonSet", nil),
			},
			opts:    DrainEvictOptions("n1", map[string]string{"ignoreDaemonSets": "true"}),
			evicted: []string{"web", "done", "failed"},
			kept:    []string{"ns/agent"},
		},
		"a protected pod refuses the drain": {
			pods:    []corev1.Pod{pod("web", "ReplicaSet", func(p *corev1.Pod) { p.Labels = map[string]string{kev1.LabelProtected: "true"} })},
			opts:    DrainEvictOptions("n1", nil),
			evicted: []string{"web"},
			reason:  kev1.ReasonProtected,
		},
		"a running pod without a controller is beyond the blast radius": {
			pods:    []corev1.Pod{pod("bare", "", nil)},
			opts:    DrainEvictOptions("n1", nil),
			evicted: []string{"bare"},
			reason:  kev1.ReasonBlastRadius,
		},
		"DaemonSet pods with ignoreDaemonSets false": {
			pods:   []corev1.Pod{pod("agent", "DaemonSet", nil)},
			opts:   DrainEvictOptions("n1", map[string]string{"ignoreDaemonSets": "false"}),
			reason: kev1.ReasonInvalidParameters,
		},
		"emptyDir data without deleteEmptyDirData": {
			pods: []corev1.Pod{pod("cache", "ReplicaSet", func(p *corev1.Pod) {
				p.Spec.Volumes = []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
			})},
			opts:    DrainEvictOptions("n1", nil),
			evicted: []string{"cache"},
			reason:  kev1.ReasonBlastRadius,
		},
		"a NoExecute taint leaves the pods that tolerate it and refuses DaemonSet pods": {
			pods: []corev1.Pod{
				pod("web", "ReplicaSet", nil),
				pod("tolerant", "ReplicaSet", func(p *corev1.Pod) {
					p.Spec.Tolerations = []corev1.Toleration{{Key: noExecute.Key, Operator: corev1.TolerationOpExists}}
				}),
				pod("agent", "DaemonSet", nil),
			},
			opts:    NoExecuteEvictOptions(noExecute),
			evicted: []string{"web"},
			reason:  kev1.ReasonBlastRadius,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			ev := SelectEvictions("n1", tt.pods, tt.opts)
			var names []string
			for _, p := range ev.Pods {
				names = append(names, p.Name)
			}
			assert.Equal(t, tt.evicted, names)
			assert.Equal(t, tt.kept, ev.DaemonSetsKept)
			rf := ev.Refusal(0)
			if tt.reason == "" {
				assert.Nil(t, rf)
				return
			}
			if assert.NotNil(t, rf) {
				assert.Equal(t, tt.reason, rf.Reason)
			}
		})
	}
}

func TestEvictionsOverTheLimit(t *testing.T) {
	ev := SelectEvictions("n1", []corev1.Pod{pod("a", "ReplicaSet", nil), pod("b", "ReplicaSet", nil)}, DrainEvictOptions("n1", nil))
	assert.Nil(t, ev.Refusal(2))
	if rf := ev.Refusal(1); assert.NotNil(t, rf) {
		assert.Equal(t, kev1.ReasonBlastRadius, rf.Reason)
	}
}

// Every catalog action resolves (Resolve), and every action that changes its target object has
// a mutation (Mutate): validation and the executor reach each action's file through them.
func TestEveryActionResolves(t *testing.T) {
	changesNothing := map[Name]bool{RestartPod: true, DeleteFailedPods: true, NotifyOnly: true}
	for _, a := range All() {
		_, ok := resolvers[a.Name]
		assert.True(t, ok, "%s has no resolver", a.Name)
		assert.Equal(t, !changesNothing[a.Name], Mutates(a.Name), "%s mutation", a.Name)
	}
	assert.Len(t, resolvers, len(All()), "a resolver for an action not in the catalog")
}
