package investigator_test

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
)

var now = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(d)); return &t }
func i32(v int32) *int32              { return &v }

// ---- alerts as Alertmanager delivers them ----
//
// Label sets of the kubernetes-mixin alerts with kube-state-metrics scraped as kube-prometheus
// does (honor_labels, the target's pod/service/endpoint/namespace labels dropped, so a workload
// or node series keeps the target's container="kube-rbac-proxy-main"), and the external label
// prometheus="monitoring/k8s". Each function names the expression whose labels it carries.

const (
	ksmInstance  = "10.244.0.12:8443"
	ksmContainer = "kube-rbac-proxy-main"
	prometheusID = "monitoring/k8s"
)

// containerAlert: an alert on kube_pod_container_status_waiting_reason (KubePodCrashLooping,
// KubeContainerWaiting), kube_pod_container_status_last_terminated_reason (our KubePodOOMKilled)
// or another per-container series without a reason (kube_pod_container_status_restarts_total):
// the series' namespace, pod, uid, container and reason.
func containerAlert(name, reason, pod, container string) map[string]string {
	l := map[string]string{"alertname": name, "container": container, "instance": ksmInstance, "job": "kube-state-metrics",
		"namespace": "shop", "pod": pod, "prometheus": prometheusID, "severity": "warning", "uid": "3f2b6c1e-8d0a-4c57-9e41-6a2f0d7b5c90"}
	if reason != "" {
		l["reason"] = reason
	}
	return l
}

// podNotReadyAlert: KubePodNotReady, `sum by (namespace, pod, job, cluster)`.
func podNotReadyAlert(pod string) map[string]string {
	return map[string]string{"alertname": "KubePodNotReady", "job": "kube-state-metrics", "namespace": "shop", "pod": pod, "prometheus": prometheusID, "severity": "warning"}
}

// deploymentAlert: KubeDeploymentReplicasMismatch/RolloutStuck on kube_deployment_* series.
func deploymentAlert(name, deployment string) map[string]string {
	return map[string]string{"alertname": name, "container": ksmContainer, "deployment": deployment, "instance": ksmInstance, "job": "kube-state-metrics",
		"namespace": "shop", "prometheus": prometheusID, "severity": "warning"}
}

// hpaAlert: KubeHpaMaxedOut on kube_horizontalpodautoscaler_status_current_replicas.
func hpaAlert(hpa string) map[string]string {
	return map[string]string{"alertname": "KubeHpaMaxedOut", "container": ksmContainer, "horizontalpodautoscaler": hpa, "instance": ksmInstance,
		"job": "kube-state-metrics", "namespace": "shop", "prometheus": prometheusID, "severity": "warning"}
}

// nodeAlert: KubeNodeNotReady (condition="Ready") and KubeNodePressure (condition=...Pressure)
// on kube_node_status_condition.
func nodeAlert(name, node, condition, severity string) map[string]string {
	return map[string]string{"alertname": name, "condition": condition, "container": ksmContainer, "instance": ksmInstance, "job": "kube-state-metrics",
		"node": node, "prometheus": prometheusID, "severity": severity, "status": "true"}
}

// appAlert: an application's own alert (latency, errors, CPU) from its service's metrics.
func appAlert(name string) map[string]string {
	return map[string]string{"alertname": name, "job": "web", "namespace": "shop", "service": "web", "prometheus": prometheusID, "severity": "warning"}
}

// alerted sets the alert on the signal: its name, labels and startsAt; a pod label becomes the
// named target (the gateway followed its owners to the workload).
func alerted(labels map[string]string, firing time.Duration) func(*aiv1.SignalContext) {
	return func(s *aiv1.SignalContext) {
		s.SignalName, s.SignalLabels, s.FiringTime = labels["alertname"], labels, at(firing)
		if p := labels["pod"]; p != "" {
			s.NamedTarget = &common.TargetResource{APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: p}
		}
	}
}

// ---- the facts processing collects ----

// deployment is a healthy 3-replica Deployment shop/web with its pods, as processing reports it.
func deployment() aiv1.SignalContext {
	kc := &common.KubernetesContext{
		CollectedAt:     at(0),
		NamespaceLabels: map[string]string{"kubernetes.io/metadata.name": "shop"},
		OwnerChain:      []common.TargetResource{{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}},
		Workload: &common.WorkloadSummary{Kind: "Deployment", Name: "web", Replicas: i32(3), ReadyReplicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3,
			Containers: []common.ContainerSpecSummary{{Name: "app", Image: "shop/web:1.4", Requests: map[string]string{"memory": "128Mi", "cpu": "100m"}, Limits: map[string]string{"memory": "256Mi"}, HasLivenessProbe: true}}},
		Rollout: &common.RolloutHistory{
			Current:       &common.RevisionSummary{Revision: 7, Name: "web-7d9f8", Images: []string{"app=shop/web:1.4"}, BecameCurrentAt: at(-20 * 24 * time.Hour), Replicas: 3, ReadyReplicas: 3},
			Previous:      &common.RevisionSummary{Revision: 6, Name: "web-6c5b4", Images: []string{"app=shop/web:1.3"}, BecameCurrentAt: at(-40 * 24 * time.Hour)},
			RevisionCount: 2,
		},
		Nodes: []common.NodeSummary{{Name: "node-a", Ready: "True", PodCount: 12}},
	}
	for _, n := range []string{"web-7d9f8-aaaaa", "web-7d9f8-bbbbb", "web-7d9f8-ccccc"} {
		kc.Pods = append(kc.Pods, common.PodSummary{Name: n, Phase: "Running", NodeName: "node-a", Owner: "ReplicaSet/web-7d9f8", CreatedAt: at(-20 * 24 * time.Hour),
			Containers: []common.ContainerSummary{{Name: "app", Ready: true, State: "Running", Image: "shop/web:1.4", Requests: map[string]string{"memory": "128Mi"}, Limits: map[string]string{"memory": "256Mi"}}}})
	}
	return aiv1.SignalContext{Fingerprint: "f", Severity: "warning", Environment: "production", BusinessPriority: "P1",
		Namespace: "shop", ResourceKind: "Deployment", ResourceName: "web", KubernetesContext: kc}
}

// freshRollout makes revision 7 current 10 minutes ago, its pods created then, revision 6 still ready.
func freshRollout(s *aiv1.SignalContext) {
	kc := s.KubernetesContext
	kc.Rollout.Current.BecameCurrentAt = at(-10 * time.Minute)
	kc.Rollout.Previous.BecameCurrentAt = at(-10 * 24 * time.Hour)
	kc.Rollout.Previous.Replicas, kc.Rollout.Previous.ReadyReplicas = 2, 2
	for i := range kc.Pods {
		kc.Pods[i].CreatedAt = at(-9 * time.Minute)
	}
}

func crashLoop(s *aiv1.SignalContext) {
	kc := s.KubernetesContext
	for i := range kc.Pods {
		c := &kc.Pods[i].Containers[0]
		c.Ready, c.State, c.Reason, c.RestartCount = false, "Waiting", "CrashLoopBackOff", 5
		c.LastTerminationReason, c.LastExitCode, c.LastTerminatedAt = "Error", i32(1), at(-time.Minute)
	}
	kc.Workload.ReadyReplicas = 0
}

func imagePull(s *aiv1.SignalContext) {
	kc := s.KubernetesContext
	kc.Rollout.Current.Images = []string{"app=shop/web:1.5-typo"}
	for i := range kc.Pods {
		c := &kc.Pods[i].Containers[0]
		c.Ready, c.State, c.Reason, c.Message = false, "Waiting", "ImagePullBackOff", `Back-off pulling image "shop/web:1.5-typo"`
	}
}

func configError(s *aiv1.SignalContext) {
	kc := s.KubernetesContext
	for i := range kc.Pods {
		c := &kc.Pods[i].Containers[0]
		c.Ready, c.State, c.Reason, c.Message = false, "Waiting", "CreateContainerConfigError", `configmap "web-config" not found`
	}
}

// oom: the first pod's app container was OOMKilled 5 minutes ago (restarts times).
func oom(s *aiv1.SignalContext, restarts int32) { oomAt(s, restarts, -5*time.Minute) }

func oomAt(s *aiv1.SignalContext, restarts int32, ago time.Duration) {
	c := &s.KubernetesContext.Pods[0].Containers[0]
	c.LastTerminationReason, c.LastExitCode, c.LastTerminatedAt, c.RestartCount = "OOMKilled", i32(137), at(ago), restarts
}

// sidecar adds a second container, log-shipper, to every pod and to the template.
func sidecar(s *aiv1.SignalContext) {
	kc := s.KubernetesContext
	kc.Workload.Containers = append(kc.Workload.Containers, common.ContainerSpecSummary{Name: "log-shipper", Image: "fluent/fluent-bit:3.1",
		Requests: map[string]string{"memory": "32Mi"}, Limits: map[string]string{"memory": "64Mi"}})
	for i := range kc.Pods {
		kc.Pods[i].Containers = append(kc.Pods[i].Containers, common.ContainerSummary{Name: "log-shipper", Ready: true, State: "Running",
			Image: "fluent/fluent-bit:3.1", Requests: map[string]string{"memory": "32Mi"}, Limits: map[string]string{"memory": "64Mi"}})
	}
}

func podTarget(s *aiv1.SignalContext) {
	s.ResourceKind, s.ResourceName = "Pod", s.KubernetesContext.Pods[0].Name
	s.KubernetesContext.OwnerChain = []common.TargetResource{
		{APIVersion: "apps/v1", Kind: "ReplicaSet", Namespace: "shop", Name: "web-7d9f8"},
		{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"},
	}
}

// hpaTarget makes the HPA web the target, as the gateway resolves KubeHpaMaxedOut.
func hpaTarget(s *aiv1.SignalContext) {
	s.ResourceKind, s.ResourceName = "HorizontalPodAutoscaler", "web"
	s.KubernetesContext.OwnerChain = []common.TargetResource{{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}}
}

func node(ready string, conds ...common.ConditionSummary) aiv1.SignalContext {
	return aiv1.SignalContext{Fingerprint: "f", SignalName: "KubeNodeNotReady", SignalLabels: nodeAlert("KubeNodeNotReady", "node-b", "Ready", "warning"), FiringTime: at(-2 * time.Minute),
		Severity: "warning", Environment: "production", BusinessPriority: "P1",
		ResourceKind: "Node", ResourceName: "node-b", KubernetesContext: &common.KubernetesContext{
			CollectedAt: at(0),
			Nodes: []common.NodeSummary{{Name: "node-b", Ready: ready, PodCount: 20,
				Conditions: append([]common.ConditionSummary{{Type: "Ready", Status: ready, Reason: "KubeletNotReady", LastTransitionTime: at(-10 * time.Minute)}}, conds...)}},
		}}
}

func hpa(s *aiv1.SignalContext, saturated bool) {
	h := &common.HPASummary{Name: "web", MinReplicas: 2, MaxReplicas: 10, CurrentReplicas: 10, DesiredReplicas: 10, AtMaximum: true,
		CurrentMetrics: []string{"cpu: 70% of requests (target 80%)"}}
	if saturated {
		h.ScalingLimited, h.ScalingLimitedReason = true, "TooManyReplicas"
		h.DesiredReplicas = 14
		h.CurrentMetrics = []string{"cpu: 95% of requests (target 80%)"}
	}
	s.KubernetesContext.HPA = h
}

func liveness(s *aiv1.SignalContext, count int32) {
	kc := s.KubernetesContext
	for i := range kc.Pods {
		kc.Pods[i].Containers[0].RestartCount = 2
	}
	kc.RecentEvents = append(kc.RecentEvents, common.EventSummary{Type: "Warning", Reason: "Unhealthy", Object: "Pod/web-7d9f8-aaaaa", Count: count,
		Message: "Liveness probe failed: Get \"http://10.0.0.5:8080/healthz\": context deadline exceeded", FirstTimestamp: at(-30 * time.Minute), LastTimestamp: at(-time.Minute)})
}

func truncated(notes ...string) func(*aiv1.SignalContext) {
	return func(s *aiv1.SignalContext) { s.KubernetesContext.Truncated = notes }
}

// ---- the table ----

// Scenario is one named situation with the expected builtin answer.
type Scenario struct {
	Signal     aiv1.SignalContext
	AllowDrain bool
	// Changes are Kubernaut's recent changes to the target; with RepeatWindow (default none:
	// the rule is off) they feed the repeat-action rule. ChangesUnknown says they could not be read.
	Changes        []investigator.Change
	ChangesUnknown string
	RepeatWindow   time.Duration

	Outcome aiv1.Outcome
	Action  string                 // top recommendation's action
	Target  *common.TargetResource // first step's target
	Params  map[string]string      // first step's parameters
	Steps   []string               // actions of the top recommendation's steps, when more than one
	MinConf float64
	Alts    int // alternatives beyond the top recommendation
	// Reason must be part of manualReviewReason; Evidence part of the evidence.
	Reason, Evidence string
	// HistoryUnknown: the evidence says the recent changes could not be read.
	HistoryUnknown bool
}

func tgt(apiVersion, kind, ns, name string) *common.TargetResource {
	return &common.TargetResource{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name}
}

func with(s aiv1.SignalContext, mutate ...func(*aiv1.SignalContext)) aiv1.SignalContext {
	for _, m := range mutate {
		m(&s)
	}
	return s
}

func change(action, target string, ago time.Duration, phase, outcome string) investigator.Change {
	return investigator.Change{Remediation: "rr-earlier", Action: action, Target: target, Phase: phase, Outcome: outcome, At: now.Add(-ago)}
}

// Scenarios is the builtin rules' table: every rule, and every case where no guess is made.
func Scenarios() map[string]Scenario {
	web := tgt("apps/v1", "Deployment", "shop", "web")
	nodeB := tgt("v1", "Node", "", "node-b")
	pressure := common.ConditionSummary{Type: "MemoryPressure", Status: "True", Reason: "KubeletHasInsufficientMemory", LastTransitionTime: at(-5 * time.Minute)}
	pod0 := "web-7d9f8-aaaaa"
	oomAlert := alerted(containerAlert("KubePodOOMKilled", "OOMKilled", pod0, "app"), -4*time.Minute)
	crashAlert := alerted(containerAlert("KubePodCrashLooping", "CrashLoopBackOff", pod0, "app"), -5*time.Minute)
	pullAlert := alerted(containerAlert("KubeContainerWaiting", "ImagePullBackOff", pod0, "app"), -5*time.Minute)
	notReadyAlert := alerted(podNotReadyAlert(pod0), -5*time.Minute)
	hpaMaxed := alerted(hpaAlert("web"), -5*time.Minute)
	latency := alerted(appAlert("HighRequestLatency"), -3*time.Minute)
	incResources := map[string]string{"container": "app", "memory": "192Mi", "memoryLimit": "384Mi"}
	return map[string]Scenario{
		"OOMKilled pod of a Deployment → increase_resources on the Deployment": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { oom(s, 4) }, podTarget, oomAlert),
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web, Params: incResources, MinConf: 0.9,
		},
		"OOMKilled once → increase_resources, lower confidence": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { oom(s, 1) }, oomAlert),
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web, Params: incResources, MinConf: 0.85,
		},
		"OOMKilled StatefulSet → increase_resources on the StatefulSet": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				oom(s, 3)
				s.ResourceKind, s.ResourceName = "StatefulSet", "db"
				s.KubernetesContext.Workload.Kind, s.KubernetesContext.Workload.Name = "StatefulSet", "db"
				s.KubernetesContext.OwnerChain = []common.TargetResource{{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: "shop", Name: "db"}}
				s.KubernetesContext.Rollout = nil
			}, oomAlert),
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: tgt("apps/v1", "StatefulSet", "shop", "db"), Params: incResources, MinConf: 0.9,
		},
		"OOMKilled near the cap → capped at 8Gi": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				oom(s, 3)
				s.KubernetesContext.Workload.Containers[0].Limits["memory"] = "6Gi"
				s.KubernetesContext.Workload.Containers[0].Requests["memory"] = "6Gi"
			}, oomAlert),
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web,
			Params: map[string]string{"container": "app", "memory": "8Gi", "memoryLimit": "8Gi"}, MinConf: 0.9,
		},
		"OOMKilled after a fresh rollout → increase_resources at 0.7, rollback as alternative": {
			Signal:  with(deployment(), freshRollout, func(s *aiv1.SignalContext) { oom(s, 2) }, oomAlert),
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web, Params: incResources, MinConf: 0.7, Alts: 1,
		},
		"crash loop from OOM kills (KubePodCrashLooping) → increase_resources": {
			Signal: with(deployment(), crashLoop, func(s *aiv1.SignalContext) {
				for i := range s.KubernetesContext.Pods {
					c := &s.KubernetesContext.Pods[i].Containers[0]
					c.LastTerminationReason, c.LastExitCode = "OOMKilled", i32(137)
				}
			}, crashAlert),
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web, Params: incResources, MinConf: 0.9,
		},
		"crash loop that began with the latest rollout → rollback_deployment": {
			Signal:  with(deployment(), freshRollout, crashLoop, crashAlert),
			Outcome: aiv1.OutcomeActionRecommended, Action: "rollback_deployment", Target: web, Params: map[string]string{"revision": "6"}, MinConf: 0.9,
		},
		"image pull failure of the new image (KubeContainerWaiting) → rollback_deployment": {
			Signal:  with(deployment(), freshRollout, imagePull, pullAlert),
			Outcome: aiv1.OutcomeActionRecommended, Action: "rollback_deployment", Target: web, Params: map[string]string{"revision": "6"}, MinConf: 0.9,
		},
		"replicas mismatch after a bad rollout (scrape target's container label ignored) → rollback_deployment": {
			Signal:  with(deployment(), freshRollout, crashLoop, alerted(deploymentAlert("KubeDeploymentReplicasMismatch", "web"), -2*time.Minute)),
			Outcome: aiv1.OutcomeActionRecommended, Action: "rollback_deployment", Target: web, Params: map[string]string{"revision": "6"}, MinConf: 0.9,
		},
		"node NotReady → cordon_node": {
			Signal:  node("False"),
			Outcome: aiv1.OutcomeActionRecommended, Action: "cordon_node", Target: nodeB, MinConf: 0.9,
		},
		"node unreachable (KubeNodeUnreachable) → cordon_node": {
			Signal: with(node("Unknown"), func(s *aiv1.SignalContext) {
				s.SignalName = "KubeNodeUnreachable"
				s.SignalLabels = map[string]string{"alertname": "KubeNodeUnreachable", "container": ksmContainer, "effect": "NoSchedule", "instance": ksmInstance,
					"job": "kube-state-metrics", "key": "node.kubernetes.io/unreachable", "node": "node-b", "prometheus": prometheusID, "severity": "warning"}
			}),
			Outcome: aiv1.OutcomeActionRecommended, Action: "cordon_node", Target: nodeB, MinConf: 0.9,
		},
		"node NotReady, drain allowed → cordon_node then drain_node": {
			Signal: node("False"), AllowDrain: true,
			Outcome: aiv1.OutcomeActionRecommended, Action: "cordon_node", Target: nodeB, Steps: []string{"cordon_node", "drain_node"}, MinConf: 0.9,
		},
		"node under memory pressure (KubeNodePressure) → cordon_node": {
			Signal:  with(node("True", pressure), alerted(nodeAlert("KubeNodePressure", "node-b", "MemoryPressure", "info"), -2*time.Minute)),
			Outcome: aiv1.OutcomeActionRecommended, Action: "cordon_node", Target: nodeB, MinConf: 0.85,
		},
		"HPA at its maximum while saturated (KubeHpaMaxedOut on the HPA) → update_hpa": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { hpa(s, true) }, hpaTarget, hpaMaxed),
			Outcome: aiv1.OutcomeActionRecommended, Action: "update_hpa", Target: tgt("autoscaling/v2", "HorizontalPodAutoscaler", "shop", "web"),
			Params: map[string]string{"maxReplicas": "15"}, MinConf: 0.85,
		},
		"HPA at its maximum while saturated (KubeHpaMaxedOut, Deployment target) → update_hpa": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { hpa(s, true) }, hpaMaxed),
			Outcome: aiv1.OutcomeActionRecommended, Action: "update_hpa", Target: tgt("autoscaling/v2", "HorizontalPodAutoscaler", "shop", "web"),
			Params: map[string]string{"maxReplicas": "15"}, MinConf: 0.85,
		},
		"repeated liveness failures, no recent change (KubePodNotReady) → rollout_restart": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { liveness(s, 6) }, notReadyAlert),
			Outcome: aiv1.OutcomeActionRecommended, Action: "rollout_restart", Target: web, MinConf: 0.7,
		},
		"node recovered → no action required": {
			Signal:  node("True"),
			Outcome: aiv1.OutcomeNoActionRequired,
		},

		// Not guessed.
		"crash loop with no recent change → manual review": {
			Signal: with(deployment(), crashLoop, crashAlert), Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"crash loop that began hours after the rollout → manual review": {
			Signal: with(deployment(), freshRollout, crashLoop, func(s *aiv1.SignalContext) {
				s.KubernetesContext.Rollout.Current.BecameCurrentAt = at(-6 * time.Hour)
				s.KubernetesContext.RecentEvents = []common.EventSummary{{Type: "Warning", Reason: "BackOff", Object: "Pod/web-7d9f8-aaaaa", Count: 9, FirstTimestamp: at(-30 * time.Minute)}}
			}, crashAlert),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"crash loop after a rollout without a previous revision → manual review": {
			Signal:  with(deployment(), freshRollout, crashLoop, func(s *aiv1.SignalContext) { s.KubernetesContext.Rollout.Previous = nil }, crashAlert),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"crash loop after a rollout of a StatefulSet → manual review": {
			Signal: with(deployment(), freshRollout, crashLoop, func(s *aiv1.SignalContext) {
				s.KubernetesContext.Workload.Kind = "StatefulSet"
			}, crashAlert),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"failing pods of the old revision during a rollout → manual review": {
			Signal: with(deployment(), freshRollout, crashLoop, func(s *aiv1.SignalContext) {
				s.KubernetesContext.Pods[0].Owner = "ReplicaSet/web-6c5b4"
			}, crashAlert),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"crash loop alert firing before the latest rollout → manual review (the rollout did not start it)": {
			Signal:  with(deployment(), freshRollout, crashLoop, alerted(containerAlert("KubePodCrashLooping", "CrashLoopBackOff", pod0, "app"), -30*time.Minute)),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "before revision 7 became current",
		},
		"config error right after a rollout (KubeContainerWaiting CreateContainerConfigError) → manual review": {
			Signal:  with(deployment(), freshRollout, configError, alerted(containerAlert("KubeContainerWaiting", "CreateContainerConfigError", pod0, "app"), -5*time.Minute)),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "no builtin rule applies",
		},
		// kube-prometheus's prometheus-k8s: the Prometheus resource k8s controls the StatefulSet,
		// and processing puts it after the StatefulSet in the owner chain.
		"OOMKilled pod of a StatefulSet an operator controls → manual review": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				oom(s, 3)
				kc := s.KubernetesContext
				kc.Workload.Kind, kc.Workload.Name, kc.Rollout = "StatefulSet", "prometheus-k8s", nil
				kc.Pods[0].Name, kc.Pods[0].Owner = "prometheus-k8s-0", "StatefulSet/prometheus-k8s"
				s.ResourceKind, s.ResourceName = "Pod", "prometheus-k8s-0"
				kc.OwnerChain = []common.TargetResource{
					{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: "shop", Name: "prometheus-k8s"},
					{APIVersion: "monitoring.coreos.com/v1", Kind: "Prometheus", Namespace: "shop", Name: "k8s"},
				}
			}, alerted(containerAlert("KubePodOOMKilled", "OOMKilled", "prometheus-k8s-0", "app"), -4*time.Minute)),
			Outcome: aiv1.OutcomeManualReviewRequired,
			Reason:  "the fix would be increase_resources on StatefulSet/shop/prometheus-k8s, but monitoring.coreos.com/v1 Prometheus k8s controls it and would undo a change made to it",
		},
		"OOMKilled Deployment that Knative's Revision controls → manual review": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				oom(s, 3)
				s.KubernetesContext.OwnerChain = []common.TargetResource{{APIVersion: "serving.knative.dev/v1", Kind: "Revision", Namespace: "shop", Name: "web-00001"}}
			}, oomAlert),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "serving.knative.dev/v1 Revision web-00001 controls it", Evidence: "Deployment/shop/web is controlled by Revision web-00001",
		},
		"HPA maxed out that a KEDA ScaledObject controls → manual review": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				hpa(s, true)
				s.KubernetesContext.HPA.Controller = tgt("keda.sh/v1alpha1", "ScaledObject", "shop", "web")
			}, hpaTarget, hpaMaxed),
			Outcome: aiv1.OutcomeManualReviewRequired,
			Reason:  "the fix would be update_hpa on HorizontalPodAutoscaler/shop/web, but keda.sh/v1alpha1 ScaledObject web controls it",
		},
		"OOMKilled without memory limit or request → manual review": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				oom(s, 3)
				s.KubernetesContext.Workload.Containers[0].Limits, s.KubernetesContext.Workload.Containers[0].Requests = nil, nil
				s.KubernetesContext.Pods[0].Containers[0].Limits, s.KubernetesContext.Pods[0].Containers[0].Requests = nil, nil
			}, oomAlert),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "has no memory limit",
		},
		"OOMKilled with a memory request but no limit → manual review": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				oom(s, 3)
				s.KubernetesContext.Workload.Containers[0].Limits = nil
				s.KubernetesContext.Pods[0].Containers[0].Limits = nil
			}, oomAlert),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "has no memory limit",
		},
		"OOMKilled, limit only from a LimitRange default (not in the template) → manual review": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				oom(s, 3)
				s.KubernetesContext.Workload.Containers[0].Limits = nil
			}, oomAlert),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "does not come from its pod template", Evidence: "LimitRange default",
		},
		"OOMKilled at the 8Gi cap → manual review (leak)": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				oom(s, 3)
				s.KubernetesContext.Workload.Containers[0].Limits["memory"] = "8Gi"
			}, oomAlert),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"OOMKilled a week ago, outside the window → not blamed (manual review)": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { oomAt(s, 1, -7*24*time.Hour) }, oomAlert),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"unschedulable pod (KubePodNotReady) → manual review": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				p := &s.KubernetesContext.Pods[2]
				p.Phase, p.NodeName, p.Containers[0].Ready, p.Containers[0].State = "Pending", "", false, "Waiting"
				p.Conditions = []common.ConditionSummary{{Type: "PodScheduled", Status: "False", Reason: "Unschedulable", Message: "0/3 nodes are available: 3 Insufficient memory."}}
			}, alerted(podNotReadyAlert("web-7d9f8-ccccc"), -5*time.Minute)),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"latency alert on healthy pods → manual review": {
			Signal:  with(deployment(), latency),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "HighRequestLatency",
		},
		"HPA at its maximum, load below target → manual review": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { hpa(s, false) }, hpaTarget, hpaMaxed),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "within target",
		},
		"liveness failures after a recent rollout → manual review": {
			Signal:  with(deployment(), freshRollout, func(s *aiv1.SignalContext) { liveness(s, 6) }, notReadyAlert),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"a single liveness failure → manual review": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { liveness(s, 1) }, notReadyAlert),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"node already cordoned, drain not allowed → manual review": {
			Signal:  with(node("False"), func(s *aiv1.SignalContext) { s.KubernetesContext.Nodes[0].Unschedulable = true }),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"target not found → manual review": {
			Signal: with(deployment(), oomAlert, func(s *aiv1.SignalContext) {
				s.KubernetesContext = &common.KubernetesContext{CollectedAt: at(0), TargetNotFound: true}
			}),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"no Kubernetes context → manual review": {
			Signal:  with(deployment(), oomAlert, func(s *aiv1.SignalContext) { s.KubernetesContext = nil }),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},

		// The signal selects the rules: a fact that is true but not what the alert reports is
		// not acted on.
		"latency alert while a pod was OOMKilled minutes ago → manual review (the OOM rule is not for latency)": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { oom(s, 3) }, latency),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "no builtin rule applies to signal \"HighRequestLatency\"",
		},
		"error-rate alert during a saturated HPA → manual review (the HPA rule is for KubeHpaMaxedOut)": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { hpa(s, true) }, alerted(appAlert("HTTPErrorRateHigh"), -3*time.Minute)),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "service level",
		},
		"crash-loop alert while the HPA is saturated → manual review, not update_hpa": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { hpa(s, true) }, crashAlert),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"KubeHpaMaxedOut while a container is OOMKilled → update_hpa only when saturated, never increase_resources": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { hpa(s, false); oom(s, 4) }, hpaTarget, hpaMaxed),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "within target",
		},
		"KubeNodeNotReady on a node that is Ready but under memory pressure → manual review": {
			Signal:  node("True", pressure),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "MemoryPressure",
		},
		"KubeNodePressure for DiskPressure on a node with only memory pressure → manual review": {
			Signal:  with(node("True", pressure), alerted(nodeAlert("KubeNodePressure", "node-b", "DiskPressure", "info"), -2*time.Minute)),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "no longer holds",
		},
		"pod alert whose target is a Node → manual review": {
			Signal:  with(node("False"), crashAlert),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "its target is Node/node-b",
		},
		"CPU alert (not in the table, no container) with a saturated HPA → manual review": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { hpa(s, true) }, alerted(appAlert("HighCPUUsage"), -3*time.Minute)),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "names no container",
		},
		"unknown alert naming the container, repeated recent OOM kills → increase_resources": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) { oom(s, 4) },
				alerted(containerAlert("PodRestartsHigh", "", pod0, "app"), -4*time.Minute)),
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web, Params: incResources, MinConf: 0.9,
		},
		"unknown alert naming the container, a single OOM kill → manual review (not strong enough)": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) { oom(s, 1) },
				alerted(containerAlert("PodRestartsHigh", "", pod0, "app"), -4*time.Minute)),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "not strong enough",
		},

		// Evidence must be recent relative to the alert's start.
		"OOM alert firing now, last OOM kill 20 hours ago → manual review (stale)": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { oomAt(s, 1, -20*time.Hour) }, oomAlert),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "more than 1h before the alert began firing",
		},
		"latency alert today, OOM kill 20 hours ago → manual review": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { oomAt(s, 1, -20*time.Hour) }, latency),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "HighRequestLatency",
		},
		"crash loop alert, old OOM kill set aside, no recent change → manual review": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				oomAt(s, 1, -20*time.Hour)
				c := &s.KubernetesContext.Pods[1].Containers[0]
				c.Ready, c.State, c.Reason, c.RestartCount, c.LastTerminationReason, c.LastExitCode, c.LastTerminatedAt = false, "Waiting", "CrashLoopBackOff", 6, "Error", i32(1), at(-time.Minute)
			}, crashAlert),
			Outcome: aiv1.OutcomeManualReviewRequired, Evidence: "set aside: pod web-7d9f8-aaaaa container app was last OOMKilled",
		},
		"OOM kill 40 minutes before the alert began firing → counted": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { oomAt(s, 3, -45*time.Minute) }, oomAlert),
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web, Params: incResources, MinConf: 0.9,
		},
		"OOM alert without a firing time: kills weighed from the time of analysis": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { oom(s, 4) }, oomAlert, func(s *aiv1.SignalContext) { s.FiringTime = nil }),
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web, Params: incResources, MinConf: 0.9,
		},

		// Evidence must be about the alerting container of the current pods.
		"OOM of another container than the alert's → manual review": {
			Signal: with(deployment(), sidecar, func(s *aiv1.SignalContext) {
				c := &s.KubernetesContext.Pods[0].Containers[1]
				c.LastTerminationReason, c.LastExitCode, c.LastTerminatedAt, c.RestartCount = "OOMKilled", i32(137), at(-5*time.Minute), 3
			}, oomAlert),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "the alert is about container app",
		},
		"OOM of the sidecar the alert names → increase_resources on that container": {
			Signal: with(deployment(), sidecar, func(s *aiv1.SignalContext) {
				c := &s.KubernetesContext.Pods[0].Containers[1]
				c.LastTerminationReason, c.LastExitCode, c.LastTerminatedAt, c.RestartCount = "OOMKilled", i32(137), at(-5*time.Minute), 3
			}, alerted(containerAlert("KubePodOOMKilled", "OOMKilled", pod0, "log-shipper"), -4*time.Minute)),
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web,
			Params: map[string]string{"container": "log-shipper", "memory": "48Mi", "memoryLimit": "96Mi"}, MinConf: 0.9,
		},
		"crash loop of another container than the alert's → manual review": {
			Signal:  with(deployment(), freshRollout, sidecar, crashLoop, alerted(containerAlert("KubePodCrashLooping", "CrashLoopBackOff", pod0, "log-shipper"), -5*time.Minute)),
			Outcome: aiv1.OutcomeManualReviewRequired, Evidence: "but the alert is about container log-shipper",
		},
		"OOM of an injected container that is not in the pod template → manual review": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				s.KubernetesContext.Pods[0].Containers = append(s.KubernetesContext.Pods[0].Containers, common.ContainerSummary{Name: "istio-proxy", State: "Running",
					RestartCount: 3, LastTerminationReason: "OOMKilled", LastExitCode: i32(137), LastTerminatedAt: at(-5 * time.Minute), Limits: map[string]string{"memory": "128Mi"}})
			}, alerted(containerAlert("KubePodOOMKilled", "OOMKilled", pod0, "istio-proxy"), -4*time.Minute)),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "not in the pod template",
		},
		"OOM only in a pod of the previous revision → manual review": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				oom(s, 4)
				s.KubernetesContext.Pods[0].Owner = "ReplicaSet/web-6c5b4"
			}, oomAlert),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "not to the current revision",
		},

		// Kubernaut's own recent changes are evidence (the repeat-action rule of the guard).
		"OOM again 2h after increase_resources → manual review, no ratchet": {
			Signal:       with(deployment(), func(s *aiv1.SignalContext) { oom(s, 4) }, oomAlert),
			RepeatWindow: 6 * time.Hour, Changes: []investigator.Change{change("increase_resources", "Deployment/shop/web", 2*time.Hour, "Succeeded", "Remediated")},
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "increase_resources was applied to Deployment/shop/web at 2026-12-02T10:00:00Z",
		},
		"OOM again 7h after increase_resources (outside the 6h window) → increase_resources": {
			Signal:       with(deployment(), func(s *aiv1.SignalContext) { oom(s, 4) }, oomAlert),
			RepeatWindow: 6 * time.Hour, Changes: []investigator.Change{change("increase_resources", "Deployment/shop/web", 7*time.Hour, "Succeeded", "Remediated")},
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web, Params: incResources, MinConf: 0.9,
		},
		"OOM after increase_resources on another Deployment → increase_resources": {
			Signal:       with(deployment(), func(s *aiv1.SignalContext) { oom(s, 4) }, oomAlert),
			RepeatWindow: 6 * time.Hour, Changes: []investigator.Change{change("increase_resources", "Deployment/shop/api", time.Hour, "Succeeded", "Remediated")},
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web, Params: incResources, MinConf: 0.9,
		},
		"OOM after a rolled-back increase_resources 1h ago → manual review": {
			Signal:       with(deployment(), func(s *aiv1.SignalContext) { oom(s, 4) }, oomAlert),
			RepeatWindow: 6 * time.Hour, Changes: []investigator.Change{change("increase_resources", "Deployment/shop/web", time.Hour, "RolledBack", "Ineffective")},
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "RolledBack, outcome Ineffective",
		},
		"crash loop after a rollback 1h ago → manual review, not a second rollback": {
			Signal:       with(deployment(), freshRollout, crashLoop, crashAlert),
			RepeatWindow: 6 * time.Hour, Changes: []investigator.Change{change("rollback_deployment", "Deployment/shop/web", time.Hour, "Succeeded", "Remediated")},
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "rollback_deployment was applied to Deployment/shop/web",
		},
		"OOM after a fresh rollout that Kubernaut rolled back once → increase_resources kept, the rollback alternative dropped": {
			Signal:       with(deployment(), freshRollout, func(s *aiv1.SignalContext) { oom(s, 2) }, oomAlert),
			RepeatWindow: 6 * time.Hour, Changes: []investigator.Change{change("rollback_deployment", "Deployment/shop/web", 3*time.Hour, "Succeeded", "Remediated")},
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web, Params: incResources, MinConf: 0.7,
			Evidence: "alternative rollback_deployment dropped",
		},
		"node NotReady again after a cordon 30m ago → manual review": {
			Signal:       node("False"),
			RepeatWindow: 6 * time.Hour, Changes: []investigator.Change{change("cordon_node", "Node/node-b", 30*time.Minute, "Succeeded", "Remediated")},
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "cordon_node was applied to Node/node-b",
		},
		"history unreadable → recommended, said so (the approval policy asks a person)": {
			Signal:       with(deployment(), func(s *aiv1.SignalContext) { oom(s, 4) }, oomAlert),
			RepeatWindow: 6 * time.Hour, ChangesUnknown: "datastorage unreachable: connection refused",
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web, Params: incResources, MinConf: 0.9, HistoryUnknown: true,
		},
		"no earlier change → recommended, the empty history cited": {
			Signal:       with(deployment(), func(s *aiv1.SignalContext) { oom(s, 4) }, oomAlert),
			RepeatWindow: 6 * time.Hour,
			Outcome:      aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web, Params: incResources, MinConf: 0.9,
			Evidence: "Kubernaut changed nothing on the targets of this signal in the last 6h",
		},

		// A truncated context lowers confidence, or abstains, where the cut matters.
		"OOM with pods cut from the context → increase_resources at 0.75 (a person approves)": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { oom(s, 4) }, oomAlert, truncated("4 pods beyond the 3 most relevant", "2 older event groups")),
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web, Params: incResources, MinConf: 0.75,
			Evidence: "confidence lowered from 0.90 to 0.75",
		},
		"OOM with only messages and namespace labels cut → increase_resources at 0.9": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { oom(s, 4) }, oomAlert, truncated("messages shortened", "namespace annotations and labels")),
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web, Params: incResources, MinConf: 0.9,
		},
		"crash loop after a rollout with older events cut → rollback at 0.75": {
			Signal:  with(deployment(), freshRollout, crashLoop, crashAlert, truncated("5 older event groups")),
			Outcome: aiv1.OutcomeActionRecommended, Action: "rollback_deployment", Target: web, Params: map[string]string{"revision": "6"}, MinConf: 0.75,
		},
		"HPA saturated with pods cut → update_hpa at 0.85 (the HPA rule reads no pods)": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { hpa(s, true) }, hpaTarget, hpaMaxed, truncated("7 pods beyond the 1 most relevant")),
			Outcome: aiv1.OutcomeActionRecommended, Action: "update_hpa", Target: tgt("autoscaling/v2", "HorizontalPodAutoscaler", "shop", "web"),
			Params: map[string]string{"maxReplicas": "15"}, MinConf: 0.85,
		},
		"OOM alert, every pod cut from the context → manual review": {
			Signal: with(deployment(), oomAlert, truncated("3 pods beyond the 0 most relevant"), func(s *aiv1.SignalContext) {
				s.KubernetesContext.Pods = nil
			}),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "truncated and holds no pods",
		},
		"unknown alert, strong OOM evidence but pods cut → manual review": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) { oom(s, 4) },
				alerted(containerAlert("PodRestartsHigh", "", pod0, "app"), -4*time.Minute), truncated("2 pods beyond the 3 most relevant")),
			Outcome: aiv1.OutcomeManualReviewRequired, Reason: "not strong enough",
		},
	}
}

func request(s Scenario) investigator.Request {
	return investigator.Request{Signal: s.Signal, Scope: aiv1.InvestigationScope{TimeWindow: "24h"}, Now: now, AllowDrain: s.AllowDrain,
		RepeatWindow: s.RepeatWindow, Changes: s.Changes, ChangesUnknown: s.ChangesUnknown}
}
