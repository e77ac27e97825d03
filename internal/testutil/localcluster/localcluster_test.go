package localcluster_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubernaut/kubernaut/internal/testutil/localcluster"
	"github.com/kubernaut/kubernaut/internal/workload"
)

func deployment(ns string) *appsv1.Deployment {
	labels := map[string]string{"app": "web"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "web", Image: "registry.example/web:1",
					Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")}},
				}}},
			},
		},
	}
}

// runningPods returns the Running pods of the ReplicaSet owning them, keyed by ReplicaSet name.
func runningPods(ctx context.Context, c client.Client, ns string) (map[string]int, error) {
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil && len(p.OwnerReferences) == 1 {
			out[p.OwnerReferences[0].Name]++
		}
	}
	return out, nil
}

func TestDeploymentPodsRunAndRollOut(t *testing.T) {
	cl := localcluster.StartT(t, localcluster.Options{})
	ctx := context.Background()
	c := cl.Client
	require.Len(t, cl.Nodes, 2)
	kubeconfig, err := os.ReadFile(cl.Kubeconfig)
	require.NoError(t, err)
	assert.Contains(t, string(kubeconfig), "server:")

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}
	require.NoError(t, c.Create(ctx, ns))
	d := deployment(ns.Name)
	require.NoError(t, c.Create(ctx, d))

	var firstRS string
	assert.EventuallyWithT(t, func(ct *assert.CollectT) {
		running, err := runningPods(ctx, c, ns.Name)
		if !assert.NoError(ct, err) || !assert.Len(ct, running, 1) {
			return
		}
		for rs, n := range running {
			assert.Equal(ct, 2, n)
			firstRS = rs
		}
	}, 60*time.Second, 100*time.Millisecond, "the Deployment's pods never became Running")

	// The pods were placed by the scheduler on the simulated nodes.
	var pods corev1.PodList
	require.NoError(t, c.List(ctx, &pods, client.InNamespace(ns.Name)))
	for _, p := range pods.Items {
		assert.Contains(t, cl.Nodes, p.Spec.NodeName)
	}

	// A template change rolls out a new ReplicaSet whose pods run; the old one scales to zero.
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(d), d))
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Template.Spec.Containers[0].Resources.Limits[corev1.ResourceMemory] = resource.MustParse("256Mi")
	require.NoError(t, c.Patch(ctx, d, patch))
	assert.EventuallyWithT(t, func(ct *assert.CollectT) {
		running, err := runningPods(ctx, c, ns.Name)
		if !assert.NoError(ct, err) {
			return
		}
		assert.Zero(ct, running[firstRS], "old ReplicaSet still has running pods")
		assert.Len(ct, running, 1)
		for _, n := range running {
			assert.Equal(ct, 2, n)
		}
		var got appsv1.Deployment
		if assert.NoError(ct, c.Get(ctx, client.ObjectKeyFromObject(d), &got)) {
			assert.EqualValues(ct, 2, got.Status.UpdatedReplicas)
			assert.EqualValues(ct, 2, got.Status.AvailableReplicas)
		}
	}, 60*time.Second, 100*time.Millisecond, "the new template never rolled out")

	// A node nobody heartbeats can be made NotReady.
	require.NoError(t, cl.AddUnmanagedNode(ctx, "worker-x", map[string]string{"kubernaut.io/managed": "true"}))
	require.NoError(t, cl.SetNodeReady(ctx, "worker-x", false, "KubeletNotReady", "container runtime is down"))
	var n corev1.Node
	require.NoError(t, c.Get(ctx, client.ObjectKey{Name: "worker-x"}, &n))
	assert.False(t, localcluster.NodeReady(&n))
}

// TestStopLeavesNothingRunning starts and stops a cluster and checks that no process of it is
// left.
func TestStopLeavesNothingRunning(t *testing.T) {
	dir := t.TempDir()
	cl, err := localcluster.Start(context.Background(), localcluster.Options{WorkDir: dir, Nodes: 1})
	require.NoError(t, err)
	pids := processesUsing(t, dir)
	require.GreaterOrEqual(t, len(pids), 5, "expected etcd, kube-apiserver, controller-manager, scheduler and kwok")
	require.NoError(t, cl.Stop())
	require.NoError(t, cl.Stop(), "Stop twice")
	for _, pid := range pids {
		err := syscall.Kill(pid, 0)
		assert.ErrorIs(t, err, syscall.ESRCH, "process %d still running", pid)
	}
	_, err = os.Stat(filepath.Join(dir, "logs", "kwok.log"))
	assert.NoError(t, err, "logs kept")
}

// TestProcessesDieWithTheirParent starts a cluster in a child process, kills that process with
// SIGKILL (no chance to clean up) and checks that every control-plane process died with it.
func TestProcessesDieWithTheirParent(t *testing.T) {
	if dir := os.Getenv("LOCALCLUSTER_CHILD_DIR"); dir != "" {
		_, err := localcluster.Start(context.Background(), localcluster.Options{WorkDir: dir, Nodes: 1})
		if err != nil {
			t.Fatal(err)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, "ready"), nil, 0o644))
		time.Sleep(10 * time.Minute)
		return
	}
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^TestProcessesDieWithTheirParent$")
	child.Env = append(os.Environ(), "LOCALCLUSTER_CHILD_DIR="+dir)
	require.NoError(t, child.Start())
	done := make(chan struct{})
	go func() { _ = child.Wait(); close(done) }()
	assert.EventuallyWithT(t, func(ct *assert.CollectT) {
		_, err := os.Stat(filepath.Join(dir, "ready"))
		assert.NoError(ct, err)
	}, 2*time.Minute, 100*time.Millisecond)
	pids := processesUsing(t, dir)
	require.GreaterOrEqual(t, len(pids), 5, "expected etcd, kube-apiserver, controller-manager, scheduler and kwok")
	require.NoError(t, child.Process.Kill())
	<-done
	assert.EventuallyWithT(t, func(ct *assert.CollectT) {
		for _, pid := range pids {
			assert.ErrorIs(ct, syscall.Kill(pid, 0), syscall.ESRCH, "process %d still running", pid)
		}
	}, 30*time.Second, 100*time.Millisecond)
}

// processesUsing lists the processes whose command line mentions dir.
func processesUsing(t *testing.T, dir string) []int {
	out, err := exec.Command("ps", "-eo", "pid=,args=").Output()
	require.NoError(t, err)
	var pids []int
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.Contains(line, dir) || strings.Contains(line, "ps -eo") || strings.Contains(line, "-test.") {
			continue
		}
		pid, err := strconv.Atoi(f[0])
		require.NoError(t, err)
		pids = append(pids, pid)
	}
	return pids
}

// TestE2EWorkloadFailsAsOnAKubelet checks kwok's reports for the e2e workload: OOMKilled when it
// allocates more than its memory limit, a crash loop for the bad version, Running otherwise.
func TestE2EWorkloadFailsAsOnAKubelet(t *testing.T) {
	cl := localcluster.StartT(t, localcluster.Options{Nodes: 1})
	ctx := context.Background()
	c := cl.Client
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "workload"}}
	require.NoError(t, c.Create(ctx, ns))
	pod := func(name, image, limit string, args ...string) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: name},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image, Args: args,
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(limit)}}}}},
		}
		require.NoError(t, c.Create(ctx, p))
		return p
	}
	oom := pod("oom", workload.Good, "128Mi", workload.AllocateFlag+"=160Mi")
	fits := pod("fits", workload.Good, "192Mi", workload.AllocateFlag+"=160Mi")
	fitsGi := pod("fits-gi", workload.Good, "1Gi", workload.AllocateFlag+"=160Mi")
	healthy := pod("healthy", workload.Good, "128Mi")
	crash := pod("crash", workload.Bad, "128Mi")
	exitArg := pod("exit-arg", workload.Good, "128Mi", workload.ExitFlag+"=2")

	type want struct {
		ready      bool
		lastReason string
		exitCode   int32
	}
	wants := map[*corev1.Pod]want{
		oom: {lastReason: "OOMKilled", exitCode: 137}, crash: {lastReason: "Error", exitCode: 1},
		exitArg: {lastReason: "Error", exitCode: 1},
		fits:    {ready: true}, fitsGi: {ready: true}, healthy: {ready: true},
	}
	assert.EventuallyWithT(t, func(ct *assert.CollectT) {
		for p, w := range wants {
			got := &corev1.Pod{}
			if !assert.NoError(ct, c.Get(ctx, client.ObjectKeyFromObject(p), got)) || !assert.Len(ct, got.Status.ContainerStatuses, 1, p.Name) {
				continue
			}
			assert.Equal(ct, corev1.PodRunning, got.Status.Phase, p.Name)
			cs := got.Status.ContainerStatuses[0]
			assert.Equal(ct, w.ready, cs.Ready, p.Name)
			if w.ready {
				assert.NotNil(ct, cs.State.Running, p.Name)
				continue
			}
			if assert.NotNil(ct, cs.LastTerminationState.Terminated, p.Name) {
				assert.Equal(ct, w.lastReason, cs.LastTerminationState.Terminated.Reason, p.Name)
				assert.Equal(ct, w.exitCode, cs.LastTerminationState.Terminated.ExitCode, p.Name)
			}
			if assert.NotNil(ct, cs.State.Waiting, p.Name) {
				assert.Equal(ct, "CrashLoopBackOff", cs.State.Waiting.Reason, p.Name)
			}
			assert.GreaterOrEqual(ct, cs.RestartCount, int32(3), p.Name)
		}
	}, time.Minute, 100*time.Millisecond)
	// The kubelet's BackOff event about the OOMKilled pod.
	assert.EventuallyWithT(t, func(ct *assert.CollectT) {
		var events corev1.EventList
		require.NoError(ct, c.List(ctx, &events, client.InNamespace(ns.Name)))
		found := false
		for _, e := range events.Items {
			found = found || (e.InvolvedObject.Name == oom.Name && e.Reason == "BackOff" && e.Type == corev1.EventTypeWarning)
		}
		assert.True(ct, found, "no BackOff event about %s", oom.Name)
	}, 30*time.Second, 100*time.Millisecond)
}
