// Package executor runs KubernetesExecutions: the validated, dependency-ordered operations of a
// remediation, against the cluster, safely, exactly once, with dry-run and rollback.
// docs/executor.md is the operator's guide (configuration keys, refusal reasons, metrics).
//
// Phases: Pending → Validating → Executing → Completed | Failed | RolledBack.
//
// The executor trusts nothing it is handed (chain.go). Before anything else, and again right
// before every change, it reads live the chain the execution must come from: its controller
// owner is the RemediationRequest its spec names, which names it (status.kubernetesExecutionRef)
// and has not ended; the request's WorkflowExecution is Completed and validated exactly these
// operations; the request's AIAnalysis recommended the steps the workflow planned and was
// approved, by the policy or, when approval was required, by a person (decision Approved,
// decidedBy). Anything else is refused ChainNotApproved with nothing changed. A new execution
// waits up to a minute for its request to name it.
//
// Validation then checks every operation before anything changes: a catalog action with an
// implementation (pkg/executor/action), a target kind it accepts, valid parameters, the live
// target exists, its UID is the one the workflow validated and it is as the workflow validated
// it (preconditions: generation, Deployment revision and pod-template-hash; StaleTarget
// otherwise; pkg/shared/actions/preconditions), the namespace is labelled
// kubernaut.io/managed=true, is not denied and neither it nor the target is labelled
// kubernaut.io/protected=true, node actions only on managed nodes (or when enabled) and never
// past the configured share of unavailable nodes (counted on every node action, whatever the
// nodes' taints), no other node action running, the blast radius (replicas, never 0, scale
// factor, resource caps, pods a drain or NoExecute taint evicts), the change budgets per
// namespace and per cluster and hour, the per-target cooldown (the kubernaut.io/last-remediation
// annotation on the target, so it survives restarts; restart_pod and delete_failed_pods, which
// delete rather than write their target, count against the pod's controller or their Deployment
// or Namespace through the cooldownKey of earlier executions' results), and a server-side
// dry-run. Each operation is checked again right before its change; the budgets, the node share
// and the one-node-action rule are counted there from the live state under a lock held until
// the operation is recorded Running (the executor is leader-elected: its executions are all of
// them). A refusal ends the operation Refused with a typed reason and changes nothing.
//
// When a second operation targets an object an earlier operation of the same execution changed,
// the validated preconditions no longer describe it: it must be as that operation left it (the
// generation its change produced, kept in the operation's recorded state), so that the first
// change and the rollout that follows are not held against it, and a change by anyone else in
// between still is.
//
// Fail closed, and a kill switch: the safety ConfigMap is read before every change (the cache of
// a watched ConfigMap). Absent, unreadable or invalid, new executions are refused
// SafetyConfigInvalid and running ones hold before their next change; paused=true holds every
// execution (reverts and node uncordons included) until it is lifted; dryRun=true switched on
// during an execution ends it before its next change (DryRunEnforced), changing and reverting
// nothing more. safetyValidation=false skips the per-target cooldown only.
//
// Exactly once: the operation is written Running (with its before-state) to status before the
// change and with appliedTime after it; the change itself carries the target's UID and
// resourceVersion as preconditions and the operation's identity in the last-remediation
// annotation, so a restart between the change and the status write recognises the change on the
// target instead of making it again. Deletes carry a UID precondition. Executions are read live,
// and status is patched with the resourceVersion read, so an old leader cannot overwrite progress.
//
// Post-conditions (rollout finished, replicas reached, node unschedulable, node drained) are
// polled until the operation's timeout (its own from the workflow, else its action's in the
// catalog). When an operation fails, the completed reversible ones are reverted in reverse
// order; a revert puts back the fields the change wrote, and only those, with a JSON patch that
// tests in the same request that they still hold what the change wrote: a field someone changed
// since is never overwritten (RollbackFailed), and changes to any other field are kept. The
// execution ends RolledBack. Dry-run mode (spec.executionConfig.dryRun, the workflow's, or the
// ConfigMap's) validates and records each server-side dry-run diff, and changes nothing.
//
// Nodes (noderecovery.go): a node Kubernaut cordoned while schedulable carries the annotation
// kubernaut.io/cordoned; once the execution has finished and the node has been healthy again
// (Ready, no pressure) since after the cordon for uncordonRecoveredNodesAfter, it is uncordoned
// (audited as an Event on the execution, a log line and a metric). untaint_node removes only
// taints recorded in kubernaut.io/taints by taint_node, never one of Kubernetes.
//
// Configuration: the ConfigMap kubernaut-executor-safety in the executor's namespace
// (deploy/base/config/executor.yaml documents every key).
//
// Metrics (controller-runtime registry):
//   - kubernaut_executor_operations_total{action,result}: operations by result (succeeded,
//     failed, refused, rolled_back, dry_run).
//   - kubernaut_executor_refusals_total{reason}: refusals before any change, by reason.
//   - kubernaut_executor_rollbacks_total{result}: reverts (reverted, failed).
//   - kubernaut_executor_operation_duration_seconds{action}: start to end of an operation.
//   - kubernaut_executor_executions_total{phase}: executions by final phase.
//   - kubernaut_executor_changes_total{action}: changes made.
//   - kubernaut_executor_changes_last_hour: changes in the cluster over the last hour, at the last
//     budget check.
//   - kubernaut_executor_budget_refusals_total{scope}: refusals over budget (namespace, cluster).
//   - kubernaut_executor_holds_total{reason}: reconciles that stopped before a change
//     (ExecutionPaused, SafetyConfigInvalid).
//   - kubernaut_executor_paused: 1 while paused.
//   - kubernaut_executor_safety_config_valid: 0 while the safety ConfigMap is unusable.
//   - kubernaut_executor_node_uncordons_total{result}: recovered nodes uncordoned (uncordoned,
//     failed).
package executor
