// Package controller delivers NotificationRequests to their channels (Slack, Microsoft Teams,
// email, PagerDuty, a generic webhook and the console log).
//
// Each channel is attempted until it succeeds, fails permanently (a 4xx other than 408/429, an
// SMTP 5xx, a channel that is not configured) or runs out of attempts; retries back off
// exponentially (30s doubling to 480s, 5 attempts by default, from the request's retryPolicy or
// the configuration). Every attempt is recorded in status.deliveryAttempts, which is the only
// delivery state: a reconcile reads the request live from the API server, so a channel with a
// Success attempt is never sent again, also after a restart or a leader change.
//
// Metrics (controller-runtime registry):
//   - kubernaut_notification_deliveries_total{channel,result}: attempts by result
//     (success, retryable_failure, permanent_failure, not_configured).
//   - kubernaut_notification_delivery_duration_seconds{channel}: duration of one attempt.
//   - kubernaut_notification_delivery_latency_seconds{channel}: creation to successful delivery.
//   - kubernaut_notification_retries_total{channel}: attempts after the first.
package controller

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrlbuilder "sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	ctrl "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/notification/delivery"
	"github.com/kubernaut/kubernaut/pkg/shared/skeleton"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

const controllerName = "notificationrequest"

// Reconciler delivers NotificationRequests.
type Reconciler struct {
	// Client writes status; Reader reads requests live (not from the cache) so that a stale
	// cache can never make a channel be sent twice.
	Client   ctrl.Client
	Reader   ctrl.Reader
	Sender   *delivery.Sender
	Redactor *delivery.Redactor
	Recorder events.EventRecorder
	// Retry is the default retry policy.
	Retry delivery.RetryConfig
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MaxConcurrentReconciles bounds parallel deliveries (default 4).
	MaxConcurrentReconciles int
}

// +kubebuilder:rbac:groups=notification.kubernaut.io,resources=notificationrequests,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=notification.kubernaut.io,resources=notificationrequests/status,verbs=get;update;patch

// CacheOptions narrows the manager's cache to the NotificationRequests of namespace and keeps of
// each only what the controller's watch reads: identity, generation and the delivery phase.
// The reconciler reads every request it works on live from the API server, so nothing else is
// ever read from the cache; with 10,000 delivered requests it stays a few MiB. Call it on the
// manager options before creating the manager.
func CacheOptions(opts *cache.Options, namespace string) {
	skeleton.SlimCache(opts, namespace, &notificationv1.NotificationRequest{})
}

// SetupWithManager registers the controller. Only creations (and generation changes, which
// the immutable spec never has) of requests not yet delivered trigger a reconcile: at start-up
// the thousands of requests that reached a final phase are skipped without an API call.
// Retries are scheduled with RequeueAfter.
func (r *Reconciler) SetupWithManager(_ context.Context, mgr manager.Manager) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.Reader == nil {
		r.Reader = mgr.GetAPIReader()
	}
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder("notification")
	}
	if r.Redactor == nil {
		r.Redactor = delivery.NewRedactor()
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.MaxConcurrentReconciles == 0 {
		r.MaxConcurrentReconciles = 4
	}
	return ctrlbuilder.ControllerManagedBy(mgr).
		Named(controllerName).
		For(&notificationv1.NotificationRequest{}, ctrlbuilder.WithPredicates(predicate.GenerationChangedPredicate{}, notFinished)).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
}

// notFinished passes requests whose delivery has not reached a final phase. A final phase is
// never left, so a cached copy that shows one can be trusted; a stale copy that does not is
// read live by the reconcile.
var notFinished = predicate.NewPredicateFuncs(func(o ctrl.Object) bool {
	nr, ok := o.(*notificationv1.NotificationRequest)
	return !ok || !nr.Status.Phase.IsTerminal()
})

// scope is what one reconcile works on.
type scope struct {
	nr       *notificationv1.NotificationRequest
	channels []notificationv1.Channel
	policy   policy
	now      time.Time
}

// Reconcile delivers the due channels of one NotificationRequest and records the result.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (res reconcile.Result, retErr error) {
	nr := &notificationv1.NotificationRequest{}
	if err := r.Reader.Get(ctx, req.NamespacedName, nr); err != nil {
		return reconcile.Result{}, ctrl.IgnoreNotFound(err)
	}
	logger := log.FromContext(ctx).WithValues("notificationRequest", klog.KObj(nr), "type", nr.Spec.Type, "priority", nr.Spec.Priority)
	ctx = log.IntoContext(ctx, logger)
	if nr.Status.Phase.IsTerminal() {
		return reconcile.Result{}, nil
	}
	p := skeleton.NewPatcher(r.Client, nr)
	defer p.Finish(ctx, &res, &retErr)
	s := &scope{nr: nr, channels: Channels(nr), policy: r.policyFor(nr), now: r.Now()}
	return r.reconcileDelivery(ctx, s)
}

// result of one attempt on one channel.
type result struct {
	channel  notificationv1.Channel
	err      *delivery.Error
	duration time.Duration
}

// reconcileDelivery sends every due channel in parallel, records the attempts and sets the phase.
func (r *Reconciler) reconcileDelivery(ctx context.Context, s *scope) (reconcile.Result, error) {
	nr := s.nr
	states := channelStates(nr, s.channels, s.policy)
	var due []notificationv1.Channel
	for _, ch := range s.channels {
		if st := states[ch]; !st.done && !s.now.Before(st.nextAt) {
			due = append(due, ch)
		}
	}
	if len(due) > 0 {
		nr.Status.Phase = notificationv1.PhaseSending
		msg := delivery.MessageFrom(nr, r.Redactor)
		results := make(chan result, len(due))
		for _, ch := range due {
			go func() {
				start := time.Now()
				err := r.Sender.Send(ctx, ch, msg)
				results <- result{channel: ch, err: err, duration: time.Since(start)}
			}()
		}
		byChannel := map[notificationv1.Channel]result{}
		for range due {
			res := <-results
			byChannel[res.channel] = res
		}
		now := metaNow(r.Now())
		for _, ch := range due { // record in channel order, so status reads the same every time
			res := byChannel[ch]
			attempt := notificationv1.DeliveryAttempt{Channel: ch, Attempt: states[ch].attempts + 1, Time: now, Status: notificationv1.DeliverySuccess}
			outcome := ResultSuccess
			if res.err != nil {
				attempt.Status, attempt.Error, attempt.Permanent = notificationv1.DeliveryFailed, res.err.Reason, res.err.Permanent
				switch {
				case res.err.Reason == delivery.ErrNotConfigured:
					outcome = ResultNotConfigured
				case res.err.Permanent:
					outcome = ResultPermanent
				default:
					outcome = ResultRetryable
				}
				log.FromContext(ctx).Info("Delivery failed", "channel", ch, "attempt", attempt.Attempt, "permanent", attempt.Permanent, "error", attempt.Error)
			} else {
				deliveryLatency.WithLabelValues(string(ch)).Observe(r.Now().Sub(nr.CreationTimestamp.Time).Seconds())
				log.FromContext(ctx).V(1).Info("Delivered", "channel", ch, "attempt", attempt.Attempt)
			}
			deliveriesTotal.WithLabelValues(string(ch), outcome).Inc()
			if outcome != ResultNotConfigured {
				deliveryDuration.WithLabelValues(string(ch)).Observe(res.duration.Seconds())
			}
			if attempt.Attempt > 1 {
				retriesTotal.WithLabelValues(string(ch)).Inc()
			}
			nr.Status.DeliveryAttempts = append(nr.Status.DeliveryAttempts, attempt)
		}
		states = channelStates(nr, s.channels, s.policy)
	}
	return r.summarize(s, states), nil
}

// summarize sets phase, message, conditions and times from the channel states, and says when
// to come back.
func (r *Reconciler) summarize(s *scope, states map[notificationv1.Channel]*channelState) reconcile.Result {
	nr := s.nr
	var delivered, failed, waiting []string
	var next time.Time
	var lastSuccess *time.Time
	for _, ch := range s.channels {
		st := states[ch]
		switch {
		case st.succeeded:
			delivered = append(delivered, string(ch))
			if lastSuccess == nil || st.successAt.After(*lastSuccess) {
				t := st.successAt
				lastSuccess = &t
			}
		case st.done:
			failed = append(failed, fmt.Sprintf("%s (%s)", ch, st.lastError))
		default:
			waiting = append(waiting, fmt.Sprintf("%s (attempt %d of %d failed: %s)", ch, st.attempts, s.policy.maxAttempts, st.lastError))
			if next.IsZero() || st.nextAt.Before(next) {
				next = st.nextAt
			}
		}
	}
	if lastSuccess != nil {
		t := metaNow(*lastSuccess)
		nr.Status.SentAt = &t
	}
	if len(waiting) > 0 {
		nr.Status.Phase = notificationv1.PhaseRetrying
		nr.Status.Message = text.Truncate(fmt.Sprintf("retrying %v; delivered %v; failed %v", waiting, delivered, failed), 1024)
		setReady(nr, false, notificationv1.ReasonRetrying, nr.Status.Message)
		wait := next.Sub(r.Now())
		if wait < time.Millisecond {
			wait = time.Millisecond
		}
		return reconcile.Result{RequeueAfter: wait}
	}
	done := metaNow(r.Now())
	nr.Status.CompletionTime = &done
	switch {
	case len(failed) == 0:
		nr.Status.Phase = notificationv1.PhaseSent
		nr.Status.Message = fmt.Sprintf("delivered to %v", delivered)
		setReady(nr, true, notificationv1.ReasonAllDelivered, nr.Status.Message)
		r.Recorder.Eventf(nr, nil, corev1.EventTypeNormal, notificationv1.ReasonAllDelivered, "Deliver", "Delivered to %v", delivered)
	case len(delivered) > 0:
		nr.Status.Phase = notificationv1.PhasePartiallySent
		nr.Status.Message = text.Truncate(fmt.Sprintf("delivered to %v; failed %v", delivered, failed), 1024)
		setReady(nr, false, notificationv1.ReasonPartialDelivery, nr.Status.Message)
		r.Recorder.Eventf(nr, nil, corev1.EventTypeWarning, notificationv1.ReasonPartialDelivery, "Deliver", "%s", nr.Status.Message)
	default:
		nr.Status.Phase = notificationv1.PhaseFailed
		nr.Status.Message = text.Truncate(fmt.Sprintf("failed %v", failed), 1024)
		setReady(nr, false, notificationv1.ReasonDeliveryFailed, nr.Status.Message)
		r.Recorder.Eventf(nr, nil, corev1.EventTypeWarning, notificationv1.ReasonDeliveryFailed, "Deliver", "%s", nr.Status.Message)
	}
	return reconcile.Result{}
}
