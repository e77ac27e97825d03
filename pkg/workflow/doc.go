// Package workflow is the workflow service's controller: it turns the steps of a
// WorkflowExecution (the top recommendation of the AI analysis, created by the orchestrator)
// into validated, dependency-ordered operations that the orchestrator copies into a
// KubernetesExecution.
//
// Phases: Pending → Planning → Validating → Completed | Failed, all within workflowTimeout
// (counted from status.startTime; a workflow still validating at its deadline fails with
// WorkflowTimedOut). The Ready condition summarises the phase with a typed reason declared in
// apis/workflowexecution/v1alpha1.
//
// Planning (NewPlan, no API calls) checks every step against the action catalog
// (pkg/shared/actions): a known action, a target of a kind it accepts (a step without target
// takes spec.targetResource, a namespaced target without namespace takes its namespace), valid
// parameters (every problem of every step reported at once), then fills in catalog defaults,
// the step timeout (StepTimeout: the step's own, else its action's in the catalog, else
// executionConfig.stepTimeout) and retries. dependsOn
// must name steps of the workflow and form no cycle (the message names the cycle). Operations
// are ordered as they would start with concurrencyLimit at once, each taking its whole timeout;
// the finish of the last (status.estimatedDuration) must fit in workflowTimeout.
//
// Validating checks each operation against the live cluster (targets are read live, never from
// a cache) and records each check in status.validationResults[].checks:
//   - TargetExists: the target exists; its UID, resourceVersion and preconditions
//     (pkg/shared/actions/preconditions: its generation and, for a Deployment, its revision and
//     the pod-template-hash of its current ReplicaSet) go into the operation, so that the
//     executor refuses to act on an object deleted and recreated since (TargetUIDMismatch) or
//     changed since (StaleTarget: a person's roll-forward is never rolled back unseen);
//   - TargetResolves: the target has what the action touches — the named containers of a
//     resource change, an earlier revision for a rollback, the Pods a drain evicts, a controller
//     that recreates a restarted Pod, a taint to remove, HPA bounds that stay ordered;
//   - Permission: SubjectAccessReviews that the executor's ServiceAccount may use every verb the
//     catalog lists for the action on this target;
//   - DryRun: the executor's call sent with dryRun=All — the same patch, built by
//     the action's file in pkg/shared/actions from the live object, that the executor sends — and the diff of
//     the target it reports (validationResults[].diff, via pkg/shared/objdiff); delete and
//     evict actions are dry-run per Pod.
//
// Dry-run workflows (executionConfig.dryRun) are planned and validated the same way;
// status.dryRun and the messages say so.
//
// Metrics (controller-runtime registry):
//   - kubernaut_workflow_planning_duration_seconds: time to plan one workflow.
//   - kubernaut_workflow_validation_duration_seconds: time to validate one workflow's operations.
//   - kubernaut_workflow_validation_failures_total{reason}: operations failing validation.
//   - kubernaut_workflow_workflows_total{phase}: workflows reaching Completed or Failed.
package workflow
