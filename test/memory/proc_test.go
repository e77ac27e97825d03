package memory

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestProcKiBReadsOwnStatus(t *testing.T) {
	rss := procKiB(os.Getpid(), "VmRSS")
	assert.Positive(t, rss, "VmRSS of this test process")
	assert.GreaterOrEqual(t, procKiB(os.Getpid(), "VmHWM"), rss, "the peak is at least the current RSS")
	assert.EqualValues(t, -1, procKiB(os.Getpid(), "NoSuchField"))
}
