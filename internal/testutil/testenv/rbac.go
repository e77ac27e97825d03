package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// LeaderElectionRole is the namespaced Role of deploy/base/leader-election.yaml that grants the
// controllers their Leases (and leader events) in the system namespace only; no ClusterRole in
// deploy/ grants Leases.
const LeaderElectionRole = "kubernaut-leader-election"

// DeployFile is the path of a file under deploy/ (for example "base/leader-election.yaml").
func DeployFile(rel string) string {
	return filepath.Join(RepoRoot(), "deploy", filepath.FromSlash(rel))
}

// decodeAll decodes every object of kind in the YAML documents of path into T.
func decodeAll[T any](t testing.TB, path, kind string) []*T {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err, "reading %s", path)
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var out []*T
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err, "decoding %s", path)
		if u.GetKind() != kind {
			continue
		}
		obj := new(T)
		require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj), "decoding %s %s of %s", kind, u.GetName(), path)
		out = append(out, obj)
	}
}

// ClusterRolesIn reads the ClusterRoles of a YAML file (for example deploy/base/rbac/approver.yaml).
func ClusterRolesIn(t testing.TB, path string) []*rbacv1.ClusterRole {
	t.Helper()
	return decodeAll[rbacv1.ClusterRole](t, path, "ClusterRole")
}

// GeneratedClusterRole reads the ClusterRole that `make manifests` generates from a service's
// RBAC markers (deploy/base/rbac/<service>/role.yaml).
func GeneratedClusterRole(t testing.TB, service string) *rbacv1.ClusterRole {
	t.Helper()
	path := DeployFile("base/rbac/" + service + "/role.yaml")
	if _, err := os.Stat(path); err != nil {
		require.NoError(t, err, "reading the generated RBAC of %s: run `make manifests`", service)
	}
	roles := ClusterRolesIn(t, path)
	require.NotEmpty(t, roles, "%s holds no ClusterRole", path)
	return roles[0]
}

// LeaderElectionRules reads the rules of the Role kubernaut-leader-election from
// deploy/base/leader-election.yaml.
func LeaderElectionRules(t testing.TB) []rbacv1.PolicyRule {
	t.Helper()
	path := DeployFile("base/leader-election.yaml")
	for _, r := range decodeAll[rbacv1.Role](t, path, "Role") {
		if r.Name == LeaderElectionRole {
			return r.Rules
		}
	}
	t.Fatalf("%s holds no Role %s", path, LeaderElectionRole)
	return nil
}

// ElectsLeader reports whether deploy/ binds the leader-election Role to the service's
// ServiceAccount (a RoleBinding in deploy/base/services/<service>.yaml).
func ElectsLeader(t testing.TB, service string) bool {
	t.Helper()
	for _, b := range decodeAll[rbacv1.RoleBinding](t, DeployFile("base/services/"+service+".yaml"), "RoleBinding") {
		if b.RoleRef.Kind != "Role" || b.RoleRef.Name != LeaderElectionRole {
			continue
		}
		for _, s := range b.Subjects {
			if s.Kind == rbacv1.ServiceAccountKind && s.Name == "kubernaut-"+service {
				return true
			}
		}
	}
	return false
}

// AsService returns a rest.Config that acts as the ServiceAccount `kubernaut-<service>` in
// namespace ns, bound to the ClusterRole generated from the service's RBAC markers and, when
// deploy/ binds it to the service (the controllers), to the Role kubernaut-leader-election of
// deploy/base/leader-election.yaml in ns (ns stands for the system namespace, the service's
// --namespace, where it holds its Lease). A service started with it runs with exactly the
// permissions deploy/ gives it, so a missing RBAC marker fails the test with a Forbidden error
// instead of passing as cluster admin.
//
// The ClusterRole is created under a per-namespace name, so tests of several services (or
// several versions of one) in one API server never share or overwrite a role.
func (e *Env) AsService(t testing.TB, service, ns string) *rest.Config {
	t.Helper()
	ctx := context.Background()
	role := GeneratedClusterRole(t, service)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "kubernaut-" + service, Namespace: ns}}
	if err := e.Client.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err, "creating ServiceAccount %s/%s", ns, sa.Name)
	}
	subjects := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa.Name, Namespace: ns}}
	roleName := fmt.Sprintf("kubernaut-%s-%s", service, ns)
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: roleName}, Rules: role.Rules}
	require.NoError(t, createOrReplace(ctx, e.Client, cr), "creating ClusterRole %s", roleName)
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: roleName},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: roleName},
		Subjects:   subjects,
	}
	require.NoError(t, createOrReplace(ctx, e.Client, crb), "creating ClusterRoleBinding %s", roleName)
	t.Cleanup(func() {
		_ = e.Client.Delete(context.Background(), crb)
		_ = e.Client.Delete(context.Background(), cr)
	})
	if ElectsLeader(t, service) {
		// One Role per namespace, shared by its services and left there; the binding goes.
		le := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: LeaderElectionRole, Namespace: ns}, Rules: LeaderElectionRules(t)}
		if err := e.Client.Create(ctx, le); err != nil && !apierrors.IsAlreadyExists(err) {
			require.NoError(t, err, "creating Role %s/%s", ns, le.Name)
		}
		rb := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: sa.Name + "-leader-election", Namespace: ns},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: LeaderElectionRole},
			Subjects:   subjects,
		}
		require.NoError(t, createOrReplace(ctx, e.Client, rb), "creating RoleBinding %s/%s", ns, rb.Name)
		t.Cleanup(func() { _ = e.Client.Delete(context.Background(), rb) })
	}
	cfg := rest.CopyConfig(e.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: fmt.Sprintf("system:serviceaccount:%s:%s", ns, sa.Name),
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
	}
	// The API server's authorizer sees new bindings through its own watch, a moment after they
	// are created: wait until it grants what they grant, so that a first request never races it.
	var grants []authorizationv1.ResourceAttributes
	if r := firstGrant(role.Rules); r != nil {
		grants = append(grants, *r)
	}
	if ElectsLeader(t, service) {
		grants = append(grants, authorizationv1.ResourceAttributes{Namespace: ns, Verb: "create", Group: "coordination.k8s.io", Resource: "leases"})
	}
	for _, g := range grants {
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User: cfg.Impersonate.UserName, Groups: cfg.Impersonate.Groups, ResourceAttributes: &g}}
			if assert.NoError(c, e.Client.Create(ctx, sar)) {
				assert.True(c, sar.Status.Allowed, "%s may not %s %s/%s yet", cfg.Impersonate.UserName, g.Verb, g.Group, g.Resource)
			}
		}, 30*time.Second, 20*time.Millisecond, "the bindings of %s take effect", sa.Name)
	}
	return cfg
}

// firstGrant is a request the first resource rule of rules allows, nil when they have none.
func firstGrant(rules []rbacv1.PolicyRule) *authorizationv1.ResourceAttributes {
	for _, r := range rules {
		if len(r.Verbs) == 0 || len(r.Resources) == 0 || len(r.APIGroups) == 0 {
			continue
		}
		resource, sub, _ := strings.Cut(r.Resources[0], "/")
		a := &authorizationv1.ResourceAttributes{Verb: r.Verbs[0], Group: r.APIGroups[0], Resource: resource, Subresource: sub}
		if len(r.ResourceNames) > 0 {
			a.Name = r.ResourceNames[0]
		}
		return a
	}
	return nil
}

func createOrReplace(ctx context.Context, c client.Client, obj client.Object) error {
	err := c.Create(ctx, obj)
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	existing := obj.DeepCopyObject().(client.Object)
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), existing); err != nil {
		return err
	}
	obj.SetResourceVersion(existing.GetResourceVersion())
	return c.Update(ctx, obj)
}
