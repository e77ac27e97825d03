package controller

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/notification/delivery"
)

func TestBackoffDefaults(t *testing.T) {
	r := &Reconciler{Retry: delivery.RetryConfig{MaxAttempts: 5, InitialBackoff: delivery.Duration{Duration: 30 * time.Second},
		MaxBackoff: delivery.Duration{Duration: 480 * time.Second}}}
	p := r.policyFor(&notificationv1.NotificationRequest{})
	tests := map[string]struct {
		failed int32
		want   time.Duration
	}{
		"after 1st": {1, 30 * time.Second}, "after 2nd": {2, 60 * time.Second}, "after 3rd": {3, 120 * time.Second},
		"after 4th": {4, 240 * time.Second}, "after 5th": {5, 480 * time.Second}, "capped": {9, 480 * time.Second},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, p.Backoff(tc.failed)) })
	}
	assert.Equal(t, int32(5), p.maxAttempts)
}

func TestPolicyFromSpecOverridesConfig(t *testing.T) {
	r := &Reconciler{Retry: delivery.RetryConfig{MaxAttempts: 5, InitialBackoff: delivery.Duration{Duration: 30 * time.Second},
		MaxBackoff: delivery.Duration{Duration: 480 * time.Second}}}
	nr := &notificationv1.NotificationRequest{Spec: notificationv1.NotificationRequestSpec{RetryPolicy: notificationv1.RetryPolicy{
		MaxAttempts: 2, InitialBackoff: &metav1.Duration{Duration: time.Second}, MaxBackoff: &metav1.Duration{Duration: 3 * time.Second}}}}
	p := r.policyFor(nr)
	assert.Equal(t, policy{maxAttempts: 2, initial: time.Second, maxGap: 3 * time.Second}, p)
	assert.Equal(t, 3*time.Second, p.Backoff(3))
}

func TestChannelStates(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ch notificationv1.Channel, n int32, ok, permanent bool) notificationv1.DeliveryAttempt {
		a := notificationv1.DeliveryAttempt{Channel: ch, Attempt: n, Time: metav1.NewTime(t0), Status: notificationv1.DeliverySuccess}
		if !ok {
			a.Status, a.Error, a.Permanent = notificationv1.DeliveryFailed, "boom", permanent
		}
		return a
	}
	p := policy{maxAttempts: 3, initial: time.Minute, maxGap: 4 * time.Minute}
	nr := &notificationv1.NotificationRequest{Status: notificationv1.NotificationRequestStatus{DeliveryAttempts: []notificationv1.DeliveryAttempt{
		at("slack", 1, false, false), at("slack", 2, true, false),
		at("email", 1, false, false), at("email", 2, false, false),
		at("webhook", 1, false, true),
		at("msteams", 1, false, false), at("msteams", 2, false, false), at("msteams", 3, false, false),
	}}}
	st := channelStates(nr, []notificationv1.Channel{"slack", "email", "webhook", "msteams", "console"}, p)
	assert.True(t, st["slack"].succeeded && st["slack"].done, "succeeded channels are done")
	assert.False(t, st["email"].done)
	assert.Equal(t, t0.Add(2*time.Minute), st["email"].nextAt, "second failure waits twice the initial backoff")
	assert.True(t, st["webhook"].done && !st["webhook"].succeeded, "permanent failures are done")
	assert.True(t, st["msteams"].done, "out of attempts")
	assert.Zero(t, st["console"].attempts)
	assert.False(t, st["console"].done)

	nr.Status.DeliveryAttempts = []notificationv1.DeliveryAttempt{at("email", 1, false, false)}
	nr.Status.DeliveryAttempts[0].Error = "email answered 429: slow down (retry after 300s)"
	st = channelStates(nr, []notificationv1.Channel{"email"}, p)
	assert.Equal(t, t0.Add(5*time.Minute), st["email"].nextAt, "Retry-After beyond the backoff is honoured")
}

func TestChannels(t *testing.T) {
	tests := map[string]struct {
		priority notificationv1.Priority
		channels []notificationv1.Channel
		want     []notificationv1.Channel
	}{
		"critical default": {notificationv1.PriorityCritical, nil, []notificationv1.Channel{"pagerduty", "slack", "email"}},
		"high default":     {notificationv1.PriorityHigh, nil, []notificationv1.Channel{"slack", "email"}},
		"medium default":   {notificationv1.PriorityMedium, nil, []notificationv1.Channel{"email"}},
		"low default":      {notificationv1.PriorityLow, nil, []notificationv1.Channel{"email"}},
		"explicit":         {notificationv1.PriorityLow, []notificationv1.Channel{"console", "slack"}, []notificationv1.Channel{"console", "slack"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			nr := &notificationv1.NotificationRequest{Spec: notificationv1.NotificationRequestSpec{Priority: tc.priority, Channels: tc.channels}}
			assert.Equal(t, tc.want, Channels(nr))
		})
	}
}
