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
	// maxRetries is how often a failed step may be retried. The workflow carries it into the
	// operation; see Operation.maxRetries for what the executor does with it.
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
	// targetUID is the UID of the target as the workflow service validated it; the executor
	// refuses to act when the live object's UID differs (deleted and recreated in between).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	TargetUID string `json:"targetUID,omitempty"`
	// targetResourceVersion is the target's resourceVersion when it was validated (informational:
	// the object may legitimately change before execution; the UID is what must match).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	TargetResourceVersion string `json:"targetResourceVersion,omitempty"`
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
	// maxRetries is recorded from the workflow step. The executor retries errors that leave the
	// change unmade and may pass (conflicts, timeouts, throttling, an unavailable API server)
	// until the operation's timeout, whatever this value; it never repeats a change that was
	// refused, failed or whose post-condition failed: a failure ends the execution, and what it
	// changed is rolled back where the action is reversible.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=5
	MaxRetries int32 `json:"maxRetries,omitempty"`
	// preconditions are what the workflow service validated and a person or the policy approved;
	// the executor refuses (StaleTarget) a target that no longer matches them.
	// +optional
	Preconditions *Preconditions `json:"preconditions,omitempty"`
}

// KubernetesContext is the bounded (about 8 KB serialized) picture of the target that processing
// collects for the analysis: no logs or metrics, only what the API server knows. Fields are
// ordered from most to least useful; when the picture would exceed the bound, processing drops the
// least useful facts first and lists what it dropped in truncated.
type KubernetesContext struct {
	// collectedAt is when processing read these facts; times below are relative to it.
	// +optional
	CollectedAt *metav1.Time `json:"collectedAt,omitempty"`
	// targetNotFound is true when the signal's target did not exist when processing looked
	// (degraded enrichment: only what is still known is filled in).
	// +optional
	TargetNotFound bool `json:"targetNotFound,omitempty"`
	// namespaceLabels are the labels of the target's namespace.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	NamespaceLabels map[string]string `json:"namespaceLabels,omitempty"`
	// namespaceAnnotations are the namespace annotations that matter to a remediation
	// (kubernaut.io/*, environment, criticality, owner/team).
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	NamespaceAnnotations map[string]string `json:"namespaceAnnotations,omitempty"`
	// ownerChain lists the target's owners, nearest first (Pod → ReplicaSet → Deployment,
	// Job → CronJob). For a HorizontalPodAutoscaler target it is the HPA's scale target and
	// that object's owners (HorizontalPodAutoscaler → Deployment); for a PersistentVolumeClaim,
	// its controlling owner when it has one (a StatefulSet, or the Pod of an ephemeral volume).
	// +optional
	// +kubebuilder:validation:MaxItems=8
	OwnerChain []TargetResource `json:"ownerChain,omitempty"`
	// workload summarises the top-level workload (Deployment, StatefulSet, DaemonSet, Job,
	// CronJob) that owns the target, the target itself when it is one, or the scale target of
	// a HorizontalPodAutoscaler target.
	// +optional
	Workload *WorkloadSummary `json:"workload,omitempty"`
	// pvc summarises the PersistentVolumeClaim when it is the target: its size, class, resize
	// state and the pods that mount it.
	// +optional
	PVC *PVCSummary `json:"pvc,omitempty"`
	// rollout is the workload's rollout history: its current and previous revisions.
	// +optional
	Rollout *RolloutHistory `json:"rollout,omitempty"`
	// pods summarises the pods of the target, most relevant (failing, newest) first.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	Pods []PodSummary `json:"pods,omitempty"`
	// nodes summarises the nodes involved: the target Node, or the nodes the target's pods run on.
	// +optional
	// +kubebuilder:validation:MaxItems=5
	Nodes []NodeSummary `json:"nodes,omitempty"`
	// nodeConditions lists the non-healthy conditions of the nodes involved (a flat view of
	// nodes[].conditions for readers that only want the problems).
	// +optional
	// +kubebuilder:validation:MaxItems=20
	NodeConditions []NodeCondition `json:"nodeConditions,omitempty"`
	// hpa is the HorizontalPodAutoscaler whose scale target is the workload, or the target
	// itself when it is one.
	// +optional
	HPA *HPASummary `json:"hpa,omitempty"`
	// pdb is the PodDisruptionBudget that selects the workload's pods.
	// +optional
	PDB *PDBSummary `json:"pdb,omitempty"`
	// recentEvents lists recent Warning events about the target, its pods and its node, grouped
	// by reason and object, newest first.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	RecentEvents []EventSummary `json:"recentEvents,omitempty"`
	// replicas is the desired replica count of a scalable target (same as workload.replicas).
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`
	// readyReplicas is the ready replica count of a scalable target (same as workload.readyReplicas).
	// +optional
	ReadyReplicas *int32 `json:"readyReplicas,omitempty"`
	// truncated lists what was left out to keep the context within its bound, for example
	// "12 older events" or "7 pods beyond the 3 most relevant"; empty when nothing was.
	// +optional
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MaxLength=256
	Truncated []string `json:"truncated,omitempty"`
}

// WorkloadSummary is the replica state of a workload.
type WorkloadSummary struct {
	// kind of the workload: Deployment, StatefulSet, DaemonSet, Job or CronJob.
	// +required
	// +kubebuilder:validation:MaxLength=63
	Kind string `json:"kind"`
	// name of the workload.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// replicas desired (for a DaemonSet: the desired number of scheduled pods).
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`
	// readyReplicas is how many pods are ready.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`
	// updatedReplicas is how many pods run the current template.
	// +optional
	UpdatedReplicas int32 `json:"updatedReplicas,omitempty"`
	// availableReplicas is how many pods are available.
	// +optional
	AvailableReplicas int32 `json:"availableReplicas,omitempty"`
	// paused reports a paused Deployment rollout.
	// +optional
	Paused bool `json:"paused,omitempty"`
	// conditions are the workload's conditions that are not healthy (for example Progressing
	// False with reason ProgressDeadlineExceeded, or Available False).
	// +optional
	// +kubebuilder:validation:MaxItems=8
	Conditions []ConditionSummary `json:"conditions,omitempty"`
	// containers are the pod template's containers with their images and resources.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	Containers []ContainerSpecSummary `json:"containers,omitempty"`
	// gitOps names the GitOps object that applies the workload from Git, when its labels or
	// annotations say so (Argo CD's tracking-id annotation, Flux's ownership labels): a change
	// made to the workload drifts from Git, and the next sync or drift correction reverts it.
	// +optional
	GitOps *GitOpsSource `json:"gitOps,omitempty"`
}

// GitOpsSource is the GitOps object that applies a workload from Git.
type GitOpsSource struct {
	// tool is ArgoCD or Flux.
	// +required
	// +kubebuilder:validation:Enum=ArgoCD;Flux
	Tool string `json:"tool"`
	// kind of the GitOps object: Application (Argo CD), Kustomization or HelmRelease (Flux).
	// +required
	// +kubebuilder:validation:Enum=Application;Kustomization;HelmRelease
	Kind string `json:"kind"`
	// namespace of the GitOps object, when its tool says.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Namespace string `json:"namespace,omitempty"`
	// name of the GitOps object.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// String names the object for a person: "Argo CD Application team-a/shop-web".
func (g *GitOpsSource) String() string {
	tool, name := g.Tool, g.Name
	if tool == "ArgoCD" {
		tool = "Argo CD"
	}
	if g.Namespace != "" {
		name = g.Namespace + "/" + g.Name
	}
	return tool + " " + g.Kind + " " + name
}

// ContainerSpecSummary is one container of a pod template.
type ContainerSpecSummary struct {
	// name of the container.
	// +required
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// image of the container.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Image string `json:"image,omitempty"`
	// requests are the container's resource requests ("cpu": "100m", "memory": "128Mi").
	// +optional
	// +kubebuilder:validation:MaxProperties=8
	Requests map[string]string `json:"requests,omitempty"`
	// limits are the container's resource limits.
	// +optional
	// +kubebuilder:validation:MaxProperties=8
	Limits map[string]string `json:"limits,omitempty"`
	// hasLivenessProbe reports whether the container has a liveness probe.
	// +optional
	HasLivenessProbe bool `json:"hasLivenessProbe,omitempty"`
}

// ConditionSummary is one condition of an object, shortened.
type ConditionSummary struct {
	// type of the condition.
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
	// message of the condition, shortened.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Message string `json:"message,omitempty"`
	// lastTransitionTime is when the status last changed.
	// +optional
	LastTransitionTime *metav1.Time `json:"lastTransitionTime,omitempty"`
}

// RolloutHistory is the current and previous revision of a workload.
type RolloutHistory struct {
	// current is the revision the workload runs now.
	// +optional
	Current *RevisionSummary `json:"current,omitempty"`
	// previous is the revision before it, the one a rollback returns to.
	// +optional
	Previous *RevisionSummary `json:"previous,omitempty"`
	// revisionCount is how many revisions the cluster still keeps.
	// +optional
	RevisionCount int32 `json:"revisionCount,omitempty"`
}

// RevisionSummary is one revision of a workload (a ReplicaSet of a Deployment, a
// ControllerRevision of a StatefulSet or DaemonSet).
type RevisionSummary struct {
	// revision number (the deployment.kubernetes.io/revision annotation).
	// +optional
	Revision int64 `json:"revision,omitempty"`
	// name of the ReplicaSet or ControllerRevision.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`
	// images are the revision's container images as "container=image".
	// +optional
	// +kubebuilder:validation:MaxItems=10
	// +kubebuilder:validation:items:MaxLength=576
	Images []string `json:"images,omitempty"`
	// becameCurrentAt is when this revision became the current one (its creation, or the
	// moment a rollback made it current again).
	// +optional
	BecameCurrentAt *metav1.Time `json:"becameCurrentAt,omitempty"`
	// replicas is how many pods of this revision exist.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`
	// readyReplicas is how many pods of this revision are ready.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`
}

// NodeSummary is the state of one node.
type NodeSummary struct {
	// name of the node.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// ready is the status of the node's Ready condition: True, False or Unknown.
	// +optional
	// +kubebuilder:validation:MaxLength=16
	Ready string `json:"ready,omitempty"`
	// unschedulable reports a cordoned node.
	// +optional
	Unschedulable bool `json:"unschedulable,omitempty"`
	// conditions are the node's Ready and pressure conditions (MemoryPressure, DiskPressure,
	// PIDPressure, NetworkUnavailable) with reasons and transition times.
	// +optional
	// +kubebuilder:validation:MaxItems=8
	Conditions []ConditionSummary `json:"conditions,omitempty"`
	// taints of the node, as "key=value:Effect".
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=384
	Taints []string `json:"taints,omitempty"`
	// allocatable resources of the node ("cpu": "4", "memory": "16Gi", "pods": "110").
	// +optional
	// +kubebuilder:validation:MaxProperties=8
	Allocatable map[string]string `json:"allocatable,omitempty"`
	// podCount is how many pods are bound to the node.
	// +optional
	PodCount int32 `json:"podCount,omitempty"`
}

// HPASummary is the state of a HorizontalPodAutoscaler.
type HPASummary struct {
	// name of the HorizontalPodAutoscaler.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// minReplicas is the lower bound.
	// +optional
	MinReplicas int32 `json:"minReplicas,omitempty"`
	// maxReplicas is the upper bound.
	// +optional
	MaxReplicas int32 `json:"maxReplicas,omitempty"`
	// currentReplicas is the current replica count.
	// +optional
	CurrentReplicas int32 `json:"currentReplicas,omitempty"`
	// desiredReplicas is the count the autoscaler last computed.
	// +optional
	DesiredReplicas int32 `json:"desiredReplicas,omitempty"`
	// atMaximum reports currentReplicas >= maxReplicas.
	// +optional
	AtMaximum bool `json:"atMaximum,omitempty"`
	// scalingLimited reports the ScalingLimited condition True (the desired count was clamped).
	// +optional
	ScalingLimited bool `json:"scalingLimited,omitempty"`
	// scalingLimitedReason is the reason of the ScalingLimited condition, for example TooManyReplicas.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	ScalingLimitedReason string `json:"scalingLimitedReason,omitempty"`
	// currentMetrics are the observed metrics against their targets, for example
	// "cpu: 95% of requests (target 80%)".
	// +optional
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MaxLength=256
	CurrentMetrics []string `json:"currentMetrics,omitempty"`
	// controller is the HPA's own controller when it has one (a KEDA ScaledObject): it keeps the
	// HPA as its own spec says and would undo a change made to the HPA itself.
	// +optional
	Controller *TargetResource `json:"controller,omitempty"`
}

// PDBSummary is the state of a PodDisruptionBudget.
type PDBSummary struct {
	// name of the PodDisruptionBudget.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// disruptionsAllowed is how many pods may be evicted now.
	// +optional
	DisruptionsAllowed int32 `json:"disruptionsAllowed"`
	// currentHealthy is how many selected pods are healthy.
	// +optional
	CurrentHealthy int32 `json:"currentHealthy,omitempty"`
	// desiredHealthy is how many must stay healthy.
	// +optional
	DesiredHealthy int32 `json:"desiredHealthy,omitempty"`
	// expectedPods is how many pods the budget counts.
	// +optional
	ExpectedPods int32 `json:"expectedPods,omitempty"`
}

// PVCSummary is the state of a PersistentVolumeClaim.
type PVCSummary struct {
	// name of the PersistentVolumeClaim.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// phase of the claim: Pending, Bound or Lost.
	// +optional
	// +kubebuilder:validation:MaxLength=16
	Phase string `json:"phase,omitempty"`
	// requested is the storage the claim asks for (spec.resources.requests.storage), for example "10Gi".
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Requested string `json:"requested,omitempty"`
	// capacity is the storage of the bound volume (status.capacity.storage); below requested
	// while a resize has not finished.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Capacity string `json:"capacity,omitempty"`
	// allocated is the storage the resize controller works towards (status.allocatedResources),
	// when a resize was asked for.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Allocated string `json:"allocated,omitempty"`
	// resizeStatus is the storage resize state (status.allocatedResourceStatuses.storage), for
	// example ControllerResizeInProgress, NodeResizePending or ControllerResizeInfeasible.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	ResizeStatus string `json:"resizeStatus,omitempty"`
	// storageClassName is the claim's StorageClass; empty for a claim without one.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	StorageClassName string `json:"storageClassName,omitempty"`
	// allowVolumeExpansion reports whether the StorageClass allows the claim to grow; absent
	// when the claim has no class or the class does not exist.
	// +optional
	AllowVolumeExpansion *bool `json:"allowVolumeExpansion,omitempty"`
	// accessModes of the claim, for example ReadWriteOnce.
	// +optional
	// +kubebuilder:validation:MaxItems=4
	// +kubebuilder:validation:items:MaxLength=32
	AccessModes []string `json:"accessModes,omitempty"`
	// volumeMode of the claim: Filesystem or Block.
	// +optional
	// +kubebuilder:validation:MaxLength=16
	VolumeMode string `json:"volumeMode,omitempty"`
	// volumeName is the PersistentVolume bound to the claim.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	VolumeName string `json:"volumeName,omitempty"`
	// conditions of the claim, for example Resizing or FileSystemResizePending.
	// +optional
	// +kubebuilder:validation:MaxItems=8
	Conditions []ConditionSummary `json:"conditions,omitempty"`
	// mountedBy lists the pods that mount the claim, most relevant (failing, newest) first, with
	// their workload; their states are in pods[].
	// +optional
	// +kubebuilder:validation:MaxItems=10
	MountedBy []PVCMount `json:"mountedBy,omitempty"`
}

// PVCMount is one pod that mounts a PersistentVolumeClaim.
type PVCMount struct {
	// pod is the name of the pod.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Pod string `json:"pod"`
	// workload is the pod's top-level controller as kind/name, for example StatefulSet/db or
	// Deployment/web; empty for a pod without one.
	// +optional
	// +kubebuilder:validation:MaxLength=320
	Workload string `json:"workload,omitempty"`
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
	// reason of the pod's status, for example Evicted.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Reason string `json:"reason,omitempty"`
	// owner is the pod's controlling owner as kind/name, for example ReplicaSet/web-7d9f8.
	// +optional
	// +kubebuilder:validation:MaxLength=320
	Owner string `json:"owner,omitempty"`
	// createdAt is the pod's creation time.
	// +optional
	CreatedAt *metav1.Time `json:"createdAt,omitempty"`
	// conditions are the pod's conditions that are not True (PodScheduled, Initialized,
	// ContainersReady, Ready), with reasons.
	// +optional
	// +kubebuilder:validation:MaxItems=8
	Conditions []ConditionSummary `json:"conditions,omitempty"`
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
	// message of the current state, shortened (for example "Back-off pulling image ...").
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Message string `json:"message,omitempty"`
	// image the container runs.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Image string `json:"image,omitempty"`
	// exitCode of the current state when it is Terminated.
	// +optional
	ExitCode *int32 `json:"exitCode,omitempty"`
	// startedAt is when the container's current run started (Running state).
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// lastTerminationReason is why the container last terminated, for example OOMKilled.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	LastTerminationReason string `json:"lastTerminationReason,omitempty"`
	// lastExitCode is the exit code of the last termination (137 for OOMKilled).
	// +optional
	LastExitCode *int32 `json:"lastExitCode,omitempty"`
	// lastTerminatedAt is when the container last terminated.
	// +optional
	LastTerminatedAt *metav1.Time `json:"lastTerminatedAt,omitempty"`
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
	// message of the condition, shortened.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Message string `json:"message,omitempty"`
	// lastTransitionTime is when the status last changed.
	// +optional
	LastTransitionTime *metav1.Time `json:"lastTransitionTime,omitempty"`
}

// EventSummary is one group of Kubernetes events (same reason, same object), shortened.
type EventSummary struct {
	// type of the events: Warning or Normal.
	// +optional
	// +kubebuilder:validation:MaxLength=16
	Type string `json:"type,omitempty"`
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
	// count is how often the event occurred (summed over the group).
	// +optional
	Count int32 `json:"count,omitempty"`
	// firstTimestamp is when the event first occurred.
	// +optional
	FirstTimestamp *metav1.Time `json:"firstTimestamp,omitempty"`
	// lastTimestamp is when the event last occurred.
	// +optional
	LastTimestamp *metav1.Time `json:"lastTimestamp,omitempty"`
}

// ConditionReady is the summary condition every Kubernaut kind carries.
const ConditionReady = "Ready"
