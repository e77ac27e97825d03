package main

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	commonv1 "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
)

func TestParseKinds(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    []string
		wantErr bool
	}{
		"weights":         {in: "oom=2,healthy=1", want: []string{"oom", "oom", "healthy"}},
		"default weight":  {in: "crashloop", want: []string{"crashloop"}},
		"zero weight":     {in: "oom=0,hpa-maxed-out=1", want: []string{"hpa-maxed-out"}},
		"unknown kind":    {in: "node-notready=1", wantErr: true},
		"bad weight":      {in: "oom=x", wantErr: true},
		"nothing to post": {in: "oom=0", wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseKinds(tt.in)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRSSFigures(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 22, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	mk := func(kibs ...int64) []rssSample {
		var out []rssSample
		for i, k := range kibs {
			out = append(out, rssSample{at: at(10 * i), pid: 1, kib: k})
		}
		return out
	}
	tests := map[string]struct {
		samples  []rssSample
		restart  *time.Time
		baseline int64
		last     int64
		flat     bool
		note     bool
	}{
		"flat after warm-up":          {samples: mk(10000, 40000, 41000, 42000), baseline: 41000, last: 42000, flat: true},
		"grew past both limits":       {samples: mk(10000, 40000, 41000, 90000), baseline: 41000, last: 90000, flat: false},
		"grew by a share but few MiB": {samples: mk(1000, 2000, 2100, 8000), baseline: 2100, last: 8000, flat: true},
		"restarted: a warm-up after the restart": {samples: mk(10000, 40000, 41000, 20000, 30000, 31000, 31500, 31600),
			restart: new(at(25)), baseline: 31500, last: 31600, flat: true},
		"restarted late: from the restart": {samples: mk(10000, 40000, 41000, 20000, 30000),
			restart: new(at(25)), baseline: 20000, last: 30000, flat: true, note: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := newRSSSampler(nil, time.Second)
			r.samples["gateway"] = tt.samples
			if tt.restart != nil {
				r.restarts["gateway"] = *tt.restart
			}
			var f rssFigures
			for _, g := range r.figures(at(20), 30*time.Second, 0.5, 24) {
				if g.service == "gateway" {
					f = g
				}
			}
			assert.Equal(t, tt.baseline, f.baseline.kib, "baseline")
			assert.Equal(t, tt.last, f.last.kib, "last")
			assert.Equal(t, tt.flat, f.flat, "flat")
			assert.Equal(t, tt.note, f.baselineNote != "", "note %q", f.baselineNote)
		})
	}
}

func TestAuditMismatch(t *testing.T) {
	done := time.Date(2026, 12, 6, 22, 0, 0, 0, time.UTC)
	rr := func() *remediationv1.RemediationRequest {
		r := &remediationv1.RemediationRequest{}
		r.Status.OverallPhase, r.Status.Outcome = remediationv1.PhaseCompleted, remediationv1.OutcomeRemediated
		r.Status.Audit.LastAcknowledgedPhase = remediationv1.PhaseCompleted
		r.Status.AIAnalysisRef = &commonv1.ObjectReference{Name: "a"}
		r.Status.KubernetesExecutionRef = &commonv1.ObjectReference{Name: "e"}
		return r
	}
	record := func() auditapi.RemediationAudit {
		return auditapi.RemediationAudit{OverallPhase: "Completed", Outcome: "Remediated", CompletionTime: &done,
			ServiceCRDStatuses: []auditapi.ServiceCRDStatus{{ServiceType: "AIAnalysis"}, {ServiceType: "KubernetesExecution"}},
			Operations:         []auditapi.OperationRecord{{Name: "increase", Phase: "Succeeded"}}}
	}
	kes := []kev1.KubernetesExecution{{Status: kev1.KubernetesExecutionStatus{OperationResults: []kev1.OperationResult{{Name: "increase", Phase: kev1.OperationSucceeded}}}}}
	tests := map[string]struct {
		edit func(*remediationv1.RemediationRequest, *auditapi.RemediationAudit)
		err  error
		want string
	}{
		"complete": {edit: func(*remediationv1.RemediationRequest, *auditapi.RemediationAudit) {}},
		"outbox not empty": {edit: func(r *remediationv1.RemediationRequest, _ *auditapi.RemediationAudit) {
			r.Status.Audit.PendingPhases = []remediationv1.AuditPendingPhase{{Phase: remediationv1.PhaseCompleted}}
		}, want: "outbox not empty"},
		"another outcome": {edit: func(_ *remediationv1.RemediationRequest, a *auditapi.RemediationAudit) { a.Outcome = "Inconclusive" }, want: "record Completed/Inconclusive"},
		"a child missing": {edit: func(_ *remediationv1.RemediationRequest, a *auditapi.RemediationAudit) {
			a.ServiceCRDStatuses = a.ServiceCRDStatuses[:1]
		}, want: "no KubernetesExecution status"},
		"an operation recorded twice": {edit: func(_ *remediationv1.RemediationRequest, a *auditapi.RemediationAudit) {
			a.Operations = append(a.Operations, a.Operations[0])
		}, want: "operations recorded"},
		"no record": {edit: func(*remediationv1.RemediationRequest, *auditapi.RemediationAudit) {}, err: errors.New("HTTP 404"), want: "reading the record"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r, a := rr(), record()
			tt.edit(r, &a)
			got := auditMismatch(r, a, tt.err, kes)
			if tt.want == "" {
				assert.Empty(t, got)
			} else {
				assert.Contains(t, got, tt.want)
			}
		})
	}
}
