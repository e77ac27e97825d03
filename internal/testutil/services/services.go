// Package services starts Kubernaut's controllers inside a test the way their commands start
// them: each one's manager runs as the service's ServiceAccount under the ClusterRole generated
// from its RBAC markers (testenv.AsService), watching one system namespace, until the test ends.
// A package's own tests and the cross-service meeting tests in test/integration start them with
// the same code.
package services

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/aianalysis"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
	"github.com/kubernaut/kubernaut/pkg/orchestrator"
	"github.com/kubernaut/kubernaut/pkg/processing"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/workflow"
)

// Logger logs to stderr when KUBERNAUT_TEST_LOG is set, and discards otherwise.
func Logger() logr.Logger {
	if os.Getenv("KUBERNAUT_TEST_LOG") == "" {
		return logr.Discard()
	}
	return zap.New(zap.UseDevMode(true))
}

// Start runs the manager of service in ns as the service's command configures it (its shared
// options with namespace ns, no metrics or probe listeners, no leader election), under the
// service's generated RBAC, with tune changing the options and setup adding its reconciler. The
// manager stops when the test ends; an error from it fails the test. It returns the manager.
func Start(t testing.TB, env *testenv.Env, service, ns string, tune func(*app.Options, *manager.Options), setup func(context.Context, manager.Manager) error) manager.Manager {
	t.Helper()
	cfg := env.AsService(t, service, ns)
	cfg.QPS, cfg.Burst = 1000, 2000
	o := app.NewOptions(true)
	o.Namespace, o.MetricsBindAddress, o.HealthProbeBindAddress, o.LeaderElect = ns, "0", "0", false
	opts := o.ManagerOptions(service)
	tune(&o, &opts)
	opts.Controller.SkipNameValidation = ptr.To(true)
	mgr, err := app.NewManager(cfg, opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, setup(ctx, mgr))
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Error(service + " did not stop")
		}
	})
	return mgr
}

// Processing runs the processing service in ns with its default config (policy ConfigMap
// processing.DefaultConfig().PolicyConfigMap in ns), mutate changing its reconciler, and returns
// its manager.
func Processing(t testing.TB, env *testenv.Env, ns string, mutate func(*processing.Reconciler, manager.Manager)) manager.Manager {
	t.Helper()
	pc := processing.DefaultConfig()
	pc.Namespace = ns
	ctrllog.SetLogger(logr.Discard())
	return Start(t, env, "processing", ns, func(_ *app.Options, o *manager.Options) {
		processing.CacheOptions(&o.Cache, ns, pc.PolicyConfigMap)
	}, func(ctx context.Context, mgr manager.Manager) error {
		r := &processing.Reconciler{Config: pc}
		if mutate != nil {
			mutate(r, mgr)
		}
		return r.SetupWithManager(ctx, mgr)
	})
}

// AIAnalysis runs the aianalysis controller in ns with the builtin investigator and the approval
// policy of ConfigMap aianalysis.DefaultPolicyConfigMap in ns, mutate changing its reconciler,
// and returns the reconciler.
func AIAnalysis(t testing.TB, env *testenv.Env, ns string, mutate func(*aianalysis.Reconciler)) *aianalysis.Reconciler {
	t.Helper()
	r := &aianalysis.Reconciler{Investigator: investigator.NewBuiltin()}
	ctrllog.SetLogger(logr.Discard())
	Start(t, env, "aianalysis", ns, func(_ *app.Options, o *manager.Options) {
		aianalysis.CacheOptions(&o.Cache, ns, aianalysis.DefaultPolicyConfigMap)
	}, func(ctx context.Context, mgr manager.Manager) error {
		r.Policy = &aianalysis.PolicySource{Reader: mgr.GetClient(), Namespace: ns, Name: aianalysis.DefaultPolicyConfigMap}
		if mutate != nil {
			mutate(r)
		}
		return r.SetupWithManager(t.Context(), mgr)
	})
	return r
}

// AIAnalysisPolicy creates or replaces the aianalysis approval policy ConfigMap of ns.
func AIAnalysisPolicy(t testing.TB, c client.Client, ns, policy string) {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: aianalysis.DefaultPolicyConfigMap, Namespace: ns}, Data: map[string]string{aianalysis.PolicyKey: policy}}
	err := c.Create(context.Background(), cm)
	if apierrors.IsAlreadyExists(err) {
		err = c.Update(context.Background(), cm)
	}
	require.NoError(t, err)
}

// Orchestrator runs the orchestrator in ns with its default config, tune setting its
// config and its notification and audit clients.
func Orchestrator(t testing.TB, env *testenv.Env, ns string, tune func(*orchestrator.Reconciler)) {
	t.Helper()
	Start(t, env, "orchestrator", ns, func(_ *app.Options, o *manager.Options) {
		orchestrator.CacheOptions(&o.Cache, ns)
	}, func(ctx context.Context, mgr manager.Manager) error {
		r := &orchestrator.Reconciler{Config: orchestrator.DefaultConfig()}
		r.Config.Namespace = ns
		tune(r)
		return r.SetupWithManager(ctx, mgr)
	})
}

// CatalogRules are the RBAC rules the action catalog lists for every action: what the executor
// is granted.
func CatalogRules() []rbacv1.PolicyRule {
	var rules []rbacv1.PolicyRule
	for _, a := range actions.All() {
		for _, v := range a.Verbs {
			rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{v.Group}, Resources: []string{v.Resource}, Verbs: v.Verbs})
		}
	}
	return rules
}

// ExecutorAccount binds the ServiceAccount kubernaut-executor of ns to a ClusterRole of rules
// (nil: CatalogRules) until the test ends, and returns its user name: the account whose
// permissions the workflow service checks.
func ExecutorAccount(t testing.TB, env *testenv.Env, ns string, rules []rbacv1.PolicyRule) string {
	t.Helper()
	ctx := context.Background()
	if rules == nil {
		rules = CatalogRules()
	}
	name := "kubernaut-executor-" + ns
	require.NoError(t, env.Client.Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}))
	require.NoError(t, env.Client.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "kubernaut-executor", Namespace: ns}},
	}))
	t.Cleanup(func() {
		_ = env.Client.Delete(context.Background(), &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}})
		_ = env.Client.Delete(context.Background(), &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}})
	})
	return ExecutorUser(ns)
}

// ExecutorUser is the user name of the executor's ServiceAccount in ns.
func ExecutorUser(ns string) string { return "system:serviceaccount:" + ns + ":kubernaut-executor" }

// Workflow runs the workflow service in ns under its generated RBAC, checking the permissions of
// executorUser, until the test ends.
func Workflow(t testing.TB, env *testenv.Env, ns, executorUser string) {
	t.Helper()
	opts := manager.Options{
		Scheme:                 app.NewScheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		Logger:                 Logger(),
	}
	workflow.CacheOptions(&opts.Cache, ns) // as the service configures it
	mgr, err := app.NewManager(env.AsService(t, "workflow", ns), opts)
	require.NoError(t, err)
	require.NoError(t, (&workflow.Reconciler{ExecutorServiceAccount: executorUser}).SetupWithManager(t.Context(), mgr))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = mgr.Start(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
}
