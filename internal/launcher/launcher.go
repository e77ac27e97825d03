// Package launcher starts the whole of Kubernaut on one machine, the way `make demo` and the
// end-to-end suite use it: a local cluster whose pods run (internal/testutil/localcluster), a
// throwaway PostgreSQL (or DATABASE_URL), the deploy/ manifests that apply to a cluster without
// images (namespace, per-service RBAC, ServiceAccounts and bindings, policies, configuration),
// and the eight service binaries, built from this checkout and run as processes on reserved
// local ports.
//
// Each service runs as its own ServiceAccount (kubernaut-<service> in the system namespace,
// bound by deploy/ to the ClusterRole generated from its RBAC markers) through a kubeconfig
// holding a token from the TokenRequest API, exactly the identity it has in a cluster. The HTTP
// services authenticate callers with bearer tokens (--auth-mode=token-file): Alertmanager's
// token for the gateway, one token per calling service for notification and datastorage.
//
// Every service logs into LogDir/<service>.log; PrometheusConfig names a scrape configuration for
// the eight metrics endpoints. Stop sends SIGTERM to everything it started and leaves nothing
// running; the processes also die with the launcher's process (parent-death signal), except the
// throwaway PostgreSQL, which pg_ctl runs detached and only Stop stops.
package launcher

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubernaut/kubernaut/internal/testutil/alerting"
	"github.com/kubernaut/kubernaut/internal/testutil/freeport"
	"github.com/kubernaut/kubernaut/internal/testutil/localcluster"
	"github.com/kubernaut/kubernaut/internal/testutil/procgroup"
	"github.com/kubernaut/kubernaut/internal/testutil/standin"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/internal/testutil/testpg"
	"github.com/kubernaut/kubernaut/pkg/gateway"
)

// Services are the eight binaries, in the order they are started (the HTTP services the others
// call come first).
var Services = []string{"datastorage", "notification", "gateway", "orchestrator", "processing", "aianalysis", "workflow", "executor"}

// HTTPServices serve an HTTP API besides probes and metrics.
var HTTPServices = map[string]bool{"gateway": true, "notification": true, "datastorage": true}

// Plugin is the kubectl plugin's binary, built beside the services when present.
const Plugin = "kubectl-kubernaut"

// SystemNamespace is where the services keep their resources (deploy/base/namespace.yaml).
const SystemNamespace = "kubernaut-system"

// EnvDatabaseURL points the launcher at an existing PostgreSQL database instead of a throwaway
// server.
const EnvDatabaseURL = "DATABASE_URL"

// Options configure Start; zero values take the defaults.
type Options struct {
	// Root is the repository checkout (default: the one this package was built from).
	Root string
	// ExecutorSafety overrides keys of the executor's safety ConfigMap as deploy/base ships it
	// (for example a larger change budget for a suite that makes more changes in an hour than a
	// cluster should).
	ExecutorSafety map[string]string
	// WorkDir holds binaries' configuration, kubeconfigs, tokens and logs (default: a new
	// temporary directory, kept after Stop so that the logs can be read).
	WorkDir string
	// BinDir receives the built binaries (default Root/bin/e2e).
	BinDir string
	// SkipBuild uses the binaries already in BinDir.
	SkipBuild bool
	// Revision, when set (a git revision such as HEAD), builds the binaries and takes deploy/
	// from that commit, exported into WorkDir/src, instead of from the working tree: a tree that
	// is being edited cannot break the run.
	Revision string
	// Nodes is the number of simulated nodes (default 2).
	Nodes int
	// DatabaseURL is a PostgreSQL database for datastorage (default $DATABASE_URL, else a
	// throwaway server).
	DatabaseURL string
	// StandIns starts local stand-ins for Slack, Teams, PagerDuty, a webhook and SMTP, and
	// configures notification to deliver to them (otherwise only the console channel is on).
	StandIns bool
	// Args adds flags to a service's command line (later flags win).
	Args map[string][]string
	// LogLevel of the services (default info).
	LogLevel string
	// Progress receives one line per step (nil: silent).
	Progress io.Writer
	// Alerting starts the real alerting pipeline (internal/testutil/alerting): kube-state-metrics
	// on the local cluster, Prometheus with the project's rule file, and Alertmanager posting to
	// the gateway with Alertmanager's token. Its binaries come from `make alerting-assets`.
	Alerting bool
	// AlertingMatchers limit what Alertmanager sends to the gateway (see alerting.Options.Matchers).
	AlertingMatchers []string
}

// System is a running Kubernaut.
type System struct {
	Cluster *localcluster.Cluster
	// Services by name.
	Services map[string]*Service
	// AlertmanagerToken is accepted by the gateway; ReaderToken by notification and datastorage.
	AlertmanagerToken, ReaderToken string
	// AlertmanagerTokenFile and ReaderTokenFile hold them (for --token-file flags and clients).
	AlertmanagerTokenFile, ReaderTokenFile string
	// DatabaseURL is datastorage's database.
	DatabaseURL string
	// WorkDir, LogDir and BinDir are the folders in use.
	WorkDir, LogDir, BinDir string
	// PrometheusConfig is a Prometheus configuration scraping the eight metrics endpoints.
	PrometheusConfig string
	// StandIns are the notification channels' stand-ins (nil unless Options.StandIns).
	StandIns *standin.Set
	// APIProxy is the gateway's route to the API server; cut it to play an outage.
	APIProxy *Proxy
	// Alerting is the real alerting pipeline (nil unless Options.Alerting).
	Alerting *alerting.Stack

	pg       *testpg.Server
	releases []func()
	stopOnce sync.Once
	stopErr  error
}

// Service is one service binary run as a process.
type Service struct {
	Name string
	// Binary and Args are the command line.
	Binary string
	Args   []string
	// MetricsAddr, ProbeAddr and APIAddr (HTTP services only) are host:port addresses.
	MetricsAddr, ProbeAddr, APIAddr string
	// Kubeconfig acts as the service's ServiceAccount.
	Kubeconfig string
	// LogPath receives stdout and stderr (appended across restarts).
	LogPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// URL is the base URL of an HTTP service's API.
func (s *Service) URL() string { return "http://" + s.APIAddr }

func (sys *System) step(o *Options, format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", args...)
	}
}

// Start builds and starts everything; on error what was started is stopped.
func Start(ctx context.Context, o Options) (sys *System, err error) {
	if o.Root == "" {
		o.Root = testenv.RepoRoot()
	}
	if o.BinDir == "" && o.Revision == "" {
		o.BinDir = filepath.Join(o.Root, "bin", "e2e")
	}
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
	if o.DatabaseURL == "" {
		o.DatabaseURL = os.Getenv(EnvDatabaseURL)
	}
	sys = &System{Services: map[string]*Service{}, WorkDir: o.WorkDir}
	if sys.WorkDir == "" {
		if sys.WorkDir, err = os.MkdirTemp("", "kubernaut-e2e-"); err != nil {
			return nil, fmt.Errorf("creating the work directory: %w", err)
		}
	}
	if o.Revision != "" {
		src := filepath.Join(sys.WorkDir, "src")
		if err := export(ctx, o.Root, o.Revision, src); err != nil {
			return nil, err
		}
		o.Root, o.BinDir = src, filepath.Join(sys.WorkDir, "bin")
	}
	sys.BinDir = o.BinDir
	sys.LogDir = filepath.Join(sys.WorkDir, "logs")
	if err := os.MkdirAll(sys.LogDir, 0o755); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, sys.Stop())
			sys = nil
		}
	}()

	// The build, the cluster and the database start side by side.
	var wg sync.WaitGroup
	var buildErr, clusterErr, dbErr error
	if !o.SkipBuild {
		wg.Go(func() { buildErr = Build(ctx, o.Root, o.BinDir, o.Progress) })
	}
	wg.Go(func() {
		sys.Cluster, clusterErr = localcluster.Start(ctx, localcluster.Options{
			Nodes: o.Nodes, WorkDir: filepath.Join(sys.WorkDir, "cluster"), LogDir: sys.LogDir,
			CRDDirs: []string{filepath.Join(o.Root, "deploy", "crds")}, Progress: o.Progress,
		})
	})
	wg.Go(func() { dbErr = sys.startDatabase(&o) })
	wg.Wait()
	if err := errors.Join(buildErr, clusterErr, dbErr); err != nil {
		return sys, err
	}

	sys.step(&o, "installing deploy/: namespace, RBAC, ServiceAccounts, policies, configuration")
	if err := Install(ctx, sys.Cluster.Client, filepath.Join(o.Root, "deploy", "base")); err != nil {
		return sys, err
	}
	if len(o.ExecutorSafety) > 0 {
		cm := &corev1.ConfigMap{}
		key := client.ObjectKey{Namespace: SystemNamespace, Name: "kubernaut-executor-safety"}
		if err := sys.Cluster.Client.Get(ctx, key, cm); err != nil {
			return sys, fmt.Errorf("reading the executor's safety ConfigMap: %w", err)
		}
		for k, v := range o.ExecutorSafety {
			cm.Data[k] = v
		}
		if err := sys.Cluster.Client.Update(ctx, cm); err != nil {
			return sys, fmt.Errorf("overriding the executor's safety ConfigMap: %w", err)
		}
	}
	if sys.APIProxy, err = NewProxy(hostPort(sys.Cluster.Config.Host)); err != nil {
		return sys, err
	}
	if o.StandIns {
		dir := filepath.Join(sys.WorkDir, "standins")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return sys, err
		}
		if sys.StandIns, err = standin.Start(dir); err != nil {
			return sys, fmt.Errorf("starting the notification stand-ins: %w", err)
		}
	}
	sys.step(&o, "starting the eight services")
	if err := sys.configure(ctx, &o); err != nil {
		return sys, err
	}
	for _, name := range Services {
		if err := sys.Services[name].Start(); err != nil {
			return sys, err
		}
	}
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for _, name := range Services {
		if err := sys.Services[name].WaitReady(waitCtx); err != nil {
			return sys, err
		}
	}
	if err := sys.writePrometheusConfig(); err != nil {
		return sys, err
	}
	sys.step(&o, "all eight services ready")
	if o.Alerting {
		sys.Alerting, err = alerting.Start(ctx, alerting.Options{
			Kubeconfig: sys.Cluster.Kubeconfig, WebhookURL: sys.Services["gateway"].URL() + gateway.PathPrometheus,
			BearerTokenFile: sys.AlertmanagerTokenFile, Matchers: o.AlertingMatchers,
			WorkDir: filepath.Join(sys.WorkDir, "alerting"), LogDir: sys.LogDir, Progress: o.Progress,
		})
		if err != nil {
			return sys, fmt.Errorf("starting the alerting pipeline: %w", err)
		}
	}
	return sys, nil
}

func hostPort(host string) string {
	u, err := url.Parse(host)
	if err != nil || u.Host == "" {
		return host
	}
	return u.Host
}

// startDatabase uses o.DatabaseURL or starts a throwaway server with a database "kubernaut".
func (sys *System) startDatabase(o *Options) error {
	if o.DatabaseURL != "" {
		sys.DatabaseURL = o.DatabaseURL
		return nil
	}
	sys.step(o, "starting a throwaway PostgreSQL")
	pg, err := testpg.StartServer()
	if err != nil {
		return fmt.Errorf("starting PostgreSQL (or set %s): %w", EnvDatabaseURL, err)
	}
	sys.pg = pg
	u, err := url.Parse(pg.URL())
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(context.Background(), pg.URL())
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "CREATE DATABASE kubernaut"); err != nil {
		return fmt.Errorf("creating database kubernaut: %w", err)
	}
	u.Path = "/kubernaut"
	sys.DatabaseURL = u.String()
	return nil
}

// export writes the tree of a git revision into dir.
func export(ctx context.Context, root, rev, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "export", root, rev, dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("exporting %s of %s: %w: %s", rev, root, err, out)
	}
	return nil
}

// Build compiles the eight binaries into dir, reporting progress every few seconds.
func Build(ctx context.Context, root, dir string, progress io.Writer) error {
	if progress == nil {
		progress = io.Discard
	}
	// -trimpath: builds from exported revisions in different folders share the build cache.
	args := []string{"build", "-trimpath", "-v", "-o", dir + "/"}
	for _, s := range Services {
		args = append(args, "./cmd/"+s)
	}
	// The kubectl plugin, for people following the system (kubectl kubernaut describe/approve).
	if _, err := os.Stat(filepath.Join(root, "cmd", Plugin, "main.go")); err == nil {
		args = append(args, "./cmd/"+Plugin)
	}
	fmt.Fprintf(progress, "building the eight services and the kubectl plugin into %s (go build; cached after the first run)\n", dir)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	var out strings.Builder
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	var mu sync.Mutex
	compiled, last := 0, ""
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			out.WriteString(line + "\n")
			if !strings.Contains(line, " ") {
				compiled++
				last = line
			}
			mu.Unlock()
		}
	}()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-tick.C:
			mu.Lock()
			fmt.Fprintf(progress, "  still building (%s): %d packages compiled, last %s\n", time.Since(start).Round(time.Second), compiled, last)
			mu.Unlock()
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out.String())
	}
	fmt.Fprintf(progress, "built the eight services in %s\n", time.Since(start).Round(100*time.Millisecond))
	return nil
}

// reserve returns a local address reserved until Stop.
func (sys *System) reserve() (string, error) {
	addr, release, err := freeport.Reserve()
	if err != nil {
		return "", err
	}
	sys.releases = append(sys.releases, release)
	return addr, nil
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// configure writes tokens, kubeconfigs and configuration files, and builds each command line.
func (sys *System) configure(ctx context.Context, o *Options) error {
	dir := filepath.Join(sys.WorkDir, "config")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	write := func(name, content string) (string, error) {
		p := filepath.Join(dir, name)
		return p, os.WriteFile(p, []byte(content), 0o600)
	}
	sys.AlertmanagerToken, sys.ReaderToken = randomToken(), randomToken()
	clientTokens := map[string]string{"orchestrator": randomToken(), "aianalysis": randomToken()}
	gatewayTokens, err := write("gateway-tokens", "# Alertmanager\n"+sys.AlertmanagerToken+"\n")
	if err != nil {
		return err
	}
	if sys.AlertmanagerTokenFile, err = write("alertmanager-token", sys.AlertmanagerToken+"\n"); err != nil {
		return err
	}
	if sys.ReaderTokenFile, err = write("reader-token", sys.ReaderToken+"\n"); err != nil {
		return err
	}
	callers := fmt.Sprintf("# orchestrator\n%s\n# aianalysis\n%s\n# people and the demo\n%s\n", clientTokens["orchestrator"], clientTokens["aianalysis"], sys.ReaderToken)
	serviceTokens, err := write("service-tokens", callers)
	if err != nil {
		return err
	}
	notificationConfig := ""
	if sys.StandIns != nil {
		raw, err := json.Marshal(sys.StandIns.Config)
		if err != nil {
			return err
		}
		if notificationConfig, err = write("notification.json", string(raw)); err != nil {
			return err
		}
	}
	cs, err := kubernetes.NewForConfig(sys.Cluster.Config)
	if err != nil {
		return err
	}
	for _, name := range Services {
		s := &Service{Name: name, Binary: filepath.Join(sys.BinDir, name), LogPath: filepath.Join(sys.LogDir, name+".log")}
		if s.MetricsAddr, err = sys.reserve(); err != nil {
			return err
		}
		if s.ProbeAddr, err = sys.reserve(); err != nil {
			return err
		}
		if HTTPServices[name] {
			if s.APIAddr, err = sys.reserve(); err != nil {
				return err
			}
		}
		server := sys.Cluster.Config.Host
		if name == "gateway" {
			server = "https://" + sys.APIProxy.Addr()
		}
		if s.Kubeconfig, err = sys.serviceKubeconfig(ctx, cs, name, server, dir); err != nil {
			return err
		}
		sys.Services[name] = s
	}
	for _, name := range Services {
		s := sys.Services[name]
		s.Args = []string{"--kubeconfig=" + s.Kubeconfig, "--namespace=" + SystemNamespace,
			"--metrics-bind-address=" + s.MetricsAddr, "--health-probe-bind-address=" + s.ProbeAddr,
			"--log-format=console", "--log-level=" + o.LogLevel}
		if name != "gateway" && name != "datastorage" {
			s.Args = append(s.Args, "--leader-elect=false")
		}
		if s.APIAddr != "" {
			s.Args = append(s.Args, "--http-bind-address="+s.APIAddr, "--auth-mode=token-file")
		}
		switch name {
		case "gateway":
			s.Args = append(s.Args, "--auth-token-file="+gatewayTokens)
		case "notification":
			s.Args = append(s.Args, "--auth-token-file="+serviceTokens)
			if notificationConfig != "" {
				s.Args = append(s.Args, "--config="+notificationConfig)
			}
		case "datastorage":
			s.Args = append(s.Args, "--auth-token-file="+serviceTokens, "--database-url="+sys.DatabaseURL)
		case "orchestrator", "aianalysis":
			tokenFile, err := write(name+"-token", clientTokens[name]+"\n")
			if err != nil {
				return err
			}
			s.Args = append(s.Args, "--notification-url="+sys.Services["notification"].URL(),
				"--datastorage-url="+sys.Services["datastorage"].URL(), "--service-token-file="+tokenFile)
			if name == "aianalysis" {
				s.Args = append(s.Args, "--provider=builtin")
			}
		}
		s.Args = append(s.Args, o.Args[name]...)
	}
	return nil
}

// serviceKubeconfig writes a kubeconfig that authenticates as the service's ServiceAccount with
// a token from the TokenRequest API.
func (sys *System) serviceKubeconfig(ctx context.Context, cs kubernetes.Interface, service, server, dir string) (string, error) {
	sa := "kubernaut-" + service
	_, err := cs.CoreV1().ServiceAccounts(SystemNamespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: SystemNamespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("creating ServiceAccount %s: %w", sa, err)
	}
	tr, err := cs.CoreV1().ServiceAccounts(SystemNamespace).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: new(int64(48 * 3600))},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("requesting a token for ServiceAccount %s: %w", sa, err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: sys.Cluster.Config.CAData}
	cfg.AuthInfos[sa] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts[sa] = &clientcmdapi.Context{Cluster: "local", AuthInfo: sa, Namespace: SystemNamespace}
	cfg.CurrentContext = sa
	path := filepath.Join(dir, service+".kubeconfig")
	return path, clientcmd.WriteToFile(*cfg, path)
}

// writePrometheusConfig writes a scrape configuration for the eight metrics endpoints.
func (sys *System) writePrometheusConfig() error {
	var b strings.Builder
	b.WriteString("# Prometheus scrape configuration for the Kubernaut services started by the e2e launcher.\n")
	b.WriteString("# Run: prometheus --config.file=" + filepath.Join(sys.WorkDir, "prometheus.yml") + "\n")
	b.WriteString("global:\n  scrape_interval: 5s\nscrape_configs:\n  - job_name: kubernaut\n    static_configs:\n")
	for _, name := range Services {
		fmt.Fprintf(&b, "      - targets: ['%s']\n        labels: {service: %s}\n", sys.Services[name].MetricsAddr, name)
	}
	sys.PrometheusConfig = filepath.Join(sys.WorkDir, "prometheus.yml")
	return os.WriteFile(sys.PrometheusConfig, []byte(b.String()), 0o644)
}

// Start starts the service's process (again, after Stop or Kill).
func (s *Service) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		select {
		case <-s.done:
		default:
			return fmt.Errorf("%s is already running", s.Name)
		}
	}
	log, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "=== %s: %s %s\n", time.Now().Format(time.RFC3339Nano), s.Binary, strings.Join(s.Args, " "))
	cmd := exec.Command(s.Binary, s.Args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("starting %s: %w", s.Name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		fmt.Fprintf(log, "=== %s: exited: %s\n", time.Now().Format(time.RFC3339Nano), cmd.ProcessState)
		log.Close()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	return nil
}

// Running reports whether the process is alive.
func (s *Service) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Pid is the process id of the running process (0 when none).
func (s *Service) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Stop sends SIGTERM and waits for the exit (SIGKILL after 30 s).
func (s *Service) Stop() error { return s.signal(syscall.SIGTERM, 30*time.Second) }

// Kill sends SIGKILL and waits for the exit.
func (s *Service) Kill() error { return s.signal(syscall.SIGKILL, 10*time.Second) }

func (s *Service) signal(sig syscall.Signal, grace time.Duration) error {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	select {
	case <-done:
		return nil
	case <-time.After(grace):
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-done:
		return fmt.Errorf("%s did not exit within %s of %s (killed)", s.Name, grace, sig)
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) survived SIGKILL", s.Name, cmd.Process.Pid)
	}
}

// WaitReady waits until the service answers /readyz with 200; it fails early when the process
// exits.
func (s *Service) WaitReady(ctx context.Context) error {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.ProbeAddr+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("%s exited before it was ready; see %s:\n%s", s.Name, s.LogPath, procgroup.Tail(s.LogPath, 20))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w; see %s:\n%s", s.Name, ctx.Err(), s.LogPath, procgroup.Tail(s.LogPath, 20))
		case <-tick.C:
		}
	}
}

// Stop stops the services (SIGTERM, in the reverse order of their start), the stand-ins, the
// cluster and the throwaway database; the work directory and its logs are kept. Safe to call
// more than once.
func (sys *System) Stop() error {
	sys.stopOnce.Do(func() {
		var errs []error
		if sys.Alerting != nil { // first: nothing more is sent to the stopping gateway
			errs = append(errs, sys.Alerting.Stop())
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, s := range sys.Services {
			wg.Go(func() {
				if err := s.Stop(); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if sys.APIProxy != nil {
			sys.APIProxy.Close()
		}
		if sys.StandIns != nil {
			sys.StandIns.Close()
		}
		if sys.Cluster != nil {
			errs = append(errs, sys.Cluster.Stop())
		}
		if sys.pg != nil {
			errs = append(errs, sys.pg.Close())
		}
		for _, release := range sys.releases {
			release()
		}
		sys.stopErr = errors.Join(errs...)
	})
	return sys.stopErr
}
