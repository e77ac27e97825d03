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
// object and keeps the newest groups first. The events of the target's namespace and of default
// (where those about nodes and volumes are recorded) come from the namespace's digest (see
// digest): all its Warning events, read whole and shared for a few seconds by the enrichments in
// it. In a noisy namespace, with more than a scan takes, only the events of its most relevant
// objects are read, object by object with field selectors on the involved object (see
// noisyKeys). The events of the other namespaces (a Node target's pods are everybody's) are read
// that way too (at most maxEventObjects objects), unless a digest of theirs is at hand.
func (e *Enricher) events(ctx context.Context, en *enrichment) error {
	type scope struct {
		ns             string
		keys, scanOnly []eventKey
		groups         eventGroups
	}
	var scopes []*scope
	byNS := map[string]*scope{}
	seen := map[eventKey]bool{}
	add := func(k eventKey, scanOnly bool) {
		if seen[k] {
			return
		}
		seen[k] = true
		s := byNS[k.scope()]
		if s == nil {
			s = &scope{ns: k.scope()}
			byNS[s.ns] = s
			scopes = append(scopes, s)
		}
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
			s.groups, err = e.scopeEvents(ctx, en, s.ns, s.keys, s.scanOnly, s.ns == en.targetNS || s.ns == clusterEventNamespace)
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

// scopeEvents returns the Warning events of namespace ns about keys and scanOnly: from the
// namespace's digest (read whole when there is none, if whole), or read one object at a time
// for the most relevant keys.
func (e *Enricher) scopeEvents(ctx context.Context, en *enrichment, ns string, keys, scanOnly []eventKey, whole bool) (eventGroups, error) {
	scan := cmp.Or(e.MaxEventScan, maxEventScan)
	var d *digest
	if whole {
		var err error
		if d, err = e.digestOf(ctx, en, ns); err != nil {
			return nil, err
		}
	} else {
		d, _ = e.digests.peek(ns, en.since, e.now())
	}
	groups := eventGroups{}
	if d != nil && !d.noisy {
		for _, k := range slices.Concat(keys, scanOnly) {
			groups.merge(d.byObject[k])
		}
		return groups, nil
	}
	if whole { // noisy
		all := len(keys) + len(scanOnly)
		keys = noisyKeys(keys)
		if n := all - len(keys); n > 0 {
			en.cut(fmt.Sprintf("events of %d less relevant objects (%s holds more than %d Warning events)", n, ns, scan))
		}
	} else {
		keys = keys[:min(len(keys), maxEventObjects)]
	}
	per := make([]eventGroups, len(keys))
	tasks := make([]func(context.Context) error, 0, len(keys))
	for i, k := range keys {
		tasks = append(tasks, func(ctx context.Context) error {
			fs := client.MatchingFields{"involvedObject.kind": k.kind, "involvedObject.name": k.name, "type": corev1.EventTypeWarning}
			if k.namespace != "" {
				fs["involvedObject.namespace"] = k.namespace
			}
			g := eventGroups{}
			complete, err := listPages(ctx, en.reads, newEventList, eventPage, maxEventsPerObject, func(l *corev1.EventList) bool {
				for j := range l.Items {
					g.addEvent(&l.Items[j])
				}
				return true
			}, client.InNamespace(ns), fs)
			if err == nil && !complete {
				en.cut(fmt.Sprintf("events of %s/%s beyond the first %d", k.kind, k.name, maxEventsPerObject))
			}
			per[i] = g
			return err
		})
	}
	if err := fanOut(ctx, tasks...); err != nil {
		return nil, err
	}
	for _, g := range per {
		groups.merge(g)
	}
	return groups, nil
}

// noisyKeys picks, of the objects of a noisy namespace (most relevant first), those whose events
// are read: the first (the target, in its namespace) and the first pod after it.
func noisyKeys(keys []eventKey) []eventKey {
	if len(keys) == 0 {
		return nil
	}
	out := keys[:1:1]
	for _, k := range keys[1:] {
		if len(out) == maxNoisyObjects {
			break
		}
		if k.kind == "Pod" {
			out = append(out, k)
		}
	}
	return out
}

// digestOf returns the digest of namespace ns: shared, or read whole now.
func (e *Enricher) digestOf(ctx context.Context, en *enrichment, ns string) (*digest, error) {
	return e.digests.get(ctx, ns, en.since, e.now, func(ctx context.Context) (*digest, int, time.Duration, error) {
		select { // at most wholeScans namespaces read whole at a time: their pages are in memory
		case e.scans <- struct{}{}:
		case <-ctx.Done():
			return nil, 0, 0, context.Cause(ctx)
		}
		d, err := scanEvents(ctx, en, ns, cmp.Or(e.MaxEventScan, maxEventScan))
		<-e.scans
		if err != nil {
			return nil, 0, 0, err
		}
		if d.noisy {
			return d, 1, noisyFor, nil
		}
		return d, d.groups, digestTTL, nil
	})
}

// scanEvents reads the Warning events of namespace ns whole, in pages, into a digest; a noisy
// digest (without events) when there are more than max.
func scanEvents(ctx context.Context, en *enrichment, ns string, max int) (*digest, error) {
	d := &digest{byObject: map[eventKey]eventGroups{}}
	complete, err := listPages(ctx, en.reads, newEventList, eventPage, max, func(l *corev1.EventList) bool {
		for i := range l.Items {
			ev := &l.Items[i]
			k := eventKey{ev.InvolvedObject.Kind, ev.InvolvedObject.Namespace, ev.InvolvedObject.Name}
			g := d.byObject[k]
			if g == nil {
				g = eventGroups{}
				d.byObject[k] = g
			}
			n := len(g)
			g.addEvent(ev)
			d.groups += len(g) - n
		}
		return true
	}, client.InNamespace(ns), client.MatchingFields{"type": corev1.EventTypeWarning})
	if err != nil {
		return nil, err
	}
	if !complete {
		return &digest{noisy: true}, nil
	}
	return d, nil
}

// digest is what one scan of a namespace's Warning events found: its events grouped by involved
// object and reason, or that the namespace is noisy. The digests of the namespaces read recently
// are shared (Enricher.digests) for digestTTL (a noisy one for noisyFor), within maxDigestGroups
// groups: the events of an incident are recorded before its alert fires, so a digest a few
// seconds old shows them.
type digest struct {
	byObject map[eventKey]eventGroups
	groups   int
	noisy    bool
}
