// Package images checks the container image of every service without a container runtime: it
// reads the docker-archive that `make docker-build` wrote (KUBERNAUT_IMAGES_DIR, tag
// KUBERNAUT_IMAGE_TAG), or builds the eight images itself from static binaries when the variable
// is unset, and for each image
//
//   - checks the config: a numeric non-root User that /etc/passwd of the image knows, the
//     entrypoint present and executable, the probe and metrics ports exposed, a CA bundle, no shell;
//   - unpacks the filesystem and runs the entrypoint from it: `--help`, then the service itself
//     against a real API server (envtest; PostgreSQL for datastorage). As root the process is
//     chrooted into the unpacked filesystem and runs as the image's user, so it sees only what
//     the image holds; otherwise it runs from the unpacked directory as the current user;
//   - requires /healthz, /readyz and /metrics to answer 200, the process to run as the image's
//     uid, and a clean exit on SIGTERM;
//   - when a Docker daemon answers, also loads the archive and runs it in a container as
//     deploy/base runs it (read-only root filesystem, all capabilities dropped, no new
//     privileges), with the same checks.
//
// TestImagesE2EWorkload checks the e2e workload's archive the same way (make e2e-workload-image;
// built by the test when KUBERNAUT_IMAGES_DIR is unset) and, where a private containerd can run,
// imports it as `kind load image-archive` does and sees the kernel OOM-kill it under a memory limit.
//
// Every check is logged (go test -v), so the output says what was verified.
package images

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/kubernaut/kubernaut/hack/imagebuild"
	"github.com/kubernaut/kubernaut/internal/testutil/apptest"
	"github.com/kubernaut/kubernaut/internal/testutil/syncbuf"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/internal/testutil/testpg"
)

func TestMain(m *testing.M) { testpg.Main(m) }

var services = []string{"gateway", "orchestrator", "processing", "aianalysis", "workflow", "executor", "notification", "datastorage"}

// serviceArgs are the flags a service needs beyond the shared ones to start against the test
// API server (HTTP services without auth; datastorage with its database).
func serviceArgs(t *testing.T, service, api string) []string {
	switch service {
	case "gateway", "notification":
		return []string{"--auth-mode=none", "--http-bind-address=" + api}
	case "datastorage":
		return []string{"--auth-mode=none", "--http-bind-address=" + api, "--database-url=" + testpg.Start(t)}
	}
	return nil
}

func TestImages(t *testing.T) {
	dir, tag := os.Getenv("KUBERNAUT_IMAGES_DIR"), os.Getenv("KUBERNAUT_IMAGE_TAG")
	if dir == "" {
		dir, tag = buildImages(t), "check"
		t.Logf("KUBERNAUT_IMAGES_DIR unset: built the eight images into %s (tag %s)", dir, tag)
	}
	env := testenv.Start(t)
	user, err := env.Environment.AddUser(envtest.User{Name: "image-check", Groups: []string{"system:masters"}}, nil)
	require.NoError(t, err)
	kubeconfig, err := user.KubeConfig()
	require.NoError(t, err)

	deployed := deployments(t)
	require.NoError(t, env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: systemNamespace}}))

	for _, svc := range services {
		t.Run(svc, func(t *testing.T) {
			ref := ""
			if tag != "" {
				ref = "kubernaut/" + svc + ":" + tag
			}
			archive := filepath.Join(dir, imagebuild.ArchiveName(svc))
			img, err := imagebuild.Load(archive, ref)
			require.NoError(t, err, "reading %s", archive)
			cf, err := img.ConfigFile()
			require.NoError(t, err)

			root := rootDir(t)
			require.NoError(t, imagebuild.Unpack(img, root))
			uid, gid := checkConfig(t, svc, cf, root)

			entry := cf.Config.Entrypoint
			help := run(t, root, uid, gid, cf, entry, "--help")
			out, err := help.CombinedOutput()
			require.NoError(t, err, "%s --help: %s", svc, out)
			for _, flag := range []string{"--kubeconfig", "--namespace", "--metrics-bind-address", "--health-probe-bind-address"} {
				assert.Contains(t, string(out), flag, "%s --help lists %s", svc, flag)
			}
			t.Logf("checked: `%s --help` exits 0 and lists the shared flags", strings.Join(entry, " "))

			spec := deployed[svc]
			require.NotNil(t, spec, "deploy/overlays/kind has no Deployment %s", svc)
			checkServes(t, svc, root, uid, gid, cf, kubeconfig, env.Namespace(t, nil), spec)
			if dockerAvailable() {
				checkDocker(t, svc, archive, ref, uid, kubeconfig, env.Namespace(t, nil))
			} else {
				t.Logf("not checked: a container runtime run (no Docker daemon answers `docker info`)")
			}
		})
	}
}

// checkConfig checks the image config and filesystem and returns the user to run as.
func checkConfig(t *testing.T, svc string, cf *v1.ConfigFile, root string) (int, int) {
	uid, gid := checkUserAndFiles(t, cf, root)
	assert.Equal(t, imagebuild.EntrypointPath(svc), cf.Config.Entrypoint[0])
	for _, port := range []string{"8081/tcp", "9090/tcp"} {
		assert.Contains(t, cf.Config.ExposedPorts, port)
	}
	t.Logf("checked: user %d:%d (non-root, in /etc/passwd), entrypoint %s, CA bundle, no shell, ports 8081 and 9090 exposed",
		uid, gid, cf.Config.Entrypoint[0])
	return uid, gid
}

// checkUserAndFiles checks what every image shares (a numeric non-root user that /etc/passwd
// knows, a CA bundle, no shell, one executable entrypoint, linux) and returns the user.
func checkUserAndFiles(t *testing.T, cf *v1.ConfigFile, root string) (int, int) {
	t.Helper()
	user := cf.Config.User
	require.NotEmpty(t, user, "the image must set a user")
	uidStr, gidStr, _ := strings.Cut(user, ":")
	uid, err := strconv.Atoi(uidStr)
	require.NoError(t, err, "the user %q must be numeric so runAsNonRoot can verify it", user)
	gid := uid
	if gidStr != "" {
		gid, err = strconv.Atoi(gidStr)
		require.NoError(t, err, "group of %q", user)
	}
	require.NotZero(t, uid, "the image must not run as root")
	require.NotZero(t, gid, "the image must not run with group root")

	passwd, err := os.ReadFile(filepath.Join(root, "etc", "passwd"))
	require.NoError(t, err, "the image needs /etc/passwd")
	assert.Contains(t, string(passwd), fmt.Sprintf(":x:%d:%d:", uid, gid), "/etc/passwd knows the image's user")
	certs, err := os.ReadFile(filepath.Join(root, "etc", "ssl", "certs", "ca-certificates.crt"))
	require.NoError(t, err, "the image needs a CA bundle for TLS to Slack, PagerDuty, LLM endpoints")
	assert.Contains(t, string(certs), "BEGIN CERTIFICATE")
	for _, shell := range []string{"bin/sh", "bin/bash", "usr/bin/sh"} {
		_, err := os.Stat(filepath.Join(root, shell))
		assert.True(t, os.IsNotExist(err), "a scratch image has no /%s", shell)
	}

	require.Len(t, cf.Config.Entrypoint, 1)
	fi, err := os.Stat(filepath.Join(root, cf.Config.Entrypoint[0]))
	require.NoError(t, err, "entrypoint present")
	assert.NotZero(t, fi.Mode()&0o001, "entrypoint executable by any user")
	assert.Equal(t, "linux", cf.OS)
	return uid, gid
}

// rootDir is a directory the image's user can traverse when the check runs as root.
func rootDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "kubernaut-image-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	return dir
}

// chrooted tells whether processes run inside the unpacked image (root can chroot and drop to
// the image's user); otherwise they run from the unpacked directory as the current user.
var chrooted = os.Geteuid() == 0 && goruntime.GOOS == "linux"

// run prepares the image's entrypoint with args.
func run(t *testing.T, root string, uid, gid int, cf *v1.ConfigFile, entry []string, args ...string) *exec.Cmd {
	t.Helper()
	var cmd *exec.Cmd
	if chrooted {
		cmd = exec.Command(entry[0], append(entry[1:], args...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		cmd.Dir = "/"
	} else {
		cmd = exec.Command(filepath.Join(root, entry[0]), append(entry[1:], args...)...)
	}
	cmd.Env = cf.Config.Env
	return cmd
}

// checkServes runs the service from its image against the API server and probes it.
//
// Chrooted, it runs the image as its Deployment in deploy/overlays/kind would: the Deployment's
// args and literal environment, its ConfigMap volumes' files at their mount paths, and a token
// file where the projected ServiceAccount token goes; only the cluster connection, the listen
// addresses, the log format and (for the HTTP services) auth and database are overridden, by
// flags appended after the Deployment's (the last value of a flag wins). So a flag the binary
// does not know, or a configuration file it refuses, fails here rather than in a cluster.
func checkServes(t *testing.T, svc, root string, uid, gid int, cf *v1.ConfigFile, kubeconfig []byte, ns string, spec *deployment) {
	kc := filepath.Join(root, "kubeconfig")
	require.NoError(t, os.WriteFile(kc, kubeconfig, 0o600))
	kcArg := kc
	var base []string
	env := cf.Config.Env
	if chrooted {
		require.NoError(t, os.Chown(kc, uid, gid))
		kcArg = "/kubeconfig"
		for path, data := range spec.files {
			target := filepath.Join(root, path)
			require.NoError(t, os.MkdirAll(filepath.Dir(target), 0o755))
			require.NoError(t, os.WriteFile(target, data, 0o644))
		}
		base = spec.args
		env = append(slices.Clone(env), spec.env...)
	} else {
		base = []string{"--namespace=" + ns}
	}
	metrics, probes, api := apptest.FreeAddr(t), apptest.FreeAddr(t), apptest.FreeAddr(t)
	args := append(slices.Clone(base), "--kubeconfig="+kcArg, "--metrics-bind-address="+metrics,
		"--health-probe-bind-address="+probes, "--log-format=console")
	args = append(args, serviceArgs(t, svc, api)...)
	cmd := run(t, root, uid, gid, cf, cf.Config.Entrypoint, args...)
	cmd.Env = env
	logs, done := startLogged(t, cmd)

	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		for _, url := range []string{"http://" + probes + "/healthz", "http://" + probes + "/readyz", "http://" + metrics + "/metrics"} {
			resp, err := http.Get(url)
			if !assert.NoError(c, err) {
				return
			}
			_ = resp.Body.Close()
			assert.Equal(c, http.StatusOK, resp.StatusCode, url)
		}
	}, 60*time.Second, 200*time.Millisecond, "%s did not become healthy; logs:\n%s", svc, logs)

	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	require.NoError(t, err)
	wantUID := os.Geteuid()
	if chrooted {
		wantUID = uid
	}
	assert.Regexp(t, fmt.Sprintf(`(?m)^Uid:\s+%d\s`, wantUID), string(status), "the process runs as uid %d", wantUID)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-done:
		assert.NoError(t, err, "exit after SIGTERM; logs:\n%s", logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not exit after SIGTERM; logs:\n%s", svc, logs)
	}
	how := "from the unpacked filesystem as the current user (not root, so no chroot, and not with the Deployment's args)"
	if chrooted {
		how = fmt.Sprintf("chrooted into the unpacked image as uid %d, with its Deployment's args, environment and mounted files (%d: ConfigMaps, token) from deploy/overlays/kind", uid, len(spec.files))
	}
	t.Logf("checked: ran %s %s against a real API server: /healthz, /readyz, /metrics answered 200; exited 0 on SIGTERM", cf.Config.Entrypoint[0], how)
}

var dockerOnce = sync.OnceValue(func() bool { return exec.Command("docker", "info").Run() == nil })

// dockerAvailable tells whether a Docker daemon answers (DOCKER_HOST is honoured).
func dockerAvailable() bool { return dockerOnce() }

// checkDocker loads the archive into Docker and runs the image as Kubernetes runs it under
// deploy/base: its own user, read-only root filesystem, every capability dropped, no privilege
// escalation, the runtime's default seccomp profile; host network, so it reaches the API server.
func checkDocker(t *testing.T, svc, archive, ref string, uid int, kubeconfig []byte, ns string) {
	docker := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("docker", args...).CombinedOutput()
		require.NoError(t, err, "docker %s: %s", strings.Join(args, " "), out)
		return strings.TrimSpace(string(out))
	}
	docker("load", "-i", archive)
	if ref == "" {
		ref = "kubernaut/" + svc + ":check"
	}
	dir := rootDir(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kubeconfig"), kubeconfig, 0o644))
	metrics, probes, api := apptest.FreeAddr(t), apptest.FreeAddr(t), apptest.FreeAddr(t)
	args := []string{"run", "-d", "--network=host", "--read-only", "--cap-drop=ALL", "--security-opt=no-new-privileges",
		"-v", dir + ":/etc/kubernaut-check:ro", ref,
		"--kubeconfig=/etc/kubernaut-check/kubeconfig", "--namespace=" + ns, "--metrics-bind-address=" + metrics,
		"--health-probe-bind-address=" + probes, "--log-format=console"}
	args = append(args, serviceArgs(t, svc, api)...)
	id := docker(args...)
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", id).Run() })
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		for _, url := range []string{"http://" + probes + "/healthz", "http://" + probes + "/readyz", "http://" + metrics + "/metrics"} {
			resp, err := http.Get(url)
			if !assert.NoError(c, err) {
				return
			}
			_ = resp.Body.Close()
			assert.Equal(c, http.StatusOK, resp.StatusCode, url)
		}
	}, 60*time.Second, 200*time.Millisecond, "%s did not become healthy in Docker; logs:\n%s", svc, dockerLogs(id))
	pid := docker("inspect", "-f", "{{.State.Pid}}", id)
	status, err := os.ReadFile("/proc/" + pid + "/status")
	require.NoError(t, err)
	assert.Regexp(t, fmt.Sprintf(`(?m)^Uid:\s+%d\s`, uid), string(status), "the container runs as uid %d", uid)
	docker("stop", "-t", "30", id)
	assert.Equal(t, "0", docker("wait", id), "exit code after SIGTERM; logs:\n%s", dockerLogs(id))
	t.Logf("checked: docker run %s (read-only root filesystem, --cap-drop=ALL, no-new-privileges) as uid %d: /healthz, /readyz, /metrics answered 200; exited 0 on SIGTERM", ref, uid)
}

func dockerLogs(id string) string {
	out, _ := exec.Command("docker", "logs", id).CombinedOutput()
	return string(out)
}

const systemNamespace = "kubernaut-system"

// deployment is what a service's Deployment in deploy/overlays/kind gives its container.
type deployment struct {
	args  []string
	env   []string          // literal values only (Secrets are not there)
	files map[string][]byte // absolute path in the container -> content (ConfigMap volumes, a token)
}

// deployments renders deploy/overlays/kind with kustomize and returns each service's container spec.
func deployments(t *testing.T) map[string]*deployment {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(testenv.RepoRoot(), "deploy", "overlays", "kind"))
	require.NoError(t, err, "kustomize build deploy/overlays/kind")
	configMaps := map[string]map[string]string{}
	var deps []appsv1.Deployment
	for _, r := range m.Resources() {
		obj, err := r.Map()
		require.NoError(t, err)
		switch r.GetKind() {
		case "ConfigMap":
			var cm corev1.ConfigMap
			require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &cm))
			configMaps[cm.Name] = cm.Data
		case "Deployment":
			var d appsv1.Deployment
			require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &d))
			deps = append(deps, d)
		}
	}
	out := map[string]*deployment{}
	for _, d := range deps {
		c := d.Spec.Template.Spec.Containers[0]
		spec := &deployment{args: c.Args, files: map[string][]byte{}}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				spec.env = append(spec.env, e.Name+"="+e.Value)
			}
		}
		volumes := map[string]corev1.Volume{}
		for _, v := range d.Spec.Template.Spec.Volumes {
			volumes[v.Name] = v
		}
		for _, vm := range c.VolumeMounts {
			v := volumes[vm.Name]
			switch {
			case v.ConfigMap != nil:
				data, ok := configMaps[v.ConfigMap.Name]
				require.True(t, ok, "Deployment %s mounts ConfigMap %s, which the overlay does not have", d.Name, v.ConfigMap.Name)
				for key, value := range data {
					spec.files[filepath.Join(vm.MountPath, key)] = []byte(value)
				}
			case v.Projected != nil:
				for _, src := range v.Projected.Sources {
					if src.ServiceAccountToken != nil {
						spec.files[filepath.Join(vm.MountPath, src.ServiceAccountToken.Path)] = []byte("not-a-real-token")
					}
				}
			}
		}
		out[d.Name] = spec
	}
	return out
}

// buildImages builds static binaries of the eight services and their images into a temporary
// directory, tagged "check".
func buildImages(t *testing.T) string {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	pkgs := make([]string, len(services))
	for i, s := range services {
		pkgs[i] = "github.com/kubernaut/kubernaut/cmd/" + s
	}
	build := exec.Command("go", append([]string{"build", "-trimpath", "-o", bin + "/"}, pkgs...)...)
	build.Dir = testenv.RepoRoot()
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	for _, s := range services {
		o := imagebuild.Options{Service: s, Binary: filepath.Join(bin, s), Repository: "kubernaut/" + s, Tags: []string{"check"},
			Version: "check", Arch: goruntime.GOARCH, CACertificates: "/etc/ssl/certs/ca-certificates.crt", Created: time.Unix(0, 0)}
		require.NoError(t, imagebuild.Write(o, filepath.Join(dir, "images", imagebuild.ArchiveName(s))))
	}
	return filepath.Join(dir, "images")
}

// startLogged starts cmd with its output in the returned buffer; done receives its exit. The
// process is killed when the test ends.
func startLogged(t *testing.T, cmd *exec.Cmd) (*syncbuf.Buffer, <-chan error) {
	t.Helper()
	logs := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return logs, done
}
