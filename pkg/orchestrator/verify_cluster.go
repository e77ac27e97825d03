package orchestrator

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// The cluster is read on demand through the API reader, never through informers: a request in
// Verifying costs a few bounded reads per VerificationInterval and nothing once it is finished,
// so 10,000 requests keep the orchestrator's memory flat.
//
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets;replicasets,verbs=get;list
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list
// +kubebuilder:rbac:groups="",resources=nodes;persistentvolumeclaims,verbs=get
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get

// Bounds of the reads of one check.
const (
	maxPodsRead        = 200
	maxReplicaSetsRead = 50
	maxNodePodsRead    = 500
)

// Cluster check names.
const (
	checkRolloutComplete = "rollout-complete"
	checkPodsHealthy     = "pods-healthy"
	checkHPABelowMax     = "hpa-below-max"
	checkNodeCordoned    = "node-cordoned"
	checkNodeDrained     = "node-drained"
	checkNodeReady       = "node-ready"
	checkNodeTaint       = "node-taint"
	checkPVCCapacity     = "pvc-capacity"
	checkPodReplaced     = "pod-replaced"
	checkFailedPodsGone  = "failed-pods-gone"
)

// badWaiting are the container waiting reasons that mean the container cannot run.
var badWaiting = map[string]bool{
	"CrashLoopBackOff": true, "ImagePullBackOff": true, "ErrImagePull": true, "CreateContainerConfigError": true,
	"CreateContainerError": true, "InvalidImageName": true, "RunContainerError": true,
}

// clusterEvidence checks, for each operation that succeeded, that the cluster shows the effect
// the action is meant to have. When the execution ran several operations, check names carry the
// operation's name.
func (r *Reconciler) clusterEvidence(ctx context.Context, s *scope, over bool) []observation {
	ke := s.ke
	if ke == nil {
		return nil
	}
	change := s.rr.Status.Verification.ChangeTime.Time
	results := map[string]*kev1.OperationResult{}
	for i := range ke.Status.OperationResults {
		results[ke.Status.OperationResults[i].Name] = &ke.Status.OperationResults[i]
	}
	var obs []observation
	for _, op := range ke.Spec.Operations {
		res := results[op.Name]
		if res == nil || res.Phase != kev1.OperationSucceeded {
			continue
		}
		c := clusterCheck{r: r.APIReader, op: op, res: res, change: change, over: over}
		got := c.run(ctx)
		if len(ke.Spec.Operations) > 1 {
			for i := range got {
				got[i].name = op.Name + ":" + got[i].name
			}
		}
		obs = append(obs, got...)
	}
	return obs
}

// clusterCheck is the verification of one operation.
type clusterCheck struct {
	r      client.Reader
	op     common.Operation
	res    *kev1.OperationResult
	change time.Time
	over   bool
}

func (c *clusterCheck) run(ctx context.Context) []observation {
	t := c.op.Target
	switch actions.Name(c.op.Action) {
	case actions.IncreaseResources, actions.RollbackDeployment, actions.RolloutRestart, actions.ScaleDeployment, actions.ScaleStatefulSet:
		return c.workload(ctx, t)
	case actions.UpdateHPA:
		return []observation{c.hpa(ctx)}
	case actions.CordonNode, actions.DrainNode, actions.UncordonNode, actions.TaintNode, actions.UntaintNode:
		return c.node(ctx)
	case actions.ExpandPVC:
		return []observation{c.pvc(ctx)}
	case actions.RestartPod:
		return c.restartedPod(ctx)
	case actions.DeleteFailedPods:
		return []observation{c.failedPods(ctx)}
	}
	return nil // notify_only changes nothing; an action without a check adds no evidence
}

// readError turns a failed read into an Unknown check.
func readError(name, what string, err error) observation {
	if apierrors.IsNotFound(err) {
		return unknown(name, sourceCluster, "%s not found", what)
	}
	return unknown(name, sourceCluster, "could not read %s: %v", what, err)
}

func (c *clusterCheck) settling(name, format string, args ...any) observation {
	if c.over {
		return unknown(name, sourceCluster, format+" at the end of the window", args...)
	}
	return waiting(name, sourceCluster, format, args...)
}

// workload checks the rollout of a Deployment, StatefulSet or DaemonSet and the health of the
// pods of its current revision since the change.
func (c *clusterCheck) workload(ctx context.Context, t common.TargetResource) []observation {
	key := types.NamespacedName{Namespace: t.Namespace, Name: t.Name}
	what := targetString(t)
	var (
		rollout  observation
		selector *metav1.LabelSelector
		revision map[string]string // labels of the current revision's pods
		desired  int32
		err      error
	)
	switch t.Kind {
	case "Deployment":
		d := &appsv1.Deployment{}
		if err := c.r.Get(ctx, key, d); err != nil {
			return []observation{readError(checkRolloutComplete, what, err)}
		}
		desired, selector = replicas(d.Spec.Replicas), d.Spec.Selector
		rollout = c.deploymentRollout(d, desired)
		revision, err = c.newReplicaSet(ctx, d)
		if err != nil {
			return []observation{rollout, readError(checkPodsHealthy, "the ReplicaSets of "+what, err)}
		}
	case "StatefulSet":
		ss := &appsv1.StatefulSet{}
		if err := c.r.Get(ctx, key, ss); err != nil {
			return []observation{readError(checkRolloutComplete, what, err)}
		}
		desired, selector = replicas(ss.Spec.Replicas), ss.Spec.Selector
		st := ss.Status
		done := st.ObservedGeneration >= ss.Generation && st.UpdatedReplicas == desired && st.ReadyReplicas == desired &&
			st.AvailableReplicas == desired && (st.UpdateRevision == "" || st.CurrentRevision == st.UpdateRevision)
		rollout = c.rolloutObservation(done, fmt.Sprintf("%d/%d available, %d updated", st.AvailableReplicas, desired, st.UpdatedReplicas))
		if st.UpdateRevision != "" {
			revision = map[string]string{appsv1.ControllerRevisionHashLabelKey: st.UpdateRevision}
		}
	case "DaemonSet":
		ds := &appsv1.DaemonSet{}
		if err := c.r.Get(ctx, key, ds); err != nil {
			return []observation{readError(checkRolloutComplete, what, err)}
		}
		st := ds.Status
		desired, selector = st.DesiredNumberScheduled, ds.Spec.Selector
		done := st.ObservedGeneration >= ds.Generation && st.UpdatedNumberScheduled == desired && st.NumberAvailable == desired
		rollout = c.rolloutObservation(done, fmt.Sprintf("%d/%d available, %d updated", st.NumberAvailable, desired, st.UpdatedNumberScheduled))
	default:
		return nil
	}
	return []observation{rollout, c.pods(ctx, t.Namespace, selector, revision, desired, what)}
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func (c *clusterCheck) rolloutObservation(done bool, state string) observation {
	if done {
		return passed(checkRolloutComplete, sourceCluster, "rollout complete: %s", state)
	}
	return c.settling(checkRolloutComplete, "rollout not complete: %s", state)
}

func (c *clusterCheck) deploymentRollout(d *appsv1.Deployment, desired int32) observation {
	st := d.Status
	for _, cond := range st.Conditions {
		if cond.Type == appsv1.DeploymentProgressing && cond.Status == corev1.ConditionFalse && cond.Reason == "ProgressDeadlineExceeded" {
			return failed(checkRolloutComplete, sourceCluster, "rollout stalled (ProgressDeadlineExceeded): %d/%d available, %d updated", st.AvailableReplicas, desired, st.UpdatedReplicas)
		}
	}
	done := st.ObservedGeneration >= d.Generation && st.UpdatedReplicas == desired && st.Replicas == desired && st.AvailableReplicas == desired
	return c.rolloutObservation(done, fmt.Sprintf("%d/%d available, %d updated, %d in total", st.AvailableReplicas, desired, st.UpdatedReplicas, st.Replicas))
}

// newReplicaSet returns the pod-template-hash label of the Deployment's newest ReplicaSet (the
// highest revision it owns), or nil when it has none yet.
func (c *clusterCheck) newReplicaSet(ctx context.Context, d *appsv1.Deployment) (map[string]string, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, err
	}
	var list appsv1.ReplicaSetList
	if err := c.r.List(ctx, &list, client.InNamespace(d.Namespace), client.MatchingLabelsSelector{Selector: sel}, client.Limit(maxReplicaSetsRead)); err != nil {
		return nil, err
	}
	var best *appsv1.ReplicaSet
	bestRev := int64(-1)
	for i := range list.Items {
		rs := &list.Items[i]
		if owner := metav1.GetControllerOfNoCopy(rs); owner == nil || owner.UID != d.UID {
			continue
		}
		rev, _ := strconv.ParseInt(rs.Annotations["deployment.kubernetes.io/revision"], 10, 64)
		if rev > bestRev {
			best, bestRev = rs, rev
		}
	}
	if best == nil || best.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == "" {
		return nil, nil
	}
	return map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: best.Labels[appsv1.DefaultDeploymentUniqueLabelKey]}, nil
}

// pods checks the pods of the workload's current revision (all its pods when the revision is
// unknown): no container restarted, was OOMKilled or waits in CrashLoopBackOff (or another
// reason it cannot run for) since the change, and every pod runs and is ready.
func (c *clusterCheck) pods(ctx context.Context, namespace string, selector *metav1.LabelSelector, revision map[string]string, desired int32, what string) observation {
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return unknown(checkPodsHealthy, sourceCluster, "the selector of %s is invalid: %v", what, err)
	}
	if len(revision) > 0 {
		req := labels.SelectorFromSet(revision)
		reqs, _ := req.Requirements()
		sel = sel.Add(reqs...)
	}
	var list corev1.PodList
	if err := c.r.List(ctx, &list, client.InNamespace(namespace), client.MatchingLabelsSelector{Selector: sel}, client.Limit(maxPodsRead)); err != nil {
		return readError(checkPodsHealthy, "the pods of "+what, err)
	}
	return c.podHealth(list.Items, desired, what, list.Continue != "")
}

// podHealth judges pods: any problem since the change fails; all running and ready passes.
func (c *clusterCheck) podHealth(pods []corev1.Pod, desired int32, what string, more bool) observation {
	var problems []string
	ready := 0
	for i := range pods {
		p := &pods[i]
		if !p.DeletionTimestamp.IsZero() {
			continue
		}
		if p.Status.Phase == corev1.PodFailed && !p.CreationTimestamp.Time.Before(c.change) {
			problems = append(problems, fmt.Sprintf("pod %s failed (%s)", p.Name, orNone(p.Status.Reason)))
			continue
		}
		for _, cs := range append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			if problem := c.containerProblem(p, cs); problem != "" {
				problems = append(problems, problem)
			}
		}
		if p.Status.Phase == corev1.PodRunning && podReady(p) {
			ready++
		}
	}
	scope := "the pods of the current revision of " + what
	if more {
		scope = fmt.Sprintf("the first %d pods of the current revision of %s", len(pods), what)
	}
	switch {
	case len(problems) > 0:
		if len(problems) > 3 {
			problems = append(problems[:3], fmt.Sprintf("%d more", len(problems)-3))
		}
		return failed(checkPodsHealthy, sourceCluster, "since the change, %s: %s", scope, strings.Join(problems, "; "))
	case ready >= int(desired) && ready > 0:
		return passed(checkPodsHealthy, sourceCluster, "%d pod(s) of the current revision of %s running and ready, none restarted since the change", ready, what)
	case desired == 0 && len(pods) == 0:
		return passed(checkPodsHealthy, sourceCluster, "%s is scaled to zero and has no pods left", what)
	}
	return c.settling(checkPodsHealthy, "%d of %d pod(s) of the current revision of %s running and ready", ready, desired, what)
}

// containerProblem names what went wrong with a container since the change, or "".
func (c *clusterCheck) containerProblem(p *corev1.Pod, cs corev1.ContainerStatus) string {
	since := func(t metav1.Time) bool { return !t.Time.Before(c.change) }
	if w := cs.State.Waiting; w != nil && badWaiting[w.Reason] {
		return fmt.Sprintf("container %s of pod %s is waiting in %s", cs.Name, p.Name, w.Reason)
	}
	if t := cs.State.Terminated; t != nil && t.Reason == "OOMKilled" && since(t.FinishedAt) {
		return fmt.Sprintf("container %s of pod %s was OOMKilled at %s", cs.Name, p.Name, t.FinishedAt.UTC().Format(time.RFC3339))
	}
	if t := cs.LastTerminationState.Terminated; t != nil && since(t.FinishedAt) {
		return fmt.Sprintf("container %s of pod %s restarted at %s (%s, exit %d; %d restart(s))", cs.Name, p.Name,
			t.FinishedAt.UTC().Format(time.RFC3339), orNone(t.Reason), t.ExitCode, cs.RestartCount)
	}
	if cs.RestartCount > 0 && since(p.CreationTimestamp) {
		return fmt.Sprintf("container %s of pod %s, created after the change, restarted %d time(s)", cs.Name, p.Name, cs.RestartCount)
	}
	return ""
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// hpa checks that the HorizontalPodAutoscaler is no longer pinned at its maximum.
func (c *clusterCheck) hpa(ctx context.Context) observation {
	t := c.op.Target
	what := targetString(t)
	h := &autoscalingv2.HorizontalPodAutoscaler{}
	if err := c.r.Get(ctx, types.NamespacedName{Namespace: t.Namespace, Name: t.Name}, h); err != nil {
		return readError(checkHPABelowMax, what, err)
	}
	cur, maxR := h.Status.CurrentReplicas, h.Spec.MaxReplicas
	if cur < maxR {
		return passed(checkHPABelowMax, sourceCluster, "%s runs %d of at most %d replicas (desired %d)", what, cur, maxR, h.Status.DesiredReplicas)
	}
	if c.over {
		return failed(checkHPABelowMax, sourceCluster, "%s is still at its maximum of %d replicas at the end of the window", what, maxR)
	}
	return waiting(checkHPABelowMax, sourceCluster, "%s is at its maximum of %d replicas", what, maxR)
}

// node checks that a node action had its intended effect.
func (c *clusterCheck) node(ctx context.Context) []observation {
	t := c.op.Target
	what := "Node " + t.Name
	n := &corev1.Node{}
	if err := c.r.Get(ctx, types.NamespacedName{Name: t.Name}, n); err != nil {
		name := checkNodeCordoned
		if actions.Name(c.op.Action) == actions.UncordonNode {
			name = checkNodeReady
		}
		return []observation{readError(name, what, err)}
	}
	switch actions.Name(c.op.Action) {
	case actions.CordonNode:
		return []observation{c.cordoned(n, what)}
	case actions.DrainNode:
		return []observation{c.cordoned(n, what), c.drained(ctx, n, what)}
	case actions.UncordonNode:
		if n.Spec.Unschedulable {
			return []observation{unknown(checkNodeReady, sourceCluster, "%s is unschedulable again", what)}
		}
		switch nodeReady(n) {
		case corev1.ConditionTrue:
			return []observation{passed(checkNodeReady, sourceCluster, "%s is schedulable and Ready", what)}
		case corev1.ConditionFalse:
			return []observation{failed(checkNodeReady, sourceCluster, "%s is schedulable but not Ready", what)}
		}
		return []observation{c.settling(checkNodeReady, "%s reports no Ready status", what)}
	default: // taint_node, untaint_node
		key, effect := c.op.Parameters["key"], c.op.Parameters["effect"]
		has := false
		for _, taint := range n.Spec.Taints {
			if taint.Key == key && (effect == "" || string(taint.Effect) == effect) {
				has = true
			}
		}
		want := actions.Name(c.op.Action) == actions.TaintNode
		if has == want {
			state := "carries"
			if !want {
				state = "no longer carries"
			}
			return []observation{passed(checkNodeTaint, sourceCluster, "%s %s the taint %s", what, state, key)}
		}
		return []observation{unknown(checkNodeTaint, sourceCluster, "the taint %s of %s was changed back", key, what)}
	}
}

func nodeReady(n *corev1.Node) corev1.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status
		}
	}
	return corev1.ConditionUnknown
}

func (c *clusterCheck) cordoned(n *corev1.Node, what string) observation {
	if n.Spec.Unschedulable {
		return passed(checkNodeCordoned, sourceCluster, "%s is cordoned (unschedulable), as intended", what)
	}
	return unknown(checkNodeCordoned, sourceCluster, "%s is schedulable again (uncordoned since the change)", what)
}

// drained checks that only DaemonSet, mirror and finished pods are left on the node.
func (c *clusterCheck) drained(ctx context.Context, n *corev1.Node, what string) observation {
	var list corev1.PodList
	if err := c.r.List(ctx, &list, client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("spec.nodeName", n.Name)}, client.Limit(maxNodePodsRead)); err != nil {
		return readError(checkNodeDrained, "the pods of "+what, err)
	}
	var left []string
	for i := range list.Items {
		p := &list.Items[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed || !p.DeletionTimestamp.IsZero() {
			continue
		}
		if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
			continue
		}
		if owner := metav1.GetControllerOfNoCopy(p); owner != nil && owner.Kind == "DaemonSet" {
			continue
		}
		left = append(left, p.Namespace+"/"+p.Name)
	}
	if len(left) == 0 {
		return passed(checkNodeDrained, sourceCluster, "%s runs no pods but DaemonSet and mirror pods", what)
	}
	if len(left) > 3 {
		left = append(left[:3], fmt.Sprintf("%d more", len(left)-3))
	}
	if c.over {
		return failed(checkNodeDrained, sourceCluster, "%s still runs pods at the end of the window: %s", what, strings.Join(left, ", "))
	}
	return waiting(checkNodeDrained, sourceCluster, "%s still runs pods: %s", what, strings.Join(left, ", "))
}

// pvc checks that the claim's capacity grew to the requested size.
func (c *clusterCheck) pvc(ctx context.Context) observation {
	t := c.op.Target
	what := targetString(t)
	pvc := &corev1.PersistentVolumeClaim{}
	if err := c.r.Get(ctx, types.NamespacedName{Namespace: t.Namespace, Name: t.Name}, pvc); err != nil {
		return readError(checkPVCCapacity, what, err)
	}
	want, err := resource.ParseQuantity(c.op.Parameters["size"])
	if err != nil {
		return unknown(checkPVCCapacity, sourceCluster, "the requested size %q cannot be read: %v", c.op.Parameters["size"], err)
	}
	got, ok := pvc.Status.Capacity[corev1.ResourceStorage]
	if ok && got.Cmp(want) >= 0 {
		return passed(checkPVCCapacity, sourceCluster, "%s has a capacity of %s (requested %s)", what, got.String(), want.String())
	}
	state := "no capacity reported"
	if ok {
		state = "capacity " + got.String()
	}
	for _, cond := range pvc.Status.Conditions {
		if cond.Status == corev1.ConditionTrue {
			state += ", " + string(cond.Type)
		}
	}
	if c.over {
		return failed(checkPVCCapacity, sourceCluster, "%s did not grow to %s by the end of the window: %s", what, want.String(), state)
	}
	return waiting(checkPVCCapacity, sourceCluster, "%s is growing to %s: %s", what, want.String(), state)
}

// restartedPod checks that the deleted pod is gone and, when its controller is known (the
// result's cooldownKey), that the controller's pods are healthy since the change.
func (c *clusterCheck) restartedPod(ctx context.Context) []observation {
	t := c.op.Target
	what := targetString(t)
	uid := c.res.TargetUID
	if uid == "" {
		uid = c.op.TargetUID
	}
	var obs []observation
	p := &corev1.Pod{}
	err := c.r.Get(ctx, types.NamespacedName{Namespace: t.Namespace, Name: t.Name}, p)
	switch {
	case apierrors.IsNotFound(err) || (err == nil && uid != "" && string(p.UID) != uid):
		obs = append(obs, passed(checkPodReplaced, sourceCluster, "the deleted pod %s is gone", what))
	case err != nil:
		obs = append(obs, readError(checkPodReplaced, what, err))
	case uid == "":
		obs = append(obs, unknown(checkPodReplaced, sourceCluster, "%s exists and the deleted pod's UID is not recorded", what))
	case c.over:
		obs = append(obs, failed(checkPodReplaced, sourceCluster, "the deleted pod %s still exists at the end of the window", what))
	default:
		obs = append(obs, waiting(checkPodReplaced, sourceCluster, "the deleted pod %s is still terminating", what))
	}
	kind, rest, _ := strings.Cut(c.res.CooldownKey, "/")
	ns, name, ok := strings.Cut(rest, "/")
	if ok && (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet") {
		for _, o := range c.workload(ctx, common.TargetResource{APIVersion: "apps/v1", Kind: kind, Namespace: ns, Name: name}) {
			if o.name == checkPodsHealthy {
				obs = append(obs, o)
			}
		}
	}
	return obs
}

// failedPods checks that the failed pods are gone and none failed again since the change.
func (c *clusterCheck) failedPods(ctx context.Context) observation {
	t := c.op.Target
	what := targetString(t)
	ns := t.Namespace
	sel := labels.Everything()
	if t.Kind == "Namespace" {
		ns = t.Name
	}
	if t.Kind == "Deployment" {
		d := &appsv1.Deployment{}
		if err := c.r.Get(ctx, types.NamespacedName{Namespace: t.Namespace, Name: t.Name}, d); err != nil {
			return readError(checkFailedPodsGone, what, err)
		}
		s, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil {
			return unknown(checkFailedPodsGone, sourceCluster, "the selector of %s is invalid: %v", what, err)
		}
		sel = s
	}
	if ls := c.op.Parameters["labelSelector"]; ls != "" {
		extra, err := labels.Parse(ls)
		if err != nil {
			return unknown(checkFailedPodsGone, sourceCluster, "the label selector %q is invalid: %v", ls, err)
		}
		reqs, _ := extra.Requirements()
		sel = sel.Add(reqs...)
	}
	var list corev1.PodList
	if err := c.r.List(ctx, &list, client.InNamespace(ns), client.MatchingLabelsSelector{Selector: sel},
		client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("status.phase", string(corev1.PodFailed))}, client.Limit(maxPodsRead)); err != nil {
		return readError(checkFailedPodsGone, "the failed pods of "+what, err)
	}
	var again, old []string
	for i := range list.Items {
		p := &list.Items[i]
		if !p.CreationTimestamp.Time.Before(c.change) {
			again = append(again, p.Name)
		} else {
			old = append(old, p.Name)
		}
	}
	switch {
	case len(again) > 0:
		return failed(checkFailedPodsGone, sourceCluster, "%d pod(s) of %s failed again since the change (%s)", len(again), what, strings.Join(again[:min(len(again), 3)], ", "))
	case len(old) > 0:
		return unknown(checkFailedPodsGone, sourceCluster, "%d failed pod(s) of %s from before the change are left", len(old), what)
	}
	return passed(checkFailedPodsGone, sourceCluster, "no failed pods left in %s", what)
}
