package kubectlplugin_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kubernaut/kubernaut/internal/testutil/plugintest"
	"github.com/kubernaut/kubernaut/internal/testutil/syncbuf"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ (make plugin-golden)")

// env is the package's API server, started once in TestMain.
var env *testenv.Env

func TestMain(m *testing.M) {
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	os.Exit(testenv.RunWithEnv(m, func(e *testenv.Env) { env = e }))
}

// result is one run of the plugin.
type result struct {
	stdout, stderr string
	code           int
	err            error
}

// invocation configures one run: who runs it and at what time.
type invocation struct {
	cfg *rest.Config
	now func() time.Time
	ctx context.Context
	out *syncbuf.Buffer
}

func run(t *testing.T, inv invocation, args ...string) result {
	t.Helper()
	if inv.cfg == nil {
		inv.cfg = env.Config
	}
	if inv.now == nil {
		inv.now = func() time.Time { return fixedNow }
	}
	if inv.ctx == nil {
		inv.ctx = context.Background()
	}
	r := plugintest.Run(t, plugintest.Invocation{Cfg: inv.cfg, Now: inv.now, Ctx: inv.ctx, Out: inv.out}, args...)
	return result{stdout: r.Stdout, stderr: r.Stderr, code: r.Code, err: r.Err}
}

// golden compares got with testdata/<name>.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file: run `make plugin-golden`")
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got); run `make plugin-golden` if the change is intended:\n%s", path, diff)
	}
}
