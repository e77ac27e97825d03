// Package e2e is the end-to-end suite: the eight service binaries, built from this checkout, run
// as processes against a local cluster whose pods run (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kwok) and PostgreSQL, all started by the launcher.
// Each scenario stages an incident, posts Alertmanager's webhook to the gateway over HTTP and
// checks the outcome where it lands: the cluster, the audit trail in datastorage, and the
// notification stand-ins (Slack, Teams, PagerDuty, webhook, SMTP).
//
// The suite runs only when KUBERNAUT_E2E=1 (`make test-e2e` sets it), so that `go test ./...`
// (and `make test`) compiles and vets it without starting a second system; without the variable
// every test reports a skip that says how to run it.
//
// With KUBERNAUT_E2E_KUBECONFIG set (make e2e-kind) the suite is in remote mode: it starts
// nothing, uses that cluster and the gateway at KUBERNAUT_E2E_GATEWAY_URL, and runs the scenarios
// that need only the API server and the gateway; those that stop, kill or cut local processes,
// write pod or node status as a kubelet, or read the local audit reader token and stand-ins
// skip with the reason.
package e2e

import (
	"context"
	"fmt"
	"github.com/go-logr/logr"
	"os"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/localcluster"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
	"github.com/kubernaut/kubernaut/test/e2e/launcher"
)

// EnvE2E enables the suite.
const EnvE2E = "KUBERNAUT_E2E"

// EnvRevision builds the services from a git revision (for example HEAD) instead of the working
// tree.
const EnvRevision = "KUBERNAUT_E2E_REVISION"

// Remote mode (make e2e-kind): with KUBERNAUT_E2E_KUBECONFIG set the suite starts nothing and
// runs against that cluster and the gateway at KUBERNAUT_E2E_GATEWAY_URL, posting with
// KUBERNAUT_E2E_GATEWAY_TOKEN; Kubernaut's resources are in KUBERNAUT_E2E_NAMESPACE.
const (
	EnvKubeconfig   = "KUBERNAUT_E2E_KUBECONFIG"
	EnvGatewayURL   = "KUBERNAUT_E2E_GATEWAY_URL"
	EnvGatewayToken = "KUBERNAUT_E2E_GATEWAY_TOKEN"
	EnvNamespace    = "KUBERNAUT_E2E_NAMESPACE"
)

// sys is the system every scenario runs against (started once by TestMain, or in remote mode
// only the cluster client, the gateway's address and the token to post with).
var sys *launcher.System

// remote is true in remote mode.
var remote bool

// connectRemote describes a system that runs elsewhere: an administrator client of the cluster
// and the gateway. There are no local processes, stand-ins, datastorage URL or reader token.
func connectRemote(kubeconfig string) (*launcher.System, error) {
	gw, token := os.Getenv(EnvGatewayURL), os.Getenv(EnvGatewayToken)
	if gw == "" || token == "" {
		return nil, fmt.Errorf("%s and %s must be set with %s", EnvGatewayURL, EnvGatewayToken, EnvKubeconfig)
	}
	addr, ok := strings.CutPrefix(strings.TrimRight(gw, "/"), "http://")
	if !ok {
		return nil, fmt.Errorf("%s=%s: only http:// URLs are supported (make e2e-kind port-forwards the gateway)", EnvGatewayURL, gw)
	}
	if ns := os.Getenv(EnvNamespace); ns != "" && ns != launcher.SystemNamespace {
		return nil, fmt.Errorf("%s=%s: the suite knows only %s", EnvNamespace, ns, launcher.SystemNamespace)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", kubeconfig, err)
	}
	c, err := client.New(cfg, client.Options{Scheme: app.NewScheme()})
	if err != nil {
		return nil, fmt.Errorf("client of %s: %w", kubeconfig, err)
	}
	return &launcher.System{
		Cluster:           &localcluster.Cluster{Config: cfg, Kubeconfig: kubeconfig, Client: c},
		Services:          map[string]*launcher.Service{"gateway": {Name: "gateway", APIAddr: addr}},
		AlertmanagerToken: token,
	}, nil
}

// skipRemote skips a scenario in remote mode with the reason.
func skipRemote(t *testing.T, reason string) {
	t.Helper()
	if remote {
		t.Skip("remote mode: " + reason)
	}
}

// Reasons a scenario cannot run in remote mode.
const (
	needsProcesses = "needs control of the local processes"
	needsKubelet   = "stages the failure by writing pod or node status as the kubelet would; on a cluster with real kubelets that status is overwritten, so the incident cannot be staged"
	needsLocal     = "checks the audit trail with the local reader token and the notification stand-ins, which exist only in local mode"
)

// orchestratorArgs shorten the orchestrator's waits so that scenarios end in seconds: the
// processing timeout (scenario 7), the stabilization window after an executed change, and the
// longest wait between retries of an unavailable datastorage (scenario 8).
var orchestratorArgs = []string{"--timeout-processing=20s", "--stabilization-window=5s", "--retry-max-backoff=5s"}

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard()) // the client's own logs are not part of the output
	if os.Getenv(EnvE2E) != "1" {
		fmt.Fprintf(os.Stderr, "e2e suite skipped: run `make test-e2e` (or set %s=1)\n", EnvE2E)
		os.Exit(0)
	}
	if kc := os.Getenv(EnvKubeconfig); kc != "" {
		var err error
		if sys, err = connectRemote(kc); err != nil {
			fmt.Fprintf(os.Stderr, "e2e remote mode: %v. NOT RUN.\n", err)
			os.Exit(1)
		}
		remote = true
		fmt.Fprintf(os.Stderr, "e2e: remote mode against %s (gateway %s): nothing started; scenarios that need local processes or kubelet-written status skip\n", kc, sys.Services["gateway"].URL())
		os.Exit(m.Run())
	}
	ctx := context.Background()
	var err error
	sys, err = launcher.Start(ctx, launcher.Options{
		StandIns: true,
		Progress: os.Stderr,
		Revision: os.Getenv(EnvRevision),
		Args:     map[string][]string{"orchestrator": orchestratorArgs},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting the system: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "e2e: services log into %s; kubeconfig %s\n", sys.LogDir, sys.Cluster.Kubeconfig)
	code := m.Run()
	if err := sys.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stopping the system: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

var nsCounter atomic.Int64

// runID tells this run's namespaces apart in remote mode.
var runID = strconv.FormatInt(time.Now().UnixNano()%(1<<40), 36)

// namespaceFor returns a fresh namespace name for a test.
func namespaceFor(t *testing.T) string {
	name := strings.ToLower(t.Name())
	name = strings.NewReplacer("/", "-", "_", "-", " ", "-").Replace(name)
	if len(name) > 40 {
		name = name[:40]
	}
	if remote { // a long-lived cluster keeps earlier runs' namespaces: one suffix per run
		return fmt.Sprintf("%s-%s-%d", strings.Trim(name, "-"), runID, nsCounter.Add(1))
	}
	return fmt.Sprintf("%s-%d", strings.Trim(name, "-"), nsCounter.Add(1))
}

// request reads a RemediationRequest of the system namespace.
func request(ctx context.Context, name string) (*remediationv1.RemediationRequest, error) {
	rr := &remediationv1.RemediationRequest{}
	err := sys.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: launcher.SystemNamespace, Name: name}, rr)
	return rr, err
}

// requestsFor lists the RemediationRequests whose target is in namespace ns.
func requestsFor(ctx context.Context, ns string) ([]remediationv1.RemediationRequest, error) {
	var list remediationv1.RemediationRequestList
	if err := sys.Cluster.Client.List(ctx, &list, client.InNamespace(launcher.SystemNamespace)); err != nil {
		return nil, err
	}
	var out []remediationv1.RemediationRequest
	for _, rr := range list.Items {
		if rr.Spec.TargetResource.Namespace == ns {
			out = append(out, rr)
		}
	}
	return out, nil
}

// notificationsFor lists the NotificationRequests about a RemediationRequest.
func notificationsFor(ctx context.Context, rrName string) ([]notificationv1.NotificationRequest, error) {
	var list notificationv1.NotificationRequestList
	if err := sys.Cluster.Client.List(ctx, &list, client.InNamespace(launcher.SystemNamespace)); err != nil {
		return nil, err
	}
	var out []notificationv1.NotificationRequest
	for _, nr := range list.Items {
		if nr.Spec.Metadata[notificationapi.MetaRemediationRequest] == rrName || strings.HasPrefix(nr.Name, rrName+"-") {
			out = append(out, nr)
		}
	}
	return out, nil
}

// ofType filters notifications by type.
func ofType(nrs []notificationv1.NotificationRequest, typ notificationv1.Type) []notificationv1.NotificationRequest {
	var out []notificationv1.NotificationRequest
	for _, nr := range nrs {
		if nr.Spec.Type == typ {
			out = append(out, nr)
		}
	}
	return out
}

// waitServiceReady restarts nothing; it waits for a restarted service to be ready.
func waitServiceReady(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, sys.Services[name].WaitReady(ctx))
}

// restartOnCleanup makes sure a service the test stops runs again for the next scenario.
func restartOnCleanup(t *testing.T, name string) {
	t.Cleanup(func() {
		s := sys.Services[name]
		if !s.Running() {
			assert.NoError(t, s.Start())
		}
		waitServiceReady(t, name)
	})
}
