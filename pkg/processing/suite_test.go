package processing_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	testchain "github.com/kubernaut/kubernaut/internal/testutil/chain"
	"github.com/kubernaut/kubernaut/internal/testutil/cluster"
	"github.com/kubernaut/kubernaut/internal/testutil/services"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/processing"
)

const (
	wait       = 20 * time.Second
	tick       = 50 * time.Millisecond
	policyName = "kubernaut-processing-policy"
)

// harness is a running processing service (under its own RBAC) and an admin client for fixtures.
type harness struct {
	t   testing.TB
	env *testenv.Env
	c   client.Client
	sys string // the system namespace: RemediationProcessings and the policy ConfigMap
	mgr manager.Manager
}

// fingerprint is a signal fingerprint derived from s.
var fingerprint = testchain.Fingerprint

// startProcessing runs the processing manager as ServiceAccount kubernaut-processing.
func startProcessing(t testing.TB, env *testenv.Env, mutate func(*processing.Reconciler, manager.Manager)) *harness {
	t.Helper()
	h := &harness{t: t, env: env, c: env.Client, sys: env.Namespace(t, nil)}
	h.mgr = services.Processing(t, env, h.sys, mutate)
	return h
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

func (h *harness) objects() cluster.Objects { return cluster.Objects{T: h.t, C: h.c} }

func (h *harness) create(obj client.Object) {
	h.t.Helper()
	h.objects().Create(obj)
}

// setStatus writes obj's status (set by mutate) through the status subresource.
func setStatus[T client.Object](h *harness, obj T, mutate func(T)) {
	h.t.Helper()
	cluster.SetStatus(h.objects(), obj, mutate)
}

var (
	container     = cluster.Container
	controllerRef = cluster.ControllerRef
)

func (h *harness) deployment(ns, name, image string, replicas int32) *appsv1.Deployment {
	h.t.Helper()
	return h.objects().Deployment(ns, name, image, replicas)
}

// replicaSet creates revision rev of d with image, as the Deployment controller would.
func (h *harness) replicaSet(d *appsv1.Deployment, rev int, image string, replicas, ready int32, created time.Time) *appsv1.ReplicaSet {
	h.t.Helper()
	return h.objects().ReplicaSet(d, rev, image, replicas, ready, created)
}

// pod creates a pod owned by owner on node, and writes its status as the kubelet would.
func (h *harness) pod(ns string, owner client.Object, ownerAPI, ownerKind, name, node, image string, status func(*corev1.Pod)) *corev1.Pod {
	h.t.Helper()
	return h.objects().Pod(ns, owner, ownerAPI, ownerKind, name, node, image, status)
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
	return h.objects().Node(name, mutate)
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
