// Package mutate computes what each mutating catalog action makes of its live target: given the
// object as read from the API server and the step's parameters (with catalog defaults filled in),
// it changes the object in place into the desired object. It never talks to the API server.
//
// Two services send the result, and they must send the same thing: the workflow service as a
// server-side dry-run (dryRun=All) whose diff it shows for approval and audit, and the executor
// for real. Both therefore call the same function here on a copy of the live object and send
// Patch(live) — a JSON merge patch from the live object to the desired one, carrying the live
// resourceVersion so that a concurrent change makes the call fail instead of being overwritten:
//
//	desired := live.DeepCopyObject().(client.Object)
//	if err := mutate.Apply(actions.IncreaseResources, desired, params, mutate.Inputs{}); err != nil { … }
//	err := c.Patch(ctx, desired, mutate.Patch(live), client.DryRunAll) // the executor omits DryRunAll
//
// Scale actions act on the /scale subresource (an *autoscalingv1.Scale read with
// c.SubResource("scale").Get and sent with SubResource("scale").Patch); drain_node's mutation is
// the cordon it starts with.
//
// Errors that say the action does not fit the target (a container that does not exist, no
// revision to roll back to, a taint that is not there) wrap the sentinel errors below, so that a
// caller can report them as such rather than as a failure of its own.
package mutate

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// The ways an action can fail to fit its target.
var (
	// ErrUnsupportedTarget: the object is not of a kind the action mutates.
	ErrUnsupportedTarget = errors.New("unsupported target")
	// ErrNotMutating: the action changes no object (restart_pod, delete_failed_pods, notify_only).
	ErrNotMutating = errors.New("action does not change its target")
	// ErrInvalidParameters: a parameter Apply needs is missing or unreadable (the catalog's
	// validation was skipped).
	ErrInvalidParameters = errors.New("invalid parameters")
	// ErrContainerNotFound: the named container is not in the Pod template.
	ErrContainerNotFound = errors.New("container not found")
	// ErrNoPreviousRevision: the Deployment has no earlier revision to roll back to.
	ErrNoPreviousRevision = errors.New("no previous revision")
	// ErrRevisionNotFound: the requested revision is not among the Deployment's ReplicaSets, or
	// is the current one.
	ErrRevisionNotFound = errors.New("revision not found")
	// ErrTaintNotFound: the Node has no taint to remove.
	ErrTaintNotFound = errors.New("taint not found")
	// ErrInvalidBounds: the HPA's resulting minReplicas would exceed maxReplicas.
	ErrInvalidBounds = errors.New("invalid replica bounds")
	// ErrNotAnIncrease: the PVC's requested size is not larger than its current size.
	ErrNotAnIncrease = errors.New("not an increase")
	// ErrNoCurrentValue: a container has neither a request nor a limit of the resource a
	// factor (memoryFactor, cpuFactor) would multiply.
	ErrNoCurrentValue = errors.New("no current value to multiply")
)

// RevisionAnnotation is the annotation the Deployment controller writes on a Deployment and on
// its ReplicaSets with the revision number of their Pod template.
const RevisionAnnotation = "deployment.kubernetes.io/revision"

// RestartedAtAnnotation is the Pod template annotation a rolling restart sets (as `kubectl rollout
// restart` does).
const RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"

// Inputs are what some actions need beyond the target and the parameters.
type Inputs struct {
	// ReplicaSets of the target's namespace (rollback_deployment); only those the Deployment
	// controls are considered.
	ReplicaSets []appsv1.ReplicaSet
	// Now stamps a rolling restart (rollout_restart); zero means time.Now().
	Now time.Time
}

// Patch returns the patch that turns live into the object a mutation produced from a copy of
// it: a JSON merge patch carrying live's resourceVersion (optimistic lock).
func Patch(live client.Object) client.Patch {
	return client.MergeFromWithOptions(live, client.MergeFromWithOptimisticLock{})
}

// Mutates reports whether the action changes its target object through Apply.
func Mutates(action actions.Name) bool {
	switch action {
	case actions.IncreaseResources, actions.RolloutRestart, actions.ScaleDeployment, actions.ScaleStatefulSet,
		actions.RollbackDeployment, actions.CordonNode, actions.UncordonNode, actions.DrainNode,
		actions.TaintNode, actions.UntaintNode, actions.UpdateHPA, actions.ExpandPVC:
		return true
	}
	return false
}

// Apply changes obj, a copy of the live target, into what the action makes of it. params are the
// step's parameters with catalog defaults filled in. For scale_deployment and scale_statefulset
// obj is the target's *autoscalingv1.Scale.
func Apply(action actions.Name, obj client.Object, params map[string]string, in Inputs) error {
	switch action {
	case actions.IncreaseResources, actions.RolloutRestart:
		tpl, err := PodTemplate(obj)
		if err != nil {
			return err
		}
		if action == actions.RolloutRestart {
			RolloutRestart(tpl, in.Now)
			return nil
		}
		return IncreaseResources(tpl, params)
	case actions.ScaleDeployment, actions.ScaleStatefulSet:
		s, ok := obj.(*autoscalingv1.Scale)
		if !ok {
			return fmt.Errorf("%w: %s acts on the /scale subresource, got %T", ErrUnsupportedTarget, action, obj)
		}
		return ScaleReplicas(s, params)
	case actions.RollbackDeployment:
		d, ok := obj.(*appsv1.Deployment)
		if !ok {
			return fmt.Errorf("%w: %s acts on a Deployment, got %T", ErrUnsupportedTarget, action, obj)
		}
		_, err := RollbackTemplate(d, in.ReplicaSets, params)
		return err
	case actions.CordonNode, actions.UncordonNode, actions.DrainNode, actions.TaintNode, actions.UntaintNode:
		n, ok := obj.(*corev1.Node)
		if !ok {
			return fmt.Errorf("%w: %s acts on a Node, got %T", ErrUnsupportedTarget, action, obj)
		}
		switch action {
		case actions.CordonNode, actions.DrainNode:
			Cordon(n)
		case actions.UncordonNode:
			Uncordon(n)
		case actions.TaintNode:
			return Taint(n, params)
		case actions.UntaintNode:
			return Untaint(n, params)
		}
		return nil
	case actions.UpdateHPA:
		h, ok := obj.(*autoscalingv2.HorizontalPodAutoscaler)
		if !ok {
			return fmt.Errorf("%w: %s acts on an autoscaling/v2 HorizontalPodAutoscaler, got %T", ErrUnsupportedTarget, action, obj)
		}
		return UpdateHPA(h, params)
	case actions.ExpandPVC:
		p, ok := obj.(*corev1.PersistentVolumeClaim)
		if !ok {
			return fmt.Errorf("%w: %s acts on a PersistentVolumeClaim, got %T", ErrUnsupportedTarget, action, obj)
		}
		return ExpandPVC(p, params)
	}
	return fmt.Errorf("%w: %s", ErrNotMutating, action)
}

// PodTemplate returns the Pod template of a Deployment, StatefulSet or DaemonSet.
func PodTemplate(obj client.Object) (*corev1.PodTemplateSpec, error) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template, nil
	case *appsv1.StatefulSet:
		return &o.Spec.Template, nil
	case *appsv1.DaemonSet:
		return &o.Spec.Template, nil
	}
	return nil, fmt.Errorf("%w: %T has no Pod template", ErrUnsupportedTarget, obj)
}

// IncreaseResources applies increase_resources to a Pod template, on the named container or,
// without container, on every container.
//
// memory and cpu set the requests, memoryLimit and cpuLimit the limits. When a new request
// exceeds a limit that is not being set, the limit is raised to the request (a request above its
// limit is invalid). A limit set below an existing request is left for the API server to refuse.
//
// memoryFactor and cpuFactor multiply the container's current request and limit of the resource
// (see Multiply: memory rounded up to a whole Mi, CPU to a whole millicore); whichever of the two
// the container lacks stays unset. A container with neither is an ErrNoCurrentValue, naming
// every such container. A factor with an absolute value of the same resource is an
// ErrInvalidParameters (the catalog refuses it first).
func IncreaseResources(tpl *corev1.PodTemplateSpec, params map[string]string) error {
	type change struct {
		param string
		name  corev1.ResourceName
		limit bool
	}
	changes := []change{
		{"memory", corev1.ResourceMemory, false}, {"cpu", corev1.ResourceCPU, false},
		{"memoryLimit", corev1.ResourceMemory, true}, {"cpuLimit", corev1.ResourceCPU, true},
	}
	quantities := make(map[string]resource.Quantity, len(changes))
	for _, c := range changes {
		v, ok := params[c.param]
		if !ok || v == "" {
			continue
		}
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalidParameters, c.param, err)
		}
		quantities[c.param] = q
	}
	type factor struct {
		param, absolute string
		name            corev1.ResourceName
		f               *big.Rat
	}
	var factors []factor
	for _, f := range []factor{{param: "memoryFactor", absolute: "memory", name: corev1.ResourceMemory}, {param: "cpuFactor", absolute: "cpu", name: corev1.ResourceCPU}} {
		v := params[f.param]
		if v == "" {
			continue
		}
		r, err := actions.ParseFactor(v)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalidParameters, f.param, err)
		}
		if r.Sign() <= 0 {
			return fmt.Errorf("%w: %s: must be greater than zero, got %q", ErrInvalidParameters, f.param, v)
		}
		for _, abs := range []string{f.absolute, f.absolute + "Limit"} {
			if _, ok := quantities[abs]; ok {
				return fmt.Errorf("%w: %s and %s both given", ErrInvalidParameters, f.param, abs)
			}
		}
		f.f = r
		factors = append(factors, f)
	}
	if len(quantities) == 0 && len(factors) == 0 {
		return fmt.Errorf("%w: none of memory, cpu, memoryLimit, cpuLimit, memoryFactor, cpuFactor given", ErrInvalidParameters)
	}
	containers := tpl.Spec.Containers
	var indexes []int
	if name := params["container"]; name != "" {
		i := slices.IndexFunc(containers, func(c corev1.Container) bool { return c.Name == name })
		if i < 0 {
			names := make([]string, len(containers))
			for j, c := range containers {
				names[j] = c.Name
			}
			return fmt.Errorf("%w: %q (the Pod template has %v)", ErrContainerNotFound, name, names)
		}
		indexes = []int{i}
	} else {
		for i := range containers {
			indexes = append(indexes, i)
		}
	}
	for _, f := range factors {
		var lacking []string
		for _, i := range indexes {
			r := containers[i].Resources
			_, hasRequest := r.Requests[f.name]
			_, hasLimit := r.Limits[f.name]
			if !hasRequest && !hasLimit {
				lacking = append(lacking, containers[i].Name)
			}
		}
		if len(lacking) > 0 {
			which := "container " + lacking[0] + " has"
			if len(lacking) > 1 {
				which = "containers " + strings.Join(lacking, ", ") + " have"
			}
			return fmt.Errorf("%w: %s multiplies the current %s request and limit, and %s neither; "+
				"name a container that has one, or give %s instead", ErrNoCurrentValue, f.param, f.name, which, f.absolute)
		}
	}
	for _, i := range indexes {
		r := &containers[i].Resources
		for _, f := range factors {
			if q, ok := r.Requests[f.name]; ok {
				r.Requests[f.name] = Multiply(q, f.name, f.f)
			}
			if q, ok := r.Limits[f.name]; ok {
				r.Limits[f.name] = Multiply(q, f.name, f.f)
			}
		}
		for _, c := range changes {
			q, ok := quantities[c.param]
			if !ok {
				continue
			}
			if c.limit {
				r.Limits = set(r.Limits, c.name, q)
				continue
			}
			r.Requests = set(r.Requests, c.name, q)
			limitParam := c.param + "Limit"
			if _, explicit := quantities[limitParam]; explicit {
				continue
			}
			if l, ok := r.Limits[c.name]; ok && l.Cmp(q) < 0 {
				r.Limits[c.name] = q.DeepCopy()
			}
		}
	}
	return nil
}

// mebibyte is the unit memory is rounded up to by Multiply.
const mebibyte = 1 << 20

// Multiply returns q times f, rounded up: memory to a whole Mi (written in binary units, e.g.
// "192Mi" or "1Gi"), any other resource (CPU) to a whole thousandth (e.g. "150m" or "2"). A
// result beyond what a quantity holds is capped at the largest one, which every configured
// maximum refuses. The executor bounds a change by Multiply of the current amount and its
// maximum factor, so that a factor step rounds the same way on both sides.
func Multiply(q resource.Quantity, name corev1.ResourceName, f *big.Rat) resource.Quantity {
	var v, unit int64
	if name == corev1.ResourceMemory {
		v, unit = q.Value(), mebibyte // Value rounds a fraction of a byte up
	} else {
		v, unit = q.MilliValue(), 1
	}
	// ceil(v·num / (den·unit)) · unit
	num := new(big.Int).Mul(big.NewInt(v), f.Num())
	den := new(big.Int).Mul(f.Denom(), big.NewInt(unit))
	n, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if rem.Sign() > 0 {
		n.Add(n, big.NewInt(1))
	}
	n.Mul(n, big.NewInt(unit))
	out := int64(math.MaxInt64)
	if n.IsInt64() {
		out = n.Int64()
	}
	if name == corev1.ResourceMemory {
		return *resource.NewQuantity(out, resource.BinarySI)
	}
	return *resource.NewMilliQuantity(out, resource.DecimalSI)
}

func set(l corev1.ResourceList, name corev1.ResourceName, q resource.Quantity) corev1.ResourceList {
	if l == nil {
		l = corev1.ResourceList{}
	}
	l[name] = q.DeepCopy()
	return l
}

// RolloutRestart stamps the Pod template with the restart time, which rolls out new Pods.
func RolloutRestart(tpl *corev1.PodTemplateSpec, now time.Time) {
	if now.IsZero() {
		now = time.Now()
	}
	if tpl.Annotations == nil {
		tpl.Annotations = map[string]string{}
	}
	tpl.Annotations[RestartedAtAnnotation] = now.UTC().Format(time.RFC3339)
}

// ScaleReplicas sets the desired replicas of a /scale subresource from the replicas parameter.
func ScaleReplicas(s *autoscalingv1.Scale, params map[string]string) error {
	n, err := intParam(params, "replicas", true)
	if err != nil {
		return err
	}
	s.Spec.Replicas = int32(n)
	return nil
}

// RollbackTemplate puts the Pod template of an earlier revision back into the Deployment, as
// `kubectl rollout undo` does, and returns that revision. The revision parameter picks it;
// without it, the highest revision below the current one. Only ReplicaSets the Deployment
// controls count.
func RollbackTemplate(d *appsv1.Deployment, replicaSets []appsv1.ReplicaSet, params map[string]string) (int64, error) {
	want, err := intParam(params, "revision", false)
	if err != nil {
		return 0, err
	}
	current, _ := strconv.ParseInt(d.Annotations[RevisionAnnotation], 10, 64)
	owned := Revisions(d, replicaSets)
	var pick *appsv1.ReplicaSet
	var picked int64
	for _, rev := range slices.Backward(sortedKeys(owned)) {
		switch {
		case want > 0 && rev == want:
			pick, picked = owned[rev], rev
		case want == 0 && current > 0 && rev < current:
			pick, picked = owned[rev], rev
		case want == 0 && current == 0 && rev < maxKey(owned):
			// Without a known current revision the highest is taken to be current.
			pick, picked = owned[rev], rev
		default:
			continue
		}
		break
	}
	switch {
	case pick == nil && want > 0:
		return 0, fmt.Errorf("%w: revision %d of Deployment %s/%s (revisions kept: %v)", ErrRevisionNotFound, want, d.Namespace, d.Name, sortedKeys(owned))
	case pick == nil:
		return 0, fmt.Errorf("%w: Deployment %s/%s is at revision %d and keeps no earlier one", ErrNoPreviousRevision, d.Namespace, d.Name, current)
	case picked == current:
		return 0, fmt.Errorf("%w: revision %d is the current revision of Deployment %s/%s", ErrRevisionNotFound, picked, d.Namespace, d.Name)
	}
	tpl := pick.Spec.Template.DeepCopy()
	delete(tpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	d.Spec.Template = *tpl
	return picked, nil
}

// Revisions returns the ReplicaSets the Deployment controls, by the revision annotated on them.
func Revisions(d *appsv1.Deployment, replicaSets []appsv1.ReplicaSet) map[int64]*appsv1.ReplicaSet {
	out := map[int64]*appsv1.ReplicaSet{}
	for i := range replicaSets {
		rs := &replicaSets[i]
		ref := metav1.GetControllerOf(rs)
		if ref == nil || ref.UID != d.UID || rs.Namespace != d.Namespace {
			continue
		}
		rev, err := strconv.ParseInt(rs.Annotations[RevisionAnnotation], 10, 64)
		if err != nil || rev <= 0 {
			continue
		}
		out[rev] = rs
	}
	return out
}

func sortedKeys(m map[int64]*appsv1.ReplicaSet) []int64 {
	return slices.Sorted(maps.Keys(m))
}

func maxKey(m map[int64]*appsv1.ReplicaSet) int64 {
	var hi int64
	for k := range m {
		hi = max(hi, k)
	}
	return hi
}

// Cordon marks the Node unschedulable (cordon_node, and the first step of drain_node).
func Cordon(n *corev1.Node) { n.Spec.Unschedulable = true }

// Uncordon marks the Node schedulable.
func Uncordon(n *corev1.Node) { n.Spec.Unschedulable = false }

// Taint adds the taint key=value:effect to the Node, replacing the value of a taint with the
// same key and effect.
func Taint(n *corev1.Node, params map[string]string) error {
	key, effect := params["key"], corev1.TaintEffect(params["effect"])
	if key == "" || effect == "" {
		return fmt.Errorf("%w: key and effect are required", ErrInvalidParameters)
	}
	t := corev1.Taint{Key: key, Value: params["value"], Effect: effect}
	for i := range n.Spec.Taints {
		if n.Spec.Taints[i].Key == key && n.Spec.Taints[i].Effect == effect {
			n.Spec.Taints[i] = t
			return nil
		}
	}
	n.Spec.Taints = append(n.Spec.Taints, t)
	return nil
}

// Untaint removes the taints with the key (and the effect, when given) from the Node.
func Untaint(n *corev1.Node, params map[string]string) error {
	key, effect := params["key"], corev1.TaintEffect(params["effect"])
	if key == "" {
		return fmt.Errorf("%w: key is required", ErrInvalidParameters)
	}
	kept := n.Spec.Taints[:0:0]
	for _, t := range n.Spec.Taints {
		if t.Key == key && (effect == "" || t.Effect == effect) {
			continue
		}
		kept = append(kept, t)
	}
	if len(kept) == len(n.Spec.Taints) {
		what := key
		if effect != "" {
			what += ":" + string(effect)
		}
		return fmt.Errorf("%w: Node %s has no taint %s", ErrTaintNotFound, n.Name, what)
	}
	n.Spec.Taints = kept
	return nil
}

// UpdateHPA sets minReplicas and/or maxReplicas of the HorizontalPodAutoscaler.
func UpdateHPA(h *autoscalingv2.HorizontalPodAutoscaler, params map[string]string) error {
	lo, err := intParam(params, "minReplicas", false)
	if err != nil {
		return err
	}
	hi, err := intParam(params, "maxReplicas", false)
	if err != nil {
		return err
	}
	if lo == 0 && hi == 0 {
		return fmt.Errorf("%w: none of minReplicas, maxReplicas given", ErrInvalidParameters)
	}
	if lo > 0 {
		v := int32(lo)
		h.Spec.MinReplicas = &v
	}
	if hi > 0 {
		h.Spec.MaxReplicas = int32(hi)
	}
	if h.Spec.MinReplicas != nil && *h.Spec.MinReplicas > h.Spec.MaxReplicas {
		return fmt.Errorf("%w: HorizontalPodAutoscaler %s/%s would have minReplicas %d above maxReplicas %d",
			ErrInvalidBounds, h.Namespace, h.Name, *h.Spec.MinReplicas, h.Spec.MaxReplicas)
	}
	return nil
}

// ExpandPVC sets the claim's storage request to the size parameter, which must be larger than
// the current request.
func ExpandPVC(p *corev1.PersistentVolumeClaim, params map[string]string) error {
	q, err := resource.ParseQuantity(params["size"])
	if err != nil {
		return fmt.Errorf("%w: size: %w", ErrInvalidParameters, err)
	}
	if cur, ok := p.Spec.Resources.Requests[corev1.ResourceStorage]; ok && q.Cmp(cur) <= 0 {
		return fmt.Errorf("%w: PersistentVolumeClaim %s/%s requests %s, asked for %s", ErrNotAnIncrease, p.Namespace, p.Name, cur.String(), q.String())
	}
	p.Spec.Resources.Requests = set(p.Spec.Resources.Requests, corev1.ResourceStorage, q)
	return nil
}

// intParam reads an integer parameter; absent optional parameters read as 0.
func intParam(params map[string]string, name string, required bool) (int64, error) {
	v, ok := params[name]
	if !ok || v == "" {
		if required {
			return 0, fmt.Errorf("%w: %s is required", ErrInvalidParameters, name)
		}
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrInvalidParameters, name, err)
	}
	return n, nil
}
