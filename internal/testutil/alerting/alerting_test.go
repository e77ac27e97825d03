package alerting_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubernaut/kubernaut/internal/testutil/alerting"
	"github.com/kubernaut/kubernaut/internal/testutil/localcluster"
	"github.com/kubernaut/kubernaut/internal/workload"
)

// webhook is Alertmanager's receiver: it checks the bearer token and keeps the alerts.
type webhook struct {
	token string
	mu    sync.Mutex
	got   []map[string]string
	auth  []string
}

type message struct {
	Version string `json:"version"`
	Status  string `json:"status"`
	Alerts  []struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.auth = append(w.auth, r.Header.Get("Authorization"))
	if r.Header.Get("Authorization") != "Bearer "+w.token {
		http.Error(rw, "unauthorized", http.StatusUnauthorized)
		return
	}
	var m message
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil || m.Version != "4" {
		http.Error(rw, "bad payload", http.StatusBadRequest)
		return
	}
	for _, a := range m.Alerts {
		if a.Status == "firing" {
			w.got = append(w.got, a.Labels)
		}
	}
	rw.WriteHeader(http.StatusOK)
}

// find returns the first firing alert delivered with alertname and label k=v.
func (w *webhook) find(alertname, k, v string) map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.got {
		if l["alertname"] == alertname && l[k] == v {
			return l
		}
	}
	return nil
}

// The pipeline delivers the mixin alerts from the local cluster's real state, with the label
// sets of a kube-prometheus cluster, to a webhook with the bearer token; alerts outside the
// matchers are not delivered.
func TestPipelineDeliversRealLabelSets(t *testing.T) {
	for _, tool := range []string{alerting.KubeStateMetrics, alerting.Prometheus, alerting.Alertmanager} {
		_, err := alerting.Binary(tool)
		require.NoError(t, err)
	}
	ctx := context.Background()
	cl := localcluster.StartT(t, localcluster.Options{Nodes: 1})
	wh := &webhook{token: "s3cret-alertmanager-token"}
	srv := httptest.NewServer(wh)
	t.Cleanup(srv.Close)
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(wh.token+"\n"), 0o600))

	stack, err := alerting.Start(ctx, alerting.Options{
		Kubeconfig: cl.Kubeconfig, WebhookURL: srv.URL + "/api/v1/signals/prometheus", BearerTokenFile: tokenFile,
		Matchers: []string{`namespace=~"shop-.+"`, `node=~"worker-.+"`},
		WorkDir:  t.TempDir(),
	})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, stack.Stop()) })

	// A node whose kubelet reports NotReady, and a Deployment whose only revision crash-loops
	// (kwok's e2e stages report it as the kubelet would), each twice: in and out of the routes.
	for _, node := range []string{"worker-1", "ignored-1"} {
		require.NoError(t, cl.AddUnmanagedNode(ctx, node, nil))
		require.NoError(t, cl.SetNodeReady(ctx, node, false, "KubeletNotReady", "container runtime is down"))
	}
	pods := map[string]*corev1.Pod{}
	for _, ns := range []string{"shop-1", "ignored-2"} {
		require.NoError(t, cl.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
		replicas := int32(1)
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "checkout"},
			Spec: appsv1.DeploymentSpec{
				Replicas: &replicas,
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "checkout"}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "checkout"}},
					Spec: corev1.PodSpec{
						Containers: []corev1.Container{{Name: "app", Image: workload.Good, Args: []string{workload.ExitFlag + "=1"}}},
						// on kwok's node, not on the unmanaged ones, which run nothing
						NodeSelector: map[string]string{corev1.LabelHostname: cl.Nodes[0]},
					},
				},
			},
		}
		require.NoError(t, cl.Client.Create(ctx, d))
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			var list corev1.PodList
			if assert.NoError(c, cl.Client.List(ctx, &list, client.InNamespace(ns))) && assert.Len(c, list.Items, 1) {
				p := list.Items[0]
				if assert.NotEmpty(c, p.Status.ContainerStatuses) && assert.NotNil(c, p.Status.ContainerStatuses[0].State.Waiting) {
					assert.Equal(c, "CrashLoopBackOff", p.Status.ContainerStatuses[0].State.Waiting.Reason)
					pods[ns] = &p
				}
			}
		}, time.Minute, 200*time.Millisecond)
	}

	var node, crash map[string]string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		node, crash = wh.find("KubeNodeNotReady", "node", "worker-1"), wh.find("KubePodCrashLooping", "namespace", "shop-1")
		assert.NotNil(c, node, "KubeNodeNotReady about worker-1")
		assert.NotNil(c, crash, "KubePodCrashLooping in shop-1")
	}, 90*time.Second, 500*time.Millisecond)

	instance := stack.KubeStateMetricsAddr
	assert.Equal(t, map[string]string{
		"alertname": "KubeNodeNotReady", "severity": "warning", "node": "worker-1", "condition": "Ready", "status": "true",
		"container": alerting.TargetContainer, "job": alerting.Job, "instance": instance, "prometheus": "monitoring/k8s",
	}, node, "a node alert carries no namespace, and the target's container label")
	p := pods["shop-1"]
	assert.Equal(t, map[string]string{
		"alertname": "KubePodCrashLooping", "severity": "warning", "namespace": "shop-1", "pod": p.Name, "uid": string(p.UID),
		"container": "app", "reason": "CrashLoopBackOff", "job": alerting.Job, "instance": instance, "prometheus": "monitoring/k8s",
	}, crash, "a pod alert names the pod, never its Deployment")

	// Outside the routes: firing in Prometheus (each reaches firing on its own schedule), never delivered.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		alerts, err := stack.Alerts(ctx)
		if !assert.NoError(c, err) {
			return
		}
		firing := map[string]bool{}
		for _, a := range alerts {
			if a.State == "firing" {
				firing[a.Labels["alertname"]+"/"+a.Labels["node"]+a.Labels["namespace"]] = true
			}
		}
		assert.True(c, firing["KubeNodeNotReady/ignored-1"], "firing: %v", firing)
		assert.True(c, firing["KubePodCrashLooping/ignored-2"], "firing: %v", firing)
	}, 90*time.Second, 500*time.Millisecond)
	assert.Nil(t, wh.find("KubeNodeNotReady", "node", "ignored-1"))
	assert.Nil(t, wh.find("KubePodCrashLooping", "namespace", "ignored-2"))
	wh.mu.Lock()
	defer wh.mu.Unlock()
	for _, a := range wh.auth {
		assert.Equal(t, "Bearer "+wh.token, a, "Alertmanager's authorization header")
	}
}
