package actions

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
)

// EvictOptions say which pods of a node are evicted (a drain, a NoExecute taint) and how they
// are checked.
type EvictOptions struct {
	// What names the change in refusals ("draining node n1", "a NoExecute taint k:NoExecute").
	What string
	// IgnoreDaemonSets leaves DaemonSet pods in place (a drain); otherwise a DaemonSet pod that
	// would be evicted is refused.
	IgnoreDaemonSets bool
	// DeleteEmptyDirData allows evicting pods with emptyDir data.
	DeleteEmptyDirData bool
	// Tolerated, when set, leaves in place the pods it returns true for (a NoExecute taint's
	// tolerations).
	Tolerated func(*corev1.Pod) bool
}

// DrainEvictOptions are the options of drain_node on node with the step's parameters (catalog
// defaults filled in).
func DrainEvictOptions(node string, params map[string]string) EvictOptions {
	return EvictOptions{What: "draining node " + node, IgnoreDaemonSets: params["ignoreDaemonSets"] != "false",
		DeleteEmptyDirData: params["deleteEmptyDirData"] == "true"}
}

// NoExecuteEvictOptions are the options of a NoExecute taint: the pods that do not tolerate it
// are evicted, and a DaemonSet pod among them is refused.
func NoExecuteEvictOptions(taint corev1.Taint) EvictOptions {
	return EvictOptions{What: "a NoExecute taint " + taint.Key + ":" + string(taint.Effect), Tolerated: func(p *corev1.Pod) bool {
		return Tolerates(p, &taint)
	}}
}

// Tolerates reports whether the pod tolerates the taint.
func Tolerates(p *corev1.Pod, taint *corev1.Taint) bool {
	for i := range p.Spec.Tolerations {
		if p.Spec.Tolerations[i].ToleratesTaint(logr.Discard(), taint, false) {
			return true
		}
	}
	return false
}

// Evictions is what evicting the pods of a node would do: the one selection both the workflow's
// validation (the dry-run shown for approval) and the executor (the evictions made) use.
type Evictions struct {
	// Node is the node's name.
	Node string
	// What names the change (EvictOptions.What).
	What string
	// Pods are the pods that would be evicted: every pod of the node but mirror pods, pods
	// being deleted, pods that tolerate the taint and DaemonSet pods left in place. Pods that
	// have ended (Succeeded, Failed) are evicted too, as `kubectl drain` deletes them.
	Pods []corev1.Pod
	// DaemonSetsKept are the DaemonSet pods left in place (IgnoreDaemonSets), namespace/name.
	DaemonSetsKept []string
	// Protected, Unmanaged, DaemonSets and EmptyDir name (namespace/name) the pods that forbid
	// the eviction: labelled kubernaut.io/protected=true, running without a controller (eviction
	// would lose them), DaemonSet pods not left in place, pods with emptyDir data (unless
	// DeleteEmptyDirData). Protected and unmanaged pods are also in Pods.
	Protected, Unmanaged, DaemonSets, EmptyDir []string
	// taint: the eviction is a NoExecute taint's (DaemonSet pods are then beyond the blast
	// radius rather than a parameter's choice).
	taint bool
}

// NodePods lists the pods bound to node, live.
func NodePods(ctx context.Context, r client.Reader, node string) ([]corev1.Pod, error) {
	list := &corev1.PodList{}
	if err := r.List(ctx, list, client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("spec.nodeName", node)}); err != nil {
		return nil, fmt.Errorf("listing the pods of node %s: %w", node, err)
	}
	return list.Items, nil
}

// ListEvictions reads the pods of node live and selects them (SelectEvictions).
func ListEvictions(ctx context.Context, r client.Reader, node string, o EvictOptions) (*Evictions, error) {
	pods, err := NodePods(ctx, r, node)
	if err != nil {
		return nil, err
	}
	return SelectEvictions(node, pods, o), nil
}

// SelectEvictions selects, among the pods of node, the ones that would be evicted, and notes
// the ones that forbid the eviction, as `kubectl drain` does.
func SelectEvictions(node string, pods []corev1.Pod, o EvictOptions) *Evictions {
	e := &Evictions{Node: node, What: o.What, taint: o.Tolerated != nil}
	for _, p := range pods {
		id := p.Namespace + "/" + p.Name
		if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror || p.DeletionTimestamp != nil {
			continue
		}
		if o.Tolerated != nil && o.Tolerated(&p) {
			continue
		}
		if p.Labels[kev1.LabelProtected] == "true" {
			e.Protected = append(e.Protected, id)
		}
		owner := metav1.GetControllerOf(&p)
		switch {
		case owner != nil && owner.Kind == "DaemonSet":
			if o.IgnoreDaemonSets {
				e.DaemonSetsKept = append(e.DaemonSetsKept, id)
			} else {
				e.DaemonSets = append(e.DaemonSets, id)
			}
			continue
		case owner == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed:
			e.Unmanaged = append(e.Unmanaged, id)
		}
		for _, v := range p.Spec.Volumes {
			if v.EmptyDir != nil && !o.DeleteEmptyDirData {
				e.EmptyDir = append(e.EmptyDir, id)
				break
			}
		}
		e.Pods = append(e.Pods, p)
	}
	return e
}

// Refusal is a change an action will not make; nothing was changed.
type Refusal struct {
	// Reason is one of the kev1.Reason* constants.
	Reason string
	// Message explains it.
	Message string
}

func (r *Refusal) Error() string { return r.Message }

// Refuse returns a *Refusal.
func Refuse(reason, format string, args ...any) *Refusal {
	return &Refusal{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Refusal says why the eviction must not be made (the first of: protected pods, pods without
// a controller, DaemonSet pods, emptyDir data, more than maxPods pods when maxPods > 0), or nil.
func (e *Evictions) Refusal(maxPods int) *Refusal {
	switch {
	case len(e.Protected) > 0:
		return Refuse(kev1.ReasonProtected, "%s would evict pods labelled %s=true: %s", e.What, kev1.LabelProtected, strings.Join(e.Protected, ", "))
	case len(e.Unmanaged) > 0:
		return Refuse(kev1.ReasonBlastRadius, "%s would evict pods without a controller, which eviction would lose: %s", e.What, strings.Join(e.Unmanaged, ", "))
	case len(e.DaemonSets) > 0 && e.taint:
		return Refuse(kev1.ReasonBlastRadius, "%s would evict DaemonSet pods, which a drain leaves in place: %s", e.What, strings.Join(e.DaemonSets, ", "))
	case len(e.DaemonSets) > 0:
		return Refuse(kev1.ReasonInvalidParameters, "node %s runs DaemonSet pods and ignoreDaemonSets is false: %s", e.Node, strings.Join(e.DaemonSets, ", "))
	case len(e.EmptyDir) > 0:
		return Refuse(kev1.ReasonBlastRadius, "%s would delete the emptyDir data of pods (deleteEmptyDirData is false): %s", e.What, strings.Join(e.EmptyDir, ", "))
	case maxPods > 0 && len(e.Pods) > maxPods:
		return Refuse(kev1.ReasonBlastRadius, "%s would evict %d pods, above the limit of %d", e.What, len(e.Pods), maxPods)
	}
	return nil
}

// FailedPods selects the pods delete_failed_pods deletes in target (a Namespace, or a Deployment
// by its selector), narrowed by the labelSelector parameter: pods in phase Failed, not being
// deleted and not labelled kubernaut.io/protected=true, at most maxPods (default 20), in the
// order the API server lists them. The one selection both the workflow's validation and the
// executor use. A selector that does not parse is a *Refusal (InvalidParameters).
func FailedPods(ctx context.Context, r client.Reader, target client.Object, params map[string]string) ([]corev1.Pod, error) {
	ns := target.GetNamespace()
	selector := labels.Everything()
	switch t := target.(type) {
	case *corev1.Namespace:
		ns = t.Name
	case *appsv1.Deployment:
		s, err := metav1.LabelSelectorAsSelector(t.Spec.Selector)
		if err != nil {
			return nil, Refuse(kev1.ReasonInvalidParameters, "Deployment %s/%s has an invalid selector: %v", t.Namespace, t.Name, err)
		}
		selector = s
	}
	if v := params["labelSelector"]; v != "" {
		s, err := labels.Parse(v)
		if err != nil {
			return nil, Refuse(kev1.ReasonInvalidParameters, "labelSelector: %v", err)
		}
		reqs, _ := s.Requirements()
		selector = selector.Add(reqs...)
	}
	maxPods, _ := strconv.Atoi(params["maxPods"])
	if maxPods <= 0 {
		maxPods = 20
	}
	pods := &corev1.PodList{}
	if err := r.List(ctx, pods, client.InNamespace(ns), client.MatchingLabelsSelector{Selector: selector}); err != nil {
		return nil, fmt.Errorf("listing the pods of %s: %w", ns, err)
	}
	var failed []corev1.Pod
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodFailed && p.DeletionTimestamp == nil && p.Labels[kev1.LabelProtected] != "true" && len(failed) < maxPods {
			failed = append(failed, p)
		}
	}
	return failed, nil
}
