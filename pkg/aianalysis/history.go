package aianalysis

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// DefaultRepeatWindow is how long an action Kubernaut ran on a target keeps it from being
// recommended again for that target (the command's --repeat-action-window).
const DefaultRepeatWindow = 6 * time.Hour

// historySlack: a remediation runs at most its overall timeout (1h by default), so one that
// started up to this long before the repeat window may still have changed the target within it.
const historySlack = time.Hour

// ChangeHistory reads the remediations Kubernaut ran for a signal fingerprint (the hash of the
// resolved target, so every alert about one workload shares it) that started since a time.
// DatastorageHistory implements it.
type ChangeHistory interface {
	Remediations(ctx context.Context, fingerprint string, since time.Time) ([]auditapi.RemediationAudit, error)
}

// DatastorageHistory reads datastorage's audit trail: GET /api/v1/audit/remediation with
// fingerprint and since, page after page.
type DatastorageHistory struct {
	Client *auditapi.Client
	// MaxPages bounds the pages of 100 records read for one analysis (default 5); more records
	// than that for one target is itself a reason for a person to look, so it is an error.
	MaxPages int
}

type auditPage struct {
	Items      []auditapi.RemediationAudit `json:"items"`
	NextCursor string                      `json:"nextCursor,omitempty"`
}

const historyPageSize = 100

// Remediations lists the audit records of fingerprint that started at or after since.
func (h *DatastorageHistory) Remediations(ctx context.Context, fingerprint string, since time.Time) ([]auditapi.RemediationAudit, error) {
	pages := h.MaxPages
	if pages <= 0 {
		pages = 5
	}
	q := url.Values{"fingerprint": {fingerprint}, "since": {since.UTC().Format(time.RFC3339Nano)}, "limit": {strconv.Itoa(historyPageSize)}}
	var out []auditapi.RemediationAudit
	for range pages {
		var p auditPage
		if err := h.Client.Do(ctx, http.MethodGet, auditapi.RemediationPath+"?"+q.Encode(), nil, &p); err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out, nil
		}
		q.Set("cursor", p.NextCursor)
	}
	return nil, fmt.Errorf("more than %d remediations of this target since %s", pages*historyPageSize, since.UTC().Format(time.RFC3339))
}

// changedTarget lists the operation phases whose operation changed (or may have changed) its
// target: done, under way, failed part-way, or done and rolled back. Pending, Skipped and
// Refused operations changed nothing; neither does a dry run.
var changedTarget = map[string]bool{
	string(kev1.OperationSucceeded): true, string(kev1.OperationRunning): true,
	string(kev1.OperationFailed): true, string(kev1.OperationRolledBack): true,
}

// recentChanges reads Kubernaut's changes to the analysis's target within the repeat window
// before now, newest first, or says why they cannot be known.
func (r *Reconciler) recentChanges(ctx context.Context, a *aiv1.AIAnalysis, now time.Time) ([]investigator.Change, string) {
	fp := a.Spec.AnalysisRequest.AlertContext.Fingerprint
	switch {
	case r.Changes == nil:
		return nil, "no datastorage client is configured"
	case fp == "":
		return nil, "the analysis carries no signal fingerprint"
	}
	since := now.Add(-r.RepeatWindow)
	// Ineffective outcomes are remembered longer than the repeat window (investigator.IneffectiveMemory).
	ineffectiveSince := now.Add(-investigator.IneffectiveMemory)
	from := since
	if ineffectiveSince.Before(from) {
		from = ineffectiveSince
	}
	records, err := r.Changes.Remediations(ctx, fp, from.Add(-historySlack))
	if err != nil {
		return nil, text.TruncateBytes("datastorage: "+err.Error(), 512)
	}
	var out []investigator.Change
	for _, rec := range records {
		if rec.RemediationName == a.Spec.RemediationRequestRef.Name {
			continue // this remediation: it has changed nothing yet
		}
		at := rec.StartTime
		if rec.CompletionTime != nil {
			at = *rec.CompletionTime
		}
		if at.Before(since) && (rec.Outcome != investigator.OutcomeIneffective || at.Before(ineffectiveSince)) {
			continue
		}
		for _, op := range rec.Operations {
			if op.DryRun || !changedTarget[op.Phase] {
				continue
			}
			out = append(out, investigator.Change{Remediation: rec.RemediationName, Action: op.Action, Target: op.Target, Phase: op.Phase, Outcome: rec.Outcome, At: at})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	return out, ""
}
