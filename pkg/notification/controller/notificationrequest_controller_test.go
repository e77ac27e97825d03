package controller_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eventsv1 "k8s.io/api/events/v1"

	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/standin"
	"github.com/kubernaut/kubernaut/pkg/notification/delivery"
	api "github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

const fingerprint = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

func newNR(ns, name string, channels ...notificationv1.Channel) *notificationv1.NotificationRequest {
	return &notificationv1.NotificationRequest{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: notificationv1.NotificationRequestSpec{
			Type: notificationv1.TypeApproval, Subject: "Approval Required: scale shop/web", Priority: notificationv1.PriorityHigh,
			Body:     "Memory grows until OOMKilled.",
			Channels: channels,
			Metadata: map[string]string{api.MetaSignalFingerprint: fingerprint, api.MetaRecommendedAction: "scale_deployment",
				api.MetaConfidence: "0.8", api.MetaApprovalRequest: name + "-aiar"},
			RetryPolicy: fastRetry(5, 200*time.Millisecond),
		},
	}
}

// countFor counts the accepted requests that mention the notification ns/name.
func countFor(reqs []standin.Request, nr *notificationv1.NotificationRequest) int {
	n := 0
	for _, r := range reqs {
		if b := string(r.Body); strings.Contains(b, nr.Namespace) && strings.Contains(b, nr.Name) {
			n++
		}
	}
	return n
}

func mailsFor(nr *notificationv1.NotificationRequest) int {
	n := 0
	for _, m := range stand.SMTP.Mails() {
		if strings.Contains(string(m.Data), "<"+nr.Name+"."+nr.Namespace+"@kubernaut>") {
			n++
		}
	}
	return n
}

func get(t *testing.T, nr *notificationv1.NotificationRequest) *notificationv1.NotificationRequest {
	out := &notificationv1.NotificationRequest{}
	require.NoError(t, k8s.Get(context.Background(), client.ObjectKeyFromObject(nr), out))
	return out
}

func waitPhase(t *testing.T, nr *notificationv1.NotificationRequest, phase notificationv1.Phase) *notificationv1.NotificationRequest {
	t.Helper()
	var got *notificationv1.NotificationRequest
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		out := &notificationv1.NotificationRequest{}
		if !assert.NoError(c, k8s.Get(context.Background(), client.ObjectKeyFromObject(nr), out)) {
			return
		}
		got = out
		assert.Equal(c, phase, out.Status.Phase, "status: %+v", out.Status)
	}, 20*time.Second, 20*time.Millisecond)
	require.NotNil(t, got)
	return got
}

func attempts(nr *notificationv1.NotificationRequest, ch notificationv1.Channel) []notificationv1.DeliveryAttempt {
	var out []notificationv1.DeliveryAttempt
	for _, a := range nr.Status.DeliveryAttempts {
		if a.Channel == ch {
			out = append(out, a)
		}
	}
	return out
}

func TestDeliversToEveryChannel(t *testing.T) {
	ns := namespace(t)
	startManager(t, ns, stand.Config)
	nr := newNR(ns, "rr-1-approval", "slack", "msteams", "email", "pagerduty", "webhook", "console")
	require.NoError(t, k8s.Create(context.Background(), nr))

	got := waitPhase(t, nr, notificationv1.PhaseSent)
	assert.Len(t, got.Status.DeliveryAttempts, 6)
	for _, a := range got.Status.DeliveryAttempts {
		assert.Equal(t, notificationv1.DeliverySuccess, a.Status, a.Channel)
		assert.Equal(t, int32(1), a.Attempt)
	}
	assert.NotNil(t, got.Status.SentAt)
	assert.NotNil(t, got.Status.CompletionTime)
	assert.True(t, meta.IsStatusConditionTrue(got.Status.Conditions, notificationv1.ConditionReady))
	assert.Equal(t, got.Generation, got.Status.ObservedGeneration)

	assert.Equal(t, 1, countFor(stand.Slack.Received(), nr))
	assert.Equal(t, 1, countFor(stand.Teams.Received(), nr))
	assert.Equal(t, 1, countFor(stand.Webhook.Received(), nr))
	assert.Equal(t, 1, countFor(stand.PagerDuty.Received(), nr))
	assert.Equal(t, 1, mailsFor(nr))
}

func TestDefaultChannelsByPriority(t *testing.T) {
	ns := namespace(t)
	startManager(t, ns, stand.Config)
	nr := newNR(ns, "rr-2-approval") // High → slack, email
	require.NoError(t, k8s.Create(context.Background(), nr))
	got := waitPhase(t, nr, notificationv1.PhaseSent)
	var channels []notificationv1.Channel
	for _, a := range got.Status.DeliveryAttempts {
		channels = append(channels, a.Channel)
	}
	assert.Equal(t, []notificationv1.Channel{"slack", "email"}, channels)
}

func TestRetryThenSuccess(t *testing.T) {
	ns := namespace(t)
	startManager(t, ns, stand.Config)
	stand.Slack.FailNext(http.StatusServiceUnavailable, http.StatusTooManyRequests)
	nr := newNR(ns, "rr-3-approval", "slack", "console")
	require.NoError(t, k8s.Create(context.Background(), nr))

	got := waitPhase(t, nr, notificationv1.PhaseSent)
	slack := attempts(got, "slack")
	require.Len(t, slack, 3)
	for i, a := range slack {
		assert.Equal(t, int32(i+1), a.Attempt)
		assert.False(t, a.Permanent)
	}
	assert.Equal(t, notificationv1.DeliveryFailed, slack[0].Status)
	assert.Contains(t, slack[0].Error, "503")
	assert.Equal(t, notificationv1.DeliveryFailed, slack[1].Status)
	assert.Equal(t, notificationv1.DeliverySuccess, slack[2].Status)
	assert.Len(t, attempts(got, "console"), 1, "console succeeded at once and is never sent again")
	assert.Equal(t, 1, countFor(stand.Slack.Received(), nr))
}

func TestPermanentFailure(t *testing.T) {
	ns := namespace(t)
	startManager(t, ns, stand.Config)
	stand.Webhook.FailNext(http.StatusBadRequest)
	nr := newNR(ns, "rr-4-approval", "webhook")
	require.NoError(t, k8s.Create(context.Background(), nr))

	got := waitPhase(t, nr, notificationv1.PhaseFailed)
	require.Len(t, got.Status.DeliveryAttempts, 1, "a 400 is not retried")
	a := got.Status.DeliveryAttempts[0]
	assert.True(t, a.Permanent)
	assert.Contains(t, a.Error, "400")
	c := meta.FindStatusCondition(got.Status.Conditions, notificationv1.ConditionReady)
	require.NotNil(t, c)
	assert.Equal(t, notificationv1.ReasonDeliveryFailed, c.Reason)
	assert.Zero(t, countFor(stand.Webhook.Received(), nr))
}

func TestRetriesExhausted(t *testing.T) {
	ns := namespace(t)
	startManager(t, ns, stand.Config)
	stand.Teams.FailNext(500, 502, 503)
	nr := newNR(ns, "rr-5-approval", "msteams", "console")
	nr.Spec.RetryPolicy = fastRetry(3, 100*time.Millisecond)
	require.NoError(t, k8s.Create(context.Background(), nr))

	got := waitPhase(t, nr, notificationv1.PhasePartiallySent)
	assert.Len(t, attempts(got, "msteams"), 3)
	c := meta.FindStatusCondition(got.Status.Conditions, notificationv1.ConditionReady)
	require.NotNil(t, c)
	assert.Equal(t, notificationv1.ReasonPartialDelivery, c.Reason)
	assert.Zero(t, countFor(stand.Teams.Received(), nr))
}

func TestChannelNotConfigured(t *testing.T) {
	ns := namespace(t)
	cfg := *stand.Config
	cfg.MSTeams = nil
	startManager(t, ns, &cfg)
	nr := newNR(ns, "rr-6-approval", "msteams", "console")
	require.NoError(t, k8s.Create(context.Background(), nr))

	got := waitPhase(t, nr, notificationv1.PhasePartiallySent)
	teams := attempts(got, "msteams")
	require.Len(t, teams, 1, "not retried")
	assert.Equal(t, delivery.ErrNotConfigured, teams[0].Error)
	assert.True(t, teams[0].Permanent)
	assert.Equal(t, notificationv1.DeliverySuccess, attempts(got, "console")[0].Status, "console needs no configuration")
}

func TestRestartMidRetryDoesNotSendTwice(t *testing.T) {
	ns := namespace(t)
	stop := startManager(t, ns, stand.Config)
	// Email fails temporarily; its retry is due long after the restart.
	stand.SMTP.FailNext(451)
	nr := newNR(ns, "rr-7-approval", "slack", "email", "console")
	nr.Spec.RetryPolicy = fastRetry(5, 3*time.Second)
	require.NoError(t, k8s.Create(context.Background(), nr))

	mid := waitPhase(t, nr, notificationv1.PhaseRetrying)
	require.Len(t, attempts(mid, "email"), 1)
	require.Equal(t, 1, countFor(stand.Slack.Received(), nr))
	stop()

	startManager(t, ns, stand.Config) // a new process: only the status remembers what was sent
	got := waitPhase(t, nr, notificationv1.PhaseSent)
	assert.Len(t, attempts(got, "slack"), 1)
	assert.Len(t, attempts(got, "console"), 1)
	email := attempts(got, "email")
	require.Len(t, email, 2)
	assert.Equal(t, notificationv1.DeliverySuccess, email[1].Status)
	assert.Equal(t, 1, countFor(stand.Slack.Received(), nr), "slack was not sent again after the restart")
	assert.Equal(t, 1, mailsFor(nr))
}

func TestRedactsPlantedSecrets(t *testing.T) {
	ns := namespace(t)
	cfg := *stand.Config
	// Teams points at a closed port: its network errors would carry the secret URL.
	cfg.MSTeams = &delivery.MSTeamsConfig{WebhookURLFile: t.TempDir() + "/teams-url"}
	require.NoError(t, writeFile(cfg.MSTeams.WebhookURLFile, "http://127.0.0.1:1/webhookb2/UnreachableS3cretPath"))
	startManager(t, ns, &cfg)
	nr := newNR(ns, "rr-8-approval", "slack", "webhook", "msteams")
	nr.Spec.RetryPolicy = fastRetry(1, 100*time.Millisecond)
	nr.Spec.Body = "Container env: DB_PASSWORD=Pl4ntedPassw0rd\nAuthorization: Bearer plantedBearerToken123\nslack xoxb-222222222222-plantedSlackTok"
	nr.Spec.Metadata["lastError"] = "dial postgres://app:Pl4ntedUrlPass@db:5432 failed"
	require.NoError(t, k8s.Create(context.Background(), nr))

	got := waitPhase(t, nr, notificationv1.PhasePartiallySent)
	planted := []string{"Pl4ntedPassw0rd", "plantedBearerToken123", "plantedSlackTok", "Pl4ntedUrlPass", "UnreachableS3cretPath"}
	var sent []string
	for _, r := range append(stand.Slack.Received(), stand.Webhook.Received()...) {
		if b := string(r.Body); strings.Contains(b, ns) && strings.Contains(b, nr.Name) {
			sent = append(sent, string(r.Body))
		}
	}
	require.Len(t, sent, 2)
	status, err := json.Marshal(got.Status)
	require.NoError(t, err)
	var events eventsv1.EventList
	require.NoError(t, k8s.List(context.Background(), &events, client.InNamespace(ns)))
	evs, err := json.Marshal(events.Items)
	require.NoError(t, err)
	for _, s := range planted {
		for _, body := range sent {
			assert.NotContains(t, body, s)
		}
		assert.NotContains(t, string(status), s)
		assert.NotContains(t, string(evs), s)
	}
	for _, body := range sent {
		assert.Contains(t, body, delivery.Redacted)
	}
	teams := attempts(got, "msteams")
	require.Len(t, teams, 1)
	assert.Contains(t, teams[0].Error, delivery.Redacted)
}

func TestCompletionResolvesPagerDuty(t *testing.T) {
	ns := namespace(t)
	startManager(t, ns, stand.Config)
	nr := newNR(ns, "rr-9-completion", "pagerduty")
	nr.Spec.Type = notificationv1.TypeCompletion
	nr.Spec.Metadata = map[string]string{api.MetaSignalFingerprint: strings.Repeat("9", 64)}
	require.NoError(t, k8s.Create(context.Background(), nr))
	waitPhase(t, nr, notificationv1.PhaseSent)
	var resolved int
	for _, r := range stand.PagerDuty.Received() {
		var ev delivery.PagerDutyEvent
		require.NoError(t, json.Unmarshal(r.Body, &ev))
		if ev.DedupKey == strings.Repeat("9", 64) {
			assert.Equal(t, "resolve", ev.EventAction)
			resolved++
		}
	}
	assert.Equal(t, 1, resolved)
}
