// Package incident stages the incidents that the demo plays and the end-to-end suite checks: a
// managed namespace, a workload of the e2e workload image (internal/workload) that fails for real
// (it allocates more memory than its limit, or its bad version exits at start), so that a cluster
// with real kubelets (kind) and the local cluster, where kwok's stages report what those kubelets
// would, show the same incident; and the Alertmanager webhook that reports it, posted to the
// gateway over HTTP with Alertmanager's token. Nothing here writes pod status: the failures are
// the kubelet's to report. The one exception is a node going NotReady, played by a Node object
// that no kubelet heartbeats.
//
// The alerts carry the label sets Alertmanager delivers from a cluster monitored the
// kube-prometheus way (kube-state-metrics scraped by the job kube-state-metrics, the
// kubernetes-mixin rules): the metric's labels (namespace, pod, uid, container, reason; node,
// condition, status), the scrape labels job and instance, the target's container label where the
// metric has none, the external label prometheus, and the rule's severity (warning for the
// mixin's pod and node alerts). None carries a deployment label: a real pod alert names the pod,
// and finding its Deployment is the gateway's job. The same label sets come out of the real
// pipeline of internal/testutil/alerting, whose rule file has these alerts.
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
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubernaut/kubernaut/internal/launcher"
	"github.com/kubernaut/kubernaut/internal/testutil/alerting"
	"github.com/kubernaut/kubernaut/internal/testutil/localcluster"
	"github.com/kubernaut/kubernaut/internal/workload"
	"github.com/kubernaut/kubernaut/pkg/aianalysis"
	"github.com/kubernaut/kubernaut/pkg/gateway"
)

// Label keys and values of a managed namespace (the executor's and the gateway's contract).
const (
	LabelManaged     = "kubernaut.io/managed"
	LabelEnvironment = "kubernaut.io/environment"
	LabelProtected   = "kubernaut.io/protected"
)

// Incident is one staged failure and the alert that reports it.
type Incident struct {
	// Kind is oom, crashloop, hpa-maxed-out, node-notready or healthy.
	Kind string
	// Namespace and Deployment name the workload (Deployment is empty for node-notready).
	Namespace, Deployment string
	// Container is the failing container.
	Container string
	// Pod is the pod whose container failed, and PodUID its UID.
	Pod, PodUID string
	// HPA is the HorizontalPodAutoscaler at its maximum (hpa-maxed-out).
	HPA string
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
	return podIncident("oom", "KubePodOOMKilled", "OOMKilled", d, pod), nil
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

// Scrape and external labels of a kube-prometheus cluster, on every kube-state-metrics alert.
const (
	// KubeStateMetricsInstance is the instance label: kube-state-metrics' pod address and the port
	// of its kube-rbac-proxy-main container, which Prometheus scrapes.
	KubeStateMetricsInstance = "10.244.1.17:8443"
)

// scrapeLabels are the labels every kube-state-metrics alert carries besides the metric's own:
// job, instance and Prometheus's external labels.
func scrapeLabels() map[string]string {
	l := map[string]string{"job": alerting.Job, "instance": KubeStateMetricsInstance}
	for k, v := range alerting.ExternalLabels {
		l[k] = v
	}
	return l
}

// podIncident is alert alertName about container "app" of a pod of Deployment d, with the labels
// of the kube-state-metrics series behind it (reason is the waiting or last-terminated reason).
func podIncident(kind, alertName, reason string, d *appsv1.Deployment, pod *corev1.Pod) *Incident {
	in := &Incident{Kind: kind, Namespace: d.Namespace, Deployment: d.Name, Container: "app", Pod: pod.Name, PodUID: string(pod.UID),
		MemoryLimit: resource.MustParse(OOMLimit), AlertName: alertName, StartsAt: time.Now().UTC().Truncate(time.Second)}
	in.Labels = scrapeLabels()
	for k, v := range map[string]string{"alertname": in.AlertName, "severity": "warning", "namespace": d.Namespace,
		"pod": in.Pod, "uid": in.PodUID, "container": in.Container, "reason": reason} {
		in.Labels[k] = v
	}
	return in
}

// waitFailing waits until the kubelet reports a failure (failed) of a container of a pod of d
// whose image is the template's, and returns that pod.
func waitFailing(ctx context.Context, c client.Client, d *appsv1.Deployment, failed func(corev1.ContainerStatus) bool, what string) (*corev1.Pod, error) {
	image := d.Spec.Template.Spec.Containers[0].Image
	var found *corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		var pods corev1.PodList
		if err := c.List(ctx, &pods, client.InNamespace(d.Namespace), client.MatchingLabels(d.Spec.Selector.MatchLabels)); err != nil {
			return false, nil
		}
		sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
		for i, p := range pods.Items {
			if p.DeletionTimestamp != nil || p.Spec.Containers[0].Image != image {
				continue
			}
			for _, cs := range p.Status.ContainerStatuses {
				if failed(cs) {
					found = &pods.Items[i]
					return true, nil
				}
			}
		}
		return false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("no pod of %s/%s (%s) reported %s: %w", d.Namespace, d.Name, image, what, err)
	}
	return found, nil
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
	return crashLooping(ctx, c, d)
}

// crashLooping waits for a pod of d's template in CrashLoopBackOff and returns the
// KubePodCrashLooping incident about it.
func crashLooping(ctx context.Context, c client.Client, d *appsv1.Deployment) (*Incident, error) {
	// KubePodCrashLooping fires after 15 minutes of back-off; the incident waits for what such a
	// pod shows by then: CrashLoopBackOff after at least 3 restarts. On a real kubelet the first
	// back-off comes after one crash, and the container runs again between crashes.
	pod, err := waitFailing(ctx, c, d, func(cs corev1.ContainerStatus) bool {
		return cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff" && cs.RestartCount >= 3
	}, "CrashLoopBackOff after 3 restarts")
	if err != nil {
		return nil, err
	}
	return podIncident("crashloop", "KubePodCrashLooping", "CrashLoopBackOff", d, pod), nil
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
	return nodeIncident(name), nil
}

// nodeIncident is KubeNodeNotReady about node name: the labels of kube-state-metrics' node
// condition series, and the target's container label (the metric has none of its own); no
// namespace.
func nodeIncident(name string) *Incident {
	in := &Incident{Kind: "node-notready", Node: name, AlertName: "KubeNodeNotReady", StartsAt: time.Now().UTC().Truncate(time.Second)}
	in.Labels = scrapeLabels()
	for k, v := range map[string]string{"alertname": in.AlertName, "severity": "warning", "node": name,
		"condition": "Ready", "status": "true", "container": alerting.TargetContainer} {
		in.Labels[k] = v
	}
	return in
}

// Webhook returns the Alertmanager webhook (version 4) for the incident, firing or resolved, as
// kube-prometheus's Alertmanager sends it: grouped by namespace, one alert.
func (in *Incident) Webhook(resolved bool) gateway.WebhookMessage {
	status, endsAt := "firing", time.Time{}
	if resolved {
		status, endsAt = "resolved", time.Now().UTC().Truncate(time.Second)
	}
	summary := map[string]string{
		"oom":           "Container was OOMKilled.",
		"crashloop":     "Pod is crash looping.",
		"hpa-maxed-out": "HPA is running at max replicas.",
		"node-notready": "Node is not ready.",
		"healthy":       "Request latency is above its objective.",
	}[in.Kind]
	groupLabels := map[string]string{}
	if ns, ok := in.Labels["namespace"]; ok {
		groupLabels["namespace"] = ns
	}
	groupKey := "{}:{}"
	if ns, ok := groupLabels["namespace"]; ok {
		groupKey = fmt.Sprintf(`{}:{namespace=%q}`, ns)
	}
	return gateway.WebhookMessage{
		Version: "4", GroupKey: groupKey, Status: status, Receiver: "kubernaut",
		GroupLabels:       groupLabels,
		CommonLabels:      in.Labels,
		CommonAnnotations: map[string]string{"summary": summary},
		ExternalURL:       "http://alertmanager-main.monitoring:9093",
		Alerts: []gateway.Alert{{
			Status: status, Labels: in.Labels, Annotations: map[string]string{"summary": summary},
			StartsAt: in.StartsAt, EndsAt: endsAt, GeneratorURL: "http://prometheus-k8s-0:9090/graph",
			Fingerprint: fingerprint(in.Labels),
		}},
	}
}

// fingerprint hashes a label set the way Alertmanager names an alert: FNV-1a over the sorted
// label names and values.
func fingerprint(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	var h uint64 = 14695981039346656037
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= 1099511628211
		}
		h ^= 0xff
		h *= 1099511628211
	}
	for _, k := range names {
		add(k)
		add(labels[k])
	}
	return fmt.Sprintf("%016x", h)
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
// production namespace. The alert is an application's own rule over its request-duration
// histogram, aggregated by namespace and pod (so it names one pod of checkout), from the same
// Prometheus: alertname, severity, namespace, pod and the external labels; no scrape labels
// (the aggregation drops them) and no deployment label.
func Healthy(ctx context.Context, cl *localcluster.Cluster, ns, alertName string) (*Incident, error) {
	c := cl.Client
	d, err := checkout(ctx, c, ns, NamespaceOptions{})
	if err != nil {
		return nil, err
	}
	if d, err = WaitRolledOut(ctx, c, ns, d.Name, 2*time.Minute); err != nil {
		return nil, err
	}
	pods, err := RunningPods(ctx, c, d)
	if err != nil || len(pods) == 0 {
		return nil, fmt.Errorf("no running pod of %s/%s: %v", ns, d.Name, err)
	}
	in := &Incident{Kind: "healthy", Namespace: ns, Deployment: d.Name, Container: "app", Pod: pods[0].Name, PodUID: string(pods[0].UID),
		MemoryLimit: resource.MustParse(OOMLimit), AlertName: alertName, StartsAt: time.Now().UTC().Truncate(time.Second)}
	in.Labels = map[string]string{"alertname": alertName, "severity": "warning", "namespace": ns, "pod": in.Pod}
	for k, v := range alerting.ExternalLabels {
		in.Labels[k] = v
	}
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

// ConfigCrashLoop stages a crash loop from a configuration error, with no rollout to blame:
// Deployment "checkout" created with a start-up argument its program rejects (it exits with
// code 1 at every start, as a service does when a required setting is wrong), so its first and
// only revision crash-loops. It returns once the kubelet reports a pod in CrashLoopBackOff.
func ConfigCrashLoop(ctx context.Context, cl *localcluster.Cluster, ns string, nso NamespaceOptions) (*Incident, error) {
	d, err := checkout(ctx, cl.Client, ns, nso, workload.ExitFlag+"=1")
	if err != nil {
		return nil, err
	}
	return crashLooping(ctx, cl.Client, d)
}

// HPA bounds of the hpa-maxed-out incident: the Deployment runs HPAMax replicas, the most its
// HorizontalPodAutoscaler allows.
const (
	HPAMin int32 = 1
	HPAMax int32 = 3
)

// HPAMaxedOut stages a HorizontalPodAutoscaler at its maximum: Deployment "checkout" running
// HPAMax replicas and HPA "checkout" (CPU utilisation target 80%, between HPAMin and HPAMax
// replicas) scaling it. It returns once the HPA controller reports currentReplicas == HPAMax.
//
// The local cluster has no metrics API, so the HPA controller computes no utilisation: it
// reports the current replicas it reads from the Deployment's scale (and ScalingActive False,
// FailedGetResourceMetric) and never scales. The HPA is really at its maximum; what it does not
// show is why (no metric above its target, no ScalingLimited condition).
func HPAMaxedOut(ctx context.Context, cl *localcluster.Cluster, ns string, nso NamespaceOptions) (*Incident, error) {
	c := cl.Client
	if err := CreateNamespace(ctx, c, ns, nso); err != nil {
		return nil, fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	d := Deployment(ns, "checkout", "app", workload.Good, OOMLimit, HPAMax)
	if err := c.Create(ctx, d); err != nil {
		return nil, fmt.Errorf("creating deployment %s/checkout: %w", ns, err)
	}
	if _, err := WaitRolledOut(ctx, c, ns, d.Name, 2*time.Minute); err != nil {
		return nil, err
	}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: d.Name},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name},
			MinReplicas:    new(HPAMin),
			MaxReplicas:    HPAMax,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{
					Type: autoscalingv2.UtilizationMetricType, AverageUtilization: new(int32(80)),
				}},
			}},
		},
	}
	if err := c.Create(ctx, hpa); err != nil {
		return nil, fmt.Errorf("creating HorizontalPodAutoscaler %s/%s: %w", ns, hpa.Name, err)
	}
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(hpa), hpa); err != nil {
			return false, nil
		}
		return hpa.Status.CurrentReplicas == HPAMax, nil
	})
	if err != nil {
		return nil, fmt.Errorf("the HPA controller never reported %s/%s at %d replicas (status %+v): %w", ns, hpa.Name, HPAMax, hpa.Status, err)
	}
	in := &Incident{Kind: "hpa-maxed-out", Namespace: ns, Deployment: d.Name, Container: "app", HPA: hpa.Name,
		MemoryLimit: resource.MustParse(OOMLimit), AlertName: "KubeHpaMaxedOut", StartsAt: time.Now().UTC().Truncate(time.Second)}
	in.Labels = scrapeLabels()
	for k, v := range map[string]string{"alertname": in.AlertName, "severity": "warning", "namespace": ns,
		"horizontalpodautoscaler": hpa.Name, "container": alerting.TargetContainer} {
		in.Labels[k] = v
	}
	return in, nil
}

// NoWorkloadsTaint keeps every pod off the nodes a node incident stages (no kubelet would run
// them), so that other scenarios running at the same time never schedule onto them.
var NoWorkloadsTaint = corev1.Taint{Key: "kubernaut.io/e2e-node-incident", Value: "true", Effect: corev1.TaintEffectNoSchedule}

// NodeHeartbeatLost stages a node whose kubelet stops: node name, labelled
// kubernaut.io/managed=true and tainted NoWorkloadsTaint, reports Ready once, as its kubelet
// would, and then nothing more. kwok does not manage it, so no heartbeat follows; the node
// lifecycle controller marks its conditions Unknown once the controller manager's
// node-monitor-grace-period has passed (2 minutes on the local cluster). It returns at once; the
// alert comes from kube-state-metrics seeing the Ready condition leave True. DeleteNode removes
// it.
func NodeHeartbeatLost(ctx context.Context, cl *localcluster.Cluster, name string) (*Incident, error) {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			corev1.LabelHostname: name, corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64", LabelManaged: "true",
		}},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{NoWorkloadsTaint}},
	}
	if err := cl.Client.Create(ctx, n); err != nil {
		return nil, fmt.Errorf("creating node %s: %w", name, err)
	}
	if err := cl.SetNodeReady(ctx, name, true, "KubeletReady", "kubelet is posting ready status"); err != nil {
		return nil, fmt.Errorf("reporting node %s Ready: %w", name, err)
	}
	return nodeIncident(name), nil
}
