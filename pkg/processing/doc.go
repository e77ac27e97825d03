// Package processing is the first link of a remediation: it enriches the signal of each
// RemediationProcessing with the Kubernetes facts an investigator needs and classifies its
// environment and business priority.
//
// Phases: Pending → Enriching (status patched with startTime) → Classifying → Completed, or
// Failed when the reads do not finish within --enrichment-timeout (reason EnrichmentTimedOut)
// or keep failing for that long (reason EnrichmentFailed). A target (or namespace) that does
// not exist completes in degraded mode: Ready True with reason TargetNotFound and
// kubernetesContext.targetNotFound=true, with whatever is still known (namespace, events).
//
// Targets: Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, Node,
// HorizontalPodAutoscaler and PersistentVolumeClaim. An HPA target (KubeHpaMaxedOut,
// KubeHpaReplicasMismatch) fills hpa from the HPA itself and then enriches its scale target
// (Deployment, StatefulSet or ReplicaSet) as if it were the target: workload, rollout, pods, PDB,
// nodes and events, with ownerChain HPA → workload; update_hpa takes the HPA, the workload's
// actions the workload. A PVC target (KubePersistentVolumeFillingUp) fills pvc: requested,
// actual and allocated size, resize status and conditions (FileSystemResizePending, Resizing),
// storage class and whether it allows expansion (what expand_pvc needs), access and volume
// mode, and the pods that mount it with their top-level workload (their states in pods).
//
// The alert's own labels focus the context (see Focus): its `pod`, when it is one of the target's
// pods, comes first among the pods; its `container`, when the target has one of that name, comes
// first in every pod and in the workload's containers, orders the other pods by its own trouble,
// and is never cut by the bound (nor its message shortened). Node targets are not focused.
//
// Enrichment reads the cluster live, on demand, and bounded (see Enricher and reads.go): the
// target's namespace, the target and its owners by name; its pods and ReplicaSets by the
// workload's label selector in the target's namespace; the HPA and PDB of that namespace; the
// nodes of its most relevant pods by name, with the pods each runs counted from their metadata
// (by spec.nodeName); a claim target's claim and StorageClass by name and the pods of its
// namespace that mount it; and the Warning events about all of these, read in one page for the
// namespace (type=Warning) or, in a namespace with more than that, object by object with field
// selectors on the involved object. Every list is paged and stops at a bound (what a bound cut is
// said in truncated), the independent reads of one enrichment run in parallel, a few at a time,
// and nothing is read twice: the service's memory does not grow with the cluster, and the
// number of reads of an enrichment does not grow with its workload. The manager's cache holds
// only the RemediationProcessings and the policy ConfigMap (see CacheOptions). The context is
// bounded by --max-context-bytes (8 KiB of JSON by default); what is dropped is listed in its
// truncated field.
//
// Classification (package classify): environment from the namespace label
// kubernaut.io/environment, then the namespace labels environment/env, then the signal's own
// label, then the policy's namespace overrides, then the namespace name; business priority from
// the policy's CEL rules, else its severity × environment table, raised by the namespace label
// kubernaut.io/criticality. The policy lives in a ConfigMap (key policy.yaml) in the system
// namespace and is reloaded when it changes; an invalid one is refused with a Warning event
// (PolicyInvalid) and the last good one stays.
//
// Metrics (controller-runtime registry):
//   - kubernaut_processing_enrichment_duration_seconds: duration of one enrichment.
//   - kubernaut_processing_enrichment_api_reads: API server reads (gets and list pages) of one
//     enrichment.
//   - kubernaut_processing_enrichments_total{result}: enriched, degraded, failed, timed_out.
//   - kubernaut_processing_degraded_enrichments_total: completions with the target not found.
//   - kubernaut_processing_classifications_total{environment_source,priority_from}: by the
//     source of the environment and whether a rule or the table decided the priority.
//   - kubernaut_processing_context_bytes: size of the serialized context.
//   - kubernaut_processing_context_truncations_total: contexts trimmed to fit the bound.
//   - kubernaut_processing_policy_reloads_total{result}: loaded, invalid, removed.
//   - kubernaut_processing_policy_rule_errors_total: CEL evaluations that failed (no match).
package processing
