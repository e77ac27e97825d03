package v1alpha1_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/util/validation"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
)

func TestLabelValue(t *testing.T) {
	long := strings.Repeat("a", 60) + ".remediation"
	tests := map[string]struct {
		in, want string
	}{
		"valid stays":        {"remediation-0123456789abcdef", "remediation-0123456789abcdef"},
		"63 characters stay": {strings.Repeat("x", 63), strings.Repeat("x", 63)},
		"long name":          {long, strings.Repeat("a", 52) + "-" + common.LabelValue(long)[53:]},
		"invalid characters": {"ä/b", "b-" + common.LabelValue("ä/b")[2:]},
		"only invalid":       {"///", common.LabelValue("///")},
		"ends with a dot":    {strings.Repeat("b", 70) + ".", common.LabelValue(strings.Repeat("b", 70) + ".")},
		"starts with a dash": {"-" + strings.Repeat("c", 70), common.LabelValue("-" + strings.Repeat("c", 70))},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := common.LabelValue(tc.in)
			assert.Equal(t, tc.want, got)
			assert.Empty(t, validation.IsValidLabelValue(got), "%q is not a valid label value", got)
		})
	}
	assert.NotEqual(t, common.LabelValue(long), common.LabelValue(long+"x"), "names that share a prefix get different values")
	for _, n := range []int{63, 64, 200, 253} {
		name := strings.Repeat("r", n-1) + "z"
		assert.Empty(t, validation.IsValidLabelValue(common.LabelValue(name)), "name of %d characters", n)
	}
}
