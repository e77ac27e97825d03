package aianalysis

import (
	"context"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
)

// TrackRecords reads an action's verified record in an environment (auditapi.Client implements
// it through datastorage's /api/v1/track-record).
type TrackRecords interface {
	TrackRecord(ctx context.Context, action, environment string, since time.Time) (auditapi.TrackRecord, error)
}

// AutonomyPolicy says when an action may change a gated environment without a person: only an
// action granted for that environment, and only once its verified record there qualifies.
type AutonomyPolicy struct {
	// Grants lists, per environment, the actions that may earn autonomy there (default none:
	// every change in a gated environment waits for a person).
	Grants map[string][]string `json:"grants"`
	// MinOutcomes is the number of verified outcomes (Remediated + Ineffective) the record needs
	// within Window (default 20).
	MinOutcomes int64 `json:"minOutcomes"`
	// MinLowerBound is the Wilson score lower bound (95%) of the verified success rate the record
	// needs (default 0.9; 20 successes out of 20 give 0.84, 35 out of 35 give 0.90).
	MinLowerBound float64 `json:"minLowerBound"`
	// Window is how far back the record is read (default 720h, 30 days).
	Window metav1.Duration `json:"window"`
}

// DefaultAutonomyPolicy grants nothing.
func DefaultAutonomyPolicy() AutonomyPolicy {
	return AutonomyPolicy{Grants: map[string][]string{}, MinOutcomes: 20, MinLowerBound: 0.9, Window: metav1.Duration{Duration: 30 * 24 * time.Hour}}
}

func (a AutonomyPolicy) validate() []string {
	var errs []string
	for env, acts := range a.Grants {
		if !slices.Contains(environments, env) {
			errs = append(errs, fmt.Sprintf("autonomy.grants: %q is not an environment (%v)", env, environments))
		}
		for _, act := range acts {
			if !isCatalogAction(act) {
				errs = append(errs, fmt.Sprintf("autonomy.grants.%s: %q is not a catalog action", env, act))
			}
		}
	}
	if a.MinOutcomes < 1 {
		errs = append(errs, "autonomy.minOutcomes must be at least 1")
	}
	if a.MinLowerBound <= 0 || a.MinLowerBound > 1 {
		errs = append(errs, fmt.Sprintf("autonomy.minLowerBound must be in (0, 1], not %g", a.MinLowerBound))
	}
	if a.Window.Duration <= 0 {
		errs = append(errs, "autonomy.window must be positive")
	}
	return errs
}

// environments are the values of the environment classification.
var environments = []string{"production", "staging", "development", "test", "unknown"}

// Gate applies the gated environments to the top recommendation of f: in a gated environment
// every action of it must have been granted autonomy there and have a qualifying verified
// record. It returns why a person must approve (empty when nobody needs to) and, for the actions
// that earned autonomy, the record that earned it (for the evidence).
func (p ApprovalPolicy) Gate(ctx context.Context, f investigator.Finding, env string, records TrackRecords, now time.Time) (why, earned []string) {
	if f.Outcome != aiv1.OutcomeActionRecommended || len(f.Recommendations) == 0 || !slices.Contains(p.GatedEnvironments, env) {
		return nil, nil
	}
	a := p.Autonomy
	since := now.Add(-a.Window.Duration)
	for _, action := range recommendationActions(f.Recommendations[0]) {
		if !slices.Contains(a.Grants[env], action) {
			why = append(why, fmt.Sprintf("every change in %s needs a person (%s has not been granted autonomy there)", env, action))
			continue
		}
		if records == nil {
			why = append(why, fmt.Sprintf("%s's verified record in %s cannot be read (no datastorage configured)", action, env))
			continue
		}
		rec, err := records.TrackRecord(ctx, action, env, since)
		if err != nil {
			why = append(why, fmt.Sprintf("%s's verified record in %s could not be read: %v", action, env, err))
			continue
		}
		line := fmt.Sprintf("%s in %s: %s", action, env, describeRecord(rec, a))
		if rec.Outcomes() < a.MinOutcomes || rec.LowerBound() < a.MinLowerBound {
			why = append(why, "not yet earned autonomy: "+line)
			continue
		}
		earned = append(earned, "autonomy earned: "+line)
	}
	return why, earned
}

// describeRecord says what a record shows against the thresholds, in one line.
func describeRecord(r auditapi.TrackRecord, a AutonomyPolicy) string {
	return fmt.Sprintf("%d verified outcome(s) in the last %s (%d remediated, %d ineffective; %d inconclusive not counted), success lower bound %.2f; needs at least %d outcomes and %.2f",
		r.Outcomes(), a.Window.Duration, r.Remediated, r.Ineffective, r.Inconclusive, r.LowerBound(), a.MinOutcomes, a.MinLowerBound)
}

// recommendationActions are the distinct actions of a recommendation's steps (its action when it
// has none).
func recommendationActions(r aiv1.Recommendation) []string {
	var out []string
	for _, s := range r.WorkflowSteps {
		if !slices.Contains(out, s.Action) {
			out = append(out, s.Action)
		}
	}
	if len(out) == 0 && r.Action != "" {
		out = append(out, r.Action)
	}
	return out
}
