package controller

import (
	"regexp"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/notification/delivery"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// metaNow is t at the second precision the API server stores.
func metaNow(t time.Time) metav1.Time { return metav1.NewTime(t.Truncate(time.Second)) }

func setReady(nr *notificationv1.NotificationRequest, ok bool, reason, msg string) {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&nr.Status.Conditions, metav1.Condition{
		Type: notificationv1.ConditionReady, Status: status, Reason: reason,
		Message: text.Truncate(msg, 1024), ObservedGeneration: nr.Generation,
	})
}

// DefaultChannels are the seed's default channels for a priority (P0 → Critical, P1 → High).
func DefaultChannels(p notificationv1.Priority) []notificationv1.Channel {
	switch p {
	case notificationv1.PriorityCritical:
		return []notificationv1.Channel{notificationv1.ChannelPagerDuty, notificationv1.ChannelSlack, notificationv1.ChannelEmail}
	case notificationv1.PriorityHigh:
		return []notificationv1.Channel{notificationv1.ChannelSlack, notificationv1.ChannelEmail}
	default:
		return []notificationv1.Channel{notificationv1.ChannelEmail}
	}
}

// Channels are the request's channels, or the defaults for its priority, without duplicates.
func Channels(nr *notificationv1.NotificationRequest) []notificationv1.Channel {
	in := nr.Spec.Channels
	if len(in) == 0 {
		in = DefaultChannels(nr.Spec.Priority)
	}
	seen := map[notificationv1.Channel]bool{}
	out := make([]notificationv1.Channel, 0, len(in))
	for _, ch := range in {
		if !seen[ch] {
			seen[ch] = true
			out = append(out, ch)
		}
	}
	return out
}

// policy is the effective retry policy of a request.
type policy struct {
	maxAttempts     int32
	initial, maxGap time.Duration
}

func (r *Reconciler) policyFor(nr *notificationv1.NotificationRequest) policy {
	p := policy{maxAttempts: r.Retry.MaxAttempts, initial: r.Retry.InitialBackoff.Duration, maxGap: r.Retry.MaxBackoff.Duration}
	rp := nr.Spec.RetryPolicy
	if rp.MaxAttempts > 0 {
		p.maxAttempts = rp.MaxAttempts
	}
	if rp.InitialBackoff != nil && rp.InitialBackoff.Duration > 0 {
		p.initial = rp.InitialBackoff.Duration
	}
	if rp.MaxBackoff != nil && rp.MaxBackoff.Duration > 0 {
		p.maxGap = rp.MaxBackoff.Duration
	}
	if p.maxAttempts <= 0 {
		p.maxAttempts = delivery.DefaultMaxAttempts
	}
	if p.initial <= 0 {
		p.initial = delivery.DefaultInitialBackoff
	}
	if p.maxGap < p.initial {
		p.maxGap = p.initial
	}
	return p
}

// Backoff is the wait after the n-th failed attempt (n from 1): initial doubling up to max.
func (p policy) Backoff(n int32) time.Duration {
	d := p.initial
	for i := int32(1); i < n && d < p.maxGap; i++ {
		d *= 2
	}
	return min(d, p.maxGap)
}

// channelState is one channel's delivery state, derived from status.deliveryAttempts alone.
type channelState struct {
	attempts  int32
	succeeded bool
	successAt time.Time
	// done: succeeded, failed permanently, or out of attempts.
	done      bool
	nextAt    time.Time
	lastError string
}

func channelStates(nr *notificationv1.NotificationRequest, channels []notificationv1.Channel, p policy) map[notificationv1.Channel]*channelState {
	states := make(map[notificationv1.Channel]*channelState, len(channels))
	for _, ch := range channels {
		states[ch] = &channelState{}
	}
	for _, a := range nr.Status.DeliveryAttempts {
		st, ok := states[a.Channel]
		if !ok || st.succeeded {
			continue
		}
		st.attempts = max(st.attempts, a.Attempt)
		switch {
		case a.Status == notificationv1.DeliverySuccess:
			st.succeeded, st.done, st.successAt = true, true, a.Time.Time
		case a.Permanent:
			st.done, st.lastError = true, a.Error
		default:
			st.lastError = a.Error
			st.nextAt = a.Time.Add(max(p.Backoff(a.Attempt), retryAfter(a.Error)))
		}
	}
	for _, st := range states {
		if !st.done && st.attempts >= p.maxAttempts {
			st.done = true
		}
	}
	return states
}

var retryAfterRE = regexp.MustCompile(`\(retry after (\d+)s\)`)

// retryAfter is the wait a service asked for with Retry-After, as the sender recorded it in
// the attempt's error (so it survives restarts), capped at 1h.
func retryAfter(errMsg string) time.Duration {
	m := retryAfterRE.FindStringSubmatch(errMsg)
	if m == nil {
		return 0
	}
	secs, err := strconv.Atoi(m[1])
	if err != nil {
		return 0
	}
	return min(time.Duration(secs)*time.Second, time.Hour)
}
