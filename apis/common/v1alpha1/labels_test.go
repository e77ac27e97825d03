package v1alpha1_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
)

func TestLabelValue(t *testing.T) {
	long := strings.Repeat("a", 60) + ".remediation"
	tests := map[string]struct {
		in         string
		wantPrefix string // "" when the value must be in itself
	}{
		"valid stays":        {in: "remediation-0123456789abcdef"},
		"63 characters stay": {in: strings.Repeat("x", 63)},
		"long name":          {in: long, wantPrefix: strings.Repeat("a", 52) + "-"},
		"invalid characters": {in: "ä/b", wantPrefix: "b-"},
		"only invalid":       {in: "///"},
		"ends with a dot":    {in: strings.Repeat("b", 70) + ".", wantPrefix: strings.Repeat("b", 52) + "-"},
		"starts with a dash": {in: "-" + strings.Repeat("c", 70), wantPrefix: strings.Repeat("c", 51) + "-"},
		"253 characters":     {in: strings.Repeat("r", 252) + "z", wantPrefix: strings.Repeat("r", 52) + "-"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := common.LabelValue(tc.in)
			if errs := validation.IsValidLabelValue(got); len(errs) > 0 {
				t.Fatalf("LabelValue(%q) = %q, not a valid label value: %v", tc.in, got, errs)
			}
			valid := len(validation.IsValidLabelValue(tc.in)) == 0
			switch {
			case valid && got != tc.in:
				t.Errorf("LabelValue(%q) = %q, want the valid value itself", tc.in, got)
			case !valid && tc.wantPrefix != "" && !strings.HasPrefix(got, tc.wantPrefix):
				t.Errorf("LabelValue(%q) = %q, want prefix %q", tc.in, got, tc.wantPrefix)
			case !valid && got == common.LabelValue(tc.in+"x"):
				t.Errorf("LabelValue(%q) equals the value of a longer name", tc.in)
			}
		})
	}
}
