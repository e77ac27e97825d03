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
package e2e

import (
	"context"
	"fmt"
	"github.com/go-logr/logr"
	"os"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/client"

	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
	"github.com/kubernaut/kubernaut/test/e2e/launcher"
)

// EnvE2E enables the suite.
const EnvE2E = "KUBERNAUT_E2E"

// EnvRevision builds the services from a git revision (for example HEAD) instead of the working
// tree.
const EnvRevision = "KUBERNAUT_E2E_REVISION"

// sys is the system every scenario runs against (started once by TestMain).
var sys *launcher.System

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
	if kc := os.Getenv("KUBERNAUT_E2E_KUBECONFIG"); kc != "" {
		// The scenarios stop, kill and cut services and write pod status as a kubelet; on a
		// cluster with real kubelets and in-cluster Deployments (make e2e-kind) they need
		// another driver, which is not written yet. Fail rather than pass without running.
		fmt.Fprintf(os.Stderr, "e2e: KUBERNAUT_E2E_KUBECONFIG=%s is set, but the suite runs only against the local system it starts (make test-e2e); the kind mode is not implemented. NOT RUN.\n", kc)
		os.Exit(1)
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

// namespaceFor returns a fresh namespace name for a test.
func namespaceFor(t *testing.T) string {
	name := strings.ToLower(t.Name())
	name = strings.NewReplacer("/", "-", "_", "-", " ", "-").Replace(name)
	if len(name) > 40 {
		name = name[:40]
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
