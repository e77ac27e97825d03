package kubectlplugin_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kubernaut/kubernaut/internal/testutil/syncbuf"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/kubectlplugin"
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
	out := inv.out
	if out == nil {
		out = &syncbuf.Buffer{}
	}
	errOut := &syncbuf.Buffer{}
	o := kubectlplugin.NewOptions(genericiooptions.IOStreams{In: bytes.NewReader(nil), Out: out, ErrOut: errOut})
	cfg := inv.cfg
	o.RESTConfig = func() (*rest.Config, error) { return rest.CopyConfig(cfg), nil }
	o.Now = inv.now
	o.WatchInterval = 100 * time.Millisecond
	cmd := kubectlplugin.NewCommand(o)
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	err := cmd.ExecuteContext(inv.ctx)
	return result{stdout: out.String(), stderr: errOut.String(), code: kubectlplugin.ExitCode(err), err: err}
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
