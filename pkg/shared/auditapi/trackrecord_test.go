package auditapi_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
)

func TestTrackRecordLowerBound(t *testing.T) {
	cases := map[string]struct {
		remediated, ineffective int64
		want                    float64
	}{
		"no outcomes":                        {0, 0, 0},
		"one success proves little":          {1, 0, 0.2065},
		"19 of 19":                           {19, 0, 0.8318},
		"20 of 20 is still below 0.9":        {20, 0, 0.8389},
		"40 of 40":                           {40, 0, 0.9124},
		"45 of 50":                           {45, 5, 0.7864},
		"95 of 100":                          {95, 5, 0.8882},
		"Inconclusive is not in the formula": {10, 10, 0.2993},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := auditapi.TrackRecord{Remediated: tc.remediated, Ineffective: tc.ineffective, Inconclusive: 99}
			assert.InDelta(t, tc.want, r.LowerBound(), 0.0005)
		})
	}
}
