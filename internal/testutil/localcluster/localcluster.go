// Package localcluster starts a local Kubernetes cluster whose pods run, for the demo and the
// end-to-end suite: controller-runtime's envtest (kube-apiserver and etcd, with Kubernaut's CRDs
// installed), kube-controller-manager, kube-scheduler and kwok, which plays the kubelet of a few
// simulated nodes. A Deployment created on it gets a ReplicaSet, its pods are scheduled on the
// fake nodes and become Running within seconds, and a change to its pod template rolls out a
// new ReplicaSet, exactly as on a real cluster, without containers.
//
// The binaries come from bin/k8s/<version> (`make envtest-assets`). kwok runs with the
// node-initialize, node-heartbeat and pod "fast" Stage manifests of its module (embedded here)
// and manages only the nodes annotated kwok.x-k8s.io/node=fake, so a test can add a node that
// nobody heartbeats (see AddUnmanagedNode) to play a node going NotReady. kwok runs no
// containers; for the e2e workload (internal/workload), which fails for real on a cluster with
// real kubelets, two more stages report what those kubelets would: OOMKilled when it allocates
// more than its memory limit, a crash loop for its bad version (kwok-stages-e2e.yaml).
//
// Every process dies with the process that started it (parent-death signal, also for etcd and
// kube-apiserver through setpriv), and Stop leaves nothing running.
package localcluster

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/kubernaut/kubernaut/internal/testutil/procgroup"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/internal/workload"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

// kwokStages concatenates kwok v0.8.0's kustomize/stage/node/fast, node/heartbeat and pod/fast
// Stage manifests (YAML data shipped in the sigs.k8s.io/kwok module).
//
//go:embed kwok-stages.yaml
var kwokStages []byte

// kwokStagesE2E are the kubelet's reports for the e2e workload (internal/workload), which fails
// for real on a cluster with real kubelets: OOMKilled under a memory limit below what it
// allocates, a crash loop for the bad version.
//
//go:embed kwok-stages-e2e.yaml
var kwokStagesE2E []byte

// The jq predicates of kwok-stages-e2e.yaml, on a pod: some container allocates more than its
// memory limit (both in Mi or Gi; no limit never OOMs), or exits non-zero at start.
var (
	oomPredicate = `def mi: if . == null then 1e12 elif endswith("Gi") then (rtrimstr("Gi") | tonumber * 1024) ` +
		`elif endswith("Mi") then (rtrimstr("Mi") | tonumber) else 1e12 end; ` +
		`[.spec.containers[] | select(([(.args // [])[] | select(startswith("` + workload.AllocateFlag + `=")) | ` +
		`ltrimstr("` + workload.AllocateFlag + `=") | mi] | max // 0) > (.resources.limits.memory | mi))] | length > 0`
	crashPredicate = `[.spec.containers[] | select((.image == "` + workload.Bad + `" and ((.args // []) | length == 0)) or ` +
		`((.args // []) | any(startswith("` + workload.ExitFlag + `=") and . != "` + workload.ExitFlag + `=0")))] | length > 0`
)

// stages returns kwok's configuration: its own stages and the e2e workload's.
func stages() []byte {
	r := strings.NewReplacer("@OOM@", oomPredicate, "@CRASH@", crashPredicate)
	return []byte(r.Replace(string(kwokStages) + "\n" + string(kwokStagesE2E)))
}

const (
	// FakeNodeAnnotation marks the nodes kwok manages (initialises, heartbeats, runs pods on).
	FakeNodeAnnotation = "kwok.x-k8s.io/node"
	// FakeNodeValue is the value of FakeNodeAnnotation on managed nodes.
	FakeNodeValue = "fake"
)

// Options configure Start. Zero values take the defaults.
type Options struct {
	// AssetsDir holds kube-apiserver, etcd, kube-controller-manager, kube-scheduler and kwok
	// (default testenv.AssetsDir(): $KUBEBUILDER_ASSETS or bin/k8s/<version>).
	AssetsDir string
	// Nodes is the number of simulated nodes kwok manages (default 2), named kwok-node-0, ….
	Nodes int
	// WorkDir holds the kubeconfig, the kwok configuration and the certificates (default: a
	// temporary directory removed by Stop; a given directory is kept).
	WorkDir string
	// LogDir receives one log file per process (default WorkDir/logs).
	LogDir string
	// CRDDirs are installed before Start returns (default the repository's deploy/crds).
	CRDDirs []string
	// Progress, when set, receives one line per step of the start-up.
	Progress io.Writer
}

// Cluster is a running local cluster.
type Cluster struct {
	// Config connects as a cluster administrator (system:masters).
	Config *rest.Config
	// Kubeconfig is the path of an administrator kubeconfig file for Config.
	Kubeconfig string
	// Client uses Kubernaut's scheme and reads directly from the API server.
	Client client.Client
	// Nodes are the names of the simulated nodes.
	Nodes []string
	// WorkDir and LogDir are the folders in use.
	WorkDir, LogDir string

	env        *envtest.Environment
	procs      []*procgroup.Process
	removeWork bool
	stopOnce   sync.Once
	stopErr    error
}

// process is one control-plane process the cluster started itself.

// StartT starts a cluster for a test and stops it when the test ends; it fails the test when the
// cluster cannot start.
func StartT(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.WorkDir == "" {
		opts.WorkDir = t.TempDir()
	}
	c, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("starting the local cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stopping the local cluster: %v", err)
		}
	})
	return c
}

// Start starts etcd and kube-apiserver (CRDs installed), kube-controller-manager,
// kube-scheduler and kwok, creates the simulated nodes and returns when they are Ready. On
// error everything started so far is stopped.
func Start(ctx context.Context, opts Options) (c *Cluster, err error) {
	if opts.AssetsDir == "" {
		opts.AssetsDir = testenv.AssetsDir()
	}
	if opts.Nodes == 0 {
		opts.Nodes = 2
	}
	if len(opts.CRDDirs) == 0 {
		opts.CRDDirs = []string{filepath.Join(testenv.RepoRoot(), "deploy", "crds")}
	}
	for _, b := range []string{"kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "kwok"} {
		if _, err := os.Stat(filepath.Join(opts.AssetsDir, b)); err != nil {
			return nil, fmt.Errorf("%s is missing in %s: run `make envtest-assets` (it builds the local control plane from Go modules)", b, opts.AssetsDir)
		}
	}
	c = &Cluster{WorkDir: opts.WorkDir, LogDir: opts.LogDir}
	if c.WorkDir == "" {
		if c.WorkDir, err = os.MkdirTemp("", "kubernaut-localcluster-"); err != nil {
			return nil, fmt.Errorf("creating the work directory: %w", err)
		}
		c.removeWork = true
	}
	if c.LogDir == "" {
		c.LogDir = filepath.Join(c.WorkDir, "logs")
	}
	for _, d := range []string{c.WorkDir, c.LogDir, filepath.Join(c.WorkDir, "bin"), filepath.Join(c.WorkDir, "certs"), filepath.Join(c.WorkDir, "etcd")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", d, err)
		}
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, c.Stop())
			c = nil
		}
	}()
	step := func(format string, args ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, format+"\n", args...)
		}
	}

	step("starting etcd and kube-apiserver")
	if err := c.startAPIServer(opts); err != nil {
		return c, err
	}
	step("starting kube-controller-manager, kube-scheduler and kwok")
	if err := c.startComponents(opts.AssetsDir); err != nil {
		return c, err
	}
	step("creating %d simulated nodes", opts.Nodes)
	for i := range opts.Nodes {
		name := fmt.Sprintf("kwok-node-%d", i)
		if err := c.createNode(ctx, name, true); err != nil {
			return c, err
		}
		c.Nodes = append(c.Nodes, name)
	}
	if err := c.waitNodesReady(ctx, 2*time.Minute); err != nil {
		return c, err
	}
	return c, nil
}

// startAPIServer starts envtest's etcd and kube-apiserver with the CRDs and writes the
// administrator kubeconfig.
func (c *Cluster) startAPIServer(opts Options) error {
	apiLog, err := c.openLog("kube-apiserver")
	if err != nil {
		return err
	}
	etcdLog, err := c.openLog("etcd")
	if err != nil {
		return err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: opts.AssetsDir,
		CRDDirectoryPaths:     opts.CRDDirs,
		ErrorIfCRDPathMissing: true,
		Scheme:                app.NewScheme(),
	}
	api := env.ControlPlane.GetAPIServer()
	api.CertDir = filepath.Join(c.WorkDir, "certs")
	// A loaded machine may need longer than envtest's 20 s for a graceful shutdown.
	api.StopTimeout, api.StartTimeout = time.Minute, 2*time.Minute
	api.Out, api.Err = apiLog, apiLog
	api.Path, err = c.dieWithParent(filepath.Join(opts.AssetsDir, "kube-apiserver"))
	if err != nil {
		return err
	}
	env.ControlPlane.Etcd = &envtest.Etcd{Out: etcdLog, Err: etcdLog, DataDir: filepath.Join(c.WorkDir, "etcd"),
		StopTimeout: time.Minute, StartTimeout: 2 * time.Minute}
	if env.ControlPlane.Etcd.Path, err = c.dieWithParent(filepath.Join(opts.AssetsDir, "etcd")); err != nil {
		return err
	}
	c.env = env
	if c.Config, err = env.Start(); err != nil {
		return fmt.Errorf("starting kube-apiserver and etcd (logs in %s): %w", c.LogDir, err)
	}
	user, err := env.AddUser(envtest.User{Name: "kubernaut-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("creating the administrator: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("writing the administrator kubeconfig: %w", err)
	}
	c.Config = user.Config()
	c.Kubeconfig = filepath.Join(c.WorkDir, "kubeconfig")
	if err := os.WriteFile(c.Kubeconfig, kubeconfig, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", c.Kubeconfig, err)
	}
	c.Client, err = client.New(c.Config, client.Options{Scheme: app.NewScheme()})
	return err
}

// AddUser creates a user authenticated by a client certificate (name, groups) and writes a
// kubeconfig for it into the work directory; it returns the file's path. A person deciding an
// approval in a test is such a user.
func (c *Cluster) AddUser(name string, groups ...string) (string, error) {
	user, err := c.env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return "", fmt.Errorf("adding user %s: %w", name, err)
	}
	raw, err := user.KubeConfig()
	if err != nil {
		return "", fmt.Errorf("writing the kubeconfig of %s: %w", name, err)
	}
	path := filepath.Join(c.WorkDir, "kubeconfig-"+name)
	return path, os.WriteFile(path, raw, 0o600)
}

// dieWithParent returns a path that runs binary with the parent-death signal set (envtest
// starts etcd and kube-apiserver itself, so the signal is set by setpriv in a small wrapper).
// Without setpriv the binary is returned unchanged.
func (c *Cluster) dieWithParent(binary string) (string, error) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		return binary, nil
	}
	wrapper := filepath.Join(c.WorkDir, "bin", filepath.Base(binary))
	script := fmt.Sprintf("#!/bin/sh\nexec %s --pdeathsig KILL -- %s \"$@\"\n", setpriv, shellQuote(binary))
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		return "", fmt.Errorf("writing %s: %w", wrapper, err)
	}
	return wrapper, nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// startComponents starts kube-controller-manager, kube-scheduler and kwok.
func (c *Cluster) startComponents(assets string) error {
	stagesFile := filepath.Join(c.WorkDir, "kwok-stages.yaml")
	if err := os.WriteFile(stagesFile, stages(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", stagesFile, err)
	}
	k := "--kubeconfig=" + c.Kubeconfig
	for _, p := range []struct {
		name string
		args []string
	}{
		{"kube-controller-manager", []string{k, "--leader-elect=false", "--secure-port=0",
			"--controllers=*,-serviceaccount-token", "--use-service-account-credentials=false",
			// kwok heartbeats every 20-45 s; leave room so that no fake node is marked NotReady.
			"--node-monitor-grace-period=2m",
			"--concurrent-deployment-syncs=10", "--concurrent-replicaset-syncs=10",
			"--kube-api-qps=200", "--kube-api-burst=400"}},
		{"kube-scheduler", []string{k, "--leader-elect=false", "--secure-port=0"}},
		{"kwok", []string{k, "--config=" + stagesFile,
			"--manage-nodes-with-annotation-selector=" + FakeNodeAnnotation + "=" + FakeNodeValue,
			"--cidr=10.244.0.0/16"}},
	} {
		if err := c.startProcess(p.name, filepath.Join(assets, p.name), p.args...); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) openLog(name string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(c.LogDir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the log of %s: %w", name, err)
	}
	return f, nil
}

// startProcess starts binary in its own process group, killed when this process dies.
func (c *Cluster) startProcess(name, binary string, args ...string) error {
	p, err := procgroup.Start(name, filepath.Join(c.LogDir, name+".log"), exec.Command(binary, args...))
	if err != nil {
		return err
	}
	c.procs = append(c.procs, p)
	return nil
}

// Stop stops every process in the reverse order of their start and removes a temporary work
// directory. It is safe to call more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		var errs []error
		for i := len(c.procs) - 1; i >= 0; i-- {
			errs = append(errs, c.procs[i].Stop(10*time.Second))
		}
		if c.env != nil {
			errs = append(errs, c.env.Stop())
		}
		if c.removeWork {
			errs = append(errs, os.RemoveAll(c.WorkDir))
		}
		c.stopErr = errors.Join(errs...)
	})
	return c.stopErr
}

// node returns a Node object with room for many pods.
func node(name string, managed bool) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:   name,
		Labels: map[string]string{corev1.LabelHostname: name, corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64", "type": "kwok"},
	}}
	if managed {
		n.Annotations = map[string]string{FakeNodeAnnotation: FakeNodeValue}
	}
	return n
}

var nodeResources = corev1.ResourceList{
	corev1.ResourceCPU:    resource.MustParse("32"),
	corev1.ResourceMemory: resource.MustParse("128Gi"),
	corev1.ResourcePods:   resource.MustParse("250"),
}

func (c *Cluster) createNode(ctx context.Context, name string, managed bool) error {
	// Created without kwok's annotation: kwok fills in an allocatable of its own (1Ti of memory)
	// on a node whose status has none, and its write can land after ours. The resources are set
	// first, and kwok is handed the node only then, so a pod no node can hold stays Pending.
	if err := c.Client.Create(ctx, node(name, false)); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating node %s: %w", name, err)
	}
	if !managed {
		return nil
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n := &corev1.Node{}
		if err := c.Client.Get(ctx, client.ObjectKey{Name: name}, n); err != nil {
			return err
		}
		n.Status.Capacity, n.Status.Allocatable = nodeResources, nodeResources
		return c.Client.Status().Update(ctx, n)
	})
	if err != nil {
		return fmt.Errorf("setting the resources of node %s: %w", name, err)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n := &corev1.Node{}
		if err := c.Client.Get(ctx, client.ObjectKey{Name: name}, n); err != nil {
			return err
		}
		if n.Annotations == nil {
			n.Annotations = map[string]string{}
		}
		n.Annotations[FakeNodeAnnotation] = FakeNodeValue
		return c.Client.Update(ctx, n)
	})
	if err != nil {
		return fmt.Errorf("handing node %s to kwok: %w", name, err)
	}
	return nil
}

// AddUnmanagedNode creates a node that kwok does not manage, Ready as its kubelet would report
// it, with the given labels. Pods scheduled on it stay as their writer leaves them, and
// SetNodeReady plays its kubelet (or its absence).
func (c *Cluster) AddUnmanagedNode(ctx context.Context, name string, labels map[string]string) error {
	if err := c.createNode(ctx, name, false); err != nil {
		return err
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n := &corev1.Node{}
		if err := c.Client.Get(ctx, client.ObjectKey{Name: name}, n); err != nil {
			return err
		}
		for k, v := range labels {
			n.Labels[k] = v
		}
		return c.Client.Update(ctx, n)
	})
	if err != nil {
		return fmt.Errorf("labelling node %s: %w", name, err)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n := &corev1.Node{}
		if err := c.Client.Get(ctx, client.ObjectKey{Name: name}, n); err != nil {
			return err
		}
		n.Status.Capacity, n.Status.Allocatable = nodeResources, nodeResources
		n.Status.Phase = corev1.NodeRunning
		setNodeConditions(n, true, "KubeletReady", "kubelet is posting ready status")
		return c.Client.Status().Update(ctx, n)
	})
	if err != nil {
		return fmt.Errorf("initialising node %s: %w", name, err)
	}
	return nil
}

// SetNodeReady writes the Ready condition of a node as its kubelet would (use it on an
// unmanaged node: kwok rewrites the conditions of its own).
func (c *Cluster) SetNodeReady(ctx context.Context, name string, ready bool, reason, message string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n := &corev1.Node{}
		if err := c.Client.Get(ctx, client.ObjectKey{Name: name}, n); err != nil {
			return err
		}
		setNodeConditions(n, ready, reason, message)
		return c.Client.Status().Update(ctx, n)
	})
}

func setNodeConditions(n *corev1.Node, ready bool, reason, message string) {
	now := metav1.Now()
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	conds := []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status, Reason: reason, Message: message}}
	for _, t := range []corev1.NodeConditionType{corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
		conds = append(conds, corev1.NodeCondition{Type: t, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficient" + strings.TrimPrefix(string(t), "Node")})
	}
	for i := range conds {
		conds[i].LastHeartbeatTime = now
		conds[i].LastTransitionTime = now
		for _, old := range n.Status.Conditions {
			if old.Type == conds[i].Type && old.Status == conds[i].Status {
				conds[i].LastTransitionTime = old.LastTransitionTime
			}
		}
	}
	n.Status.Conditions = conds
}

func (c *Cluster) waitNodesReady(ctx context.Context, timeout time.Duration) error {
	var notReady []string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		notReady = notReady[:0]
		for _, name := range c.Nodes {
			n := &corev1.Node{}
			if err := c.Client.Get(ctx, client.ObjectKey{Name: name}, n); err != nil {
				return false, nil
			}
			if !NodeReady(n) {
				notReady = append(notReady, name)
			}
		}
		return len(notReady) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("nodes %v not Ready (is kwok running? see %s): %w", notReady, filepath.Join(c.LogDir, "kwok.log"), err)
	}
	return nil
}

// NodeReady reports whether a node's Ready condition is True.
func NodeReady(n *corev1.Node) bool {
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}
