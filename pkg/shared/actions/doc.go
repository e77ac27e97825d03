// Package actions is the catalog of every remediation action Kubernaut knows
// how to perform.
//
// The catalog is the single source of truth shared by three consumers:
//
//   - the AI analysis, which lists and describes the available actions
//     (Names, All, Action.Description, Param.Description) when asking a model
//     to propose a remediation;
//   - the workflow planner, which checks that a proposed step names a known
//     action (Lookup), targets a kind the action accepts (Action.AcceptsKind)
//     and carries valid parameters (Validate, Action.Validate), fills in the
//     defaults (Action.WithDefaults), then resolves the step against the live
//     cluster (Resolve) and dry-runs what it would send;
//   - the executor, which reads the Kubernetes API verbs the action needs
//     (Action.Verbs), whether it targets a cluster-scoped Node
//     (Action.ClusterScoped) and whether, and by which action, it can be
//     undone (Action.Reversible, Action.ReversedBy), and makes the change with
//     the same functions the workflow dry-ran.
//
// # One file per action
//
// Everything an action means lives in its file, <action>.go (restart_pod.go,
// drain_node.go, …): its catalog entry (<action>Action), how it resolves its
// live target and selects what it touches (resolve<Action>, reached through
// Resolve), how it changes the target (its mutation, reached through Mutate;
// the exported function — RaiseResources, StampRestart, ScaleReplicas,
// RollbackTemplate, Cordon, Taint, SetHPABounds, GrowClaim, … — for callers
// that need only it) and its post-condition (DeploymentRolledOut,
// DeploymentScaled, Cordoned, …). Pod selection shared by several actions is
// in pods.go: SelectEvictions (drain_node and NoExecute taints) and FailedPods
// (delete_failed_pods). The workflow's validation (pkg/workflow/validate.go)
// and the executor (pkg/executor/action) both call these, so the dry-run a
// person approves is the change that runs. A change is reverted by the
// executor from the before-state it records (only the fields the change
// wrote, pkg/executor/action/state.go); the catalog's ReversedBy names the
// action that undoes it. The executor's package keeps only what running needs:
// reading the target, the blast-radius limits, the write itself with its
// preconditions, waiting for the post-condition, the revert and status.
//
// # Parameters
//
// Parameters travel as map[string]string, exactly as they appear in a workflow
// step. Each Param declares a ParamType that fixes the accepted spelling:
//
//   - ParamString: any text, optionally bounded by MaxLength (in characters)
//     and constrained by a Format (label key, label value, label selector,
//     DNS label). An empty optional string means the same as an absent one.
//   - ParamInt: a base-10 integer, optionally bounded by Min and Max.
//   - ParamBool: exactly "true" or "false".
//   - ParamQuantity: a positive Kubernetes resource quantity such as "256Mi",
//     "1Gi" or "500m" (CPU and memory amounts use this type).
//   - ParamDuration: a positive Go duration such as "30s" or "5m", optionally
//     bounded by MaxDuration.
//   - ParamEnum: one of the values listed in Enum (case-sensitive).
//   - ParamFactor: an increase factor, a plain decimal number such as "1.5",
//     greater than 1 and at most MaxFactor, read exactly by ParseFactor.
//
// Validation never stops at the first mistake: Action.Validate returns every
// Problem it finds (missing required parameters, unparsable values, values out
// of range, unknown parameter names, violated cross-field rules), sorted by
// parameter name, so that a caller, or a model being asked to correct its
// proposal, sees the whole picture at once. The package-level Validate wraps
// them in a *ValidationError, or reports ErrUnknownAction for a name that is
// not in the catalog.
//
// # Adding an action
//
//  1. Add a Name constant in types.go, spelled in snake_case.
//  2. Write, in <action>.go, the function returning its Action: a Description
//     written for a model and an operator alike, the TargetKinds it accepts,
//     its Params (each with a Description; a Default only for optional
//     parameters, and one that itself validates), its Risk, whether it is
//     Reversible (and ReversedBy which action), the exact Kubernetes API Verbs
//     the executor needs (these also document the RBAC rules the executor's
//     service account must be granted), ClusterScoped when it targets a Node,
//     and a Check for rules that involve more than one parameter.
//  3. In the same file, its resolver (what it touches in the live target and
//     what it says it found) and, when it changes its target object, its
//     mutation and post-condition; list the Action function, the resolver and
//     the mutation (nil when none) in catalog.go's entries.
//     Then teach the executor to run it (its limits, the write) in
//     pkg/executor/action/<action>.go.
//  4. Run the package tests: they check every catalog entry for the
//     invariants above, so an incomplete definition fails them.
//
// The catalog is immutable: Lookup and All hand out deep copies, so callers
// may modify what they receive without affecting anyone else.
package actions
