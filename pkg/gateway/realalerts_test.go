package gateway_test

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/metricvalue"
	"github.com/kubernaut/kubernaut/pkg/gateway"
)

// Label sets of the kubernetes-mixin and node-exporter mixin alerts as Alertmanager delivers them,
// written from the rules' expressions (which labels the expression keeps) and the scrape
// configurations of kube-prometheus and of the kube-prometheus-stack Helm chart.

const promKP = "monitoring/k8s" // kube-prometheus' external label "prometheus"

// kubePrometheusKSM adds what kube-prometheus' scrape of kube-state-metrics leaves on a series:
// job and instance (its ServiceMonitor drops the target's pod, service, endpoint and namespace
// and honours the exported labels), the container of the scraped port where the series has no
// container of its own, and Prometheus' external label.
func kubePrometheusKSM(series map[string]string) map[string]string {
	out := map[string]string{"job": "kube-state-metrics", "instance": "10.244.1.17:8443", "container": "kube-rbac-proxy-main", "prometheus": promKP}
	maps.Copy(out, series)
	return out
}

// helmKSM is the same series scraped by the kube-prometheus-stack Helm chart, whose
// ServiceMonitor keeps the target's labels: the kube-state-metrics Pod's own namespace, pod,
// container, service and endpoint fill in wherever the series has none.
func helmKSM(c *cluster, series map[string]string) map[string]string {
	out := map[string]string{
		"job": "kube-state-metrics", "instance": "10.42.2.101:8080", "container": "kube-state-metrics", "endpoint": "http",
		"namespace": c.monitoring, "pod": c.ksmPod, "service": "kube-prometheus-stack-kube-state-metrics",
		"prometheus": "kube-prometheus-stack/kube-prometheus-stack-prometheus",
	}
	maps.Copy(out, series)
	return out
}

// kubePrometheusNodeExporter adds what kube-prometheus' scrape of node-exporter leaves: the
// exporter Pod's namespace, pod, container, service and endpoint, and instance relabelled to
// the name of the node it runs on.
func kubePrometheusNodeExporter(c *cluster, node string, series map[string]string) map[string]string {
	out := map[string]string{
		"job": "node-exporter", "instance": node, "namespace": c.monitoring, "pod": c.nodeExporterPod,
		"container": "kube-rbac-proxy", "endpoint": "https", "service": "node-exporter", "prometheus": promKP,
	}
	maps.Copy(out, series)
	return out
}

func with(labels map[string]string, extra ...string) map[string]string {
	out := maps.Clone(labels)
	for i := 0; i+1 < len(extra); i += 2 {
		out[extra[i]] = extra[i+1]
	}
	return out
}

type realAlert struct {
	labels     map[string]string
	want       common.TargetResource
	source     string
	named      common.TargetResource
	unresolved string // the reason (metric label) when the target is not actionable
}

func realAlerts(c *cluster) map[string]realAlert {
	sh, ck := c.shop, c.checkoutPods[0]
	deployment := target("apps/v1", "Deployment", sh, "checkout")
	statefulSet := target("apps/v1", "StatefulSet", sh, "postgres")
	daemonSet := target("apps/v1", "DaemonSet", sh, "fluent-bit")
	hpa := target("autoscaling/v2", "HorizontalPodAutoscaler", sh, "checkout")
	node1, node2 := target("v1", "Node", "", c.worker1), target("v1", "Node", "", c.worker2)
	pod := func(name string) common.TargetResource { return target("v1", "Pod", sh, name) }
	crashLoop := map[string]string{"alertname": "KubePodCrashLooping", "severity": "warning", "namespace": sh, "pod": ck,
		"uid": "0f7d5c3e-8a1b-4c2d-9e6f-7a8b9c0d1e2f", "container": "app", "reason": "CrashLoopBackOff"}
	return map[string]realAlert{
		"KubePodCrashLooping (kube-prometheus)": {labels: kubePrometheusKSM(crashLoop), want: deployment, source: "pod", named: pod(ck)},
		"KubePodCrashLooping (Helm chart)":      {labels: helmKSM(c, crashLoop), want: deployment, source: "pod", named: pod(ck)},
		"KubePodCrashLooping of a bare Pod": {labels: kubePrometheusKSM(with(crashLoop, "pod", c.debugPod, "uid", "5b1c7d0e-2f3a-4b5c-8d9e-0a1b2c3d4e5f")),
			want: pod(c.debugPod), source: "pod", named: pod(c.debugPod)},
		"KubePodCrashLooping of a ReplicaSet no Deployment controls": {labels: kubePrometheusKSM(with(crashLoop, "pod", c.workerPod, "uid", "6e5d4c3b-2a1f-4e0d-9c8b-7a6f5e4d3c2b")),
			want: target("apps/v1", "ReplicaSet", sh, "queue-worker"), source: "pod", named: pod(c.workerPod), unresolved: gateway.UnresolvedUnactionableKind},
		// sum by (namespace, pod, job, cluster): the scrape's instance and container are gone.
		"KubePodNotReady": {labels: map[string]string{"alertname": "KubePodNotReady", "severity": "warning", "namespace": sh, "pod": c.postgresPod,
			"job": "kube-state-metrics", "prometheus": promKP}, want: statefulSet, source: "pod", named: pod(c.postgresPod)},
		"KubeContainerWaiting (DaemonSet pod)": {labels: kubePrometheusKSM(map[string]string{"alertname": "KubeContainerWaiting", "severity": "warning",
			"namespace": sh, "pod": c.fluentPod, "uid": "3c9e1a7b-4d2f-4e8a-b1c3-5d7f9a0b2c4e", "container": "app", "reason": "ImagePullBackOff"}),
			want: daemonSet, source: "pod", named: pod(c.fluentPod)},
		"KubeContainerWaiting (CronJob pod)": {labels: kubePrometheusKSM(map[string]string{"alertname": "KubeContainerWaiting", "severity": "warning",
			"namespace": sh, "pod": c.reportPod, "uid": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "container": "app", "reason": "CreateContainerConfigError"}),
			want: target("batch/v1", "CronJob", sh, "nightly-report"), source: "pod", named: pod(c.reportPod), unresolved: gateway.UnresolvedUnactionableKind},
		"KubeDeploymentGenerationMismatch": {labels: kubePrometheusKSM(map[string]string{"alertname": "KubeDeploymentGenerationMismatch", "severity": "warning",
			"namespace": sh, "deployment": "checkout"}), want: deployment, source: "deployment", named: deployment},
		"KubeDeploymentReplicasMismatch": {labels: kubePrometheusKSM(map[string]string{"alertname": "KubeDeploymentReplicasMismatch", "severity": "warning",
			"namespace": sh, "deployment": "checkout"}), want: deployment, source: "deployment", named: deployment},
		"KubeDeploymentRolloutStuck": {labels: kubePrometheusKSM(map[string]string{"alertname": "KubeDeploymentRolloutStuck", "severity": "warning",
			"namespace": sh, "deployment": "checkout", "condition": "Progressing", "status": "false"}), want: deployment, source: "deployment", named: deployment},
		"KubeStatefulSetReplicasMismatch": {labels: kubePrometheusKSM(map[string]string{"alertname": "KubeStatefulSetReplicasMismatch", "severity": "warning",
			"namespace": sh, "statefulset": "postgres"}), want: statefulSet, source: "statefulset", named: statefulSet},
		// max by(namespace, statefulset, job, cluster)
		"KubeStatefulSetUpdateNotRolledOut": {labels: map[string]string{"alertname": "KubeStatefulSetUpdateNotRolledOut", "severity": "warning",
			"namespace": sh, "statefulset": "postgres", "job": "kube-state-metrics", "prometheus": promKP}, want: statefulSet, source: "statefulset", named: statefulSet},
		"KubeDaemonSetRolloutStuck": {labels: kubePrometheusKSM(map[string]string{"alertname": "KubeDaemonSetRolloutStuck", "severity": "warning",
			"namespace": sh, "daemonset": "fluent-bit"}), want: daemonSet, source: "daemonset", named: daemonSet},
		"KubeJobFailed": {labels: kubePrometheusKSM(map[string]string{"alertname": "KubeJobFailed", "severity": "warning",
			"namespace": sh, "job_name": c.reportJob, "condition": "true"}),
			want: target("batch/v1", "CronJob", sh, "nightly-report"), source: "job_name", named: target("batch/v1", "Job", sh, c.reportJob), unresolved: gateway.UnresolvedUnactionableKind},
		// max by(namespace, job_name, cluster)
		"KubeJobNotCompleted": {labels: map[string]string{"alertname": "KubeJobNotCompleted", "severity": "warning", "namespace": sh, "job_name": c.migrateJob, "prometheus": promKP},
			want: target("batch/v1", "Job", sh, c.migrateJob), source: "job_name", named: target("batch/v1", "Job", sh, c.migrateJob), unresolved: gateway.UnresolvedUnactionableKind},
		"KubeHpaMaxedOut": {labels: kubePrometheusKSM(map[string]string{"alertname": "KubeHpaMaxedOut", "severity": "warning",
			"namespace": sh, "horizontalpodautoscaler": "checkout"}), want: hpa, source: "horizontalpodautoscaler", named: hpa},
		"KubeHpaReplicasMismatch": {labels: kubePrometheusKSM(map[string]string{"alertname": "KubeHpaReplicasMismatch", "severity": "warning",
			"namespace": sh, "horizontalpodautoscaler": "checkout"}), want: hpa, source: "horizontalpodautoscaler", named: hpa},
		"KubePdbNotEnoughHealthyPods": {labels: kubePrometheusKSM(map[string]string{"alertname": "KubePdbNotEnoughHealthyPods", "severity": "warning",
			"namespace": sh, "poddisruptionbudget": "checkout"}), want: target("policy/v1", "PodDisruptionBudget", sh, "checkout"), source: "poddisruptionbudget",
			named: target("policy/v1", "PodDisruptionBudget", sh, "checkout"), unresolved: gateway.UnresolvedUnactionableKind},
		// max without (instance, job, type): container stays.
		"KubeQuotaExceeded": {labels: map[string]string{"alertname": "KubeQuotaExceeded", "severity": "warning", "namespace": sh, "resourcequota": "compute",
			"resource": "requests.memory", "container": "kube-rbac-proxy-main", "prometheus": promKP}, want: target("v1", "Namespace", "", sh), source: "namespace", named: target("v1", "Namespace", "", sh)},
		// sum by(cluster): nothing but the alert's own labels.
		"KubeCPUOvercommit": {labels: map[string]string{"alertname": "KubeCPUOvercommit", "severity": "warning", "prometheus": promKP},
			want:       gateway.PseudoTarget("KubeCPUOvercommit", map[string]string{"alertname": "KubeCPUOvercommit", "severity": "warning", "prometheus": promKP}),
			unresolved: gateway.UnresolvedNoTargetLabel},
		"KubePersistentVolumeErrors": {labels: kubePrometheusKSM(map[string]string{"alertname": "KubePersistentVolumeErrors", "severity": "critical",
			"persistentvolume": c.pv, "phase": "Failed"}), want: target("v1", "PersistentVolume", "", c.pv), source: "persistentvolume",
			named: target("v1", "PersistentVolume", "", c.pv), unresolved: gateway.UnresolvedUnactionableKind},
		// kubelet's volume stats, scraped by kube-prometheus: the kubelet's node is on the series too.
		"KubePersistentVolumeFillingUp": {labels: map[string]string{"alertname": "KubePersistentVolumeFillingUp", "severity": "critical", "namespace": sh,
			"persistentvolumeclaim": "data-postgres-0", "job": "kubelet", "metrics_path": "/metrics", "endpoint": "https-metrics", "service": "kubelet",
			"instance": c.worker1IP + ":10250", "node": c.worker1, "prometheus": promKP},
			want: target("v1", "PersistentVolumeClaim", sh, "data-postgres-0"), source: "persistentvolumeclaim", named: target("v1", "PersistentVolumeClaim", sh, "data-postgres-0")},
		"KubeNodeNotReady (kube-prometheus)": {labels: kubePrometheusKSM(map[string]string{"alertname": "KubeNodeNotReady", "severity": "warning",
			"node": c.worker1, "condition": "Ready", "status": "true"}), want: node1, source: "node", named: node1},
		"KubeNodeNotReady (Helm chart: kube-state-metrics' own pod and namespace on the series)": {labels: helmKSM(c, map[string]string{"alertname": "KubeNodeNotReady",
			"severity": "warning", "node": c.worker1, "condition": "Ready", "status": "true"}), want: node1, source: "node", named: node1},
		"KubeNodeUnreachable": {labels: kubePrometheusKSM(map[string]string{"alertname": "KubeNodeUnreachable", "severity": "warning",
			"node": c.worker2, "key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"}), want: node2, source: "node", named: node2},
		"KubeNodePressure": {labels: kubePrometheusKSM(map[string]string{"alertname": "KubeNodePressure", "severity": "info",
			"node": c.worker2, "condition": "MemoryPressure", "status": "true"}), want: node2, source: "node", named: node2},
		// sum(...) by (cluster, node)
		"KubeNodeReadinessFlapping": {labels: map[string]string{"alertname": "KubeNodeReadinessFlapping", "severity": "warning", "node": c.worker1, "prometheus": promKP},
			want: node1, source: "node", named: node1},
		"NodeFilesystemSpaceFillingUp (kube-prometheus: instance is the node name)": {labels: kubePrometheusNodeExporter(c, c.worker1, map[string]string{
			"alertname": "NodeFilesystemSpaceFillingUp", "severity": "critical", "device": "/dev/nvme0n1p1", "fstype": "ext4", "mountpoint": "/"}),
			want: node1, source: "instance", named: node1},
		"NodeHighNumberConntrackEntriesUsed": {labels: kubePrometheusNodeExporter(c, c.worker2, map[string]string{"alertname": "NodeHighNumberConntrackEntriesUsed", "severity": "warning"}),
			want: node2, source: "instance", named: node2},
		"NodeClockNotSynchronising (static scrape: instance is the InternalIP and port)": {labels: map[string]string{"alertname": "NodeClockNotSynchronising",
			"severity": "warning", "job": "node-exporter", "instance": c.worker2IP + ":9100"}, want: node2, source: "instance", named: node2},
		"NodeNetworkReceiveErrs (no job selector, instance is the InternalIP)": {labels: map[string]string{"alertname": "NodeNetworkReceiveErrs",
			"severity": "warning", "job": "node", "instance": c.worker1IP + ":9100", "device": "eth0"}, want: node1, source: "instance", named: node1},
	}
}

// unresolvedCount reads kubernaut_gateway_signals_unresolved_total{reason}.
func unresolvedCount(t testing.TB, reason string) float64 {
	t.Helper()
	return metricvalue.Value(t, "kubernaut_gateway_signals_unresolved_total", map[string]string{"reason": reason})
}

// firstResult returns the first alert's result of a gateway answer.
func firstResult(body map[string]any) map[string]any {
	results, _ := body["results"].([]any)
	if len(results) == 0 {
		return map[string]any{}
	}
	res, _ := results[0].(map[string]any)
	return res
}

// getRequest reads the request the gateway named in its answer.
func getRequest(t testing.TB, ns string, body map[string]any) *remediationv1.RemediationRequest {
	t.Helper()
	name, _ := firstResult(body)["remediationRequest"].(string)
	require.NotEmpty(t, name, "answer %v", body)
	rr := &remediationv1.RemediationRequest{}
	require.NoError(t, env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, rr))
	return rr
}

// TestRealAlertsReachTheirTarget sends the mixins' alerts, label for label, to a gateway running
// with the generated RBAC, against objects that really exist, and checks each request's target
// and how it was found. Each request is finished afterwards (cooldown 0), so that two alerts
// about one workload each create their own request.
func TestRealAlertsReachTheirTarget(t *testing.T) {
	c := newCluster(t)
	sys := env.Namespace(t, nil)
	gw := startGateway(t, sys, options{rest: env.AsService(t, "gateway", sys), config: func(g *gateway.Config) { g.Cooldown = 0 }})
	cases := realAlerts(c)
	require.GreaterOrEqual(t, len(cases), 15)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := unresolvedCount(t, tc.unresolved)
			code, _, body := post(t, gw.url, gateway.PathPrometheus, webhook(t, alert("firing", tc.labels)), nil)
			require.Equal(t, http.StatusCreated, code, body)
			rr := getRequest(t, sys, body)
			defer finish(t, rr, time.Now())
			assert.Equal(t, tc.want, rr.Spec.TargetResource)
			assert.Equal(t, gateway.Fingerprint(tc.want), rr.Spec.SignalFingerprint)
			assert.Equal(t, tc.labels, rr.Spec.SignalLabels, "every label is kept for the investigator")
			require.NotNil(t, rr.Spec.TargetResolution)
			assert.Equal(t, tc.source, rr.Spec.TargetResolution.Source)
			if tc.source != "" {
				assert.Equal(t, &tc.named, rr.Spec.TargetResolution.NamedTarget)
				assert.Equal(t, &tc.named, rr.Spec.ProviderData.Resource, "providerData.resource is the object the alert named")
			}
			if tc.unresolved == "" {
				assert.Empty(t, rr.Spec.TargetResolution.UnresolvedReason)
				return
			}
			assert.NotEmpty(t, rr.Spec.TargetResolution.UnresolvedReason)
			assert.Equal(t, before+1, unresolvedCount(t, tc.unresolved), "counted as %s", tc.unresolved)
		})
	}
}

// TestUnresolvedAlertsAreStored sends well-formed alerts whose labels name nothing Kubernaut can
// act on: each becomes a request that says why (never 400 or 5xx), and a repeat is its duplicate.
func TestUnresolvedAlertsAreStored(t *testing.T) {
	c := newCluster(t)
	sys := env.Namespace(t, nil)
	mappings, err := gateway.ParseMappings([]byte(`
mappings:
  - label: configmap
    apiVersion: v1
    kind: ConfigMap
    namespaced: true
  - name: tenant
    label: target_namespace
    apiVersion: v1
    kind: Namespace
    namespaced: false
    alertNames: [TenantQuotaLow]`))
	require.NoError(t, err)
	gw := startGateway(t, sys, options{rest: env.AsService(t, "gateway", sys), config: func(g *gateway.Config) { g.Mappings = mappings }})
	other := env.Namespace(t, nil)
	cases := map[string]struct {
		labels  map[string]string
		reason  string
		mention string
		want    *common.TargetResource // the target kept when it is real; otherwise the pseudo-target
	}{
		"no target label": {labels: map[string]string{"alertname": "Watchdog", "severity": "none", "prometheus": promKP},
			reason: gateway.UnresolvedNoTargetLabel, mention: "no label of the alert names"},
		"a pod that does not exist": {labels: kubePrometheusKSM(map[string]string{"alertname": "KubePodCrashLooping", "severity": "warning", "namespace": c.shop,
			"pod": "checkout-7d4b9c8f5-gone1", "uid": "1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "container": "app", "reason": "CrashLoopBackOff"}),
			reason: gateway.UnresolvedNotFound, mention: "Pod " + c.shop + "/checkout-7d4b9c8f5-gone1, which does not exist"},
		"a node name that is no Node": {labels: kubePrometheusKSM(map[string]string{"alertname": "KubeNodeNotReady", "severity": "warning", "node": "worker-404",
			"condition": "Ready", "status": "true"}), reason: gateway.UnresolvedNotFound, mention: "Node worker-404, which does not exist"},
		"node-exporter on an address of no Node": {labels: map[string]string{"alertname": "NodeClockNotSynchronising", "severity": "warning",
			"job": "node-exporter", "instance": "192.0.2.77:9100"}, reason: gateway.UnresolvedNotFound, mention: "names no Node"},
		"a kind Kubernaut cannot act on": {labels: kubePrometheusKSM(map[string]string{"alertname": "KubeJobFailed", "severity": "warning", "namespace": c.shop,
			"job_name": c.migrateJob, "condition": "true"}), reason: gateway.UnresolvedUnactionableKind, mention: "no Kubernaut action targets a Job",
			want: &common.TargetResource{APIVersion: "batch/v1", Kind: "Job", Namespace: c.shop, Name: c.migrateJob}},
		"a kind the gateway may not read": {labels: map[string]string{"alertname": "ConfigReloadFailed", "severity": "warning", "namespace": c.shop, "configmap": "checkout-config"},
			reason: gateway.UnresolvedUnreadable, mention: "cannot read ConfigMap " + c.shop + "/checkout-config"},
		"scraped without honor_labels: the namespace is the exporter's": {labels: map[string]string{"alertname": "KubePodCrashLooping", "severity": "warning",
			"namespace": c.monitoring, "pod": c.ksmPod, "exported_namespace": c.shop, "exported_pod": c.checkoutPods[0], "exported_container": "app",
			"job": "kube-state-metrics", "instance": "10.244.1.17:8080", "container": "kube-state-metrics", "reason": "CrashLoopBackOff"},
			reason: gateway.UnresolvedOtherNamespace, mention: "exported_namespace"},
		"a mapping naming another namespace than the alert's": {labels: map[string]string{"alertname": "TenantQuotaLow", "severity": "warning",
			"namespace": c.shop, "target_namespace": other}, reason: gateway.UnresolvedOtherNamespace, mention: "names Namespace " + other + ", not the alert's namespace " + c.shop},
		"a namespaced label without namespace": {labels: map[string]string{"alertname": "PodRestarting", "severity": "warning", "pod": c.debugPod},
			reason: gateway.UnresolvedMissingNamespace, mention: "no namespace label"},
		"a name no object can have": {labels: map[string]string{"alertname": "AppDown", "severity": "critical", "namespace": c.shop, "deployment": "checkout/../../nodes"},
			reason: gateway.UnresolvedInvalidName, mention: "not a valid Deployment name"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := unresolvedCount(t, tc.reason)
			payload := webhook(t, alert("firing", tc.labels))
			code, _, body := post(t, gw.url, gateway.PathPrometheus, payload, nil)
			require.Equal(t, http.StatusCreated, code, body)
			rr := getRequest(t, sys, body)
			require.NotNil(t, rr.Spec.TargetResolution)
			assert.Contains(t, rr.Spec.TargetResolution.UnresolvedReason, tc.mention)
			want := gateway.PseudoTarget(tc.labels["alertname"], tc.labels)
			if tc.want != nil {
				want = *tc.want
			}
			assert.Equal(t, want, rr.Spec.TargetResource)
			assert.Equal(t, before+1, unresolvedCount(t, tc.reason))

			code, _, body = post(t, gw.url, gateway.PathPrometheus, payload, nil)
			assert.Equal(t, http.StatusAccepted, code, "the same alert again is a duplicate: %v", body)
			assert.Equal(t, rr.Name, firstResult(body)["remediationRequest"])
		})
	}

	t.Run("an event about an object in another namespace", func(t *testing.T) {
		involved := corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: c.shop, Name: c.checkoutPods[0]}
		code, _, body := post(t, gw.url, gateway.PathKubernetesEvent, event(other, corev1.EventTypeWarning, "BackOff", involved), nil)
		require.Equal(t, http.StatusCreated, code, body)
		rr := getRequest(t, sys, body)
		require.NotNil(t, rr.Spec.TargetResolution)
		assert.Equal(t, gateway.SourceInvolvedObject, rr.Spec.TargetResolution.Source)
		assert.Contains(t, rr.Spec.TargetResolution.UnresolvedReason, "in another namespace")
		assert.Equal(t, gateway.PseudoTargetKind, rr.Spec.TargetResource.Kind)
	})

	t.Run("resolved alert of an unresolved one marks its request", func(t *testing.T) {
		labels := map[string]string{"alertname": "KubeMemoryOvercommit", "severity": "warning", "prometheus": promKP}
		code, _, body := post(t, gw.url, gateway.PathPrometheus, webhook(t, alert("firing", labels)), nil)
		require.Equal(t, http.StatusCreated, code, body)
		rr := getRequest(t, sys, body)
		code, _, body = post(t, gw.url, gateway.PathPrometheus, webhook(t, alert("resolved", labels)), nil)
		require.Equal(t, http.StatusOK, code, body)
		assert.Equal(t, rr.Name, firstResult(body)["remediationRequest"])
	})
}

// TestPodsOfOneDeploymentAreOneRequest sends the crash loops of the N pods of one Deployment, in
// one webhook as Alertmanager groups them and then again one by one: one request counts them all,
// and each Pod is read once (its pod-template-hash label and its ReplicaSet's name give the
// Deployment, so neither the ReplicaSet nor the Deployment is read).
func TestPodsOfOneDeploymentAreOneRequest(t *testing.T) {
	const n = 12
	sys, shop := env.Namespace(t, nil), env.Namespace(t, nil)
	dep := makeDeployment(t, shop, "checkout")
	rs := makeReplicaSet(t, dep, "7d4b9c8f5")
	var alerts []gateway.Alert
	for i := range n {
		p := makePod(t, shop, rs.Name+"-"+strings.Repeat(string(rune('a'+i)), 5), rs)
		alerts = append(alerts, alert("firing", kubePrometheusKSM(map[string]string{"alertname": "KubePodCrashLooping", "severity": "warning",
			"namespace": shop, "pod": p.Name, "uid": string(p.UID), "container": "app", "reason": "CrashLoopBackOff"})))
	}
	calls := &callCounter{}
	gw := startGateway(t, sys, options{rest: calls.config()})
	before := calls.snapshotPaths()

	code, _, body := post(t, gw.url, gateway.PathPrometheus, webhook(t, alerts...), nil)
	require.Equal(t, http.StatusCreated, code, body)
	assert.EqualValues(t, 1, body["created"])
	assert.EqualValues(t, n-1, body["duplicates"])
	for _, a := range alerts {
		code, _, body := post(t, gw.url, gateway.PathPrometheus, webhook(t, a), nil)
		require.Equal(t, http.StatusAccepted, code, body)
	}
	items := requests(t, sys)
	require.Len(t, items, 1)
	assert.Equal(t, target("apps/v1", "Deployment", shop, "checkout"), items[0].Spec.TargetResource)
	require.NotNil(t, items[0].Status.Deduplication)
	assert.EqualValues(t, 2*n-1, items[0].Status.Deduplication.OccurrenceCount)

	after := calls.snapshotPaths()
	gets := func(resource string) int {
		total := 0
		for path, k := range after {
			if strings.Contains(path, "/"+resource+"/") {
				total += k - before[path]
			}
		}
		return total
	}
	assert.Equal(t, n, gets("pods"), "each pod is read once, the second alert of a pod from the cache")
	assert.Equal(t, 0, gets("replicasets"))
	assert.Equal(t, 0, gets("deployments"))
}

// TestTargetMappings checks the operator's mappings: tried before the built-in table, limited to
// their alert names and label values, and named in spec.targetResolution.source.
func TestTargetMappings(t *testing.T) {
	c := newCluster(t)
	sys := env.Namespace(t, nil)
	mappings, err := gateway.ParseMappings([]byte(`
mappings:
  - name: checkout-slo
    label: app_deployment
    apiVersion: apps/v1
    kind: Deployment
    namespaced: true
    alertNames: [CheckoutLatencyHigh]
  - label: database
    apiVersion: apps/v1
    kind: StatefulSet
    namespaced: true
    matchLabels: {job: postgres-exporter}`))
	require.NoError(t, err)
	gw := startGateway(t, sys, options{rest: env.AsService(t, "gateway", sys), config: func(g *gateway.Config) { g.Mappings = mappings; g.Cooldown = 0 }})
	deployment := target("apps/v1", "Deployment", c.shop, "checkout")
	cases := map[string]struct {
		labels map[string]string
		want   common.TargetResource
		source string
	}{
		"mapping before the built-in pod label": {labels: map[string]string{"alertname": "CheckoutLatencyHigh", "severity": "warning", "namespace": c.shop,
			"app_deployment": "checkout", "pod": c.debugPod, "job": "checkout", "instance": "10.244.3.9:8080"}, want: deployment, source: "mapping:checkout-slo"},
		"another alert name: the mapping does not apply": {labels: map[string]string{"alertname": "CheckoutErrorsHigh", "severity": "warning", "namespace": c.shop,
			"app_deployment": "checkout", "pod": c.debugPod, "job": "checkout", "instance": "10.244.3.9:8080"}, want: target("v1", "Pod", c.shop, c.debugPod), source: "pod"},
		"label values match": {labels: map[string]string{"alertname": "PostgresReplicationLag", "severity": "critical", "namespace": c.shop,
			"database": "postgres", "job": "postgres-exporter", "instance": "10.244.2.4:9187"}, want: target("apps/v1", "StatefulSet", c.shop, "postgres"), source: "mapping:database"},
		"label values differ: the namespace is the target": {labels: map[string]string{"alertname": "PostgresReplicationLag", "severity": "critical", "namespace": c.shop,
			"database": "postgres", "job": "other-exporter", "instance": "10.244.2.4:9187"}, want: target("v1", "Namespace", "", c.shop), source: "namespace"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, _, body := post(t, gw.url, gateway.PathPrometheus, webhook(t, alert("firing", tc.labels)), nil)
			require.Equal(t, http.StatusCreated, code, body)
			rr := getRequest(t, sys, body)
			defer finish(t, rr, time.Now())
			assert.Equal(t, tc.want, rr.Spec.TargetResource)
			require.NotNil(t, rr.Spec.TargetResolution)
			assert.Equal(t, tc.source, rr.Spec.TargetResolution.Source)
			assert.Empty(t, rr.Spec.TargetResolution.UnresolvedReason)
		})
	}
}
