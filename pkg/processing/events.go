package processing

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// eventGroup is the Warning events of one reason about one object.
type eventGroup struct {
	s    common.EventSummary
	last time.Time
}

// eventGroups groups events by reason and object ("reason\x00Kind/name").
type eventGroups map[string]*eventGroup

func (gs eventGroups) add(typ, reason, obj, message string, first, last time.Time, count int32) {
	key := reason + "\x00" + obj
	g, ok := gs[key]
	if !ok {
		g = &eventGroup{s: common.EventSummary{Type: typ, Reason: text.TruncateBytes(reason, 128), Object: text.TruncateBytes(obj, 320)}}
		gs[key] = g
	}
	g.s.Count += count
	if g.s.FirstTimestamp == nil || first.Before(g.s.FirstTimestamp.Time) {
		f := metav1.NewTime(first)
		g.s.FirstTimestamp = &f
	}
	if g.s.LastTimestamp == nil || !last.Before(g.last) {
		l := metav1.NewTime(last)
		g.s.LastTimestamp, g.last, g.s.Message = &l, last, text.TruncateBytes(message, 512)
	}
}

func (gs eventGroups) addEvent(ev *corev1.Event) {
	first, last, count := eventTimes(ev)
	gs.add(ev.Type, ev.Reason, ev.InvolvedObject.Kind+"/"+ev.InvolvedObject.Name, ev.Message, first, last, count)
}

func (gs eventGroups) merge(o eventGroups) {
	for _, g := range o {
		gs.add(g.s.Type, g.s.Reason, g.s.Object, g.s.Message, g.s.FirstTimestamp.Time, g.last, g.s.Count)
	}
}

func newEventList() *corev1.EventList { return &corev1.EventList{} }

// events reads the Warning events about every object collected, groups them by reason and
// object and keeps the newest groups first. The events of a namespace (the target's; default
// for the nodes and volumes) are read once, all its Warning events in one read, and picked by
// involved object. A namespace holding more than that read takes is noisy: the events of its
// most relevant objects (eventKeys, not scanKeys) are then read object by object, with field
// selectors on the involved object, and it stays noisy for a while (noisyFor).
func (e *Enricher) events(ctx context.Context, en *enrichment) error {
	type scope struct {
		ns             string
		keys, scanOnly []eventKey
		wanted         map[eventKey]bool
		groups         eventGroups
	}
	var scopes []*scope
	byNS := map[string]*scope{}
	add := func(k eventKey, scanOnly bool) {
		s := byNS[k.scope()]
		if s == nil {
			s = &scope{ns: k.scope(), wanted: map[eventKey]bool{}}
			byNS[s.ns] = s
			scopes = append(scopes, s)
		}
		if s.wanted[k] {
			return
		}
		s.wanted[k] = true
		if scanOnly {
			s.scanOnly = append(s.scanOnly, k)
		} else {
			s.keys = append(s.keys, k)
		}
	}
	for _, k := range en.eventKeys {
		add(k, false)
	}
	for _, k := range en.scanKeys {
		add(k, true)
	}
	tasks := make([]func(context.Context) error, 0, len(scopes))
	for _, s := range scopes {
		tasks = append(tasks, func(ctx context.Context) (err error) {
			s.groups, err = e.scopeEvents(ctx, en, s.ns, s.keys, s.scanOnly, s.wanted)
			return err
		})
	}
	if err := fanOut(ctx, tasks...); err != nil {
		return err
	}
	groups := eventGroups{}
	for _, s := range scopes {
		groups.merge(s.groups)
	}
	out := make([]*eventGroup, 0, len(groups))
	for _, g := range groups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *eventGroup) int {
		if c := b.last.Compare(a.last); c != 0 {
			return c
		}
		return cmp.Or(strings.Compare(a.s.Reason, b.s.Reason), strings.Compare(a.s.Object, b.s.Object))
	})
	for i, g := range out {
		if i == maxEvents {
			en.omitted.events = len(out) - maxEvents
			break
		}
		en.kc.RecentEvents = append(en.kc.RecentEvents, g.s)
	}
	return nil
}

// scopeEvents reads the Warning events of namespace ns about the objects wanted (keys and
// scanOnly): one read of them all, or, when the namespace is noisy, one read per object of keys.
func (e *Enricher) scopeEvents(ctx context.Context, en *enrichment, ns string, keys, scanOnly []eventKey, wanted map[eventKey]bool) (eventGroups, error) {
	if !e.noisy.is(ns, e.now()) {
		groups := eventGroups{}
		complete, err := listPages(ctx, en.reads, newEventList, eventPage, maxEventScan, func(l *corev1.EventList) bool {
			for i := range l.Items {
				ev := &l.Items[i]
				if wanted[eventKey{ev.InvolvedObject.Kind, ev.InvolvedObject.Namespace, ev.InvolvedObject.Name}] {
					groups.addEvent(ev)
				}
			}
			return true
		}, client.InNamespace(ns), client.MatchingFields{"type": corev1.EventTypeWarning})
		if err != nil || complete {
			return groups, err
		}
		e.noisy.mark(ns, e.now())
	}
	if len(scanOnly) > 0 {
		en.cut(fmt.Sprintf("events of %d less relevant objects (busy namespace %s)", len(scanOnly), ns))
	}
	per := make([]eventGroups, len(keys))
	tasks := make([]func(context.Context) error, 0, len(keys))
	for i, k := range keys {
		tasks = append(tasks, func(ctx context.Context) error {
			fs := client.MatchingFields{"involvedObject.kind": k.kind, "involvedObject.name": k.name, "type": corev1.EventTypeWarning}
			if k.namespace != "" {
				fs["involvedObject.namespace"] = k.namespace
			}
			groups := eventGroups{}
			complete, err := listPages(ctx, en.reads, newEventList, eventPage, maxEventsPerObject, func(l *corev1.EventList) bool {
				for j := range l.Items {
					groups.addEvent(&l.Items[j])
				}
				return true
			}, client.InNamespace(ns), fs)
			if !complete && err == nil {
				en.cut(fmt.Sprintf("events of %s/%s beyond the first %d", k.kind, k.name, maxEventsPerObject))
			}
			per[i] = groups
			return err
		})
	}
	if err := fanOut(ctx, tasks...); err != nil {
		return nil, err
	}
	groups := eventGroups{}
	for _, g := range per {
		groups.merge(g)
	}
	return groups, nil
}
