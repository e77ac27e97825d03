package deploy

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubernaut/kubernaut/internal/testutil/localcluster"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

// TestKindOverlayRollsOut applies deploy/overlays/kind for real (`kubectl apply --server-side -k`)
// to a fresh local cluster (kube-apiserver, controller-manager, scheduler, kwok nodes; no
// container runtime, so kwok plays the kubelet and every scheduled pod becomes Running and
// Ready) and waits until every Deployment is Available, PostgreSQL's StatefulSet is ready with its
// volume bound, every PodDisruptionBudget is satisfied and every Service has endpoints. It proves
// what a dry-run cannot: the ReplicaSets' pods pass the namespace's "restricted" Pod Security
// admission, are scheduled with their requests, and the selectors of Services and budgets match
// the pods. That the processes inside start is what test/images checks.
func TestKindOverlayRollsOut(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("no kubectl on PATH: the real apply is not checked (TestAPIServerAcceptsTheManifests still dry-runs every object)")
	}
	cl := localcluster.StartT(t, localcluster.Options{Nodes: 2})
	ctx := context.Background()
	c := cl.Client

	// A volume for PostgreSQL's claim (the cluster has no provisioner; kind has one).
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "postgres-data"},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/kubernaut-postgres"}},
		},
	}
	require.NoError(t, c.Create(ctx, pv))

	out, err := exec.Command(kubectl, "--kubeconfig", cl.Kubeconfig, "apply", "--server-side", "-k",
		filepath.Join(testenv.RepoRoot(), "deploy", "overlays", "kind")).CombinedOutput()
	require.NoError(t, err, "kubectl apply:\n%s", out)

	ns := client.InNamespace(systemNamespace)
	assert.EventuallyWithT(t, func(ct *assert.CollectT) {
		var deps appsv1.DeploymentList
		if !assert.NoError(ct, c.List(ctx, &deps, ns)) {
			return
		}
		assert.Len(ct, deps.Items, len(services))
		for _, d := range deps.Items {
			assert.Equal(ct, *d.Spec.Replicas, d.Status.AvailableReplicas, "Deployment %s available replicas", d.Name)
		}
		var sts appsv1.StatefulSet
		if assert.NoError(ct, c.Get(ctx, client.ObjectKey{Namespace: systemNamespace, Name: "postgres"}, &sts)) {
			assert.Equal(ct, int32(1), sts.Status.ReadyReplicas, "PostgreSQL ready")
		}
		var pdbs policyv1.PodDisruptionBudgetList
		if assert.NoError(ct, c.List(ctx, &pdbs, ns)) {
			for _, p := range pdbs.Items {
				assert.GreaterOrEqual(ct, p.Status.CurrentHealthy, p.Status.DesiredHealthy, "PodDisruptionBudget %s", p.Name)
				assert.Positive(ct, p.Status.ExpectedPods, "PodDisruptionBudget %s selects pods", p.Name)
			}
		}
		var svcs corev1.ServiceList
		if assert.NoError(ct, c.List(ctx, &svcs, ns)) {
			for _, s := range svcs.Items {
				var slices discoveryv1.EndpointSliceList
				if !assert.NoError(ct, c.List(ctx, &slices, ns, client.MatchingLabels{discoveryv1.LabelServiceName: s.Name})) {
					continue
				}
				ready := 0
				for _, sl := range slices.Items {
					for _, ep := range sl.Endpoints {
						if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
							ready++
						}
					}
				}
				assert.Positive(ct, ready, "Service %s has ready endpoints", s.Name)
			}
		}
	}, 3*time.Minute, time.Second, "the kind overlay did not roll out; pods:\n%s", podSummary(ctx, c))

	// The admission that admitted those pods is live: a pod without the hardening is refused.
	bare := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: systemNamespace, Name: "not-hardened"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "kubernaut/gateway:dev"}}}}
	err = c.Create(ctx, bare)
	require.Error(t, err, "Pod Security admission must refuse a pod that is not restricted")
	assert.Contains(t, err.Error(), "violates PodSecurity")

	var events corev1.EventList
	require.NoError(t, c.List(ctx, &events, ns))
	for _, e := range events.Items {
		assert.NotEqual(t, "FailedCreate", e.Reason, "%s %s: %s", e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Message)
	}
	t.Logf("checked: kubectl apply --server-side -k deploy/overlays/kind on a fresh cluster: %d Deployments available, PostgreSQL ready with its volume, PodDisruptionBudgets satisfied, every Service has endpoints; pods admitted under Pod Security \"restricted\"", len(services))
}

func podSummary(ctx context.Context, c client.Client) string {
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(systemNamespace)); err != nil {
		return err.Error()
	}
	s := ""
	for _, p := range pods.Items {
		s += p.Name + " " + string(p.Status.Phase) + " " + p.Spec.NodeName + "\n"
	}
	var events corev1.EventList
	if err := c.List(ctx, &events, client.InNamespace(systemNamespace)); err == nil {
		for _, e := range events.Items {
			if e.Type == corev1.EventTypeWarning {
				s += "event: " + e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name + " " + e.Reason + ": " + e.Message + "\n"
			}
		}
	}
	return s
}
