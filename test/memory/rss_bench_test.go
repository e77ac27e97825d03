// Package memory measures the resident memory of the service binaries with 10,000
// RemediationRequests in the cluster (the project's budget is 100 MiB per service).
//
//	go test ./test/memory/ -run '^$' -bench RSS -benchtime 1x
//
// KUBERNAUT_GOMEMLIMIT sets the binaries' GOMEMLIMIT (deploy/base uses 90MiB); empty leaves Go's default.
// KUBERNAUT_RSS_PROFILES=<dir> saves each service's heap profile there (<service>.heap, read
// with go tool pprof; <service>.heap.txt with the runtime's memory statistics) just after its
// RSS is measured.
// KUBERNAUT_RSS_REQUESTS changes the number of remediations (10,000).
// KUBERNAUT_RSS_SERVICES (comma-separated, e.g. "orchestrator") measures only those services.
//
// Each remediation is finished and complete: the request (4 KiB payload) with its four children
// and its completion NotificationRequest, 60,000 objects in all, each with the status its
// service leaves behind (see finished). KUBERNAUT_RSS_BARE=1 creates the requests alone.
package memory

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/kubernaut/kubernaut/internal/testutil/apptest"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

// remediationCount is how many remediations the cluster holds: 10,000, or KUBERNAUT_RSS_REQUESTS.
func remediationCount(b *testing.B) int {
	v := os.Getenv("KUBERNAUT_RSS_REQUESTS")
	if v == "" {
		return 10000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("KUBERNAUT_RSS_REQUESTS=%q is not a positive number", v)
	}
	return n
}

// procKiB reads a field (VmRSS, VmHWM) of /proc/<pid>/status in KiB.
func procKiB(pid int, field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	return -1
}

func BenchmarkRSS(b *testing.B) {
	env := testenv.Start(b)
	ctx := context.Background()
	ns := env.Namespace(b, nil)
	payload := bytes.Repeat([]byte("x"), 4096)
	bare := os.Getenv("KUBERNAUT_RSS_BARE") != ""
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := finished(ctx, env.Client, ns, i, payload, bare); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	requests := remediationCount(b)
	created := time.Now()
	for i := 0; i < requests; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	fmt.Printf("created %d remediations in %s\n", requests, time.Since(created).Round(time.Second))

	user, err := env.Environment.AddUser(envtest.User{Name: "rss", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	kc, _ := user.KubeConfig()
	dir := b.TempDir()
	kcPath := filepath.Join(dir, "kubeconfig")
	_ = os.WriteFile(kcPath, kc, 0o600)
	services := map[string][]string{
		"gateway":      {"--auth-mode=none", "--http-bind-address=" + apptest.FreeAddr(b)},
		"orchestrator": {"--leader-elect=false", "--notification-url=http://127.0.0.1:1", "--datastorage-url=http://127.0.0.1:1"},
		"notification": {"--leader-elect=false", "--auth-mode=none", "--http-bind-address=" + apptest.FreeAddr(b)},
		"processing":   {"--leader-elect=false"}, "aianalysis": {"--leader-elect=false"},
		"workflow": {"--leader-elect=false"}, "executor": {"--leader-elect=false"},
	}
	if only := os.Getenv("KUBERNAUT_RSS_SERVICES"); only != "" {
		keep := map[string]bool{}
		for _, s := range strings.Split(only, ",") {
			keep[strings.TrimSpace(s)] = true
		}
		for s := range services {
			if !keep[s] {
				delete(services, s)
			}
		}
		if len(services) == 0 {
			b.Fatalf("KUBERNAUT_RSS_SERVICES=%q names no service", only)
		}
	}
	names := []string{}
	for s := range services {
		names = append(names, "github.com/kubernaut/kubernaut/cmd/"+s)
	}
	build := exec.Command("go", append([]string{"build", "-o", dir + "/"}, names...)...)
	build.Dir = testenv.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatal(string(out))
	}
	profiles := os.Getenv("KUBERNAUT_RSS_PROFILES")
	if profiles != "" {
		if err := os.MkdirAll(profiles, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for service, extra := range services {
		probes := apptest.FreeAddr(b)
		args := append([]string{"--kubeconfig=" + kcPath, "--namespace=" + ns, "--metrics-bind-address=0",
			"--health-probe-bind-address=" + probes}, extra...)
		pprofAddr := ""
		if profiles != "" {
			pprofAddr = apptest.FreeAddr(b)
			args = append(args, "--pprof-bind-address="+pprofAddr)
		}
		cmd := exec.Command(filepath.Join(dir, service), args...)
		cmd.Env = append(os.Environ(), "GOMEMLIMIT="+os.Getenv("KUBERNAUT_GOMEMLIMIT"))
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) {
			if resp, err := http.Get("http://" + probes + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			time.Sleep(200 * time.Millisecond) // polling a child process's probe, not test state
		}
		time.Sleep(10 * time.Second) // let it settle: caches synced, first reconciles done
		rss, hwm := procKiB(cmd.Process.Pid, "VmRSS"), procKiB(cmd.Process.Pid, "VmHWM")
		if pprofAddr != "" {
			saveHeapProfile(b, "http://"+pprofAddr+"/debug/pprof/heap", filepath.Join(profiles, service+".heap"))
			saveHeapProfile(b, "http://"+pprofAddr+"/debug/pprof/heap?debug=1", filepath.Join(profiles, service+".heap.txt"))
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		b.ReportMetric(float64(rss)/1024, service+"-rss-MiB")
		b.ReportMetric(float64(hwm)/1024, service+"-peak-MiB")
		fmt.Printf("%-13s RSS %6.1f MiB  peak %6.1f MiB  (%d RemediationRequests)\n", service, float64(rss)/1024, float64(hwm)/1024, requests)
	}
}

// saveHeapProfile fetches a heap profile from url into path.
func saveHeapProfile(b *testing.B, url, path string) {
	resp, err := http.Get(url)
	if err != nil {
		b.Errorf("heap profile: %v", err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		b.Errorf("heap profile: %v", err)
	}
}
