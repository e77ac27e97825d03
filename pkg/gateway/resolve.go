package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// Reasons a signal's target could not be resolved: the values of the reason label of
// kubernaut_gateway_signals_unresolved_total.
const (
	// UnresolvedNoTargetLabel: no label of the table is on the alert.
	UnresolvedNoTargetLabel = "no_target_label"
	// UnresolvedMissingNamespace: a label names a namespaced kind, the alert has no namespace label.
	UnresolvedMissingNamespace = "missing_namespace"
	// UnresolvedInvalidName: the label's value cannot be an object's name.
	UnresolvedInvalidName = "invalid_name"
	// UnresolvedNotFound: the named object (or a controller on its way up) does not exist.
	UnresolvedNotFound = "not_found"
	// UnresolvedUnreadable: the gateway may not read the kind, or the API server does not serve it.
	UnresolvedUnreadable = "unreadable"
	// UnresolvedUnactionableKind: the target exists, and no Kubernaut action targets its kind.
	UnresolvedUnactionableKind = "unactionable_kind"
	// UnresolvedOtherNamespace: the object named is in another namespace than the signal's.
	UnresolvedOtherNamespace = "other_namespace"
)

// UnresolvedReasons lists every reason, for metrics and docs.
var UnresolvedReasons = []string{
	UnresolvedNoTargetLabel, UnresolvedMissingNamespace, UnresolvedInvalidName, UnresolvedNotFound,
	UnresolvedUnreadable, UnresolvedUnactionableKind, UnresolvedOtherNamespace,
}

// PseudoTargetKind is the kind of the target given to a signal that names no object Kubernaut
// can act on: Alert/<namespace>/<alertname>-<hash of its labels>.
const PseudoTargetKind = "Alert"

// SourceInvolvedObject is spec.targetResolution.source of Kubernetes events.
const SourceInvolvedObject = "involvedObject"

// Resolution is how a signal's labels (or event) became its target.
type Resolution struct {
	// Target is spec.targetResource: the workload to fix, the unactionable object itself, or a
	// pseudo-target of kind Alert when nothing real was found.
	Target common.TargetResource
	// Source is the label (or "mapping:<name>", or "involvedObject") that named the object.
	Source string
	// Named is the object the label named, before controllers were followed.
	Named *common.TargetResource
	// Reason is one of the Unresolved* values, empty when resolved.
	Reason string
	// Message says in a sentence why it was not resolved.
	Message string
}

// Resolved says whether the target is an object Kubernaut can act on.
func (r *Resolution) Resolved() bool { return r.Reason == "" }

// api returns spec.targetResolution.
func (r *Resolution) api() *remediationv1.TargetResolution {
	out := &remediationv1.TargetResolution{Source: r.Source, UnresolvedReason: text.Truncate(r.Message, 1024)}
	if r.Named != nil {
		n := *r.Named
		out.NamedTarget = &n
	}
	return out
}

// resolver turns labels into targets with the resolution table, a bounded metadata cache
// for existence and controllers, the node index, and the Namespaces in the manager's cache.
type resolver struct {
	rules           []rule
	meta            *metaCache
	nodes           *nodeIndex
	namespaceExists func(ctx context.Context, name string) (bool, error)
}

// actionableKinds are the kinds some catalog action targets (notify_only, which takes any
// kind, does not count: it changes nothing).
var actionableKinds = func() []actions.TargetKind {
	var out []actions.TargetKind
	for _, a := range actions.All() {
		for _, k := range a.TargetKinds {
			if k.Kind != actions.Wildcard {
				out = append(out, k)
			}
		}
	}
	return out
}()

func actionable(t common.TargetResource) bool {
	for _, k := range actionableKinds {
		if k.Matches(t.APIVersion, t.Kind) {
			return true
		}
	}
	return false
}

// fromLabels resolves an alert's target. The error is set only when the API server could not
// answer (the signal is then answered 503 and retried); anything about the labels or the
// objects is an unresolved Resolution.
func (r *resolver) fromLabels(ctx context.Context, alertname string, labels map[string]string) (Resolution, error) {
	ns := strings.TrimSpace(labels["namespace"])
	if exported := strings.TrimSpace(labels["exported_namespace"]); exported != "" && exported != ns {
		return r.unresolved(alertname, labels, Resolution{Source: "exported_namespace", Reason: UnresolvedOtherNamespace,
			Message: fmt.Sprintf("its namespace label %q is the scrape target's and its exported_namespace label names %q "+
				"(scrape the exporter with honor_labels: true); Kubernaut does not act in another namespace than the alert's", ns, exported)}), nil
	}
	for i := range r.rules {
		rl := &r.rules[i]
		value := strings.TrimSpace(labels[rl.label])
		if value == "" || !rl.applies(alertname, labels) {
			continue
		}
		if _, shadowed := labels["exported_"+rl.label]; shadowed {
			continue // the label is the scrape target's own; the exporter's value was renamed
		}
		named := common.TargetResource{APIVersion: rl.apiVersion, Kind: rl.kind, Name: value}
		res := Resolution{Source: rl.source, Named: &named}
		if rl.nodeAddress {
			name, ok := r.nodes.byAddress(value)
			if !ok {
				if rl.optional {
					continue
				}
				res.Reason, res.Message = UnresolvedNotFound, fmt.Sprintf("label %s=%q names no Node (neither a Node's name nor one of its InternalIPs)", rl.label, value)
				return r.unresolved(alertname, labels, res), nil
			}
			named.Name = name
		}
		if rl.namespaced {
			if ns == "" {
				res.Reason, res.Message = UnresolvedMissingNamespace, fmt.Sprintf("label %s names a %s, but the alert has no namespace label", rl.label, rl.kind)
				return r.unresolved(alertname, labels, res), nil
			}
			named.Namespace = ns
		}
		if rl.kind == "Namespace" && ns != "" && named.Name != ns {
			res.Reason, res.Message = UnresolvedOtherNamespace, fmt.Sprintf("label %s names Namespace %s, not the alert's namespace %s", rl.label, named.Name, ns)
			return r.unresolved(alertname, labels, res), nil
		}
		return r.follow(ctx, alertname, labels, res)
	}
	return r.unresolved(alertname, labels, Resolution{Reason: UnresolvedNoTargetLabel,
		Message: "no label of the alert names a Kubernetes object (docs/gateway.md lists the labels the gateway reads, and how to map others)"}), nil
}

// fromObject resolves the object a Kubernetes event is about; eventNamespace is the event's own.
func (r *resolver) fromObject(ctx context.Context, name string, labels map[string]string, named common.TargetResource, eventNamespace string) (Resolution, error) {
	res := Resolution{Source: SourceInvolvedObject, Named: &named}
	if eventNamespace != "" && named.Namespace != "" && named.Namespace != eventNamespace {
		res.Reason, res.Message = UnresolvedOtherNamespace, fmt.Sprintf("the event in namespace %s is about %s %s, in another namespace", eventNamespace, named.Kind, describe(named.Namespace, named.Name))
		return r.unresolved(name, labels, res), nil
	}
	return r.follow(ctx, name, labels, res)
}

// follow checks that the named object exists and follows controller owner references to the
// workload a person would fix: Pod → ReplicaSet → Deployment, Pod → StatefulSet or DaemonSet,
// Pod → Job → CronJob. Pods, ReplicaSets and Jobs are read (metadata, through the cache); the
// workload at the top is known from its owner reference and not read, and a Deployment's
// ReplicaSet is not read either when the Pod's pod-template-hash label shows the Deployment
// controller's naming (deploymentOfPod). A controller of another kind (an operator's custom
// resource, an Argo Rollout) becomes the target as it is.
func (r *resolver) follow(ctx context.Context, name string, labels map[string]string, res Resolution) (Resolution, error) {
	named := *res.Named
	if msg := invalidName(named); msg != "" {
		res.Reason, res.Message = UnresolvedInvalidName, fmt.Sprintf("%s names %s", sourceText(res.Source), msg)
		return r.unresolved(name, labels, res), nil
	}
	t, child := named, (*common.TargetResource)(nil)
	for range 4 {
		m, err := r.lookup(ctx, t)
		if err != nil {
			var unreadable *errUnreadable
			if !errors.As(err, &unreadable) {
				return Resolution{}, err
			}
			res.Reason, res.Message = UnresolvedUnreadable, fmt.Sprintf("the gateway cannot read %s %s (%v)", t.Kind, describe(t.Namespace, t.Name), unreadable.err)
			return r.unresolved(name, labels, res), nil
		}
		if !m.exists {
			res.Reason = UnresolvedNotFound
			if child == nil {
				res.Message = fmt.Sprintf("%s names %s %s, which does not exist", sourceText(res.Source), t.Kind, describe(t.Namespace, t.Name))
			} else {
				res.Message = fmt.Sprintf("%s %s, the controller of %s %s, does not exist", t.Kind, describe(t.Namespace, t.Name), child.Kind, describe(child.Namespace, child.Name))
			}
			return r.unresolved(name, labels, res), nil
		}
		if d, ok := deploymentOfPod(t, m); ok {
			t = d // the Deployment controller's naming: its ReplicaSet need not be read
			break
		}
		next, followed, ok := controllerOf(t, m.controller)
		if !ok {
			break
		}
		prev := t
		child, t = &prev, next
		if !followed {
			break // a controller of a kind the gateway does not read: it is the target
		}
		if _, walks := followedControllers[groupKind(t.APIVersion, t.Kind)]; !walks {
			// A Deployment, StatefulSet, DaemonSet or CronJob: the owner reference names it,
			// and the garbage collector removes references to deleted owners, so it is not read.
			break
		}
	}
	res.Target = t
	if !actionable(t) {
		res.Reason = UnresolvedUnactionableKind
		res.Message = fmt.Sprintf("%s names %s %s", sourceText(res.Source), named.Kind, describe(named.Namespace, named.Name))
		if t != named {
			res.Message += fmt.Sprintf(", controlled by %s %s", t.Kind, describe(t.Namespace, t.Name))
		}
		res.Message += fmt.Sprintf(", and no Kubernaut action targets a %s (%s)", t.Kind, t.APIVersion)
	}
	return res, nil
}

// lookup reads whether t exists, and its controller.
func (r *resolver) lookup(ctx context.Context, t common.TargetResource) (objMeta, error) {
	switch {
	case t.APIVersion == "v1" && t.Kind == "Node":
		return objMeta{exists: r.nodes.byName(t.Name)}, nil
	case t.APIVersion == "v1" && t.Kind == "Namespace":
		ok, err := r.namespaceExists(ctx, t.Name)
		return objMeta{exists: ok}, err
	}
	return r.meta.get(ctx, objKey{apiVersion: t.APIVersion, kind: t.Kind, namespace: t.Namespace, name: t.Name})
}

// deploymentOfPod returns the Deployment of a Pod whose controller is a ReplicaSet named
// "<deployment>-<hash>" while the Pod carries pod-template-hash=<hash>: the Deployment
// controller names its ReplicaSets so and labels their Pods so (Argo Rollouts and others use
// other labels), and that ReplicaSet is then not read.
func deploymentOfPod(t common.TargetResource, m objMeta) (common.TargetResource, bool) {
	ref := m.controller
	if t.Kind != "Pod" || t.APIVersion != "v1" || ref == nil || m.templateHash == "" ||
		groupKind(ref.apiVersion, ref.kind) != (schema.GroupKind{Group: "apps", Kind: "ReplicaSet"}) {
		return common.TargetResource{}, false
	}
	name, ok := strings.CutSuffix(ref.name, "-"+m.templateHash)
	if !ok || name == "" {
		return common.TargetResource{}, false
	}
	return common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: t.Namespace, Name: name}, true
}

// followedControllers lists, per kind, the controllers the gateway reads and follows further.
var followedControllers = map[schema.GroupKind]map[schema.GroupKind]bool{
	{Kind: "Pod"}: {
		{Group: "apps", Kind: "ReplicaSet"}: true, {Group: "apps", Kind: "StatefulSet"}: true,
		{Group: "apps", Kind: "DaemonSet"}: true, {Group: "batch", Kind: "Job"}: true,
	},
	{Group: "apps", Kind: "ReplicaSet"}: {{Group: "apps", Kind: "Deployment"}: true},
	{Group: "batch", Kind: "Job"}:       {{Group: "batch", Kind: "CronJob"}: true},
}

// controllerOf returns the controller of t that becomes the target (ok), and whether it is of a
// kind the gateway reads and follows further. Only Pods, ReplicaSets and Jobs are followed up.
func controllerOf(t common.TargetResource, ref *ownerRef) (next common.TargetResource, followed, ok bool) {
	if ref == nil || ref.name == "" || ref.kind == "" {
		return next, false, false
	}
	kinds, walks := followedControllers[groupKind(t.APIVersion, t.Kind)]
	if !walks {
		return next, false, false
	}
	next = common.TargetResource{APIVersion: ref.apiVersion, Kind: ref.kind, Namespace: t.Namespace, Name: ref.name}
	return next, kinds[groupKind(ref.apiVersion, ref.kind)], true
}

func groupKind(apiVersion, kind string) schema.GroupKind {
	gv, _ := schema.ParseGroupVersion(apiVersion)
	return schema.GroupKind{Group: gv.Group, Kind: kind}
}

// invalidName describes t when its namespace or name cannot be an object's, else "".
func invalidName(t common.TargetResource) string {
	if t.Namespace != "" && len(validation.IsDNS1123Label(t.Namespace)) > 0 {
		return fmt.Sprintf("namespace %q, which is not a valid namespace name", t.Namespace)
	}
	bad := len(t.Name) > 253 || len(path.IsValidPathSegmentName(t.Name)) > 0
	if !bad && (t.Kind == "Namespace" && t.APIVersion == "v1") {
		bad = len(validation.IsDNS1123Label(t.Name)) > 0
	}
	if bad {
		return fmt.Sprintf("%q, which is not a valid %s name", t.Name, t.Kind)
	}
	return ""
}

func sourceText(source string) string {
	switch {
	case source == SourceInvolvedObject:
		return "the event's involvedObject"
	case strings.HasPrefix(source, "mapping:"):
		return "the target mapping " + strings.TrimPrefix(source, "mapping:")
	}
	return "label " + source
}

// unresolved gives res a target: the real one when it exists but is unactionable (set by
// follow), otherwise the pseudo-target of the signal.
func (r *resolver) unresolved(name string, labels map[string]string, res Resolution) Resolution {
	if res.Target.Kind == "" {
		res.Target = PseudoTarget(name, labels)
	}
	return res
}

// PseudoTarget is the deterministic target of a signal that names nothing Kubernaut can act on:
// kind Alert, the signal's namespace label when it is a valid namespace name, and the signal's
// name with the first 10 hex digits of sha256 over its sorted labels, so that repeats of one
// alert share a fingerprint and different alerts do not.
func PseudoTarget(name string, labels map[string]string) common.TargetResource {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(labels[k]))
		h.Write([]byte{0})
	}
	suffix := hex.EncodeToString(h.Sum(nil))[:10]
	t := common.TargetResource{Kind: PseudoTargetKind, Name: text.TruncateBytes(name, 253-len(suffix)-1) + "-" + suffix}
	if ns := labels["namespace"]; ns != "" && len(validation.IsDNS1123Label(ns)) == 0 {
		t.Namespace = ns
	}
	return t
}
