package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubernaut/kubernaut/internal/launcher"
)

// approverUser is the person who approves what waits for one: with datastorage down the
// investigator cannot read Kubernaut's recent changes to a target, so the shipped policy asks a
// person even in staging (docs/e2e.md, scenario 8).
const approverUser = "soak-sre"

// approver binds user to the shipped kubernaut-approver ClusterRole and returns a kubeconfig of
// that user (a client certificate of the local cluster).
func approver(ctx context.Context, sys *launcher.System, user string) (string, error) {
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "soak-kubernaut-approver-" + user},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "kubernaut-approver"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	if err := client.IgnoreAlreadyExists(sys.Cluster.Client.Create(ctx, crb)); err != nil {
		return "", fmt.Errorf("binding %s to kubernaut-approver: %w", user, err)
	}
	return sys.Cluster.AddUser(user)
}

// approve approves the request with the documented command (kubectl kubernaut approve, the
// plugin built beside the services), retrying while the API server is unavailable.
func (s *soak) approve(ctx context.Context, t *target, rr string) {
	plugin := filepath.Join(s.sys.BinDir, launcher.Plugin)
	var last string
	for attempt := 0; attempt < 20 && ctx.Err() == nil; attempt++ {
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		cmd := exec.CommandContext(actx, plugin, "approve", rr, "-n", launcher.SystemNamespace,
			"--reason", "soak: the incident is plain; datastorage is being restored")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+s.approverKubeconfig)
		out, err := cmd.CombinedOutput()
		cancel()
		if err == nil {
			s.mu.Lock()
			t.approved, t.approvalUser = true, approverUser
			s.mu.Unlock()
			return
		}
		last = fmt.Sprintf("%v: %s", err, strings.TrimSpace(string(out)))
		if strings.Contains(last, "already decided") {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
	s.mu.Lock()
	t.approveErr = last
	s.mu.Unlock()
}
