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
//     and carries valid parameters (Validate, Action.Validate), then fills in
//     the defaults (Action.WithDefaults);
//   - the executor, which reads the Kubernetes API verbs the action needs
//     (Action.Verbs), whether it targets a cluster-scoped Node
//     (Action.ClusterScoped) and whether, and by which action, it can be
//     undone (Action.Reversible, Action.ReversedBy).
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
//  2. Add its definition to the slice returned by definitions in catalog.go:
//     a Description written for a model and an operator alike, the
//     TargetKinds it accepts, its Params (each with a Description; a Default
//     only for optional parameters, and one that itself validates), its Risk,
//     whether it is Reversible (and ReversedBy which action), the exact
//     Kubernetes API Verbs the executor needs (these also document the RBAC
//     rules the executor's service account must be granted), ClusterScoped
//     when it targets a Node, and a Check for rules that involve more than one
//     parameter.
//  3. Teach the executor how to carry it out.
//  4. Run the package tests: they check every catalog entry for the
//     invariants above, so an incomplete definition fails them.
//
// The catalog is immutable: Lookup and All hand out deep copies, so callers
// may modify what they receive without affecting anyone else.
package actions
