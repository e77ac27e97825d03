// Package deploy checks the manifests under deploy/ without a cluster runtime: kustomize (its Go
// API, the same code as `kubectl kustomize`) renders the base, the kind overlay and the optional
// components; the rendered objects must be hardened, least-privilege and scraped; and a real API
// server (envtest, with Kubernaut's CRDs and minimal Prometheus Operator CRDs installed) must
// accept every object in a server-side dry-run, without a Pod Security warning for the
// namespace's "restricted" level.
package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

const systemNamespace = "kubernaut-system"

// services are the eight Deployments; http serve an API on :8080.
var services = []string{"gateway", "orchestrator", "processing", "aianalysis", "workflow", "executor", "notification", "datastorage"}

var httpServices = map[string]bool{"gateway": true, "notification": true, "datastorage": true}

// controllers run leader-elected reconcilers (--leader-elect).
var controllers = map[string]bool{"orchestrator": true, "processing": true, "aianalysis": true, "workflow": true, "executor": true, "notification": true}

// objects is a rendered kustomization.
type objects []*unstructured.Unstructured

func (o objects) ofKind(kind string) objects {
	var out objects
	for _, u := range o {
		if u.GetKind() == kind {
			out = append(out, u)
		}
	}
	return out
}

func (o objects) named(kind, name string) *unstructured.Unstructured {
	for _, u := range o {
		if u.GetKind() == kind && u.GetName() == name {
			return u
		}
	}
	return nil
}

func convert[T any](t *testing.T, u *unstructured.Unstructured) *T {
	t.Helper()
	var out T
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &out), "%s %s", u.GetKind(), u.GetName())
	return &out
}

var (
	renderMu    sync.Mutex
	renderCache = map[string]objects{}
)

// render builds the kustomization in dir (relative to the repository root) with kustomize's Go API.
func render(t *testing.T, dir string) objects {
	t.Helper()
	renderMu.Lock()
	defer renderMu.Unlock()
	if objs, ok := renderCache[dir]; ok {
		return objs
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(testenv.RepoRoot(), dir))
	require.NoError(t, err, "kustomize build %s", dir)
	var objs objects
	for _, r := range m.Resources() {
		mm, err := r.Map()
		require.NoError(t, err)
		objs = append(objs, &unstructured.Unstructured{Object: mm})
	}
	require.NotEmpty(t, objs, dir)
	renderCache[dir] = objs
	return objs
}

func TestKustomizationsBuild(t *testing.T) {
	for _, dir := range []string{"deploy/base", "deploy/overlays/kind", "test/deploy/testdata/everything", "test/deploy/testdata/external-database"} {
		t.Run(dir, func(t *testing.T) {
			objs := render(t, dir)
			t.Logf("%s renders %d objects", dir, len(objs))
		})
	}
	t.Run("external database removes the in-cluster PostgreSQL", func(t *testing.T) {
		objs := render(t, "test/deploy/testdata/external-database")
		assert.Nil(t, objs.named("StatefulSet", "postgres"))
		assert.Nil(t, objs.named("Service", "postgres"))
		ds := convert[appsv1.Deployment](t, objs.named("Deployment", "datastorage"))
		for _, e := range ds.Spec.Template.Spec.Containers[0].Env {
			if strings.HasPrefix(e.Name, "PG") && e.Name != "PGSSLMODE" {
				require.NotNil(t, e.ValueFrom, e.Name)
				assert.Equal(t, "kubernaut-db-app", e.ValueFrom.SecretKeyRef.Name, e.Name)
			}
		}
	})
}

// TestEveryFileIsWired fails when a file under deploy/base/{config,policies,services,rbac} is not
// a resource of the base, so a new ConfigMap, policy or role cannot be forgotten.
func TestEveryFileIsWired(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "base", "kustomization.yaml"))
	require.NoError(t, err)
	var k struct {
		Resources []string `json:"resources"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &k))
	for _, sub := range []string{"config", "policies", "services", "rbac"} {
		files, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "deploy", "base", sub, "*.yaml"))
		for _, f := range files {
			assert.Contains(t, k.Resources, sub+"/"+filepath.Base(f), "deploy/base/kustomization.yaml must list %s/%s", sub, filepath.Base(f))
		}
	}
	for _, svc := range services {
		assert.Contains(t, k.Resources, "rbac/"+svc+"/role.yaml")
		assert.Contains(t, k.Resources, "services/"+svc+".yaml")
	}
}

func TestWorkloadsAreHardened(t *testing.T) {
	objs := render(t, "deploy/overlays/kind")
	for _, svc := range services {
		require.NotNil(t, objs.named("Deployment", svc), "Deployment %s", svc)
	}
	type workload struct {
		kind, name string
		pod        corev1.PodTemplateSpec
	}
	var workloads []workload
	for _, u := range objs.ofKind("Deployment") {
		d := convert[appsv1.Deployment](t, u)
		workloads = append(workloads, workload{"Deployment", d.Name, d.Spec.Template})
	}
	for _, u := range objs.ofKind("StatefulSet") {
		s := convert[appsv1.StatefulSet](t, u)
		workloads = append(workloads, workload{"StatefulSet", s.Name, s.Spec.Template})
	}
	for _, w := range workloads {
		t.Run(w.kind+"/"+w.name, func(t *testing.T) {
			spec := w.pod.Spec
			psc := spec.SecurityContext
			require.NotNil(t, psc, "pod securityContext")
			require.NotNil(t, psc.RunAsNonRoot, "runAsNonRoot")
			assert.True(t, *psc.RunAsNonRoot, "runAsNonRoot")
			require.NotNil(t, psc.SeccompProfile, "seccompProfile")
			assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, psc.SeccompProfile.Type)
			if psc.RunAsUser != nil {
				assert.NotZero(t, *psc.RunAsUser, "runAsUser must not be root")
			}
			assert.Empty(t, spec.InitContainers, "no init containers to harden separately")
			for _, c := range spec.Containers {
				assert.NotNil(t, c.LivenessProbe, "%s: livenessProbe", c.Name)
				assert.NotNil(t, c.ReadinessProbe, "%s: readinessProbe", c.Name)
				assert.False(t, c.Resources.Limits.Memory().IsZero(), "%s: memory limit", c.Name)
				assert.False(t, c.Resources.Requests.Memory().IsZero(), "%s: memory request", c.Name)
				assert.False(t, c.Resources.Requests.Cpu().IsZero(), "%s: cpu request", c.Name)
				sc := c.SecurityContext
				if !assert.NotNil(t, sc, "%s: securityContext", c.Name) {
					continue
				}
				assert.Equal(t, ptrFalse, sc.AllowPrivilegeEscalation, "%s: allowPrivilegeEscalation", c.Name)
				assert.Equal(t, ptrTrue, sc.ReadOnlyRootFilesystem, "%s: readOnlyRootFilesystem", c.Name)
				assert.Nil(t, sc.Privileged, "%s: privileged unset", c.Name)
				if assert.NotNil(t, sc.Capabilities, "%s: capabilities", c.Name) {
					assert.Contains(t, sc.Capabilities.Drop, corev1.Capability("ALL"), "%s: drop ALL", c.Name)
					assert.Empty(t, sc.Capabilities.Add, "%s: no added capability", c.Name)
				}
				if sc.RunAsUser != nil {
					assert.NotZero(t, *sc.RunAsUser, "%s: runAsUser", c.Name)
				}
			}
			assert.False(t, spec.HostNetwork || spec.HostPID || spec.HostIPC, "no host namespaces")
		})
	}
}

var (
	ptrTrue  = func() *bool { b := true; return &b }()
	ptrFalse = func() *bool { b := false; return &b }()
)

func TestServicesProbesMetricsAndReplicas(t *testing.T) {
	objs := render(t, "test/deploy/testdata/everything")
	for _, svc := range services {
		t.Run(svc, func(t *testing.T) {
			d := convert[appsv1.Deployment](t, objs.named("Deployment", svc))
			pod := d.Spec.Template
			require.Len(t, pod.Spec.Containers, 1)
			c := pod.Spec.Containers[0]
			ports := map[string]int32{}
			for _, p := range c.Ports {
				ports[p.Name] = p.ContainerPort
			}
			assert.Equal(t, int32(9090), ports["metrics"], "metrics port named metrics")
			assert.Equal(t, int32(8081), ports["probes"], "probe port")
			if httpServices[svc] {
				assert.Equal(t, int32(8080), ports["http"], "API port")
			}
			checkProbe := func(p *corev1.Probe, path string) {
				if !assert.NotNil(t, p) || !assert.NotNil(t, p.HTTPGet) {
					return
				}
				assert.Equal(t, path, p.HTTPGet.Path)
				port := p.HTTPGet.Port
				if port.Type == intstr.String {
					port = intstr.FromInt32(ports[port.StrVal])
				}
				assert.Equal(t, int32(8081), port.IntVal, "%s on :8081", path)
			}
			checkProbe(c.LivenessProbe, "/healthz")
			checkProbe(c.ReadinessProbe, "/readyz")
			assert.Equal(t, "kubernaut-"+svc, pod.Spec.ServiceAccountName)

			// scraped by plain Prometheus ...
			assert.Equal(t, "true", pod.Annotations["prometheus.io/scrape"])
			assert.Equal(t, "9090", pod.Annotations["prometheus.io/port"])
			assert.Equal(t, "/metrics", pod.Annotations["prometheus.io/path"])
			// ... and by the Prometheus Operator: a Service with the metrics port and a ServiceMonitor selecting it
			s := objs.named("Service", svc)
			require.NotNil(t, s, "Service %s", svc)
			service := convert[corev1.Service](t, s)
			assert.True(t, labels.SelectorFromSet(service.Spec.Selector).Matches(labels.Set(pod.Labels)), "Service selects the pods")
			var metricsPort bool
			for _, p := range service.Spec.Ports {
				metricsPort = metricsPort || (p.Name == "metrics" && p.TargetPort.String() == "metrics")
			}
			assert.True(t, metricsPort, "Service port named metrics")
			var monitored bool
			for _, sm := range objs.ofKind("ServiceMonitor") {
				sel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
				eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
				if !labels.SelectorFromSet(sel).Matches(labels.Set(service.Labels)) {
					continue
				}
				for _, ep := range eps {
					if m, ok := ep.(map[string]any); ok && m["port"] == "metrics" {
						monitored = true
					}
				}
			}
			assert.True(t, monitored, "a ServiceMonitor scrapes the Service's metrics port")

			replicas := int32(1)
			if d.Spec.Replicas != nil {
				replicas = *d.Spec.Replicas
			}
			if controllers[svc] {
				assert.Contains(t, c.Args, "--leader-elect=true", "controllers elect a leader")
				assert.NotNil(t, objs.named("RoleBinding", "kubernaut-"+svc+"-leader-election"), "leader election RoleBinding")
			}
			if replicas > 1 {
				var covered bool
				for _, u := range objs.ofKind("PodDisruptionBudget") {
					pdb := convert[policyv1.PodDisruptionBudget](t, u)
					sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
					require.NoError(t, err)
					covered = covered || sel.Matches(labels.Set(pod.Labels))
				}
				assert.True(t, covered, "%d replicas need a PodDisruptionBudget", replicas)
			}
		})
	}
}

// peopleRoles are the ClusterRoles deploy/base ships for people (bound to nobody), by file.
var peopleRoles = map[string]string{"kubernaut-approver": "rbac/approver.yaml", "kubernaut-viewer": "rbac/viewer.yaml"}

func TestRBACIsGeneratedAndLeastPrivilege(t *testing.T) {
	objs := render(t, "deploy/base")
	roles := objs.ofKind("ClusterRole")
	require.Len(t, roles, len(services)+len(peopleRoles), "one generated ClusterRole per service and the roles for people, nothing else")
	for _, u := range roles {
		role := convert[rbacv1.ClusterRole](t, u)
		assert.Nil(t, role.AggregationRule, role.Name)
		noWildcards(t, role.Name, role.Rules)
		if _, ok := peopleRoles[role.Name]; ok {
			continue // TestRolesForPeople
		}
		svc, ok := strings.CutPrefix(role.Name, "kubernaut-")
		require.True(t, ok && slices.Contains(services, svc), "ClusterRole %s is not a service's", role.Name)
		generated := testenv.GeneratedClusterRole(t, svc)
		assert.Empty(t, cmp.Diff(generated.Rules, role.Rules), "ClusterRole %s must be exactly rbac/%s/role.yaml (generated from the markers by `make manifests`)", role.Name, svc)
	}
	for _, u := range objs.ofKind("ClusterRoleBinding") {
		b := convert[rbacv1.ClusterRoleBinding](t, u)
		assert.Equal(t, rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: b.Name}, b.RoleRef, "binding %s", b.Name)
		assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: b.Name, Namespace: systemNamespace}}, b.Subjects, "binding %s binds only its service's ServiceAccount", b.Name)
		assert.NotNil(t, objs.named("ServiceAccount", b.Name))
	}
	// Namespaced roles: only leader election, only in the system namespace.
	for _, u := range objs.ofKind("Role") {
		role := convert[rbacv1.Role](t, u)
		assert.Equal(t, testenv.LeaderElectionRole, role.Name)
		assert.Equal(t, systemNamespace, role.Namespace)
		noWildcards(t, role.Name, role.Rules)
		for _, r := range role.Rules {
			for _, res := range r.Resources {
				assert.Contains(t, []string{"leases", "events"}, res, "leader election needs leases; events about Kubernaut's resources")
			}
		}
	}
	for _, u := range objs.ofKind("RoleBinding") {
		b := convert[rbacv1.RoleBinding](t, u)
		assert.Equal(t, testenv.LeaderElectionRole, b.RoleRef.Name, b.Name)
		require.Len(t, b.Subjects, 1)
		svc := strings.TrimPrefix(b.Subjects[0].Name, "kubernaut-")
		assert.True(t, controllers[svc], "%s: only controllers elect a leader", b.Name)
	}
}

// TestLeasesOnlyThroughTheNamespacedRole: no ClusterRole anywhere in deploy/ (every YAML file,
// and every rendered kustomization) grants Leases or Event writes; the controllers get them only
// from the Role kubernaut-leader-election in the system namespace, so none may touch a Lease or
// write an Event elsewhere.
func TestLeasesOnlyThroughTheNamespacedRole(t *testing.T) {
	grantsLeases := func(rules []rbacv1.PolicyRule) bool {
		for _, r := range rules {
			if (slices.Contains(r.APIGroups, "coordination.k8s.io") || slices.Contains(r.APIGroups, "*")) &&
				(slices.Contains(r.Resources, "leases") || slices.Contains(r.Resources, "*")) {
				return true
			}
			// Events are recorded about Kubernaut's own resources in the system namespace only:
			// creating or patching them is the namespaced Role's too.
			if (slices.Contains(r.APIGroups, "") || slices.Contains(r.APIGroups, "events.k8s.io") || slices.Contains(r.APIGroups, "*")) &&
				(slices.Contains(r.Resources, "events") || slices.Contains(r.Resources, "*")) &&
				(slices.Contains(r.Verbs, "create") || slices.Contains(r.Verbs, "patch") || slices.Contains(r.Verbs, "*")) {
				return true
			}
		}
		return false
	}
	var files int
	require.NoError(t, filepath.WalkDir(filepath.Join(testenv.RepoRoot(), "deploy"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		files++
		for _, role := range testenv.ClusterRolesIn(t, path) {
			assert.False(t, grantsLeases(role.Rules), "ClusterRole %s in %s grants Leases or Event writes cluster-wide: they come only from the Role %s (deploy/base/leader-election.yaml)", role.Name, path, testenv.LeaderElectionRole)
		}
		return nil
	}))
	require.NotZero(t, files)
	for _, dir := range []string{"deploy/base", "deploy/overlays/kind", "test/deploy/testdata/everything", "test/deploy/testdata/external-database"} {
		objs := render(t, dir)
		for _, u := range objs.ofKind("ClusterRole") {
			role := convert[rbacv1.ClusterRole](t, u)
			assert.False(t, grantsLeases(role.Rules), "%s: ClusterRole %s grants Leases or Event writes cluster-wide", dir, role.Name)
		}
		var leaseRoles []string
		for _, u := range objs.ofKind("Role") {
			role := convert[rbacv1.Role](t, u)
			if grantsLeases(role.Rules) {
				leaseRoles = append(leaseRoles, role.Namespace+"/"+role.Name)
			}
		}
		assert.Equal(t, []string{systemNamespace + "/" + testenv.LeaderElectionRole}, leaseRoles, "%s: the one grant of Leases", dir)
	}
}

// TestRolesForPeople pins kubernaut-approver and kubernaut-viewer: shipped, bound to nobody,
// labeled, no wildcards; the viewer reads (get on every Kubernaut kind, list and watch on the
// requests, what `kubectl kubernaut list|describe --watch` calls) and the approver is the viewer
// plus the one write a decision needs, patch on aiapprovalrequests/status. That they are enough
// for the plugin, and the viewer's refusal, are tested with the plugin's code in
// pkg/kubectlplugin (TestShippedRoles).
func TestRolesForPeople(t *testing.T) {
	objs := render(t, "deploy/base")
	type grant struct{ group, resource, verb string }
	grants := func(role *rbacv1.ClusterRole) map[grant]bool {
		out := map[grant]bool{}
		for _, r := range role.Rules {
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					for _, v := range r.Verbs {
						out[grant{g, res, v}] = true
					}
				}
			}
		}
		return out
	}
	// The viewer: get on every Kubernaut kind (deploy/crds), list and watch the requests.
	wantViewer := map[grant]bool{}
	for _, u := range render(t, "deploy/crds").ofKind("CustomResourceDefinition") {
		group, _, _ := unstructured.NestedString(u.Object, "spec", "group")
		plural, _, _ := unstructured.NestedString(u.Object, "spec", "names", "plural")
		wantViewer[grant{group, plural, "get"}] = true
	}
	require.Len(t, wantViewer, 7, "the seven Kubernaut kinds")
	wantViewer[grant{"remediation.kubernaut.io", "remediationrequests", "list"}] = true
	wantViewer[grant{"remediation.kubernaut.io", "remediationrequests", "watch"}] = true
	wantApprover := maps.Clone(wantViewer)
	wantApprover[grant{"aianalysis.kubernaut.io", "aiapprovalrequests/status", "patch"}] = true

	sorted := func(m map[grant]bool) []string {
		var out []string
		for g := range m {
			out = append(out, fmt.Sprintf("%s/%s %s", g.group, g.resource, g.verb))
		}
		slices.Sort(out)
		return out
	}
	for name, want := range map[string]map[grant]bool{"kubernaut-approver": wantApprover, "kubernaut-viewer": wantViewer} {
		t.Run(name, func(t *testing.T) {
			u := objs.named("ClusterRole", name)
			require.NotNil(t, u, "deploy/base ships ClusterRole %s (%s)", name, peopleRoles[name])
			role := convert[rbacv1.ClusterRole](t, u)
			assert.Equal(t, "kubernaut", role.Labels["app.kubernetes.io/part-of"])
			assert.Nil(t, role.AggregationRule)
			noWildcards(t, name, role.Rules)
			for _, r := range role.Rules {
				assert.Empty(t, r.ResourceNames, "%s: %+v", name, r)
				assert.Empty(t, r.NonResourceURLs, "%s: %+v", name, r)
				for _, g := range r.APIGroups {
					assert.True(t, strings.HasSuffix(g, ".kubernaut.io"), "%s: only Kubernaut's own kinds, not group %q", name, g)
				}
			}
			assert.Empty(t, cmp.Diff(sorted(want), sorted(grants(role))), "%s grants (-want +got)", name)
			file := testenv.ClusterRolesIn(t, testenv.DeployFile("base/"+peopleRoles[name]))
			require.Len(t, file, 1)
			assert.Empty(t, cmp.Diff(file[0].Rules, role.Rules), "%s is exactly %s", name, peopleRoles[name])
			// Bound to nobody: the cluster's administrators choose who approves.
			for _, dir := range []string{"deploy/base", "deploy/overlays/kind", "test/deploy/testdata/everything"} {
				for _, kind := range []string{"ClusterRoleBinding", "RoleBinding"} {
					for _, b := range render(t, dir).ofKind(kind) {
						ref, _, _ := unstructured.NestedString(b.Object, "roleRef", "name")
						assert.NotEqual(t, name, ref, "%s: %s %s binds %s; it ships unbound", dir, kind, b.GetName(), name)
					}
				}
			}
		})
	}
	t.Run("the viewer only reads", func(t *testing.T) {
		for _, r := range convert[rbacv1.ClusterRole](t, objs.named("ClusterRole", "kubernaut-viewer")).Rules {
			for _, v := range r.Verbs {
				assert.Contains(t, []string{"get", "list", "watch"}, v, "kubernaut-viewer: %+v", r)
			}
		}
	})
}

func noWildcards(t *testing.T, name string, rules []rbacv1.PolicyRule) {
	t.Helper()
	for _, r := range rules {
		for _, list := range [][]string{r.APIGroups, r.Resources, r.Verbs, r.ResourceNames, r.NonResourceURLs} {
			assert.NotContains(t, list, "*", "%s: wildcard in %+v", name, r)
		}
	}
}

func TestSecretsAreReferencedNotCommitted(t *testing.T) {
	assert.Empty(t, render(t, "deploy/base").ofKind("Secret"), "the base must not carry Secrets; reference them")
	// The kind overlay generates its throwaway PostgreSQL password; nothing else.
	for _, s := range render(t, "deploy/overlays/kind").ofKind("Secret") {
		assert.True(t, strings.HasPrefix(s.GetName(), "kubernaut-postgres"), "unexpected Secret %s in the kind overlay", s.GetName())
	}
}

func TestNetworkPolicies(t *testing.T) {
	objs := render(t, "deploy/base")
	var denyAll bool
	allowed := map[string][]int32{} // service -> ports with an ingress rule
	for _, u := range objs.ofKind("NetworkPolicy") {
		np := convert[networkingv1.NetworkPolicy](t, u)
		if len(np.Spec.PodSelector.MatchLabels) == 0 && len(np.Spec.PodSelector.MatchExpressions) == 0 {
			denyAll = denyAll || len(np.Spec.Ingress) == 0
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		require.NoError(t, err, np.Name)
		for _, rule := range np.Spec.Ingress {
			assert.NotEmpty(t, rule.From, "%s: every ingress rule names its clients", np.Name)
			for _, svc := range append(slices.Clone(services), "postgres") {
				if sel.Matches(labels.Set{"app.kubernetes.io/name": svc, "app.kubernetes.io/part-of": "kubernaut"}) {
					for _, p := range rule.Ports {
						allowed[svc] = append(allowed[svc], p.Port.IntVal)
					}
				}
			}
		}
	}
	assert.True(t, denyAll, "a default-deny ingress policy")
	for _, svc := range services {
		want := []int32{9090}
		if httpServices[svc] {
			want = append(want, 8080)
		}
		got := allowed[svc]
		sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
		slices.Sort(want)
		assert.Equal(t, want, got, "%s: ingress only to its API and metrics", svc)
	}
	assert.Equal(t, []int32{5432}, allowed["postgres"])
}

// TestAPIServerAcceptsTheManifests sends every rendered object (kind overlay + monitoring) to a
// real API server as a server-side apply dry-run.
func TestAPIServerAcceptsTheManifests(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	objs := render(t, "test/deploy/testdata/everything")

	warnings := &warningCollector{}
	cfg := rest.CopyConfig(env.Config)
	cfg.WarningHandler = warnings
	dyn, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	require.NoError(t, err)

	// Minimal Prometheus Operator CRDs, so ServiceMonitor and PrometheusRule are checked too
	// (their schemas are the operator's; here only kind, group and scope are).
	for _, crd := range []string{monitoringCRD("servicemonitors", "ServiceMonitor"), monitoringCRD("prometheusrules", "PrometheusRule")} {
		u := &unstructured.Unstructured{}
		require.NoError(t, yaml.Unmarshal([]byte(crd), &u.Object))
		_, err := dyn.Resource(crdGVR).Create(ctx, u, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	// The namespace must exist for the dry-run of namespaced objects.
	for _, u := range objs.ofKind("Namespace") {
		_, err := dyn.Resource(nsGVR).Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: "kubernaut-deploy-check"})
		require.NoError(t, err)
	}

	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		mapper.Reset()
		_, err := mapper.RESTMapping(schemaGK("monitoring.coreos.com", "PrometheusRule"))
		assert.NoError(c, err)
	}, 30*time.Second, 100*time.Millisecond, "the monitoring CRDs become served")

	for _, u := range objs {
		name := u.GetKind() + "/" + u.GetName()
		gvk := u.GroupVersionKind()
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if !assert.NoError(t, err, "%s: kind not served by the API server", name) {
			continue
		}
		var ri dynamic.ResourceInterface = dyn.Resource(mapping.Resource)
		if mapping.Scope.Name() == "namespace" {
			if !assert.NotEmpty(t, u.GetNamespace(), "%s: namespaced objects name their namespace", name) {
				continue
			}
			ri = dyn.Resource(mapping.Resource).Namespace(u.GetNamespace())
		}
		warnings.reset()
		_, err = ri.Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: "kubernaut-deploy-check", Force: true, DryRun: []string{metav1.DryRunAll}})
		assert.NoError(t, err, "%s rejected by the API server", name)
		for _, w := range warnings.get() {
			assert.Fail(t, "API server warning", "%s: %s", name, w)
		}
	}
	t.Logf("the API server accepted %d objects (server-side apply, dry-run), without warnings", len(objs))

	// The documented commands themselves, with the machine's kubectl (client-side and server-side apply).
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Logf("not checked: `kubectl apply -k deploy/overlays/kind` (no kubectl on PATH); the objects were checked above")
		return
	}
	user, err := env.Environment.AddUser(envtest.User{Name: "deploy-check", Groups: []string{"system:masters"}}, nil)
	require.NoError(t, err)
	kc, err := user.KubeConfig()
	require.NoError(t, err)
	kcPath := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kcPath, kc, 0o600))
	for _, mode := range [][]string{{}, {"--server-side"}} {
		args := append([]string{"--kubeconfig", kcPath, "apply", "-k", filepath.Join(testenv.RepoRoot(), "deploy", "overlays", "kind"), "--dry-run=server"}, mode...)
		out, err := exec.Command(kubectl, args...).CombinedOutput()
		assert.NoError(t, err, "kubectl %s:\n%s", strings.Join(args[2:], " "), out)
		applied := 0
		for _, line := range strings.Split(string(out), "\n") {
			switch {
			case strings.HasSuffix(line, "(server dry run)"):
				applied++
			case strings.HasPrefix(line, "Warning:") && !strings.Contains(line, "last-applied-configuration"):
				// (the namespace and CRDs this test created first carry no last-applied annotation)
				assert.Fail(t, "kubectl warning", "kubectl %s: %s", strings.Join(args[2:], " "), line)
			}
		}
		assert.Equal(t, len(render(t, "deploy/overlays/kind")), applied, "every object of the overlay applied")
		t.Logf("checked: kubectl %s (%d objects)", strings.Join(args[2:], " "), applied)
	}
}

var (
	crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	nsGVR  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
)

func schemaGK(group, kind string) schema.GroupKind { return schema.GroupKind{Group: group, Kind: kind} }

func monitoringCRD(plural, kind string) string {
	return fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: %[1]s.monitoring.coreos.com}
spec:
  group: monitoring.coreos.com
  names: {plural: %[1]s, kind: %[2]s, listKind: %[2]sList, singular: %[3]s}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
`, plural, kind, strings.ToLower(kind))
}

// warningCollector records the API server's warnings (for example Pod Security violations).
type warningCollector struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warningCollector) HandleWarningHeader(code int, agent, text string) {
	if code != 299 || text == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

func (w *warningCollector) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = nil
}

func (w *warningCollector) get() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.msgs)
}

// TestMonitoringUsesRealMetrics fails when a PrometheusRule or the Grafana dashboard queries a
// kubernaut_* metric that no service exports (a renamed metric would leave a silent alert).
func TestMonitoringUsesRealMetrics(t *testing.T) {
	root := testenv.RepoRoot()
	exported := map[string]bool{}
	metricName := regexp.MustCompile(`"(kubernaut_[a-z0-9_]+)"`)
	require.NoError(t, filepath.WalkDir(filepath.Join(root, "pkg"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range metricName.FindAllStringSubmatch(string(src), -1) {
			exported[m[1]] = true
		}
		return nil
	}))
	require.NotEmpty(t, exported)
	used := regexp.MustCompile(`kubernaut_[a-z0-9_]+`)
	for _, file := range []string{"deploy/components/monitoring/prometheusrules.yaml", "deploy/components/monitoring/grafana-dashboard.json"} {
		raw, err := os.ReadFile(filepath.Join(root, file))
		require.NoError(t, err)
		seen := map[string]bool{}
		for _, name := range used.FindAllString(string(raw), -1) {
			if name == "kubernaut_self" || seen[name] {
				continue // the label that marks Kubernaut's own alerts
			}
			seen[name] = true
			base := name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if trimmed, ok := strings.CutSuffix(name, suffix); ok && exported[trimmed] {
					base = trimmed
				}
			}
			assert.True(t, exported[base], "%s queries %s, which no service exports", file, name)
		}
		assert.NotEmpty(t, seen, file)
	}
}

// TestWritesOutsideKubernautAreJustified: a service may write Kubernaut's custom resources and
// token/access reviews (Leases and Events only through the namespaced leader-election Role); any
// other write must be a verb of the action catalog,
// held only by the executor (which performs the actions) and workflow (which server-side dry-runs
// them: the API server authorizes a dry-run like the real call). So processing, aianalysis and
// the rest only read the cluster, and nobody may change what the catalog does not name.
func TestWritesOutsideKubernautAreJustified(t *testing.T) {
	catalog := map[string]bool{} // group/resource/verb
	for _, a := range actions.All() {
		for _, v := range a.Verbs {
			for _, verb := range v.Verbs {
				catalog[v.Group+"/"+v.Resource+"/"+verb] = true
			}
		}
	}
	require.NotEmpty(t, catalog)
	writes := map[string]bool{"create": true, "update": true, "patch": true, "delete": true, "deletecollection": true, "escalate": true, "bind": true, "impersonate": true}
	always := map[string]bool{
		"authentication.k8s.io/tokenreviews": true, "authorization.k8s.io/subjectaccessreviews": true,
		"authentication.k8s.io/selfsubjectreviews": true, "authorization.k8s.io/selfsubjectaccessreviews": true,
		"authorization.k8s.io/selfsubjectrulesreviews": true}
	catalogWriters := map[string]bool{"executor": true, "workflow": true}
	for _, u := range render(t, "deploy/base").ofKind("ClusterRole") {
		role := convert[rbacv1.ClusterRole](t, u)
		svc := strings.TrimPrefix(role.Name, "kubernaut-")
		for _, r := range role.Rules {
			for _, g := range r.APIGroups {
				if strings.HasSuffix(g, ".kubernaut.io") {
					continue
				}
				for _, res := range r.Resources {
					if always[g+"/"+res] {
						continue
					}
					for _, verb := range r.Verbs {
						if !writes[verb] {
							continue
						}
						key := g + "/" + res + "/" + verb
						assert.True(t, catalogWriters[svc] && catalog[key], "%s may %s %s (group %q): only the executor and workflow (dry-run) may write outside Kubernaut, and only what an action of the catalog needs", role.Name, verb, res, g)
					}
				}
			}
		}
	}
}

// TestAlertRulesWithPromtool checks the PrometheusRules with Prometheus's own tool: they parse,
// and the unit tests of testdata/alerts_test.yaml (alerts that must fire, and must not, on given
// series) pass. The Alertmanager example is checked with amtool. Both tools come with Debian's
// prometheus and prometheus-alertmanager packages; without them the test says so and skips.
func TestAlertRulesWithPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not on PATH (apt-get install prometheus): alert rules not unit-tested")
	}
	u := render(t, "test/deploy/testdata/everything").named("PrometheusRule", "kubernaut")
	require.NotNil(t, u)
	groups, found, err := unstructured.NestedSlice(u.Object, "spec", "groups")
	require.True(t, found && err == nil, "spec.groups: %v", err)
	dir := t.TempDir()
	rules, err := yaml.Marshal(map[string]any{"groups": groups})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yaml"), rules, 0o644))
	tests, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "test", "deploy", "testdata", "alerts_test.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "alerts_test.yaml"), tests, 0o644))
	for _, args := range [][]string{{"check", "rules", "rules.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "promtool %s:\n%s", strings.Join(args, " "), out)
		t.Logf("checked: promtool %s", strings.Join(args, " "))
	}

	// The dashboard's queries parse as PromQL too (Grafana's interval variables replaced).
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "components", "monitoring", "grafana-dashboard.json"))
	require.NoError(t, err)
	var dashboard struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &dashboard))
	var records []map[string]string
	for _, p := range dashboard.Panels {
		for _, target := range p.Targets {
			expr := strings.NewReplacer("$__rate_interval", "5m", "$__range", "6h", "$__interval", "1m").Replace(target.Expr)
			records = append(records, map[string]string{"record": fmt.Sprintf("dashboard:query_%d", len(records)), "expr": expr})
		}
	}
	require.NotEmpty(t, records)
	queries, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": records}}})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dashboard.yaml"), queries, 0o644))
	cmd := exec.Command(promtool, "check", "rules", "dashboard.yaml")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "the dashboard's queries:\n%s", out)
	t.Logf("checked: the %d queries of the Grafana dashboard parse (promtool check rules)", len(records))

	if amtool, err := exec.LookPath("amtool"); err == nil {
		path := filepath.Join(testenv.RepoRoot(), "deploy", "examples", "alertmanager", "alertmanager.yaml")
		out, err := exec.Command(amtool, "check-config", path).CombinedOutput()
		assert.NoError(t, err, "amtool check-config:\n%s", out)
		t.Logf("checked: amtool check-config deploy/examples/alertmanager/alertmanager.yaml")
	}
}
