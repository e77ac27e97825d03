package processing

import (
	"encoding/json"
	"fmt"
	"slices"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// MaxContextBytes bounds the serialized KubernetesContext.
const MaxContextBytes = 8 << 10

// trimmer drops facts from a context, least useful first, until it fits.
type trimmer struct {
	kc *common.KubernetesContext
	// focus is the alert's container: never dropped, its message never shortened
	focus string
	// counts of what was dropped, by kind
	events, pods, containers, otherContainers, podConditions, nodes  int
	nodeConds, workloadContainers, nsAnnotations, nsLabels, messages bool
	keptPods                                                         int
	// unread says what a read bound cut before the context was built
	unread []string
}

// bound trims kc in place until its JSON is at most limit bytes, least useful facts first:
// older events, surplus pods beyond the most relevant few, healthy containers, the flat node
// condition list (also in nodes[]), pod conditions, the containers other than the alert's,
// messages, further nodes, the workload's container specs (also in pods[]), namespace
// annotations and labels. The alert's container (focus, "" for none) is never dropped: not as a
// healthy container, not from the workload's specs, and the first pod that has it stays with it
// to the end; its messages are never shortened. What was dropped is said in kc.Truncated
// (together with what the builder left out to stay within the CRD's lists). It returns the
// final size.
func bound(kc *common.KubernetesContext, limit int, left omitted, focus string) int {
	t := &trimmer{kc: kc, focus: focus, events: left.events, pods: left.pods, nodes: left.nodes, keptPods: len(kc.Pods), unread: left.unread}
	t.note()
	size := t.size()
	for _, step := range []func() bool{
		func() bool { return t.keepEvents(10) },
		func() bool { return t.keepPods(5) },
		t.dropHealthyContainers,
		t.dropNodeConditions,
		func() bool { return t.keepEvents(5) },
		t.dropPodConditions,
		t.dropOtherContainers,
		func() bool { return t.keepPods(3) },
		func() bool { return t.shortenMessages(80) },
		func() bool { return t.keepNodes(1) },
		t.dropWorkloadContainers,
		func() bool { return t.keepEvents(3) },
		func() bool { return t.keepPods(1) },
		t.dropNamespaceAnnotations,
		t.dropNamespaceLabels,
		func() bool { return t.keepEvents(1) },
		func() bool { return t.shortenMessages(0) },
		func() bool { return t.keepEvents(0) },
		func() bool {
			if t.focusKept() {
				return false // the alert's container in the first pod is the last fact to go: never
			}
			return t.keepPods(0)
		},
		func() bool { return t.keepNodes(0) },
	} {
		if size <= limit {
			break
		}
		if step() {
			t.note()
			size = t.size()
		}
	}
	return size
}

func (t *trimmer) size() int {
	raw, err := json.Marshal(t.kc)
	if err != nil {
		return 0
	}
	return len(raw)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// note rewrites kc.Truncated from the counts (at most 8 entries, as the CRD allows).
func (t *trimmer) note() {
	var notes []string
	if t.events > 0 {
		notes = append(notes, plural(t.events, "older event group", "older event groups"))
	}
	if t.pods > 0 {
		notes = append(notes, fmt.Sprintf("%s beyond the %d most relevant", plural(t.pods, "pod", "pods"), t.keptPods))
	}
	if t.containers > 0 {
		notes = append(notes, plural(t.containers, "healthy container", "healthy containers"))
	}
	if t.otherContainers > 0 {
		notes = append(notes, fmt.Sprintf("%s other than %s", plural(t.otherContainers, "container", "containers"), t.focus))
	}
	if t.nodes > 0 {
		notes = append(notes, plural(t.nodes, "node", "nodes"))
	}
	if t.podConditions > 0 {
		notes = append(notes, plural(t.podConditions, "pod condition", "pod conditions"))
	}
	if t.nodeConds {
		notes = append(notes, "nodeConditions (see nodes[].conditions)")
	}
	if t.messages {
		notes = append(notes, "messages shortened")
	}
	if t.workloadContainers {
		notes = append(notes, "workload.containers (see pods[].containers)")
	}
	if t.nsAnnotations || t.nsLabels {
		notes = append(notes, "namespace annotations and labels")
	}
	for _, u := range t.unread {
		notes = append(notes, text.TruncateBytes(u, 256))
	}
	if len(notes) > 8 {
		notes = notes[:8]
	}
	t.kc.Truncated = notes
}

func (t *trimmer) keepEvents(n int) bool { return keepFirst(&t.kc.RecentEvents, n, &t.events) }

func (t *trimmer) keepPods(n int) bool {
	if !keepFirst(&t.kc.Pods, n, &t.pods) {
		return false
	}
	t.keptPods = n
	return true
}

func (t *trimmer) keepNodes(n int) bool { return keepFirst(&t.kc.Nodes, n, &t.nodes) }

// keepFirst cuts *s to its first n items (nil for none), adds how many it dropped to *dropped,
// and reports whether it dropped any.
func keepFirst[T any](s *[]T, n int, dropped *int) bool {
	if len(*s) <= n {
		return false
	}
	*dropped += len(*s) - n
	*s = (*s)[:n]
	if n == 0 {
		*s = nil
	}
	return true
}

func healthy(c common.ContainerSummary) bool {
	return c.Ready && c.State == "Running" && c.RestartCount == 0 && c.LastTerminationReason == ""
}

func (t *trimmer) dropHealthyContainers() bool {
	return t.dropContainers(healthy, &t.containers, false)
}

// dropOtherContainers keeps, in each pod that has the alert's container, that container only.
func (t *trimmer) dropOtherContainers() bool {
	if t.focus == "" {
		return false
	}
	return t.dropContainers(func(common.ContainerSummary) bool { return true }, &t.otherContainers, true)
}

// dropContainers drops the containers for which drop is true, but never the alert's container
// (and, with onlyWithFocus, only in the pods that have it); dropped counts them.
func (t *trimmer) dropContainers(drop func(common.ContainerSummary) bool, dropped *int, onlyWithFocus bool) bool {
	changed := false
	for i := range t.kc.Pods {
		p := &t.kc.Pods[i]
		if onlyWithFocus && !t.hasFocus(p) {
			continue
		}
		kept := p.Containers[:0]
		for _, c := range p.Containers {
			if (t.focus == "" || c.Name != t.focus) && drop(c) {
				*dropped++
				changed = true
				continue
			}
			kept = append(kept, c)
		}
		p.Containers = kept
		if len(kept) == 0 {
			p.Containers = nil
		}
	}
	return changed
}

func (t *trimmer) hasFocus(p *common.PodSummary) bool {
	return t.focus != "" && slices.ContainsFunc(p.Containers, func(c common.ContainerSummary) bool { return c.Name == t.focus })
}

// focusKept reports whether the first pod holds the alert's container (it then stays).
func (t *trimmer) focusKept() bool { return len(t.kc.Pods) > 0 && t.hasFocus(&t.kc.Pods[0]) }

func (t *trimmer) dropNodeConditions() bool {
	if len(t.kc.NodeConditions) == 0 || len(t.kc.Nodes) == 0 {
		return false
	}
	t.kc.NodeConditions, t.nodeConds = nil, true
	return true
}

func (t *trimmer) dropPodConditions() bool {
	dropped := false
	for i := range t.kc.Pods {
		if n := len(t.kc.Pods[i].Conditions); n > 0 {
			t.podConditions += n
			t.kc.Pods[i].Conditions = nil
			dropped = true
		}
	}
	return dropped
}

func (t *trimmer) shortenMessages(n int) bool {
	cut := func(s *string) {
		if len(*s) > n {
			if n == 0 {
				*s = ""
			} else {
				*s = text.TruncateBytes(*s, n)
			}
			t.messages = true
		}
	}
	before := t.messages
	t.messages = false
	for i := range t.kc.RecentEvents {
		cut(&t.kc.RecentEvents[i].Message)
	}
	for i := range t.kc.Pods {
		for j := range t.kc.Pods[i].Containers {
			if t.kc.Pods[i].Containers[j].Name != t.focus || t.focus == "" {
				cut(&t.kc.Pods[i].Containers[j].Message)
			}
		}
		for j := range t.kc.Pods[i].Conditions {
			cut(&t.kc.Pods[i].Conditions[j].Message)
		}
	}
	for i := range t.kc.Nodes {
		for j := range t.kc.Nodes[i].Conditions {
			cut(&t.kc.Nodes[i].Conditions[j].Message)
		}
	}
	for i := range t.kc.NodeConditions {
		cut(&t.kc.NodeConditions[i].Message)
	}
	if t.kc.Workload != nil {
		for j := range t.kc.Workload.Conditions {
			cut(&t.kc.Workload.Conditions[j].Message)
		}
	}
	changed := t.messages
	t.messages = before || changed
	return changed
}

// dropWorkloadContainers drops the workload's container specs (the pods show them), all but the
// alert's container.
func (t *trimmer) dropWorkloadContainers() bool {
	if t.kc.Workload == nil || len(t.kc.Workload.Containers) == 0 || len(t.kc.Pods) == 0 {
		return false
	}
	w := t.kc.Workload
	i := slices.IndexFunc(w.Containers, func(c common.ContainerSpecSummary) bool { return t.focus != "" && c.Name == t.focus })
	if i >= 0 {
		if len(w.Containers) == 1 {
			return false
		}
		w.Containers = []common.ContainerSpecSummary{w.Containers[i]}
	} else {
		w.Containers = nil
	}
	t.workloadContainers = true
	return true
}

func (t *trimmer) dropNamespaceAnnotations() bool {
	if len(t.kc.NamespaceAnnotations) == 0 {
		return false
	}
	t.kc.NamespaceAnnotations, t.nsAnnotations = nil, true
	return true
}

// dropNamespaceLabels keeps only the kubernaut.io/ labels and the environment labels.
func (t *trimmer) dropNamespaceLabels() bool {
	kept := map[string]string{}
	for k, v := range t.kc.NamespaceLabels {
		if len(k) > len("kubernaut.io/") && k[:len("kubernaut.io/")] == "kubernaut.io/" || k == "environment" || k == "env" {
			kept[k] = v
		}
	}
	if len(kept) == len(t.kc.NamespaceLabels) {
		return false
	}
	t.kc.NamespaceLabels, t.nsLabels = kept, true
	return true
}
