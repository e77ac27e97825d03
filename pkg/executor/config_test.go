package executor_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/executor"
)

func TestParseSafetyConfig(t *testing.T) {
	tests := map[string]struct {
		data  map[string]string
		check func(t *testing.T, c executor.SafetyConfig)
		err   string
	}{
		"empty means the defaults": {
			data:  nil,
			check: func(t *testing.T, c executor.SafetyConfig) { assert.Equal(t, executor.DefaultSafetyConfig(), c) },
		},
		"values": {
			data: map[string]string{executor.KeyCooldown: "10m", executor.KeyDeniedNamespaces: " a, b ,", executor.KeyMaxMemory: "2Gi",
				executor.KeyNodeActionsEnabled: "true", executor.KeyMaxReplicas: "7"},
			check: func(t *testing.T, c executor.SafetyConfig) {
				assert.Equal(t, 10*time.Minute, c.Cooldown)
				assert.Equal(t, []string{"a", "b"}, c.DeniedNamespaces)
				assert.True(t, c.Limits.MaxMemory.Equal(resource.MustParse("2Gi")))
				assert.True(t, c.NodeActionsEnabled)
				assert.Equal(t, int32(7), c.Limits.MaxReplicas)
			},
		},
		"kill switch and budgets": {
			data: map[string]string{executor.KeyPaused: "true", executor.KeyMaxChangesPerNamespace: "0", executor.KeyMaxChangesPerCluster: "7",
				executor.KeyUncordonRecoveredAfter: "0s", executor.KeyDefaultOperationTimeout: "90s"},
			check: func(t *testing.T, c executor.SafetyConfig) {
				assert.True(t, c.Paused)
				assert.Equal(t, 0, c.MaxChangesPerNamespace)
				assert.Equal(t, 7, c.MaxChangesPerCluster)
				assert.Zero(t, c.UncordonRecoveredAfter)
				assert.Equal(t, 90*time.Second, c.DefaultOperationTimeout)
			},
		},
		"unknown key":       {data: map[string]string{"coolDown": "1m"}, err: `unknown key "coolDown"`},
		"invalid pause":     {data: map[string]string{executor.KeyPaused: "soon"}, err: "paused"},
		"negative budget":   {data: map[string]string{executor.KeyMaxChangesPerCluster: "-1"}, err: "maxChangesPerClusterPerHour"},
		"invalid boolean":   {data: map[string]string{executor.KeySafetyValidation: "yes please"}, err: "safetyValidation"},
		"negative duration": {data: map[string]string{executor.KeyCooldown: "-1m"}, err: "cooldown"},
		"share above one":   {data: map[string]string{executor.KeyMaxUnschedulableShare: "1.5"}, err: "above 1"},
		"factor below one":  {data: map[string]string{executor.KeyMaxScaleFactor: "0.5"}, err: "maxScaleFactor"},
		"zero quantity":     {data: map[string]string{executor.KeyMaxCPU: "0"}, err: "maxCPU"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := executor.ParseSafetyConfig(tc.data)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}

// The ConfigMap shipped in deploy/ parses and says exactly what the defaults are.
func TestDeployedConfigMapIsTheDefaults(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "base", "config", "executor.yaml"))
	require.NoError(t, err)
	cm := &corev1.ConfigMap{}
	require.NoError(t, yaml.Unmarshal(raw, cm))
	assert.Equal(t, executor.DefaultConfigMapName, cm.Name)
	c, err := executor.ParseSafetyConfig(cm.Data)
	require.NoError(t, err)
	assert.Equal(t, executor.DefaultSafetyConfig(), c)
	assert.Len(t, cm.Data, 20, "every key is documented in the shipped ConfigMap")
	assert.Contains(t, string(raw), "# defaultOperationTimeout:", "the one key without a default is documented, commented out")
}
