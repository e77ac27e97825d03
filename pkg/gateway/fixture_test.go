package gateway_test

import (
	"context"
	"fmt"
	"maps"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
)

// The objects below are created as their controllers would leave them (owner references with
// controller=true), without the controllers running: envtest has no controller manager.

// controlledBy returns a controller owner reference to owner.
func controlledBy(t testing.TB, owner client.Object) []metav1.OwnerReference {
	gvk, err := apiutil.GVKForObject(owner, env.Client.Scheme())
	require.NoError(t, err)
	yes := true
	return []metav1.OwnerReference{{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, Name: owner.GetName(), UID: owner.GetUID(), Controller: &yes}}
}

func create(t testing.TB, obj client.Object) {
	t.Helper()
	require.NoError(t, env.Client.Create(context.Background(), obj), "creating %T %s", obj, obj.GetName())
}

func podSpec(image string) corev1.PodSpec {
	return corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}, RestartPolicy: corev1.RestartPolicyAlways}
}

func template(app string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}}, Spec: podSpec("registry.example.com/" + app + ":1.4.2")}
}

func selector(app string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
}

// makeDeployment creates a Deployment (no ReplicaSet, no Pod).
func makeDeployment(t testing.TB, ns, name string) *appsv1.Deployment {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: appsv1.DeploymentSpec{Selector: selector(name), Template: template(name)}}
	create(t, d)
	return d
}

// makeReplicaSet creates the ReplicaSet of a Deployment as the Deployment controller does: named
// <deployment>-<hash>, with pod-template-hash=<hash> in its selector and pod template.
func makeReplicaSet(t testing.TB, d *appsv1.Deployment, hash string) *appsv1.ReplicaSet {
	tmpl := *d.Spec.Template.DeepCopy()
	tmpl.Labels["pod-template-hash"] = hash
	sel := d.Spec.Selector.DeepCopy()
	sel.MatchLabels["pod-template-hash"] = hash
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name + "-" + hash, Labels: tmpl.Labels, OwnerReferences: controlledBy(t, d)},
		Spec:       appsv1.ReplicaSetSpec{Selector: sel, Template: tmpl},
	}
	create(t, rs)
	return rs
}

// makePod creates a Pod controlled by owner (a bare Pod when owner is nil), with the labels of
// the owner's pod template when it is a ReplicaSet.
func makePod(t testing.TB, ns, name string, owner client.Object) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: podSpec("registry.example.com/app:1.4.2")}
	if owner != nil {
		p.OwnerReferences = controlledBy(t, owner)
	}
	if rs, ok := owner.(*appsv1.ReplicaSet); ok {
		p.Labels = maps.Clone(rs.Spec.Template.Labels)
	}
	create(t, p)
	return p
}

var nodeSeq atomic.Int32

// makeNode creates a Node with an InternalIP (unique in the test API server) and returns it.
func makeNode(t testing.TB, prefix string) (name, ip string) {
	n := nodeSeq.Add(1)
	name = fmt.Sprintf("%s-%d", prefix, n)
	ip = fmt.Sprintf("10.200.%d.%d", n/250, n%250+1)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}}}
	create(t, node)
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: name}, {Type: corev1.NodeInternalIP, Address: ip}}
	require.NoError(t, env.Client.Status().Update(context.Background(), node))
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), node) })
	return name, ip
}

// cluster is a small cluster of workloads in the state the kubernetes-mixin alerts describe.
type cluster struct {
	shop, monitoring       string // namespaces: the workloads, and the monitoring stack
	worker1, worker2       string // Nodes
	worker1IP, worker2IP   string
	checkoutPods           []string // Pods of Deployment checkout (through ReplicaSet checkout-7d4b9c8f5)
	postgresPod, fluentPod string   // of StatefulSet postgres, DaemonSet fluent-bit
	reportJob, reportPod   string   // Job of CronJob nightly-report, and its Pod
	migrateJob             string   // a Job of no CronJob
	debugPod               string   // a bare Pod
	workerPod              string   // Pod of a ReplicaSet that no Deployment controls
	nodeExporterPod        string   // Pod of DaemonSet node-exporter in monitoring
	ksmPod                 string   // Pod of Deployment kube-state-metrics in monitoring
	pv                     string   // a PersistentVolume
}

func newCluster(t testing.TB) *cluster {
	c := &cluster{shop: env.Namespace(t, map[string]string{"kubernaut.io/environment": "production"}), monitoring: env.Namespace(t, nil)}
	c.worker1, c.worker1IP = makeNode(t, "worker")
	c.worker2, c.worker2IP = makeNode(t, "worker")

	checkout := makeDeployment(t, c.shop, "checkout")
	rs := makeReplicaSet(t, checkout, "7d4b9c8f5")
	for _, suffix := range []string{"x2x9z", "k8m2p"} {
		c.checkoutPods = append(c.checkoutPods, makePod(t, c.shop, rs.Name+"-"+suffix, rs).Name)
	}
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: c.shop, Name: "postgres"}, Spec: appsv1.StatefulSetSpec{
		Selector: selector("postgres"), ServiceName: "postgres", Template: template("postgres")}}
	create(t, sts)
	c.postgresPod = makePod(t, c.shop, "postgres-0", sts).Name
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: c.shop, Name: "fluent-bit"}, Spec: appsv1.DaemonSetSpec{Selector: selector("fluent-bit"), Template: template("fluent-bit")}}
	create(t, ds)
	c.fluentPod = makePod(t, c.shop, "fluent-bit-7xk2p", ds).Name

	jobTemplate := func(app string) batchv1.JobSpec {
		tmpl := template(app)
		tmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
		return batchv1.JobSpec{Template: tmpl}
	}
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: c.shop, Name: "nightly-report"}, Spec: batchv1.CronJobSpec{
		Schedule: "0 2 * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: jobTemplate("nightly-report")}}}
	create(t, cj)
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: c.shop, Name: "nightly-report-29012345", OwnerReferences: controlledBy(t, cj)}, Spec: jobTemplate("nightly-report")}
	create(t, job)
	c.reportJob = job.Name
	c.reportPod = makePod(t, c.shop, job.Name+"-q8v7n", job).Name
	migrate := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: c.shop, Name: "migrate-schema"}, Spec: jobTemplate("migrate-schema")}
	create(t, migrate)
	c.migrateJob = migrate.Name
	makePod(t, c.shop, "migrate-schema-rt6ld", migrate)
	c.debugPod = makePod(t, c.shop, "debug-shell", nil).Name
	bareRS := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: c.shop, Name: "queue-worker"}, Spec: appsv1.ReplicaSetSpec{
		Selector: selector("queue-worker"), Template: template("queue-worker")}}
	create(t, bareRS)
	c.workerPod = makePod(t, c.shop, "queue-worker-9zq4t", bareRS).Name

	minReplicas := int32(2)
	create(t, &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: c.shop, Name: "checkout"}, Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
		ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "checkout"},
		MinReplicas:    &minReplicas, MaxReplicas: 6}})
	create(t, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: c.shop, Name: "data-postgres-0"}, Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}}}})
	minAvailable := intstr.FromInt32(1)
	create(t, &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: c.shop, Name: "checkout"}, Spec: policyv1.PodDisruptionBudgetSpec{
		Selector: selector("checkout"), MinAvailable: &minAvailable}})
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pvc-3f1c2a-" + c.shop}, Spec: corev1.PersistentVolumeSpec{
		Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/pv/" + c.shop}}}}
	create(t, pv)
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), pv) })
	c.pv = pv.Name

	ne := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: c.monitoring, Name: "node-exporter"}, Spec: appsv1.DaemonSetSpec{Selector: selector("node-exporter"), Template: template("node-exporter")}}
	create(t, ne)
	c.nodeExporterPod = makePod(t, c.monitoring, "node-exporter-b7w2k", ne).Name
	ksm := makeDeployment(t, c.monitoring, "kube-state-metrics")
	ksmRS := makeReplicaSet(t, ksm, "6c5b8d7f9")
	c.ksmPod = makePod(t, c.monitoring, ksmRS.Name+"-m4xqz", ksmRS).Name
	return c
}

func target(apiVersion, kind, ns, name string) common.TargetResource {
	return common.TargetResource{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name}
}
