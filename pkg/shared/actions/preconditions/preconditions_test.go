package preconditions_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions/preconditions"
)

func TestChanged(t *testing.T) {
	validated := &common.Preconditions{Generation: 4, ResourceVersion: "100", Revision: "3", PodTemplateHash: "abc"}
	tests := map[string]struct {
		recorded, live *common.Preconditions
		want           []string
	}{
		"as validated":              {recorded: validated, live: validated},
		"only status written since": {recorded: validated, live: &common.Preconditions{Generation: 4, ResourceVersion: "175", Revision: "3", PodTemplateHash: "abc"}},
		"rolled forward": {recorded: validated, live: &common.Preconditions{Generation: 5, ResourceVersion: "180", Revision: "4", PodTemplateHash: "def"},
			want: []string{"generation 4 → 5 (its spec was changed)", "revision 3 → 4", "pod-template-hash abc → def"}},
		"scaled":                           {recorded: validated, live: &common.Preconditions{Generation: 5, Revision: "3", PodTemplateHash: "abc"}, want: []string{"generation 4 → 5 (its spec was changed)"}},
		"revision gone":                    {recorded: validated, live: &common.Preconditions{Generation: 4}, want: []string{"revision 3 → (none)", "pod-template-hash abc → (none)"}},
		"nothing recorded but the version": {recorded: &common.Preconditions{ResourceVersion: "1"}, live: &common.Preconditions{ResourceVersion: "2"}},
		"none recorded":                    {recorded: nil, live: validated},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, preconditions.Changed(tc.recorded, tc.live))
		})
	}
}
