package datastorage

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
)

// Limits on stored values.
const (
	maxNameLen      = 253
	maxValueLen     = 1024
	maxTextLen      = 8192
	maxStatuses     = 32
	maxOperations   = 256
	maxChecks       = 64
	maxFilterLength = 512
)

// ServiceTypes are the child kinds a service status may describe.
var ServiceTypes = map[string]bool{
	"RemediationProcessing": true, "AIAnalysis": true, "AIApprovalRequest": true,
	"WorkflowExecution": true, "KubernetesExecution": true, "NotificationRequest": true,
}

// Phases are the RemediationRequest phases an audit record may carry.
var Phases = map[string]bool{
	"Pending": true, "Processing": true, "Analyzing": true, "AwaitingApproval": true, "Planning": true,
	"Executing": true, "Verifying": true, "Completed": true, "Failed": true, "TimedOut": true,
	"Blocked": true, "Skipped": true,
}

// checkText reports a value PostgreSQL cannot store as text (NUL, invalid UTF-8) or that is too long.
func checkText(field, v string, max int) string {
	switch {
	case len(v) > max:
		return fmt.Sprintf("%s is longer than %d bytes", field, max)
	case !utf8.ValidString(v):
		return fmt.Sprintf("%s is not valid UTF-8", field)
	case strings.ContainsRune(v, 0):
		return fmt.Sprintf("%s contains a NUL character", field)
	}
	return ""
}

// ValidateAudit lists every problem of a record (empty when valid).
func ValidateAudit(a *auditapi.RemediationAudit) []string {
	var p []string
	add := func(s string) {
		if s != "" {
			p = append(p, s)
		}
	}
	required := func(field, v string, max int) {
		if strings.TrimSpace(v) == "" {
			add(field + " is required")
			return
		}
		add(checkText(field, v, max))
	}
	required("remediationName", a.RemediationName, maxNameLen)
	required("alertFingerprint", a.AlertFingerprint, maxValueLen)
	required("overallPhase", a.OverallPhase, maxValueLen)
	if a.OverallPhase != "" && !Phases[a.OverallPhase] {
		add(fmt.Sprintf("overallPhase %q is not a RemediationRequest phase", a.OverallPhase))
	}
	for _, f := range [][2]string{
		{"namespace", a.Namespace}, {"signalName", a.SignalName}, {"severity", a.Severity},
		{"environment", a.Environment}, {"priority", a.Priority}, {"targetResource", a.TargetResource},
		{"outcome", a.Outcome},
	} {
		add(checkText(f[0], f[1], maxValueLen))
	}
	if a.TimeoutPhase != nil {
		add(checkText("timeoutPhase", *a.TimeoutPhase, maxValueLen))
	}
	if a.FailureReason != nil {
		add(checkText("failureReason", *a.FailureReason, maxTextLen))
	}
	if a.StartTime.IsZero() {
		add("startTime is required")
	}
	if a.CompletionTime != nil && !a.StartTime.IsZero() && a.CompletionTime.Before(a.StartTime) {
		add("completionTime is before startTime")
	}
	if a.PhaseSequence < 0 {
		add("phaseSequence must not be negative")
	}
	if len(a.ServiceCRDStatuses) > maxStatuses {
		add(fmt.Sprintf("serviceCrdStatuses has more than %d entries", maxStatuses))
	}
	seen := map[string]bool{}
	for i, s := range a.ServiceCRDStatuses {
		f := fmt.Sprintf("serviceCrdStatuses[%d]", i)
		switch {
		case s.ServiceType == "":
			add(f + ".serviceType is required")
		case !ServiceTypes[s.ServiceType]:
			add(fmt.Sprintf("%s.serviceType %q is not a known service type", f, checkedOrTruncated(s.ServiceType)))
		case seen[s.ServiceType]:
			add(fmt.Sprintf("%s.serviceType %q appears more than once", f, s.ServiceType))
		}
		seen[s.ServiceType] = true
		required(f+".crdName", s.CRDName, maxNameLen)
		required(f+".phase", s.Phase, maxValueLen)
		if s.StartTime.IsZero() {
			add(f + ".startTime is required")
		}
	}
	if len(a.Operations) > maxOperations {
		add(fmt.Sprintf("operations has more than %d entries", maxOperations))
	}
	for i, o := range a.Operations {
		f := fmt.Sprintf("operations[%d]", i)
		required(f+".name", o.Name, maxNameLen)
		required(f+".action", o.Action, maxValueLen)
		required(f+".phase", o.Phase, maxValueLen)
		add(checkText(f+".target", o.Target, maxValueLen))
		add(checkText(f+".message", o.Message, maxTextLen))
		for k, v := range o.Params {
			add(checkText(f+".parameters key", k, maxValueLen))
			add(checkText(f+".parameters["+checkedOrTruncated(k)+"]", v, maxValueLen))
		}
	}
	if v := a.Verification; v != nil {
		add(checkText("verification.window", v.Window, maxValueLen))
		add(checkText("verification.conclusion", v.Conclusion, maxTextLen))
		if len(v.Checks) > maxChecks {
			add(fmt.Sprintf("verification.checks has more than %d entries", maxChecks))
		}
		for i, c := range v.Checks {
			f := fmt.Sprintf("verification.checks[%d]", i)
			required(f+".name", c.Name, maxValueLen)
			required(f+".source", c.Source, maxValueLen)
			required(f+".result", c.Result, maxValueLen)
			add(checkText(f+".observed", c.Observed, maxTextLen))
		}
	}
	if a.Approval != nil {
		add(checkText("approval.decision", a.Approval.Decision, maxValueLen))
		add(checkText("approval.decidedBy", a.Approval.DecidedBy, maxValueLen))
	}
	return p
}

// checkedOrTruncated makes a hostile value safe to echo in an error message.
func checkedOrTruncated(v string) string {
	v = strings.ToValidUTF8(strings.ReplaceAll(v, "\x00", ""), "?")
	if len(v) > 64 {
		return v[:64] + "..."
	}
	return v
}
