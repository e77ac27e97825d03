package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/incident"
	"github.com/kubernaut/kubernaut/pkg/gateway"
)

// postCreated posts the incident's firing webhook and returns the RemediationRequest's name.
func postCreated(t *testing.T, in *incident.Incident) string {
	t.Helper()
	code, resp, err := incident.Post(context.Background(), sys, in.Webhook(false))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code, "gateway answer %+v", resp)
	require.Len(t, resp.Results, 1)
	require.Equal(t, gateway.StatusCreated, resp.Results[0].Status)
	require.NotEmpty(t, resp.Results[0].RemediationRequest)
	return resp.Results[0].RemediationRequest
}

// 4. The same alert re-sent as Alertmanager does every group interval → one request whose
// occurrenceCount grows.
func TestE2E04DuplicateAlertsCountOccurrences(t *testing.T) {
	ctx := context.Background()
	ns := namespaceFor(t)
	in, err := incident.OOM(ctx, sys.Cluster, ns, incident.NamespaceOptions{})
	require.NoError(t, err)
	name := postCreated(t, in)
	for i := 1; i <= 3; i++ {
		code, resp, err := incident.Post(ctx, sys, in.Webhook(false))
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, code, "repeat %d: %+v", i, resp)
		require.Len(t, resp.Results, 1)
		assert.Equal(t, gateway.StatusDuplicate, resp.Results[0].Status)
		assert.Equal(t, name, resp.Results[0].RemediationRequest)
	}
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		rrs, err := requestsFor(ctx, ns)
		if !assert.NoError(c, err) || !assert.Len(c, rrs, 1) {
			return
		}
		assert.Equal(c, name, rrs[0].Name)
		if assert.NotNil(c, rrs[0].Status.Deduplication) {
			assert.EqualValues(c, 3, rrs[0].Status.Deduplication.OccurrenceCount)
		}
	}, 30*time.Second, 100*time.Millisecond)
}

// 7. The processing service stopped → the request times out in Processing with exactly one
// escalation, delivered.
func TestE2E07ProcessingStoppedTimesOut(t *testing.T) {
	ctx := context.Background()
	require.NoError(t, stoppedFor(t, "processing").Stop(ctx))
	ns := namespaceFor(t)
	in, err := incident.OOM(ctx, sys.Cluster, ns, incident.NamespaceOptions{})
	require.NoError(t, err)
	name := postCreated(t, in)

	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		rr, err := request(ctx, name)
		if !assert.NoError(c, err) {
			return
		}
		assert.Equal(c, remediationv1.PhaseTimedOut, rr.Status.OverallPhase)
		assert.Equal(c, remediationv1.PhaseProcessing, rr.Status.TimeoutPhase)
	}, 2*time.Minute, 200*time.Millisecond, "request %s never timed out in Processing", name)

	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		nrs, err := notificationsFor(ctx, name)
		if !assert.NoError(c, err) {
			return
		}
		esc := ofType(nrs, notificationv1.TypeEscalation)
		if assert.Len(c, esc, 1, "escalations of %s", name) {
			if remote { // the deployment's channels, no stand-ins: the delivery attempt finished
				assert.True(c, esc[0].Status.Phase.IsTerminal(), "phase %s", esc[0].Status.Phase)
			} else {
				assert.Equal(c, notificationv1.PhaseSent, esc[0].Status.Phase)
			}
		}
		rr, err := request(ctx, name)
		if assert.NoError(c, err) {
			assert.Len(c, rr.Status.Escalations, 1)
		}
	}, time.Minute, 200*time.Millisecond)
	// Still exactly one a little later (the escalation is sent once, not once per reconcile).
	assert.Never(t, func() bool {
		nrs, err := notificationsFor(ctx, name)
		return err == nil && len(ofType(nrs, notificationv1.TypeEscalation)) != 1
	}, 3*time.Second, 200*time.Millisecond)
}

// 10. The gateway's API server connection lost for a few seconds → 503 with Retry-After to
// Alertmanager, then the alert is accepted on retry and remediated.
func TestE2E10GatewayAPIOutage(t *testing.T) {
	skipRemote(t, "cuts the gateway's connection to the API server with the local proxy between them; on a cluster that takes a network cut between a pod and the API server, which the suite does not make")
	ctx := context.Background()
	ns := namespaceFor(t)
	in, err := incident.OOM(ctx, sys.Cluster, ns, incident.NamespaceOptions{Environment: unattendedEnvironment})
	require.NoError(t, err)

	sys.APIProxy.Cut()
	t.Cleanup(sys.APIProxy.Restore)
	code, resp, err := incident.Post(ctx, sys, in.Webhook(false))
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, code, "answer %+v", resp)
	rrs, err := requestsFor(ctx, ns)
	require.NoError(t, err)
	assert.Empty(t, rrs, "nothing may be stored while the gateway answers 503")

	sys.APIProxy.Restore()
	// Alertmanager retries 5xx with back-off; so does this loop.
	var name string
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		code, resp, err := incident.Post(ctx, sys, in.Webhook(false))
		if assert.NoError(c, err) && assert.Equal(c, http.StatusCreated, code) && assert.Len(c, resp.Results, 1) {
			name = resp.Results[0].RemediationRequest
		}
	}, time.Minute, 500*time.Millisecond)
	require.NotEmpty(t, name)
	rrs, err = requestsFor(ctx, ns)
	require.NoError(t, err)
	assert.Len(t, rrs, 1)
	rr := endVerified(t, in, name)
	assert.Equal(t, remediationv1.OutcomeRemediated, rr.Status.Outcome)
	assertRemediated(t, in)
}
