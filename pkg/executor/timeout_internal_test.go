package executor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
)

// An operation's timeout is its own (the workflow's step timeout); without one, the
// ConfigMap's defaultOperationTimeout when set, else its action's in the catalog: no constant.
func TestOperationTimeout(t *testing.T) {
	own := &metav1.Duration{Duration: 7 * time.Minute}
	tests := map[string]struct {
		op   common.Operation
		cfg  SafetyConfig
		want time.Duration
	}{
		"its own":                        {op: common.Operation{Action: "cordon_node", Timeout: own}, want: 7 * time.Minute},
		"a cordon, from the catalog":     {op: common.Operation{Action: "cordon_node"}, want: time.Minute},
		"a rollout, from the catalog":    {op: common.Operation{Action: "rollout_restart"}, want: 5 * time.Minute},
		"a drain, from the catalog":      {op: common.Operation{Action: "drain_node"}, want: 10 * time.Minute},
		"the ConfigMap's default":        {op: common.Operation{Action: "drain_node"}, cfg: SafetyConfig{DefaultOperationTimeout: 90 * time.Second}, want: 90 * time.Second},
		"its own over the ConfigMap's":   {op: common.Operation{Action: "drain_node", Timeout: own}, cfg: SafetyConfig{DefaultOperationTimeout: time.Minute}, want: 7 * time.Minute},
		"not a catalog action (refused)": {op: common.Operation{Action: "exec_shell"}, want: time.Minute},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, operationTimeout(tc.op, tc.cfg))
		})
	}
}
