package controller_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/standin"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/notification/controller"
	"github.com/kubernaut/kubernaut/pkg/notification/delivery"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

// One API server for the package; every test has its own namespace and its own manager
// watching only that namespace.
var (
	restConfig *rest.Config
	k8s        client.Client
	stand      *standin.Set
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	e, err := testenv.StartEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = e.Stop() }()
	restConfig, k8s = e.Config, e.Client
	dir, err := os.MkdirTemp("", "notification-standins")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if stand, err = standin.Start(dir); err != nil {
		fmt.Fprintln(os.Stderr, "starting the stand-ins:", err)
		return 1
	}
	defer stand.Close()
	return m.Run()
}

var nsCounter int

// namespace creates a fresh namespace for one test or benchmark.
func namespace(t testing.TB) string {
	t.Helper()
	nsCounter++
	name := fmt.Sprintf("nt-%d-%d", time.Now().UnixNano()%1_000_000, nsCounter)
	require.NoError(t, k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}))
	return name
}

// startManager runs the notification controller for one namespace until the returned stop
// function is called (or the test ends).
func startManager(t testing.TB, ns string, cfg *delivery.Config) (stop func()) {
	t.Helper()
	opts := manager.Options{
		Scheme:                 app.NewScheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		Logger:                 logr.Discard(),
	}
	controller.CacheOptions(&opts.Cache, ns) // as the service configures it
	mgr, err := app.NewManager(restConfig, opts)
	require.NoError(t, err)
	r := &controller.Reconciler{Sender: delivery.NewSender(cfg, logr.Discard()), Retry: cfg.Retry}
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, r.SetupWithManager(ctx, mgr))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = mgr.Start(ctx)
	}()
	var once bool
	stop = func() {
		if once {
			return
		}
		once = true
		cancel()
		<-done
	}
	t.Cleanup(stop)
	return stop
}

// fastRetry is a retry policy for tests.
func fastRetry(attempts int32, initial time.Duration) notificationv1.RetryPolicy {
	return notificationv1.RetryPolicy{MaxAttempts: attempts, InitialBackoff: &metav1.Duration{Duration: initial},
		MaxBackoff: &metav1.Duration{Duration: 4 * initial}}
}
