package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// GeneratedClusterRole reads the ClusterRole that `make manifests` generates from a service's
// RBAC markers (deploy/base/rbac/<service>/role.yaml).
func GeneratedClusterRole(t testing.TB, service string) *rbacv1.ClusterRole {
	t.Helper()
	path := filepath.Join(RepoRoot(), "deploy", "base", "rbac", service, "role.yaml")
	raw, err := os.ReadFile(path)
	require.NoError(t, err, "reading the generated RBAC of %s: run `make manifests`", service)
	dec := utilyaml.NewDocumentDecoder(io.NopCloser(bytes.NewReader(raw)))
	defer dec.Close()
	buf := make([]byte, len(raw)+1)
	for {
		n, err := dec.Read(buf)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "splitting %s", path)
		doc := buf[:n]
		var role rbacv1.ClusterRole
		require.NoError(t, yaml.Unmarshal(doc, &role), "decoding %s", path)
		if role.Kind == "ClusterRole" {
			return &role
		}
	}
	t.Fatalf("%s holds no ClusterRole", path)
	return nil
}

// AsService returns a rest.Config that acts as the ServiceAccount `kubernaut-<service>` in
// namespace ns, bound to the ClusterRole generated from the service's RBAC markers. A service
// started with it runs with exactly the permissions deploy/ gives it, so a missing RBAC marker
// fails the test with a Forbidden error instead of passing as cluster admin.
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
	roleName := fmt.Sprintf("kubernaut-%s-%s", service, ns)
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: roleName}, Rules: role.Rules}
	require.NoError(t, createOrReplace(ctx, e.Client, cr), "creating ClusterRole %s", roleName)
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: roleName},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: roleName},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa.Name, Namespace: ns}},
	}
	require.NoError(t, createOrReplace(ctx, e.Client, crb), "creating ClusterRoleBinding %s", roleName)
	t.Cleanup(func() {
		_ = e.Client.Delete(context.Background(), crb)
		_ = e.Client.Delete(context.Background(), cr)
	})
	cfg := rest.CopyConfig(e.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: fmt.Sprintf("system:serviceaccount:%s:%s", ns, sa.Name),
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
	}
	return cfg
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
