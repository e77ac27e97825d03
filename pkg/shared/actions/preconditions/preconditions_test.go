package preconditions_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
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

// noReads is a reader the check must not use: it fails every read.
type noReads struct{ client.Reader }

func (noReads) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errors.New("read the ReplicaSets")
}

// The check right before a change reads nothing beyond the target while its generation and
// revision are as validated; a changed one is described with the ReplicaSets read (the
// executor's tests run that on a real API server: TestStaleTargetIsNotChanged).
func TestChangedSinceReadsNoReplicaSetsOfAnUnchangedTarget(t *testing.T) {
	validated := &common.Preconditions{Generation: 4, ResourceVersion: "100", Revision: "3", PodTemplateHash: "abc"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: 4, ResourceVersion: "175", Annotations: map[string]string{actions.RevisionAnnotation: "3"}}}
	diffs, err := preconditions.ChangedSince(context.Background(), noReads{}, validated, d)
	require.NoError(t, err)
	assert.Empty(t, diffs)

	d.Generation = 5
	_, err = preconditions.ChangedSince(context.Background(), noReads{}, validated, d)
	require.ErrorContains(t, err, "read the ReplicaSets", "a changed Deployment is described with its ReplicaSets")

	// Nothing to compare: no read either.
	diffs, err = preconditions.ChangedSince(context.Background(), noReads{}, nil, d)
	require.NoError(t, err)
	assert.Empty(t, diffs)
}
