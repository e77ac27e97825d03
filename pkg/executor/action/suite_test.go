package action_test

import (
	"os"
	"testing"

	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

// One API server for the package's envtest tests (each has its own namespace and node).
var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.RunWithEnv(m, func(e *testenv.Env) { env = e })) }
