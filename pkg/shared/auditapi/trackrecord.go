package auditapi

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"time"
)

// TrackRecordPath is datastorage's endpoint for an action's verified record in an environment.
const TrackRecordPath = "/api/v1/track-record"

// TrackRecord is the verified record of one action in one environment since a time, across all
// signals: Remediated outcomes are successes, Ineffective ones failures; Inconclusive ones are
// shown but never counted. Dry runs and remediations that never reached verification (refused,
// failed, rolled back, timed out) are not outcomes of the action.
type TrackRecord struct {
	Action       string    `json:"action"`
	Environment  string    `json:"environment"`
	Since        time.Time `json:"since"`
	Remediated   int64     `json:"remediated"`
	Ineffective  int64     `json:"ineffective"`
	Inconclusive int64     `json:"inconclusive"`
	// LastSeen is the latest completion among the records counted.
	LastSeen *time.Time `json:"lastSeen,omitempty"`
}

// Outcomes is the number of verified outcomes (Remediated + Ineffective).
func (t TrackRecord) Outcomes() int64 { return t.Remediated + t.Ineffective }

// LowerBound is the Wilson score lower bound of the verified success rate at 95% confidence
// (z = 1.96): the success rate the record supports with small samples taken into account.
// 0 without outcomes.
func (t TrackRecord) LowerBound() float64 {
	n := float64(t.Outcomes())
	if n == 0 {
		return 0
	}
	const z = 1.959963984540054
	p := float64(t.Remediated) / n
	z2 := z * z
	centre := p + z2/(2*n)
	margin := z * math.Sqrt(p*(1-p)/n+z2/(4*n*n))
	return math.Max(0, (centre-margin)/(1+z2/n))
}

// TrackRecord fetches the verified record of action in environment since the given time.
func (c *Client) TrackRecord(ctx context.Context, action, environment string, since time.Time) (TrackRecord, error) {
	var out TrackRecord
	q := url.Values{"action": {action}, "environment": {environment}, "since": {since.UTC().Format(time.RFC3339)}}
	err := c.Do(ctx, http.MethodGet, TrackRecordPath+"?"+q.Encode(), nil, &out)
	return out, err
}
