package processing_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/processing"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

const (
	wait       = 20 * time.Second
	tick       = 50 * time.Millisecond
	policyName = "kubernaut-processing-policy"
)

// harness is a running processing service (under its own RBAC) and an admin client for fixtures.
type harness struct {
	t      testing.TB
	env    *testenv.Env
	c      client.Client
	sys    string // the system namespace: RemediationProcessings and the policy ConfigMap
	mgr    manager.Manager
	cancel context.CancelFunc
	done   chan error
}

func fingerprint(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// startProcessing runs the processing manager as ServiceAccount kubernaut-processing.
func startProcessing(t testing.TB, env *testenv.Env, mutate func(*processing.Reconciler, manager.Manager)) *harness {
	t.Helper()
	h := &harness{t: t, env: env, c: env.Client, sys: env.Namespace(t, nil)}
	cfg := env.AsService(t, "processing", h.sys)
	h.start(cfg, mutate)
	t.Cleanup(h.stop)
	return h
}

func (h *harness) start(cfg *rest.Config, mutate func(*processing.Reconciler, manager.Manager)) {
	h.t.Helper()
	o := app.NewOptions(true)
	o.Namespace, o.MetricsBindAddress, o.HealthProbeBindAddress, o.LeaderElect = h.sys, "0", "0", false
	opts := o.ManagerOptions("processing")
	processing.CacheOptions(&opts.Cache, h.sys, policyName)
	skip := true
	opts.Controller.SkipNameValidation = &skip
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = 1000, 2000
	mgr, err := app.NewManager(c, opts)
	require.NoError(h.t, err)
	pc := processing.DefaultConfig()
	pc.Namespace, pc.PolicyConfigMap = h.sys, policyName
	r := &processing.Reconciler{Config: pc}
	if mutate != nil {
		mutate(r, mgr)
	}
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(h.t, r.SetupWithManager(ctx, mgr))
	h.mgr, h.cancel, h.done = mgr, cancel, make(chan error, 1)
	go func() { h.done <- mgr.Start(ctx) }()
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	select {
	case err := <-h.done:
		assert.NoError(h.t, err)
	case <-time.After(30 * time.Second):
		h.t.Error("the manager did not stop")
	}
	h.cancel = nil
}

var rpCounter atomic.Int64

func keyOf(o client.Object) client.ObjectKey { return client.ObjectKeyFromObject(o) }

// process creates a RemediationProcessing for target and waits until it is finished.
func (h *harness) process(target common.TargetResource, mutate func(*processingv1.RemediationProcessing)) *processingv1.RemediationProcessing {
	h.t.Helper()
	name := fmt.Sprintf("rr-%d-processing", rpCounter.Add(1))
	rp := &processingv1.RemediationProcessing{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.sys},
		Spec: processingv1.RemediationProcessingSpec{
			RemediationRequestRef: common.ObjectReference{Name: name, Namespace: h.sys},
			Alert: processingv1.Alert{Fingerprint: fingerprint(name), Severity: "critical", SignalName: "KubePodCrashLooping",
				Labels: map[string]string{"alertname": "KubePodCrashLooping"}, TargetResource: target},
		},
	}
	if mutate != nil {
		mutate(rp)
	}
	require.NoError(h.t, h.c.Create(context.Background(), rp))
	return h.waitFinished(name)
}

func (h *harness) waitFinished(name string) *processingv1.RemediationProcessing {
	h.t.Helper()
	got := &processingv1.RemediationProcessing{}
	ok := assert.EventuallyWithT(h.t, func(c *assert.CollectT) {
		assert.NoError(c, h.c.Get(context.Background(), client.ObjectKey{Namespace: h.sys, Name: name}, got))
		assert.Contains(c, []processingv1.Phase{processingv1.PhaseCompleted, processingv1.PhaseFailed}, got.Status.Phase)
	}, wait, tick, "processing %s should finish", name)
	if !ok {
		h.t.FailNow()
	}
	return got
}

// --- fixtures, created as an administrator; statuses written through the status subresource
// as the kubelet and the controllers would.

func (h *harness) create(obj client.Object) {
	h.t.Helper()
	require.NoError(h.t, h.c.Create(context.Background(), obj), "creating %T %s", obj, obj.GetName())
}

// setStatus writes obj's status (set by mutate) through the status subresource.
func setStatus[T client.Object](h *harness, obj T, mutate func(T)) {
	h.t.Helper()
	mutate(obj)
	require.NoError(h.t, h.c.Status().Update(context.Background(), obj), "updating the status of %T %s", obj, obj.GetName())
}

func resources(cpu, mem, limMem string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(limMem)},
	}
}

func container(name, image string) corev1.Container {
	return corev1.Container{Name: name, Image: image, Resources: resources("100m", "128Mi", "256Mi"),
		LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}}}}
}

func (h *harness) deployment(ns, name, image string, replicas int32) *appsv1.Deployment {
	h.t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(replicas), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{container("app", image)}}}},
	}
	h.create(d)
	return d
}

func controllerRef(owner client.Object, apiVersion, kind string) []metav1.OwnerReference {
	return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: owner.GetName(), UID: owner.GetUID(), Controller: ptr.To(true)}}
}

// replicaSet creates revision rev of d with image, as the Deployment controller would.
func (h *harness) replicaSet(d *appsv1.Deployment, rev int, image string, replicas, ready int32, created time.Time) *appsv1.ReplicaSet {
	h.t.Helper()
	hash := fmt.Sprintf("r%d", rev)
	labels := map[string]string{"app": d.Name, "pod-template-hash": hash}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name + "-" + hash, Labels: labels,
			Annotations:     map[string]string{"deployment.kubernetes.io/revision": fmt.Sprint(rev)},
			OwnerReferences: controllerRef(d, "apps/v1", "Deployment")},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To(replicas), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{container("app", image)}}}},
	}
	h.create(rs)
	_ = created // creation time is the API server's; ordering comes from creating in order
	setStatus(h, rs, func(rs *appsv1.ReplicaSet) { rs.Status.Replicas, rs.Status.ReadyReplicas = replicas, ready })
	return rs
}

// pod creates a pod owned by owner on node, and writes its status as the kubelet would.
func (h *harness) pod(ns string, owner client.Object, ownerAPI, ownerKind, name, node, image string, status func(*corev1.Pod)) *corev1.Pod {
	h.t.Helper()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{container("app", image)}},
	}
	if owner != nil {
		p.OwnerReferences = controllerRef(owner, ownerAPI, ownerKind)
		if app := owner.GetLabels()["app"]; app != "" {
			p.Labels = map[string]string{"app": app}
		}
	}
	h.create(p)
	if status != nil {
		setStatus(h, p, status)
	}
	return p
}

func running(image string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		now := metav1.Now()
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now}}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Ready: true, Image: image, ImageID: "sha256:1",
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}}}
	}
}

func (h *harness) node(name string, mutate func(*corev1.Node)) *corev1.Node {
	h.t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	h.create(n)
	h.t.Cleanup(func() { _ = h.c.Delete(context.Background(), n) })
	setStatus(h, n, func(n *corev1.Node) {
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

// event records a Warning event about obj as a controller or the kubelet would.
func (h *harness) event(ns, kind, name, reason, message string, count int32, last time.Time) {
	h.t.Helper()
	evNS := ns
	if evNS == "" {
		evNS = "default"
	}
	e := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: evNS, GenerateName: name + "."},
		InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: ns, Name: name},
		Type:           corev1.EventTypeWarning, Reason: reason, Message: message, Count: count,
		FirstTimestamp: metav1.NewTime(last.Add(-time.Duration(count) * time.Minute)), LastTimestamp: metav1.NewTime(last),
		Source: corev1.EventSource{Component: "kubelet"},
	}
	h.create(e)
}
