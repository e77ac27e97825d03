package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/internal/testutil/syncbuf"
	"github.com/kubernaut/kubernaut/internal/workload"
)

// runMainEnv makes the test binary run main() instead of the tests, so each test below runs the
// real program (flags, signals, exit code) as a separate process.
const runMainEnv = "E2E_WORKLOAD_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// start runs the program with args as its own process.
func start(t *testing.T, args ...string) (*exec.Cmd, *syncbuf.Buffer, *syncbuf.Buffer, <-chan error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	stdout, stderr := &syncbuf.Buffer{}, &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, stdout, stderr, done
}

// exitCode waits for the process and returns its exit code.
func exitCode(t *testing.T, done <-chan error, stdout, stderr *syncbuf.Buffer) int {
	t.Helper()
	select {
	case err := <-done:
		if err == nil {
			return 0
		}
		var exit *exec.ExitError
		require.True(t, errors.As(err, &exit), "wait: %v", err)
		return exit.ExitCode()
	case <-time.After(30 * time.Second):
		t.Fatalf("the program did not exit; stdout:\n%s\nstderr:\n%s", stdout, stderr)
		return -1
	}
}

func TestAllocatesTouchesAndIdlesUntilSignal(t *testing.T) {
	tests := map[string]struct {
		signal syscall.Signal
	}{
		"SIGTERM": {syscall.SIGTERM},
		"SIGINT":  {syscall.SIGINT},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cmd, stdout, stderr, done := start(t, workload.AllocateFlag+"=8Mi")
			assert.EventuallyWithT(t, func(c *assert.CollectT) {
				assert.Contains(c, stdout.String(), "running until SIGTERM")
			}, 30*time.Second, 20*time.Millisecond, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			assert.Contains(t, stdout.String(), "allocated 8 MiB\n")

			// The memory is committed, not only reserved: it counts in the resident anonymous memory.
			status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
			require.NoError(t, err)
			m := regexp.MustCompile(`(?m)^RssAnon:\s+(\d+) kB`).FindSubmatch(status)
			require.NotNil(t, m, "RssAnon in /proc/<pid>/status")
			kb, err := strconv.Atoi(string(m[1]))
			require.NoError(t, err)
			assert.GreaterOrEqual(t, kb, 8*1024, "resident anonymous memory after allocating 8Mi")

			require.NoError(t, cmd.Process.Signal(tc.signal))
			assert.Equal(t, 0, exitCode(t, done, stdout, stderr), "stderr:\n%s", stderr)
		})
	}
}

func TestExitCode(t *testing.T) {
	_, stdout, stderr, done := start(t, workload.ExitFlag+"=3")
	assert.Equal(t, 3, exitCode(t, done, stdout, stderr))
	assert.Contains(t, stdout.String(), "exiting with code 3")
}

func TestRefusesBadFlags(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"allocate without unit":  {[]string{"--allocate=12"}, "--allocate=12: want <N>Mi"},
		"allocate in other unit": {[]string{"--allocate=12M"}, "--allocate=12M: want <N>Mi"},
		"allocate in Gi":         {[]string{"--allocate=1Gi"}, "--allocate=1Gi: want <N>Mi"},
		"allocate zero":          {[]string{"--allocate=0Mi"}, "positive integer"},
		"allocate negative":      {[]string{"--allocate=-5Mi"}, "positive integer"},
		"exit code out of range": {[]string{"--exit-code=256"}, "from 0 to 255"},
		"exit code not a number": {[]string{"--exit-code=one"}, "invalid value"},
		"unknown flag":           {[]string{"--oom"}, "flag provided but not defined"},
		"positional argument":    {[]string{"sleep"}, "unexpected arguments"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, stdout, stderr, done := start(t, tc.args...)
			assert.Equal(t, 2, exitCode(t, done, stdout, stderr))
			assert.Contains(t, stderr.String(), tc.want)
		})
	}
}

func TestParseMiB(t *testing.T) {
	tests := map[string]struct {
		in   string
		want int
		ok   bool
	}{
		"160Mi": {"160Mi", 160, true},
		"1Mi":   {"1Mi", 1, true},
		"Mi":    {"Mi", 0, false},
		"160":   {"160", 0, false},
		"160mi": {"160mi", 0, false},
		"1.5Mi": {"1.5Mi", 0, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseMiB(tc.in)
			if !tc.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestAllocateTouchesEveryPage(t *testing.T) {
	b := allocate(2)
	require.Len(t, b, 2<<20)
	for i := 0; i < len(b); i += pageSize {
		if b[i] != 1 {
			t.Fatalf("page at offset %d not written", i)
		}
	}
}
