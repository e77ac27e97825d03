package images

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kubernaut/kubernaut/hack/imagebuild"
	"github.com/kubernaut/kubernaut/internal/testutil/syncbuf"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/internal/workload"
)

// TestImagesE2EWorkload checks the e2e workload's archive (make e2e-workload-image): both tags in
// one archive, the services' user and layout, and the program failing the way the e2e scenarios
// need: Good idles until SIGTERM (exit 0), Bad exits 1 on its own (its image command), and
// AllocateFlag commits the memory it names. Where a private containerd can run (root, with
// containerd, ctr and runc installed) the archive is also imported the way `kind load
// image-archive` imports it and run by runc: Bad exits 1, and Good with AllocateFlag above its
// memory limit is OOM-killed by the kernel (exit 137).
func TestImagesE2EWorkload(t *testing.T) {
	dir := os.Getenv("KUBERNAUT_IMAGES_DIR")
	if dir == "" {
		dir = buildWorkloadImage(t)
		t.Logf("KUBERNAUT_IMAGES_DIR unset: built the e2e workload's archive into %s", dir)
	}
	archive := filepath.Join(dir, imagebuild.ArchiveName(imagebuild.WorkloadService))
	_, err := os.Stat(archive)
	require.NoError(t, err, "the e2e workload's archive is missing: run make e2e-workload-image (make test-images does)")

	images := map[string]v1.Image{}
	for _, ref := range []string{workload.Good, workload.Bad} {
		img, err := imagebuild.Load(archive, ref)
		require.NoError(t, err, "%s holds %s", archive, ref)
		images[ref] = img
	}
	good, err := images[workload.Good].Digest()
	require.NoError(t, err)
	bad, err := images[workload.Bad].Digest()
	require.NoError(t, err)
	require.NotEqual(t, good, bad, "two different images")
	t.Logf("checked: %s holds %s (%s) and %s (%s)", archive, workload.Good, good, workload.Bad, bad)

	tests := map[string]struct {
		ref     string
		cmd     []string
		args    []string // nil: the image's command, as a container without args runs it
		oneLine string   // what the program prints once it runs
		exit    int
		rssMiB  int // resident anonymous memory the process must have once it runs
	}{
		"good idles until SIGTERM": {ref: workload.Good, oneLine: "running until SIGTERM"},
		"good allocates 16Mi":      {ref: workload.Good, args: []string{workload.AllocateFlag + "=16Mi"}, oneLine: "running until SIGTERM", rssMiB: 16},
		"bad exits 1":              {ref: workload.Bad, cmd: []string{workload.ExitFlag + "=1"}, oneLine: "exiting with code 1", exit: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cf, err := images[tc.ref].ConfigFile()
			require.NoError(t, err)
			root := rootDir(t)
			require.NoError(t, imagebuild.Unpack(images[tc.ref], root))
			uid, gid := checkUserAndFiles(t, cf, root)
			assert.Equal(t, fmt.Sprintf("%d:%d", imagebuild.NonRootUID, imagebuild.NonRootUID), cf.Config.User)
			assert.Equal(t, []string{imagebuild.EntrypointPath(imagebuild.WorkloadService)}, cf.Config.Entrypoint)
			assert.Equal(t, tc.cmd, cf.Config.Cmd, "the image's command")
			assert.Empty(t, cf.Config.ExposedPorts, "the workload serves nothing")

			args := cf.Config.Cmd
			if tc.args != nil {
				args = tc.args
			}
			cmd := run(t, root, uid, gid, cf, cf.Config.Entrypoint, args...)
			logs, done := startLogged(t, cmd)

			assert.EventuallyWithT(t, func(c *assert.CollectT) {
				assert.Contains(c, logs.String(), tc.oneLine)
			}, 30*time.Second, 20*time.Millisecond, "output:\n%s", logs)
			if tc.exit == 0 {
				status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
				require.NoError(t, err)
				wantUID := os.Geteuid()
				if chrooted {
					wantUID = uid
				}
				assert.Regexp(t, fmt.Sprintf(`(?m)^Uid:\s+%d\s`, wantUID), string(status), "the process runs as uid %d", wantUID)
				if tc.rssMiB > 0 {
					assert.Contains(t, logs.String(), fmt.Sprintf("allocated %d MiB", tc.rssMiB))
					assert.GreaterOrEqual(t, rssAnonKiB(t, status), tc.rssMiB*1024, "the allocated memory is resident")
				}
				require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			}
			assert.Equal(t, tc.exit, waitExit(t, done, logs), "exit code; output:\n%s", logs)
			how := "from the unpacked filesystem as the current user"
			if chrooted {
				how = fmt.Sprintf("chrooted into the unpacked image as uid %d", uid)
			}
			t.Logf("checked: %s %s ran %s and exited %d", tc.ref, strings.Join(append(slices.Clone(cf.Config.Entrypoint), args...), " "), how, tc.exit)
		})
	}

	t.Run("containerd", func(t *testing.T) {
		ctr, ok := startContainerd(t)
		if !ok {
			return
		}
		// What kind load image-archive runs on each node.
		out, err := ctr("images", "import", "--all-platforms", "--digests", "--snapshotter=overlayfs", archive)
		require.NoError(t, err, "ctr images import: %s", out)
		listed, err := ctr("images", "ls", "-q")
		require.NoError(t, err, listed)
		assert.Contains(t, listed, workload.Good)
		assert.Contains(t, listed, workload.Bad)

		var exit *exec.ExitError
		out, err = ctr("run", "--rm", workload.Bad, "e2e-workload-bad")
		require.True(t, errors.As(err, &exit), "%s must exit non-zero: %v; output:\n%s", workload.Bad, err, out)
		assert.Equal(t, 1, exit.ExitCode(), "%s exits 1 by its image's command; output:\n%s", workload.Bad, out)

		out, err = ctr("run", "--rm", "--memory-limit", strconv.Itoa(32<<20), workload.Good, "e2e-workload-oom",
			imagebuild.EntrypointPath(imagebuild.WorkloadService), workload.AllocateFlag+"=64Mi")
		require.True(t, errors.As(err, &exit), "%s with %s=64Mi under a 32 MiB limit must be killed: %v; output:\n%s", workload.Good, workload.AllocateFlag, err, out)
		assert.Equal(t, 137, exit.ExitCode(), "OOM-killed (SIGKILL); output:\n%s", out)
		assert.NotContains(t, out, "allocated", "killed before it finished allocating")
		t.Logf("checked: imported %s like kind load image-archive (ctr images import) into a private containerd; runc ran %s: exit 1; %s %s=64Mi under a 32 MiB memory limit: OOM-killed, exit 137",
			archive, workload.Bad, workload.Good, workload.AllocateFlag)
	})
}

// rssAnonKiB reads RssAnon from a /proc/<pid>/status.
func rssAnonKiB(t *testing.T, status []byte) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^RssAnon:\s+(\d+) kB`).FindSubmatch(status)
	require.NotNil(t, m, "RssAnon in /proc/<pid>/status")
	kb, err := strconv.Atoi(string(m[1]))
	require.NoError(t, err)
	return kb
}

// waitExit waits for a process started by the test and returns its exit code.
func waitExit(t *testing.T, done <-chan error, logs *syncbuf.Buffer) int {
	t.Helper()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		require.NoError(t, err)
		return 0
	case <-time.After(30 * time.Second):
		t.Fatalf("the workload did not exit; output:\n%s", logs)
		return -1
	}
}

// buildWorkloadImage builds the e2e workload's static binary and archive into a temporary
// directory.
func buildWorkloadImage(t *testing.T) string {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	build := exec.Command("go", "build", "-trimpath", "-o", bin+"/", "github.com/kubernaut/kubernaut/hack/e2e-workload")
	build.Dir = testenv.RepoRoot()
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	o := imagebuild.Options{Binary: filepath.Join(bin, imagebuild.WorkloadService), Arch: goruntime.GOARCH,
		CACertificates: "/etc/ssl/certs/ca-certificates.crt", Created: time.Unix(0, 0)}
	require.NoError(t, imagebuild.WriteWorkload(o, filepath.Join(dir, "images", imagebuild.ArchiveName(imagebuild.WorkloadService))))
	return filepath.Join(dir, "images")
}

// ctrFunc runs ctr against the test's containerd and returns its combined output.
type ctrFunc func(args ...string) (string, error)

// startContainerd starts a private containerd (its own root, state and socket; no CRI) for the
// test and returns a ctr for it, or false (logged as not checked) where that cannot run: not root,
// containerd, ctr or runc not installed, containerd not starting, or KUBERNAUT_IMAGES_CONTAINERD=0.
// It is stopped at cleanup.
func startContainerd(t *testing.T) (ctrFunc, bool) {
	if os.Getenv("KUBERNAUT_IMAGES_CONTAINERD") == "0" {
		t.Logf("not checked: a containerd run (KUBERNAUT_IMAGES_CONTAINERD=0)")
		return nil, false
	}
	if os.Geteuid() != 0 || goruntime.GOOS != "linux" {
		t.Logf("not checked: a containerd run (needs root on linux)")
		return nil, false
	}
	for _, b := range []string{"containerd", "ctr", "runc"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Logf("not checked: a containerd run (%s not installed)", b)
			return nil, false
		}
	}
	dir, err := os.MkdirTemp("", "kn-ctrd-") // short: the socket path must fit in 108 bytes
	require.NoError(t, err)
	sock := filepath.Join(dir, "containerd.sock")
	config := fmt.Sprintf("version = 2\nroot = %q\nstate = %q\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = %q\n",
		filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.toml"), []byte(config), 0o600))
	logs := &syncbuf.Buffer{}
	daemon := exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"))
	daemon.Stdout, daemon.Stderr = logs, logs
	require.NoError(t, daemon.Start())
	exited := make(chan struct{})
	go func() { _ = daemon.Wait(); close(exited) }()
	ctr := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "ctr", append([]string{"--address", sock, "--namespace", "k8s.io"}, args...)...).CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() {
		// Containers a failed check left running: their shims outlive containerd otherwise.
		ids, _ := ctr("containers", "ls", "-q")
		for _, id := range strings.Fields(ids) {
			_, _ = ctr("task", "kill", "-s", "SIGKILL", id)
			_, _ = ctr("task", "delete", "--force", id)
			_, _ = ctr("containers", "delete", id)
		}
		_ = daemon.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = daemon.Process.Kill()
			<-exited
		}
		_ = os.RemoveAll(dir)
	})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(context.Context) (bool, error) {
		_, err := ctr("version")
		return err == nil, nil
	}); err != nil {
		t.Logf("not checked: a containerd run (containerd did not answer within 20s; its log:\n%s)", logs)
		return nil, false
	}
	return ctr, true
}
