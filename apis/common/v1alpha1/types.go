// Package v1alpha1 holds the shapes that several Kubernaut kinds share: references between
// resources, the target of a remediation, workflow steps and executable operations, and the
// bounded Kubernetes context that processing collects. It registers no kind of its own.
// +kubebuilder:object:generate=true
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ObjectReference names a Kubernaut resource in a namespace.
type ObjectReference struct {
	// name of the referenced object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// namespace of the referenced object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace"`
}

// TargetResource identifies the Kubernetes object a signal is about and a remediation acts on.
type TargetResource struct {
	// apiVersion of the target, for example "apps/v1" or "v1".
	// +optional
	// +kubebuilder:validation:MaxLength=253
	APIVersion string `json:"apiVersion,omitempty"`
	// kind of the target, for example "Deployment", "Pod" or "Node".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Kind string `json:"kind"`
	// namespace of the target; empty for cluster-scoped kinds such as Node.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
	// name of the target.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// WorkflowStep is one step of a remediation workflow, as recommended by the AI analysis and
// planned by the workflow service. Parameters are validated against the action catalog.
type WorkflowStep struct {
	// name of the step, unique within the workflow.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9_]*[a-z0-9])?$`
	Name string `json:"name"`
	// action is the catalog action the step runs, for example "scale_deployment".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Action string `json:"action"`
	// target is the object the step acts on; defaults to the signal's target when omitted.
	// +optional
	Target *TargetResource `json:"target,omitempty"`
	// parameters of the action, as strings (`replicas: "3"`, `memory: "256Mi"`).
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Parameters map[string]string `json:"parameters,omitempty"`
	// dependsOn lists the names of steps that must complete before this one.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	// +listType=set
	DependsOn []string `json:"dependsOn,omitempty"`
	// timeout bounds the step, for example "5m".
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
	// maxRetries is how often a failed step is retried.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=5
	MaxRetries int32 `json:"maxRetries,omitempty"`
}

// Operation is one validated, dependency-ordered operation with a resolved target, as
// produced by the workflow service and run by the executor.
type Operation struct {
	// name of the operation, unique within its execution.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// action is the catalog action the operation runs.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Action string `json:"action"`
	// target is the resolved object the operation acts on.
	// +required
	Target TargetResource `json:"target"`
	// parameters of the action, with catalog defaults filled in.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Parameters map[string]string `json:"parameters,omitempty"`
	// dependsOn lists the names of operations that must complete before this one.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	// +listType=set
	DependsOn []string `json:"dependsOn,omitempty"`
	// timeout bounds the operation, for example "5m".
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// KubernetesContext is the bounded (about 8 KB) picture of the target that processing collects
// for the analysis: no logs or metrics, only what the API server knows.
type KubernetesContext struct {
	// namespaceLabels are the labels of the target's namespace.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	NamespaceLabels map[string]string `json:"namespaceLabels,omitempty"`
	// ownerChain lists the target's owners, nearest first (Pod → ReplicaSet → Deployment).
	// +optional
	// +kubebuilder:validation:MaxItems=8
	OwnerChain []TargetResource `json:"ownerChain,omitempty"`
	// pods summarises the pods of the target.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	Pods []PodSummary `json:"pods,omitempty"`
	// nodeConditions lists the non-healthy conditions of the nodes involved.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	NodeConditions []NodeCondition `json:"nodeConditions,omitempty"`
	// recentEvents lists recent Warning events about the target and its pods.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	RecentEvents []EventSummary `json:"recentEvents,omitempty"`
	// replicas is the desired replica count of a scalable target.
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`
	// readyReplicas is the ready replica count of a scalable target.
	// +optional
	ReadyReplicas *int32 `json:"readyReplicas,omitempty"`
}

// PodSummary is what the analysis needs to know about one pod.
type PodSummary struct {
	// name of the pod.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// phase of the pod (Pending, Running, Succeeded, Failed, Unknown).
	// +optional
	// +kubebuilder:validation:MaxLength=32
	Phase string `json:"phase,omitempty"`
	// nodeName is the node the pod runs on.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	NodeName string `json:"nodeName,omitempty"`
	// containers summarises each container of the pod.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	Containers []ContainerSummary `json:"containers,omitempty"`
}

// ContainerSummary is the state, restarts and resources of one container.
type ContainerSummary struct {
	// name of the container.
	// +required
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// ready reports whether the container passes its readiness probe.
	// +optional
	Ready bool `json:"ready,omitempty"`
	// restartCount is the number of restarts of the container.
	// +optional
	RestartCount int32 `json:"restartCount,omitempty"`
	// state is the current state: Running, Waiting or Terminated.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	State string `json:"state,omitempty"`
	// reason of the current state, for example CrashLoopBackOff.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Reason string `json:"reason,omitempty"`
	// lastTerminationReason is why the container last terminated, for example OOMKilled.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	LastTerminationReason string `json:"lastTerminationReason,omitempty"`
	// requests are the container's resource requests ("cpu": "100m", "memory": "128Mi").
	// +optional
	// +kubebuilder:validation:MaxProperties=8
	Requests map[string]string `json:"requests,omitempty"`
	// limits are the container's resource limits.
	// +optional
	// +kubebuilder:validation:MaxProperties=8
	Limits map[string]string `json:"limits,omitempty"`
}

// NodeCondition is one condition of a node.
type NodeCondition struct {
	// node is the node's name.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Node string `json:"node"`
	// type of the condition, for example MemoryPressure.
	// +required
	// +kubebuilder:validation:MaxLength=63
	Type string `json:"type"`
	// status of the condition: True, False or Unknown.
	// +required
	// +kubebuilder:validation:MaxLength=16
	Status string `json:"status"`
	// reason of the condition.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Reason string `json:"reason,omitempty"`
}

// EventSummary is one Kubernetes event, shortened.
type EventSummary struct {
	// reason of the event, for example BackOff.
	// +required
	// +kubebuilder:validation:MaxLength=128
	Reason string `json:"reason"`
	// message of the event, shortened.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Message string `json:"message,omitempty"`
	// object the event is about, as kind/name.
	// +optional
	// +kubebuilder:validation:MaxLength=320
	Object string `json:"object,omitempty"`
	// count is how often the event occurred.
	// +optional
	Count int32 `json:"count,omitempty"`
	// lastTimestamp is when the event last occurred.
	// +optional
	LastTimestamp *metav1.Time `json:"lastTimestamp,omitempty"`
}

// ConditionReady is the summary condition every Kubernaut kind carries.
const ConditionReady = "Ready"
