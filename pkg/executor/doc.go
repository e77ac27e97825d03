// Package executor runs KubernetesExecutions: the validated, dependency-ordered operations of a
// remediation, against the cluster, safely, exactly once, with dry-run and rollback.
//
// Phases: Pending → Validating → Executing → Completed | Failed | RolledBack. Validation checks
// every operation before anything changes: a catalog action with an implementation
// (pkg/executor/action), a target kind it accepts, valid parameters, the live target exists and
// its UID is the one the workflow validated, the namespace is labelled kubernaut.io/managed=true,
// is not denied and neither it nor the target is labelled kubernaut.io/protected=true, node
// actions only on managed nodes (or when enabled) and never past the configured share of
// unschedulable nodes, the blast radius (replicas, scale factor, resource caps, pods a drain
// evicts), the per-target cooldown (the kubernaut.io/last-remediation annotation on the
// target, so it survives restarts; restart_pod and delete_failed_pods, which delete rather than
// write their target, count against the pod's controller or their Deployment or Namespace through
// the cooldownKey of earlier executions' results), and a server-side dry-run. Each operation is checked again
// right before its change. A refusal ends the operation Refused with a typed reason and
// changes nothing.
//
// Exactly once: the operation is written Running (with its before-state) to status before the
// change and with appliedTime after it; the change itself carries the target's UID and
// resourceVersion as preconditions and the operation's identity in the last-remediation
// annotation, so a restart between the change and the status write recognises the change on the
// target instead of making it again. Deletes carry a UID precondition. Executions are read live,
// and status is patched with the resourceVersion read, so an old leader cannot overwrite progress.
//
// Post-conditions (rollout finished, replicas reached, node unschedulable, node drained) are
// polled until the operation's timeout. When an operation fails, the completed reversible ones
// are reverted in reverse order from their recorded before-state; the execution ends RolledBack.
// Dry-run mode (spec.executionConfig.dryRun or the ConfigMap) validates and records each
// server-side dry-run diff, and changes nothing.
//
// Configuration: the ConfigMap kubernaut-executor-safety in the executor's namespace
// (deploy/base/config/executor.yaml documents every key); an absent ConfigMap means the
// defaults, an invalid one refuses every execution until it is fixed.
//
// Metrics (controller-runtime registry):
//   - kubernaut_executor_operations_total{action,result}: operations by result (succeeded,
//     failed, refused, rolled_back, dry_run).
//   - kubernaut_executor_refusals_total{reason}: refusals before any change, by reason.
//   - kubernaut_executor_rollbacks_total{result}: reverts (reverted, failed).
//   - kubernaut_executor_operation_duration_seconds{action}: start to end of an operation.
//   - kubernaut_executor_executions_total{phase}: executions by final phase.
package executor
