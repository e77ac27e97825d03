// Package binaries starts each of the eight service binaries against a real API server and
// checks that it serves /healthz, /readyz and /metrics, and exits 0 on SIGTERM. Each binary runs
// as its own ServiceAccount, bound to the ClusterRole `make manifests` generates from its RBAC
// markers (deploy/base/rbac/<service>/role.yaml) and, for a controller, to the namespaced Role
// kubernaut-leader-election of deploy/base/leader-election.yaml in its namespace (no ClusterRole
// grants Leases), with leader election on where it has it: a controller must hold its Lease
// through that Role and sync every controller's cache, and no request of any
// binary may be refused as Forbidden, so a missing RBAC marker fails here. Services with an
// HTTP API are also called once through the built binary (see checks), and two gateway
// processes share one alert storm without losing a count.
package binaries

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/apptest"
	"github.com/kubernaut/kubernaut/internal/testutil/syncbuf"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/internal/testutil/testpg"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// extraArgs are the service-specific flags a smoke run needs; api is the address the service's
// HTTP API listens on, dir a private directory.
var extraArgs = map[string]func(t *testing.T, api, dir string) []string{
	"gateway": func(t *testing.T, api, dir string) []string {
		tokens := filepath.Join(dir, "tokens")
		require.NoError(t, os.WriteFile(tokens, []byte("# Alertmanager\n"+gatewayToken+"\n"), 0o600))
		return []string{"--auth-mode=token-file", "--auth-token-file=" + tokens, "--http-bind-address=" + api}
	},
	"notification": func(t *testing.T, api, _ string) []string {
		return []string{"--auth-mode=none", "--http-bind-address=" + api}
	},
	"datastorage": func(t *testing.T, api, _ string) []string {
		return []string{"--auth-mode=none", "--http-bind-address=" + api, "--database-url=" + testpg.Start(t)}
	},
	"orchestrator": nil, "processing": nil, "aianalysis": nil, "workflow": nil, "executor": nil,
}

// checks call a healthy service's HTTP API at api; ns is its --namespace. The control loops
// are checked only as far as a single service can take them (notification delivers to the
// console); the packages' own tests cover the rest.
var checks = map[string]func(t *testing.T, env *testenv.Env, api, ns string){
	"gateway":      checkGateway,
	"notification": checkNotification,
	"datastorage":  checkDatastorage,
}

const gatewayToken = "smoke-test-token"

// alertBody is a firing Alertmanager webhook for the checkout Deployment.
var alertBody = []byte(`{"version":"4","groupKey":"{}:{alertname=\"KubePodCrashLooping\"}","truncatedAlerts":0,"status":"firing",
"receiver":"kubernaut","groupLabels":{"alertname":"KubePodCrashLooping"},"commonLabels":{},"commonAnnotations":{},
"externalURL":"http://alertmanager.monitoring:9093","alerts":[{"status":"firing","labels":{"alertname":"KubePodCrashLooping",
"severity":"critical","namespace":"shop","deployment":"checkout"},"annotations":{"summary":"checkout is crash looping"},
"startsAt":"2026-11-26T03:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph","fingerprint":"0a1b2c3d4e5f6789"}]}`)

// sendAlert posts alertBody to the gateway at api with the bearer token (none when empty) and
// returns the status code.
func sendAlert(api, token string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+api+"/api/v1/signals/prometheus", bytes.NewReader(alertBody))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// checkGateway posts a firing Alertmanager webhook to the gateway binary: refused without the
// token, stored as a RemediationRequest with it, and counted as a duplicate when sent again.
func checkGateway(t *testing.T, env *testenv.Env, api, ns string) {
	// The gateway resolves an alert only to an object that exists (otherwise the request goes to
	// manual review with the reason): the alert's Deployment is there.
	testenv.EnsureDeployment(t, env.Client, "shop", "checkout")
	for _, tc := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {"wrong", http.StatusUnauthorized}, {gatewayToken, http.StatusCreated}, {gatewayToken, http.StatusAccepted}} {
		code, err := sendAlert(api, tc.token)
		require.NoError(t, err)
		require.Equal(t, tc.want, code, "post with token %q", tc.token)
	}
	rr := onlyRequest(t, env, ns)
	assert.Equal(t, "KubePodCrashLooping", rr.Spec.SignalName)
	assert.Equal(t, "Deployment", rr.Spec.TargetResource.Kind)
	assert.Equal(t, "checkout", rr.Spec.TargetResource.Name)
	require.NotNil(t, rr.Status.Deduplication)
	assert.Equal(t, int32(1), rr.Status.Deduplication.OccurrenceCount)
}

// onlyRequest returns the one RemediationRequest of ns.
func onlyRequest(t *testing.T, env *testenv.Env, ns string) remediationv1.RemediationRequest {
	t.Helper()
	var list remediationv1.RemediationRequestList
	require.NoError(t, env.Client.List(context.Background(), &list, client.InNamespace(ns)))
	require.Len(t, list.Items, 1)
	return list.Items[0]
}

// cluster is an API server and the service binaries built into dir.
type cluster struct {
	env *testenv.Env
	dir string
}

// newCluster starts an API server and builds the named services.
func newCluster(t *testing.T, services ...string) *cluster {
	c := &cluster{env: testenv.Start(t), dir: t.TempDir()}
	build := exec.Command("go", append([]string{"build", "-o", c.dir + "/"}, prefixed("github.com/kubernaut/kubernaut/cmd/", services)...)...)
	build.Dir = testenv.RepoRoot()
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	return c
}

// kubeconfigAs writes a kubeconfig that acts as ServiceAccount kubernaut-<service> of ns, bound
// to the service's generated ClusterRole and, for a controller, the leader-election Role in ns
// (testenv.AsService), and returns its path.
func (c *cluster) kubeconfigAs(t *testing.T, service, ns string) string {
	t.Helper()
	cfg := c.env.AsService(t, service, ns)
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos[service] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken,
		Impersonate: cfg.Impersonate.UserName, ImpersonateGroups: cfg.Impersonate.Groups,
	}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: service}
	kc.CurrentContext = "envtest"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*kc, path))
	return path
}

// process is a running service binary.
type process struct {
	service string
	cmd     *exec.Cmd
	done    chan error
	logs    *syncbuf.Buffer
}

// leaderElected lists the binaries that have --leader-elect (the controllers).
func leaderElected(t *testing.T, binary string) bool {
	t.Helper()
	help, err := exec.Command(binary, "--help").CombinedOutput()
	require.NoError(t, err, string(help))
	return strings.Contains(string(help), "--leader-elect")
}

// start runs service on namespace ns as its own ServiceAccount with the shared flags plus extra,
// and waits until it serves /healthz, /readyz and /metrics and, for a controller, holds its Lease
// and has synced every controller's cache. The process is killed at the end of the test.
func (c *cluster) start(t *testing.T, service, ns string, extra ...string) *process {
	t.Helper()
	metrics, probes := apptest.FreeAddr(t), apptest.FreeAddr(t)
	binary := filepath.Join(c.dir, service)
	args := []string{"--kubeconfig=" + c.kubeconfigAs(t, service, ns), "--namespace=" + ns, "--metrics-bind-address=" + metrics,
		"--health-probe-bind-address=" + probes, "--log-format=json"}
	elected := leaderElected(t, binary)
	if elected {
		args = append(args, "--leader-elect=true")
	}
	args = append(args, extra...)
	p := &process{service: service, cmd: exec.Command(binary, args...), done: make(chan error, 1), logs: &syncbuf.Buffer{}}
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	require.NoError(t, p.cmd.Start())
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		for _, url := range []string{"http://" + probes + "/healthz", "http://" + probes + "/readyz", "http://" + metrics + "/metrics"} {
			resp, err := http.Get(url)
			if !assert.NoError(c, err) {
				return
			}
			resp.Body.Close()
			assert.Equal(c, http.StatusOK, resp.StatusCode, url)
		}
	}, 60*time.Second, 200*time.Millisecond, "%s did not become healthy; logs:\n%s", service, p.logs)
	if elected {
		assert.EventuallyWithT(t, func(co *assert.CollectT) {
			var lease coordinationv1.Lease
			if assert.NoError(co, c.env.Client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "kubernaut-" + service}, &lease)) {
				assert.NotEmpty(co, ptr.Deref(lease.Spec.HolderIdentity, ""), "holder of Lease %s/kubernaut-%s", ns, service)
			}
			started, working := p.controllers()
			assert.Equal(co, started, working, "controllers started and controllers whose caches synced")
		}, 60*time.Second, 200*time.Millisecond, "%s did not lead and sync its controllers as ServiceAccount kubernaut-%s; logs:\n%s", service, service, p.logs)
	}
	p.assertNotForbidden(t)
	return p
}

// controllers reads the process's JSON log: the controllers that started, and those whose caches
// synced (controller-runtime logs "Starting workers" only then).
func (p *process) controllers() (started, working []string) {
	for _, line := range strings.Split(p.logs.String(), "\n") {
		var entry struct {
			Msg        string `json:"msg"`
			Controller string `json:"controller"`
		}
		if json.Unmarshal([]byte(line), &entry) != nil || entry.Controller == "" {
			continue
		}
		switch entry.Msg {
		case "Starting Controller":
			started = append(started, entry.Controller)
		case "Starting workers":
			working = append(working, entry.Controller)
		}
	}
	slices.Sort(started)
	slices.Sort(working)
	return slices.Compact(started), slices.Compact(working)
}

// assertNotForbidden fails when the API server refused any request of the process: a watch, an
// event, the Lease, or a write its reconciler made.
func (p *process) assertNotForbidden(t *testing.T) {
	t.Helper()
	var refused []string
	for _, line := range strings.Split(p.logs.String(), "\n") {
		if strings.Contains(line, "is forbidden") {
			refused = append(refused, line)
		}
	}
	assert.Empty(t, refused, "%s was refused by the API server as ServiceAccount kubernaut-%s: a +kubebuilder:rbac marker is missing (then run `make manifests`)", p.service, p.service)
}

// stop sends SIGTERM and requires a clean exit, and no Forbidden answer over the whole run
// (a controller releases its Lease on the way out).
func (p *process) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		assert.NoError(t, err, "exit after SIGTERM; logs:\n%s", p.logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not exit after SIGTERM; logs:\n%s", p.service, p.logs)
	}
	p.assertNotForbidden(t)
}

func TestBinariesStartServeAndStop(t *testing.T) {
	services := make([]string, 0, len(extraArgs))
	for s := range extraArgs {
		services = append(services, s)
	}
	c := newCluster(t, services...)
	for service, extra := range extraArgs {
		t.Run(service, func(t *testing.T) {
			help, err := exec.Command(filepath.Join(c.dir, service), "--help").CombinedOutput()
			require.NoError(t, err)
			for _, flag := range []string{"--kubeconfig", "--namespace", "--metrics-bind-address", "--health-probe-bind-address", "--log-level", "--log-format"} {
				assert.Contains(t, string(help), flag)
			}
			ns, api := c.env.Namespace(t, nil), apptest.FreeAddr(t)
			var args []string
			if extra != nil {
				args = extra(t, api, t.TempDir())
			}
			p := c.start(t, service, ns, args...)
			if check := checks[service]; check != nil {
				check(t, c.env, api, ns)
			}
			p.stop(t)
		})
	}
}

// TestTwoGatewayProcessesCountEveryDuplicate sends 50 identical alerts at once, alternately to
// two gateway processes on one API server: exactly one request, with occurrenceCount 49.
func TestTwoGatewayProcessesCountEveryDuplicate(t *testing.T) {
	c := newCluster(t, "gateway")
	ns := c.env.Namespace(t, nil)
	apis := []string{apptest.FreeAddr(t), apptest.FreeAddr(t)}
	for _, api := range apis {
		c.start(t, "gateway", ns, extraArgs["gateway"](t, api, t.TempDir())...)
	}
	const n = 50
	codes, errs := make([]int, n), make([]error, n)
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-ready
			codes[i], errs[i] = sendAlert(apis[i%2], gatewayToken)
		})
	}
	close(ready)
	wg.Wait()
	byCode := map[int]int{}
	for i := range n {
		require.NoError(t, errs[i])
		byCode[codes[i]]++
	}
	assert.Equal(t, map[int]int{http.StatusCreated: 1, http.StatusAccepted: n - 1}, byCode)
	rr := onlyRequest(t, c.env, ns)
	require.NotNil(t, rr.Status.Deduplication)
	assert.Equal(t, int32(n-1), rr.Status.Deduplication.OccurrenceCount)
}

// checkNotification posts an escalation to the console channel: accepted, and delivered by the
// binary's own controller.
func checkNotification(t *testing.T, env *testenv.Env, api, ns string) {
	t0 := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	notify := notificationapi.NewClient("http://"+api, "")
	resp, err := notify.SendEscalation(context.Background(), notificationapi.EscalationRequest{
		RemediationRequestName: "remediation-smoke", RemediationRequestNamespace: ns, EscalatingController: "remediation-orchestrator",
		AlertFingerprint: strings.Repeat("ab", 32), AlertName: "KubePodCrashLooping", Severity: "critical", Environment: "production",
		Priority: "P0", SignalType: "prometheus-alert", Namespace: "shop",
		Resource:         notificationapi.ResourceIdentifier{Kind: "Deployment", Name: "checkout", Namespace: "shop"},
		EscalationReason: "timeout", EscalationPhase: "Analyzing", EscalationTime: t0.Add(11 * time.Minute),
		AlertFiringTime: t0, AlertReceivedTime: t0.Add(time.Second), RemediationDuration: "11m0s",
		Channels: []string{"console"}, Urgency: "critical",
	})
	require.NoError(t, err)
	require.NotEmpty(t, resp.NotificationName)
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		var nr notificationv1.NotificationRequest
		if assert.NoError(c, env.Client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: resp.NotificationName}, &nr)) {
			assert.Equal(c, notificationv1.PhaseSent, nr.Status.Phase)
		}
	}, 30*time.Second, 100*time.Millisecond, "escalation %s not delivered", resp.NotificationName)
}

// checkDatastorage stores an audit record through the binary and reads it back.
func checkDatastorage(t *testing.T, _ *testenv.Env, api, _ string) {
	start := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	require.NoError(t, auditapi.NewClient("http://"+api, "").PostRemediation(context.Background(), auditapi.RemediationAudit{
		AlertFingerprint: strings.Repeat("cd", 32), RemediationName: "remediation-smoke", Namespace: "shop",
		SignalName: "KubePodCrashLooping", OverallPhase: "Processing", StartTime: start, PhaseSequence: 1,
		ServiceCRDStatuses: []auditapi.ServiceCRDStatus{{ServiceType: "RemediationProcessing", CRDName: "remediation-smoke-processing", Phase: "Enriching", StartTime: start}},
	}))
	resp, err := http.Get("http://" + api + auditapi.RemediationPath + "/remediation-smoke")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got auditapi.RemediationAudit
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	assert.Equal(t, "Processing", got.OverallPhase)
	require.Len(t, got.ServiceCRDStatuses, 1)
	assert.Equal(t, "Enriching", got.ServiceCRDStatuses[0].Phase)
}

func prefixed(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + n
	}
	return out
}
