package testpg

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMissingBinariesFailWithInstallHint(t *testing.T) {
	t.Setenv(EnvBinDir, t.TempDir())
	_, err := newLocal()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "apt-get install postgresql")
	assert.Contains(t, err.Error(), EnvDatabaseURL)
}
