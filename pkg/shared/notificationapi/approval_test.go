package notificationapi_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

func TestDecisionCommand(t *testing.T) {
	tests := map[string]struct {
		decision string
		want     string
	}{
		"approve": {api.DecisionApproved, `kubectl -n shop patch aiapprovalrequest rr-1-approval --subresource=status --type=merge -p "{\"status\":{\"decision\":\"Approved\",\"decidedBy\":\"$(kubectl auth whoami -o jsonpath='{.status.userInfo.username}')\"}}"`},
		"reject":  {api.DecisionRejected, `kubectl -n shop patch aiapprovalrequest rr-1-approval --subresource=status --type=merge -p "{\"status\":{\"decision\":\"Rejected\",\"decidedBy\":\"$(kubectl auth whoami -o jsonpath='{.status.userInfo.username}')\"}}"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, api.DecisionCommand("shop", "rr-1-approval", tc.decision))
		})
	}
}

// TestDecisionCommandRunsInAShell runs the command in sh with a stand-in kubectl and checks
// that the patch it sends is the JSON the AIApprovalRequest status expects.
func TestDecisionCommandRunsInAShell(t *testing.T) {
	dir := t.TempDir()
	stub := "#!/bin/sh\nif [ \"$1\" = auth ]; then printf '%s' 'system:serviceaccount:ops:alice'; exit 0; fi\n" +
		"while [ $# -gt 0 ]; do if [ \"$1\" = -p ]; then printf '%s' \"$2\"; fi; shift; done\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kubectl"), []byte(stub), 0o755))
	cmd := exec.Command("sh", "-c", api.DecisionCommand("shop", "rr-1-approval", api.DecisionRejected))
	cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.Output()
	require.NoError(t, err)
	var patch struct {
		Status map[string]string `json:"status"`
	}
	require.NoError(t, json.Unmarshal(out, &patch), "patch %s", out)
	assert.Equal(t, map[string]string{"decision": "Rejected", "decidedBy": "system:serviceaccount:ops:alice"}, patch.Status)
}
