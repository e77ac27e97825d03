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
// nothing and uses that cluster, the gateway at KUBERNAUT_E2E_GATEWAY_URL and, when
// KUBERNAUT_E2E_DATASTORAGE_URL is set, datastorage's audit API. The incidents are the same in
// both modes: the e2e workload (internal/workload) fails for real, and the local cluster's kwok
// reports what real kubelets report. Remote mode skips only what needs the local processes or
// the notification stand-ins, with the reason.
package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/launcher"
	"github.com/kubernaut/kubernaut/internal/testutil/localcluster"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

// EnvE2E enables the suite.
const EnvE2E = "KUBERNAUT_E2E"

// EnvRevision builds the services from a git revision (for example HEAD) instead of the working
// tree.
const EnvRevision = "KUBERNAUT_E2E_REVISION"

// Remote mode (make e2e-kind): with KUBERNAUT_E2E_KUBECONFIG set the suite starts nothing and
// runs against that cluster and the gateway at KUBERNAUT_E2E_GATEWAY_URL, posting with
// KUBERNAUT_E2E_GATEWAY_TOKEN; Kubernaut's resources are in KUBERNAUT_E2E_NAMESPACE. The audit
// trail is read from KUBERNAUT_E2E_DATASTORAGE_URL with KUBERNAUT_E2E_DATASTORAGE_TOKEN, by
// default the gateway's token (datastorage with --auth-mode=tokenreview accepts any token the
// API server authenticates); without the URL the audit checks skip.
const (
	EnvKubeconfig       = "KUBERNAUT_E2E_KUBECONFIG"
	EnvGatewayURL       = "KUBERNAUT_E2E_GATEWAY_URL"
	EnvGatewayToken     = "KUBERNAUT_E2E_GATEWAY_TOKEN"
	EnvNamespace        = "KUBERNAUT_E2E_NAMESPACE"
	EnvDatastorageURL   = "KUBERNAUT_E2E_DATASTORAGE_URL"
	EnvDatastorageToken = "KUBERNAUT_E2E_DATASTORAGE_TOKEN"
)

// sys is the system every scenario runs against (started once by TestMain, or in remote mode
// only the cluster client, the gateway's address and the token to post with).
var sys *launcher.System

// remote is true in remote mode.
var remote bool

// connectRemote describes a system that runs elsewhere: an administrator client of the cluster,
// the gateway and, if given, datastorage. There are no local processes or stand-ins.
func connectRemote(kubeconfig string) (*launcher.System, error) {
	gw, token := os.Getenv(EnvGatewayURL), os.Getenv(EnvGatewayToken)
	if gw == "" || token == "" {
		return nil, fmt.Errorf("%s and %s must be set with %s", EnvGatewayURL, EnvGatewayToken, EnvKubeconfig)
	}
	hostPort := func(env, url string) (string, error) {
		addr, ok := strings.CutPrefix(strings.TrimRight(url, "/"), "http://")
		if !ok {
			return "", fmt.Errorf("%s=%s: only http:// URLs are supported (make e2e-kind and make test-e2e-deployed reach the Services through NodePorts)", env, url)
		}
		return addr, nil
	}
	addr, err := hostPort(EnvGatewayURL, gw)
	if err != nil {
		return nil, err
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
	sys := &launcher.System{
		Cluster:           &localcluster.Cluster{Config: cfg, Kubeconfig: kubeconfig, Client: c},
		Services:          map[string]*launcher.Service{"gateway": {Name: "gateway", APIAddr: addr}},
		AlertmanagerToken: token,
	}
	if ds := os.Getenv(EnvDatastorageURL); ds != "" {
		dsAddr, err := hostPort(EnvDatastorageURL, ds)
		if err != nil {
			return nil, err
		}
		sys.Services["datastorage"] = &launcher.Service{Name: "datastorage", APIAddr: dsAddr}
		reader := os.Getenv(EnvDatastorageToken)
		if reader == "" {
			reader = token
		}
		f, err := os.CreateTemp("", "kubernaut-e2e-token-")
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if _, err := f.WriteString(reader + "\n"); err != nil {
			return nil, err
		}
		sys.ReaderToken, sys.ReaderTokenFile = reader, f.Name()
	}
	return sys, nil
}

// skipRemote skips a scenario in remote mode with the reason.
func skipRemote(t *testing.T, reason string) {
	t.Helper()
	if remote {
		t.Skip("remote mode: " + reason)
	}
}

// orchestratorArgs shorten the orchestrator's waits so that scenarios end in seconds: the
// processing timeout (scenario 7) and the longest wait between retries of an unavailable
// datastorage (scenario 8). The verification window after an executed change is long enough for
// the alert to resolve (the pipeline's rules look back 30s; the posted scenarios send the resolved
// notification themselves once the fix shows), and a resolved alert ends verification at once.
var orchestratorArgs = []string{"--timeout-processing=20s", "--verification-window=2m", "--retry-max-backoff=5s"}

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
		fmt.Fprintf(os.Stderr, "e2e: remote mode against %s (gateway %s): nothing started; scenarios that need the local processes skip\n", kc, sys.Services["gateway"].URL())
		code := m.Run()
		if sys.ReaderTokenFile != "" {
			_ = os.Remove(sys.ReaderTokenFile)
		}
		os.Exit(code)
	}
	ctx := context.Background()
	var err error
	sys, err = launcher.Start(ctx, launcher.Options{
		StandIns: true,
		Progress: os.Stderr,
		Revision: os.Getenv(EnvRevision),
		Args:     map[string][]string{"orchestrator": orchestratorArgs},
		// The suite makes about 15 changes within an hour, more than deploy/base's cluster budget
		// (10 per hour) allows a real cluster; each scenario has its own namespace, whose budget
		// (3 per hour) stays as shipped.
		ExecutorSafety: map[string]string{"maxChangesPerClusterPerHour": "100", "uncordonRecoveredNodesAfter": "3s"},
		// The real alerting pipeline (scenario 13) delivers only its own scenarios' alerts.
		Alerting:         true,
		AlertingMatchers: pipelineMatchers,
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
		ns := fmt.Sprintf("%s-%s-%d", strings.Trim(name, "-"), runID, nsCounter.Add(1))
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("remote mode: namespace %s kept for inspection", ns)
				return
			}
			// Its workload may still crash-loop (a rejected or refused remediation changes nothing).
			err := sys.Cluster.Client.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
			if client.IgnoreNotFound(err) != nil {
				t.Logf("remote mode: deleting namespace %s: %v", ns, err)
			}
		})
		return ns
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
