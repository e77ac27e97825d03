// Package incident stages the incidents that the demo plays and the end-to-end suite checks: a
// managed namespace, a workload of the e2e workload image (test/e2e/workload) that fails for real
// (it allocates more memory than its limit, or its bad version exits at start), so that a cluster
// with real kubelets (kind) and the local cluster, where kwok's stages report what those kubelets
// would, show the same incident; and the Alertmanager webhook that reports it, posted to the
// gateway over HTTP with Alertmanager's token. Nothing here writes pod status: the failures are
// the kubelet's to report. The one exception is a node going NotReady, played by a Node object
// that no kubelet heartbeats.
package incident

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubernaut/kubernaut/internal/testutil/localcluster"
	"github.com/kubernaut/kubernaut/pkg/aianalysis"
	"github.com/kubernaut/kubernaut/pkg/gateway"
	"github.com/kubernaut/kubernaut/test/e2e/launcher"
	"github.com/kubernaut/kubernaut/test/e2e/workload"
)

// Label keys and values of a managed namespace (the executor's and the gateway's contract).
const (
	LabelManaged     = "kubernaut.io/managed"
	LabelEnvironment = "kubernaut.io/environment"
	LabelProtected   = "kubernaut.io/protected"
)

// Incident is one staged failure and the alert that reports it.
type Incident struct {
	// Kind is oom, crashloop or node-notready.
	Kind string
	// Namespace and Deployment name the workload (Deployment is empty for node-notready).
	Namespace, Deployment string
	// Container is the failing container.
	Container string
	// Pod is the pod whose container failed.
	Pod string
	// Node is the failing node (node-notready).
	Node string
	// MemoryLimit is the container's limit before the remediation.
	MemoryLimit resource.Quantity
	// AlertName is the alert's name.
	AlertName string
	// Labels of the alert.
	Labels map[string]string
	// StartsAt is when the alert began firing.
	StartsAt time.Time
}

// NamespaceOptions shape the namespace of an incident.
type NamespaceOptions struct {
	// Protected labels it kubernaut.io/protected=true (the executor refuses to touch it).
	Protected bool
	// Environment is the kubernaut.io/environment label (default production).
	Environment string
}

// CreateNamespace creates a managed namespace.
func CreateNamespace(ctx context.Context, c client.Client, name string, o NamespaceOptions) error {
	if o.Environment == "" {
		o.Environment = "production"
	}
	labels := map[string]string{LabelManaged: "true", LabelEnvironment: o.Environment}
	if o.Protected {
		labels[LabelProtected] = "true"
	}
	return c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}})
}

// Deployment returns a Deployment of replicas pods with one container limited to memory.
func Deployment(ns, name, container, image, memory string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: container, Image: image,
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse(memory)},
						Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(memory)},
					},
				}}},
			},
		},
	}
}

// RunningPods returns the Running, not terminating pods of a Deployment's current template,
// sorted by name.
func RunningPods(ctx context.Context, c client.Client, d *appsv1.Deployment) ([]corev1.Pod, error) {
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(d.Namespace), client.MatchingLabels(d.Spec.Selector.MatchLabels)); err != nil {
		return nil, err
	}
	var out []corev1.Pod
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// WaitRolledOut waits until the Deployment's current generation has all its replicas updated,
// available and Running.
func WaitRolledOut(ctx context.Context, c client.Client, ns, name string, timeout time.Duration) (*appsv1.Deployment, error) {
	d := &appsv1.Deployment{}
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
			return false, nil
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		st := d.Status
		if st.ObservedGeneration < d.Generation || st.UpdatedReplicas != want || st.AvailableReplicas != want || st.Replicas != want {
			return false, nil
		}
		pods, err := RunningPods(ctx, c, d)
		return err == nil && int32(len(pods)) == want, nil
	})
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s did not roll out: %w", ns, name, err)
	}
	return d, nil
}

// Memory of the OOM incident: what the checkout container allocates, its limit (below that, so
// the kernel kills it at every start) and the limit the builtin investigator recommends (×1.5),
// under which it runs.
const (
	OOMAllocation = "160Mi"
	OOMLimit      = "128Mi"
)

// OOM stages an OOMKilled Deployment: a managed production namespace ns and Deployment
// "checkout" (2 replicas, memory limit 128Mi) whose container allocates 160Mi at start; it
// returns once the kubelet reports a container OOMKilled.
func OOM(ctx context.Context, cl *localcluster.Cluster, ns string, nso NamespaceOptions) (*Incident, error) {
	c := cl.Client
	d, err := checkout(ctx, c, ns, nso, workload.AllocateFlag+"="+OOMAllocation)
	if err != nil {
		return nil, err
	}
	pod, err := waitFailing(ctx, c, d, func(cs corev1.ContainerStatus) bool {
		last := cs.LastTerminationState.Terminated
		return last != nil && last.Reason == "OOMKilled"
	}, "a container OOMKilled")
	if err != nil {
		return nil, err
	}
	return podIncident("oom", "KubePodOOMKilled", d, pod), nil
}

// checkout creates the managed namespace ns and in it Deployment "checkout" of the good version
// (2 replicas, container "app" limited to OOMLimit, started with args).
func checkout(ctx context.Context, c client.Client, ns string, nso NamespaceOptions, args ...string) (*appsv1.Deployment, error) {
	if err := CreateNamespace(ctx, c, ns, nso); err != nil {
		return nil, fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	d := Deployment(ns, "checkout", "app", workload.Good, OOMLimit, 2)
	d.Spec.Template.Spec.Containers[0].Args = args
	if err := c.Create(ctx, d); err != nil {
		return nil, fmt.Errorf("creating deployment %s/checkout: %w", ns, err)
	}
	return d, nil
}

// podIncident is the critical alert alertName about container "app" of pod of Deployment d.
func podIncident(kind, alertName string, d *appsv1.Deployment, pod string) *Incident {
	in := &Incident{Kind: kind, Namespace: d.Namespace, Deployment: d.Name, Container: "app", Pod: pod,
		MemoryLimit: resource.MustParse(OOMLimit), AlertName: alertName, StartsAt: time.Now().UTC().Truncate(time.Second)}
	in.Labels = map[string]string{"alertname": in.AlertName, "severity": "critical", "namespace": d.Namespace,
		"deployment": d.Name, "pod": in.Pod, "container": in.Container}
	return in
}

// waitFailing waits until the kubelet reports a failure (failed) of a container of a pod of d
// whose image is the template's, and returns that pod's name.
func waitFailing(ctx context.Context, c client.Client, d *appsv1.Deployment, failed func(corev1.ContainerStatus) bool, what string) (string, error) {
	image := d.Spec.Template.Spec.Containers[0].Image
	var name string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		var pods corev1.PodList
		if err := c.List(ctx, &pods, client.InNamespace(d.Namespace), client.MatchingLabels(d.Spec.Selector.MatchLabels)); err != nil {
			return false, nil
		}
		sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil || p.Spec.Containers[0].Image != image {
				continue
			}
			for _, cs := range p.Status.ContainerStatuses {
				if failed(cs) {
					name = p.Name
					return true, nil
				}
			}
		}
		return false, nil
	})
	if err != nil {
		return "", fmt.Errorf("no pod of %s/%s (%s) reported %s: %w", d.Namespace, d.Name, image, what, err)
	}
	return name, nil
}

// CrashLoop stages a crash loop after a bad rollout: Deployment "checkout" at the good version
// running, then rolled out to the bad version, which exits with code 1 at every start; it
// returns once the kubelet reports a pod of the bad version in CrashLoopBackOff.
func CrashLoop(ctx context.Context, cl *localcluster.Cluster, ns string, nso NamespaceOptions) (*Incident, error) {
	c := cl.Client
	d, err := checkout(ctx, c, ns, nso)
	if err != nil {
		return nil, err
	}
	if _, err := WaitRolledOut(ctx, c, ns, d.Name, 2*time.Minute); err != nil {
		return nil, err
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
		return nil, err
	}
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Template.Spec.Containers[0].Image = workload.Bad
	if err := c.Patch(ctx, d, patch); err != nil {
		return nil, fmt.Errorf("rolling out %s: %w", workload.Bad, err)
	}
	pod, err := waitFailing(ctx, c, d, func(cs corev1.ContainerStatus) bool {
		return cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff"
	}, "CrashLoopBackOff")
	if err != nil {
		return nil, err
	}
	return podIncident("crashloop", "KubePodCrashLooping", d, pod), nil
}

// NodeNotReady stages a node going NotReady: node name, labelled kubernaut.io/managed=true, that
// no kubelet runs (kwok does not manage it either) reports Ready, then NotReady, as its kubelet
// would before it stopped. On any cluster the node lifecycle controller later marks it Unknown.
// DeleteNode removes it.
func NodeNotReady(ctx context.Context, cl *localcluster.Cluster, name string) (*Incident, error) {
	if err := cl.AddUnmanagedNode(ctx, name, map[string]string{LabelManaged: "true"}); err != nil {
		return nil, err
	}
	if err := cl.SetNodeReady(ctx, name, false, "KubeletNotReady", "PLEG is not healthy: pleg was last seen active 3m0s ago"); err != nil {
		return nil, err
	}
	in := &Incident{Kind: "node-notready", Node: name, AlertName: "KubeNodeNotReady", StartsAt: time.Now().UTC().Truncate(time.Second)}
	in.Labels = map[string]string{"alertname": in.AlertName, "severity": "critical", "node": name}
	return in, nil
}

// Webhook returns the Alertmanager webhook (version 4) for the incident, firing or resolved.
func (in *Incident) Webhook(resolved bool) gateway.WebhookMessage {
	status, endsAt := "firing", time.Time{}
	if resolved {
		status, endsAt = "resolved", time.Now().UTC().Truncate(time.Second)
	}
	summary := map[string]string{
		"oom":           fmt.Sprintf("Container %s of %s/%s was OOMKilled", in.Container, in.Namespace, in.Pod),
		"crashloop":     fmt.Sprintf("Pod %s/%s is crash looping", in.Namespace, in.Pod),
		"node-notready": fmt.Sprintf("Node %s is not ready", in.Node),
		"healthy":       fmt.Sprintf("%s of %s/%s is above its objective", in.AlertName, in.Namespace, in.Deployment),
	}[in.Kind]
	groupKey := fmt.Sprintf(`{}:{alertname=%q}`, in.AlertName)
	return gateway.WebhookMessage{
		Version: "4", GroupKey: groupKey, Status: status, Receiver: "kubernaut",
		GroupLabels:       map[string]string{"alertname": in.AlertName},
		CommonLabels:      in.Labels,
		CommonAnnotations: map[string]string{"summary": summary},
		ExternalURL:       "http://alertmanager.monitoring:9093",
		Alerts: []gateway.Alert{{
			Status: status, Labels: in.Labels, Annotations: map[string]string{"summary": summary},
			StartsAt: in.StartsAt, EndsAt: endsAt, GeneratorURL: "http://prometheus.monitoring:9090/graph",
			Fingerprint: fmt.Sprintf("%016x", hash(in.Namespace+"/"+in.Deployment+"/"+in.Node+"/"+in.AlertName)),
		}},
	}
}

func hash(s string) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Post sends an Alertmanager webhook to the gateway with Alertmanager's token and returns the
// status code and the decoded answer.
func Post(ctx context.Context, sys *launcher.System, msg gateway.WebhookMessage) (int, gateway.Response, error) {
	var out gateway.Response
	body, err := json.Marshal(msg)
	if err != nil {
		return 0, out, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sys.Services["gateway"].URL()+gateway.PathPrometheus, bytes.NewReader(body))
	if err != nil {
		return 0, out, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+sys.AlertmanagerToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, out, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		return resp.StatusCode, out, fmt.Errorf("decoding the gateway's answer %q: %w", raw, err)
	}
	return resp.StatusCode, out, nil
}

// RequireApprovalPolicy is an aianalysis approval policy under which every recommendation needs
// a person's decision.
const RequireApprovalPolicy = "minConfidence: 1.0\n"

// SetApprovalPolicy writes the aianalysis approval policy ConfigMap in the system namespace
// (deploy/base/config/aianalysis.yaml installs it) and returns a function that restores the
// previous policy.
func SetApprovalPolicy(ctx context.Context, c client.Client, policy string) (restore func() error, err error) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: launcher.SystemNamespace, Name: aianalysis.DefaultPolicyConfigMap}}
	err = c.Get(ctx, client.ObjectKeyFromObject(cm), cm)
	if apierrors.IsNotFound(err) {
		cm.Data = map[string]string{aianalysis.PolicyKey: policy}
		if err := c.Create(ctx, cm); err != nil {
			return nil, err
		}
		return func() error { return c.Delete(context.Background(), cm) }, nil
	}
	if err != nil {
		return nil, err
	}
	old, had := cm.Data[aianalysis.PolicyKey]
	set := func(p string, keep bool) error {
		return retry.RetryOnConflict(retry.DefaultRetry, func() error {
			if err := c.Get(context.Background(), client.ObjectKeyFromObject(cm), cm); err != nil {
				return err
			}
			if cm.Data == nil {
				cm.Data = map[string]string{}
			}
			if keep {
				cm.Data[aianalysis.PolicyKey] = p
			} else {
				delete(cm.Data, aianalysis.PolicyKey)
			}
			return c.Update(context.Background(), cm)
		})
	}
	if err := set(policy, true); err != nil {
		return nil, err
	}
	return func() error { return set(old, had) }, nil
}

// Healthy stages a workload whose pods are all fine and an alert about it the investigator
// cannot explain from the cluster (a latency alert): Deployment "checkout" in a managed
// production namespace.
func Healthy(ctx context.Context, cl *localcluster.Cluster, ns, alertName string) (*Incident, error) {
	c := cl.Client
	d, err := checkout(ctx, c, ns, NamespaceOptions{})
	if err != nil {
		return nil, err
	}
	if _, err := WaitRolledOut(ctx, c, ns, d.Name, 2*time.Minute); err != nil {
		return nil, err
	}
	in := &Incident{Kind: "healthy", Namespace: ns, Deployment: d.Name, Container: "app",
		MemoryLimit: resource.MustParse(OOMLimit), AlertName: alertName, StartsAt: time.Now().UTC().Truncate(time.Second)}
	in.Labels = map[string]string{"alertname": alertName, "severity": "warning", "namespace": ns, "deployment": d.Name}
	return in, nil
}

// DeleteNode deletes a node staged by NodeNotReady (a long-lived cluster keeps nothing of a run).
func DeleteNode(ctx context.Context, c client.Client, name string) error {
	err := c.Delete(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
