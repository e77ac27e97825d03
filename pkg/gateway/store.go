package gateway

import (
	"context"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
)

// slot serialises the writes of one fingerprint in this replica and groups the signals that
// arrive while a write is in flight.
type slot struct {
	running bool
	next    *batch
}

type batch struct {
	signals  []*Signal
	outcomes []Outcome
	done     chan struct{}
}

// submit queues a firing signal behind the fingerprint's in-flight write and waits for the
// write that includes it.
func (g *Gateway) submit(ctx context.Context, s *Signal, fp string) Outcome {
	g.mu.Lock()
	sl := g.slots[fp]
	if sl == nil {
		sl = &slot{}
		g.slots[fp] = sl
	}
	if sl.next == nil {
		sl.next = &batch{done: make(chan struct{})}
	}
	b := sl.next
	idx := len(b.signals)
	b.signals = append(b.signals, s)
	if !sl.running {
		sl.running = true
		go g.drain(fp, sl)
	}
	g.mu.Unlock()
	select {
	case <-b.done:
		return b.outcomes[idx]
	case <-ctx.Done():
		// The batch may still be written; the caller answers 503 and the sender retries,
		// which at worst counts this signal twice (never loses it).
		return classify("waiting for the write", ctx.Err())
	}
}

// drain writes the fingerprint's batches one after another until none is pending.
func (g *Gateway) drain(fp string, sl *slot) {
	for {
		g.mu.Lock()
		b := sl.next
		sl.next = nil
		if b == nil {
			sl.running = false
			delete(g.slots, fp)
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), g.cfg.APITimeout)
		b.outcomes = g.write(ctx, fp, b.signals)
		cancel()
		close(b.done)
	}
}

// write places a batch of firing signals of one fingerprint: the first may create a request,
// the rest (or all, when a request is active) are counted as duplicates in one increment.
func (g *Gateway) write(ctx context.Context, fp string, signals []*Signal) []Outcome {
	out := make([]Outcome, len(signals))
	fill := func(from int, o Outcome) {
		for i := from; i < len(out); i++ {
			out[i] = o
		}
	}
	rr := g.newest(fp)
	now := g.now()
	for range 64 {
		if rr != nil && g.isActive(rr, now) {
			updated, active, err := g.increment(ctx, rr, int32(len(signals)), newestFiring(signals), now)
			if err != nil {
				fill(0, classify("counting a duplicate", err))
				return out
			}
			if active {
				fill(0, Outcome{Status: StatusDuplicate, RemediationRequest: updated.Name, OccurrenceCount: updated.Status.Deduplication.OccurrenceCount})
				return out
			}
			rr = updated // terminal past the cooldown, or deleted (nil)
			continue
		}
		gen := int64(0)
		if rr != nil {
			gen = rr.Generation() + 1
		}
		created, err := g.create(ctx, signals[0], fp, gen, now)
		switch {
		case err == nil:
			out[0] = Outcome{Status: StatusCreated, RemediationRequest: created.Name}
			if len(signals) == 1 {
				return out
			}
			updated, active, err := g.increment(ctx, created, int32(len(signals)-1), newestFiring(signals[1:]), now)
			if err != nil || !active {
				if err == nil {
					err = fmt.Errorf("request %s ended before its duplicates were counted", created.Name)
				}
				fill(1, classify("counting a duplicate", err))
				return out
			}
			fill(1, Outcome{Status: StatusDuplicate, RemediationRequest: updated.Name, OccurrenceCount: updated.Status.Deduplication.OccurrenceCount})
			return out
		case apierrors.IsAlreadyExists(err):
			// Another writer created this generation: read it from the API server.
			existing, err := g.rrs.get(ctx, RequestName(fp, gen))
			if err != nil {
				if apierrors.IsNotFound(err) {
					continue // deleted in between; try the same generation again
				}
				fill(0, classify("reading a RemediationRequest", err))
				return out
			}
			rr = existing.WithGeneration(gen)
		default:
			fill(0, classify("creating a RemediationRequest", err))
			return out
		}
	}
	fill(0, classify("placing a signal", fmt.Errorf("too many generations raced for fingerprint %s", fp)))
	return out
}

// newestFiring is the latest startsAt among signals (zero when none carries one).
func newestFiring(signals []*Signal) time.Time {
	var t time.Time
	for _, s := range signals {
		if s.FiringTime.After(t) {
			t = s.FiringTime
		}
	}
	return t
}

// increment adds n occurrences to rr with an optimistic lock, re-reading from the API server on
// conflicts, and records firing (the newest startsAt among them) as lastFiringTime when it is
// newer: Alertmanager re-sends a still-firing alert with its original startsAt, so only a re-fire
// moves it. It returns active=false (and the fresh object, or nil when deleted) when the request
// no longer absorbs duplicates.
func (g *Gateway) increment(ctx context.Context, rr *rrState, n int32, firing, now time.Time) (*rrState, bool, error) {
	for {
		if !g.isActive(rr, now) {
			return rr, false, nil
		}
		d := remediationv1.Deduplication{FirstSeen: rr.Spec.ReceivedTime, LastSeen: metav1.NewTime(now), OccurrenceCount: n}
		if old := rr.Status.Deduplication; old != nil {
			d.FirstSeen, d.OccurrenceCount, d.LastFiringTime = old.FirstSeen, old.OccurrenceCount+n, old.LastFiringTime
		}
		if !firing.IsZero() && (d.LastFiringTime == nil || firing.After(d.LastFiringTime.Time)) {
			t := metav1.NewTime(firing)
			d.LastFiringTime = &t
		}
		patched, err := g.rrs.patchStatus(ctx, rr.Name, rr.ResourceVersion, struct {
			Deduplication remediationv1.Deduplication `json:"deduplication"`
		}{d})
		if err == nil {
			patched.WithGeneration(rr.Generation())
			g.remember(rr.Spec.SignalFingerprint, patched)
			return patched, true, nil
		}
		if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			return nil, false, err
		}
		fresh, err := g.rrs.get(ctx, rr.Name)
		if err != nil {
			if apierrors.IsNotFound(err) {
				return nil, false, nil
			}
			return nil, false, err
		}
		rr = fresh.WithGeneration(rr.Generation())
	}
}

// create stores generation gen of the fingerprint from signal s.
func (g *Gateway) create(ctx context.Context, s *Signal, fp string, gen int64, now time.Time) (*rrState, error) {
	env, err := g.environment(ctx, s)
	if err != nil {
		return nil, err
	}
	rr := newRequest(g.cfg, s, fp, gen, env, now)
	created, err := g.rrs.create(ctx, rr)
	if err != nil {
		return nil, err
	}
	g.remember(fp, created)
	if res := &s.Resolution; !res.Resolved() {
		g.log.Info("Created RemediationRequest for a signal without a target Kubernaut can act on", "remediationRequest", rr.Name,
			"signal", s.Name, "target", s.Target.Kind+"/"+describe(s.Target.Namespace, s.Target.Name), "reason", res.Reason, "message", res.Message)
	} else {
		g.log.V(1).Info("Created RemediationRequest", "remediationRequest", rr.Name, "fingerprint", fp, "signal", s.Name,
			"target", s.Target.Kind+"/"+describe(s.Target.Namespace, s.Target.Name), "source", res.Source)
	}
	return created, nil
}

// newRequest builds generation gen of the fingerprint fp from signal s, received at now, in
// environment env.
func newRequest(cfg Config, s *Signal, fp string, gen int64, env remediationv1.Environment, now time.Time) *remediationv1.RemediationRequest {
	firing := s.FiringTime
	if firing.IsZero() {
		firing = now
	}
	resource := s.Target
	if s.Resolution.Named != nil {
		resource = *s.Resolution.Named
	}
	var resolution *remediationv1.TargetResolution
	if s.Resolution.Source != "" || s.Resolution.Reason != "" {
		resolution = s.Resolution.api()
	}
	return &remediationv1.RemediationRequest{
		ObjectMeta: metav1.ObjectMeta{
			Name:      RequestName(fp, gen),
			Namespace: cfg.Namespace,
			Labels: map[string]string{
				remediationv1.LabelSignalFingerprint: fp[:63],
				remediationv1.LabelSeverity:          string(s.Severity),
				remediationv1.LabelEnvironment:       string(env),
			},
			Annotations: map[string]string{AnnotationGeneration: strconv.FormatInt(gen, 10)},
		},
		Spec: remediationv1.RemediationRequestSpec{
			SignalFingerprint: fp,
			SignalName:        s.Name,
			Severity:          s.Severity,
			Environment:       env,
			Priority:          cfg.Priorities.Priority(s.Severity, env),
			SignalType:        s.Type,
			SignalSource:      s.SignalSource,
			TargetResource:    s.Target,
			FiringTime:        metav1.NewTime(firing),
			ReceivedTime:      metav1.NewTime(now),
			SignalLabels:      capMap(s.Labels, 64),
			SignalAnnotations: capMap(s.Annotations, 64),
			OriginalPayload:   s.OriginalPayload(),
			ProviderData: &remediationv1.ProviderData{
				Namespace:       s.Target.Namespace,
				Resource:        &resource,
				AlertmanagerURL: s.AlertmanagerURL,
				GrafanaURL:      s.GrafanaURL,
			},
			TargetResolution: resolution,
		},
	}
}

// environment reads the target namespace's labels (from the cache), then the signal's labels.
func (g *Gateway) environment(ctx context.Context, s *Signal) (remediationv1.Environment, error) {
	ns := s.Target.Namespace
	if s.Target.Kind == "Namespace" {
		ns = s.Target.Name
	}
	if ns != "" {
		meta, err := g.namespace(ctx, ns)
		if err != nil {
			return "", err
		}
		if meta != nil {
			for _, l := range environmentLabels {
				if v := meta.Labels[l]; v != "" {
					return NormalizeEnvironment(v), nil
				}
			}
		}
	}
	return NormalizeEnvironment(s.EnvironmentHint), nil
}

// namespace reads a Namespace's metadata from the manager's cache, or from the API server when
// the cache does not have it (a namespace created a moment ago); nil when it does not exist.
func (g *Gateway) namespace(ctx context.Context, name string) (*metav1.PartialObjectMetadata, error) {
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	err := g.client.Get(ctx, client.ObjectKey{Name: name}, meta)
	if apierrors.IsNotFound(err) {
		err = g.reader.Get(ctx, client.ObjectKey{Name: name}, meta)
	}
	switch {
	case err == nil:
		return meta, nil
	case apierrors.IsNotFound(err):
		return nil, nil
	default:
		apiErrors.WithLabelValues("get_Namespace").Inc()
		return nil, fmt.Errorf("reading namespace %s: %w", name, err)
	}
}

// namespaceExists says whether a Namespace exists (for target resolution).
func (g *Gateway) namespaceExists(ctx context.Context, name string) (bool, error) {
	meta, err := g.namespace(ctx, name)
	return meta != nil, err
}

// resolve marks the newest non-terminal request of the fingerprint as resolved.
func (g *Gateway) resolve(ctx context.Context, s *Signal, fp string) Outcome {
	rr, err := g.activeForResolve(ctx, fp)
	if err != nil {
		return classify("listing RemediationRequests", err)
	}
	at := s.ResolvedAt
	if at.IsZero() || at.Year() < 2000 {
		at = g.now()
	}
	for rr != nil {
		if rr.Status.SignalResolvedAt != nil {
			return Outcome{Status: StatusResolved, RemediationRequest: rr.Name}
		}
		t := metav1.NewTime(at)
		_, err := g.rrs.patchStatus(ctx, rr.Name, rr.ResourceVersion, struct {
			SignalResolvedAt *metav1.Time `json:"signalResolvedAt"`
		}{&t})
		if err == nil {
			return Outcome{Status: StatusResolved, RemediationRequest: rr.Name}
		}
		if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			return classify("marking a RemediationRequest resolved", err)
		}
		fresh, err := g.rrs.get(ctx, rr.Name)
		if err != nil {
			if apierrors.IsNotFound(err) {
				return Outcome{Status: StatusResolved, Reason: "no active RemediationRequest for this signal"}
			}
			return classify("reading a RemediationRequest", err)
		}
		if fresh.Status.OverallPhase.IsTerminal() {
			return Outcome{Status: StatusResolved, Reason: "no active RemediationRequest for this signal"}
		}
		rr = fresh
	}
	return Outcome{Status: StatusResolved, Reason: "no active RemediationRequest for this signal"}
}

// activeForResolve finds the newest non-terminal request of a fingerprint, asking the API
// server (not the cache), so a request created a moment ago is found.
func (g *Gateway) activeForResolve(ctx context.Context, fp string) (*rrState, error) {
	list, err := g.rrs.list(ctx, remediationv1.LabelSignalFingerprint+"="+fp[:63])
	if err != nil {
		return nil, err
	}
	var best *rrState
	for i := range list.Items {
		rr := &list.Items[i]
		if rr.Spec.SignalFingerprint != fp || rr.Status.OverallPhase.IsTerminal() || rr.DeletionTimestamp != nil {
			continue
		}
		if best == nil || rr.Generation() > best.Generation() {
			best = rr
		}
	}
	return best, nil
}
