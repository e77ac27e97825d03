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
	return aiv1.SignalContext{Fingerprint: "f", SignalName: "KubePodCrashLooping", Severity: "critical", Environment: "production", BusinessPriority: "P0",
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

func oom(s *aiv1.SignalContext, restarts int32) {
	c := &s.KubernetesContext.Pods[0].Containers[0]
	c.LastTerminationReason, c.LastExitCode, c.LastTerminatedAt, c.RestartCount = "OOMKilled", i32(137), at(-5*time.Minute), restarts
}

func podTarget(s *aiv1.SignalContext) {
	s.ResourceKind, s.ResourceName = "Pod", s.KubernetesContext.Pods[0].Name
	s.KubernetesContext.OwnerChain = []common.TargetResource{
		{APIVersion: "apps/v1", Kind: "ReplicaSet", Namespace: "shop", Name: "web-7d9f8"},
		{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"},
	}
}

func node(ready string, conds ...common.ConditionSummary) aiv1.SignalContext {
	return aiv1.SignalContext{Fingerprint: "f", SignalName: "KubeNodeNotReady", Severity: "critical", Environment: "production", BusinessPriority: "P0",
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
	s.SignalName = "HighCPUUsage"
}

func liveness(s *aiv1.SignalContext, count int32) {
	kc := s.KubernetesContext
	for i := range kc.Pods {
		kc.Pods[i].Containers[0].RestartCount = 2
	}
	kc.RecentEvents = append(kc.RecentEvents, common.EventSummary{Type: "Warning", Reason: "Unhealthy", Object: "Pod/web-7d9f8-aaaaa", Count: count,
		Message: "Liveness probe failed: Get \"http://10.0.0.5:8080/healthz\": context deadline exceeded", FirstTimestamp: at(-30 * time.Minute), LastTimestamp: at(-time.Minute)})
}

// Scenario is one named situation with the expected builtin answer.
type Scenario struct {
	Signal     aiv1.SignalContext
	AllowDrain bool
	Outcome    aiv1.Outcome
	Action     string                 // top recommendation's action
	Target     *common.TargetResource // first step's target
	Params     map[string]string      // first step's parameters
	Steps      []string               // actions of the top recommendation's steps, when more than one
	MinConf    float64
	Alts       int // alternatives beyond the top recommendation
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

// Scenarios is the builtin rules' table: every rule, and every case where no guess is made.
func Scenarios() map[string]Scenario {
	web := tgt("apps/v1", "Deployment", "shop", "web")
	nodeB := tgt("v1", "Node", "", "node-b")
	pressure := common.ConditionSummary{Type: "MemoryPressure", Status: "True", Reason: "KubeletHasInsufficientMemory", LastTransitionTime: at(-5 * time.Minute)}
	return map[string]Scenario{
		"OOMKilled pod of a Deployment → increase_resources on the Deployment": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { oom(s, 4) }, podTarget),
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web,
			Params: map[string]string{"container": "app", "memory": "192Mi", "memoryLimit": "384Mi"}, MinConf: 0.9,
		},
		"OOMKilled once → increase_resources, lower confidence": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { oom(s, 1) }),
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web,
			Params: map[string]string{"container": "app", "memory": "192Mi", "memoryLimit": "384Mi"}, MinConf: 0.85,
		},
		"OOMKilled StatefulSet → increase_resources on the StatefulSet": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				oom(s, 3)
				s.ResourceKind, s.ResourceName = "StatefulSet", "db"
				s.KubernetesContext.Workload.Kind, s.KubernetesContext.Workload.Name = "StatefulSet", "db"
				s.KubernetesContext.OwnerChain = []common.TargetResource{{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: "shop", Name: "db"}}
				s.KubernetesContext.Rollout = nil
			}),
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: tgt("apps/v1", "StatefulSet", "shop", "db"),
			Params: map[string]string{"container": "app", "memory": "192Mi", "memoryLimit": "384Mi"}, MinConf: 0.9,
		},
		"OOMKilled near the cap → capped at 8Gi": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				oom(s, 3)
				s.KubernetesContext.Workload.Containers[0].Limits["memory"] = "6Gi"
				s.KubernetesContext.Workload.Containers[0].Requests["memory"] = "6Gi"
			}),
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web,
			Params: map[string]string{"container": "app", "memory": "8Gi", "memoryLimit": "8Gi"}, MinConf: 0.9,
		},
		"OOMKilled after a fresh rollout → increase_resources at 0.7, rollback as alternative": {
			Signal:  with(deployment(), freshRollout, func(s *aiv1.SignalContext) { oom(s, 2) }),
			Outcome: aiv1.OutcomeActionRecommended, Action: "increase_resources", Target: web,
			Params: map[string]string{"container": "app", "memory": "192Mi", "memoryLimit": "384Mi"}, MinConf: 0.7, Alts: 1,
		},
		"crash loop that began with the latest rollout → rollback_deployment": {
			Signal:  with(deployment(), freshRollout, crashLoop),
			Outcome: aiv1.OutcomeActionRecommended, Action: "rollback_deployment", Target: web,
			Params: map[string]string{"revision": "6"}, MinConf: 0.9,
		},
		"image pull failure of the new image → rollback_deployment": {
			Signal:  with(deployment(), freshRollout, imagePull),
			Outcome: aiv1.OutcomeActionRecommended, Action: "rollback_deployment", Target: web,
			Params: map[string]string{"revision": "6"}, MinConf: 0.9,
		},
		"node NotReady → cordon_node": {
			Signal:  node("False"),
			Outcome: aiv1.OutcomeActionRecommended, Action: "cordon_node", Target: nodeB, MinConf: 0.9,
		},
		"node NotReady, drain allowed → cordon_node then drain_node": {
			Signal: node("False"), AllowDrain: true,
			Outcome: aiv1.OutcomeActionRecommended, Action: "cordon_node", Target: nodeB, Steps: []string{"cordon_node", "drain_node"}, MinConf: 0.9,
		},
		"node under memory pressure → cordon_node": {
			Signal:  node("True", pressure),
			Outcome: aiv1.OutcomeActionRecommended, Action: "cordon_node", Target: nodeB, MinConf: 0.85,
		},
		"HPA at its maximum while saturated → update_hpa": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { hpa(s, true) }),
			Outcome: aiv1.OutcomeActionRecommended, Action: "update_hpa", Target: tgt("autoscaling/v2", "HorizontalPodAutoscaler", "shop", "web"),
			Params: map[string]string{"maxReplicas": "15"}, MinConf: 0.85,
		},
		"repeated liveness failures, no recent change → rollout_restart": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { liveness(s, 6) }),
			Outcome: aiv1.OutcomeActionRecommended, Action: "rollout_restart", Target: web, MinConf: 0.7,
		},
		"node recovered → no action required": {
			Signal:  node("True"),
			Outcome: aiv1.OutcomeNoActionRequired,
		},

		// Not guessed.
		"crash loop with no recent change → manual review": {
			Signal: with(deployment(), crashLoop), Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"crash loop that began hours after the rollout → manual review": {
			Signal: with(deployment(), freshRollout, crashLoop, func(s *aiv1.SignalContext) {
				s.KubernetesContext.Rollout.Current.BecameCurrentAt = at(-6 * time.Hour)
				s.KubernetesContext.RecentEvents = []common.EventSummary{{Type: "Warning", Reason: "BackOff", Object: "Pod/web-7d9f8-aaaaa", Count: 9, FirstTimestamp: at(-30 * time.Minute)}}
			}),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"crash loop after a rollout without a previous revision → manual review": {
			Signal:  with(deployment(), freshRollout, crashLoop, func(s *aiv1.SignalContext) { s.KubernetesContext.Rollout.Previous = nil }),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"crash loop after a rollout of a StatefulSet → manual review": {
			Signal: with(deployment(), freshRollout, crashLoop, func(s *aiv1.SignalContext) {
				s.KubernetesContext.Workload.Kind = "StatefulSet"
			}),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"failing pods of the old revision during a rollout → manual review": {
			Signal: with(deployment(), freshRollout, crashLoop, func(s *aiv1.SignalContext) {
				s.KubernetesContext.Pods[0].Owner = "ReplicaSet/web-6c5b4"
			}),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"OOMKilled without memory limit or request → manual review": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				oom(s, 3)
				s.KubernetesContext.Workload.Containers[0].Limits, s.KubernetesContext.Workload.Containers[0].Requests = nil, nil
				s.KubernetesContext.Pods[0].Containers[0].Limits, s.KubernetesContext.Pods[0].Containers[0].Requests = nil, nil
			}),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"OOMKilled at the 8Gi cap → manual review (leak)": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				oom(s, 3)
				s.KubernetesContext.Workload.Containers[0].Limits["memory"] = "8Gi"
			}),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"OOMKilled a week ago, outside the window → not blamed (manual review)": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				oom(s, 1)
				s.KubernetesContext.Pods[0].Containers[0].LastTerminatedAt = at(-7 * 24 * time.Hour)
			}),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"unschedulable pod → manual review": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				p := &s.KubernetesContext.Pods[2]
				p.Phase, p.NodeName, p.Containers[0].Ready, p.Containers[0].State = "Pending", "", false, "Waiting"
				p.Conditions = []common.ConditionSummary{{Type: "PodScheduled", Status: "False", Reason: "Unschedulable", Message: "0/3 nodes are available: 3 Insufficient memory."}}
			}),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"latency alert on healthy pods → manual review": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { s.SignalName = "HighRequestLatency" }),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"HPA at its maximum, load below target → manual review": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { hpa(s, false) }),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"liveness failures after a recent rollout → manual review": {
			Signal:  with(deployment(), freshRollout, func(s *aiv1.SignalContext) { liveness(s, 6) }),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"a single liveness failure → manual review": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { liveness(s, 1) }),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"node already cordoned, drain not allowed → manual review": {
			Signal:  with(node("False"), func(s *aiv1.SignalContext) { s.KubernetesContext.Nodes[0].Unschedulable = true }),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"target not found → manual review": {
			Signal: with(deployment(), func(s *aiv1.SignalContext) {
				s.KubernetesContext = &common.KubernetesContext{CollectedAt: at(0), TargetNotFound: true}
			}),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
		"no Kubernetes context → manual review": {
			Signal:  with(deployment(), func(s *aiv1.SignalContext) { s.KubernetesContext = nil }),
			Outcome: aiv1.OutcomeManualReviewRequired,
		},
	}
}

func request(s Scenario) investigator.Request {
	return investigator.Request{Signal: s.Signal, Scope: aiv1.InvestigationScope{TimeWindow: "24h"}, Now: now, AllowDrain: s.AllowDrain}
}
