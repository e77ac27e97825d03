package orchestrator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/notification/delivery"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

// requireRenderedApproval renders a NotificationRequest the orchestrator created with the
// notification service's own renderer, in every channel that shows approval details, and
// requires the recommended action and both decision commands in each: the contract between the
// orchestrator's metadata and the renderer's keys, checked on both sides' real code.
func requireRenderedApproval(t *testing.T, nr *notificationv1.NotificationRequest, approvalRequest, action string) {
	t.Helper()
	m := delivery.MessageFrom(nr, delivery.NewRedactor())
	slack, err := delivery.RenderSlack(m, "#approvals")
	require.NoError(t, err)
	teams, err := delivery.RenderTeams(m)
	require.NoError(t, err)
	email, err := delivery.RenderEmail(m, "kubernaut@example.com", []string{"ops@example.com"}, time.Now())
	require.NoError(t, err)
	approve := notificationapi.DecisionCommand(nr.Namespace, approvalRequest, notificationapi.DecisionApproved)
	reject := notificationapi.DecisionCommand(nr.Namespace, approvalRequest, notificationapi.DecisionRejected)
	for channel, text := range map[string]string{"slack": jsonStrings(t, slack), "teams": jsonStrings(t, teams), "email": emailText(t, email)} {
		assert.Contains(t, text, approve, "%s: the approve command", channel)
		assert.Contains(t, text, reject, "%s: the reject command", channel)
		assert.Contains(t, text, "Recommended action:** "+action, "%s: the recommended action", channel)
		assert.NotContains(t, text, "(see the analysis)", "%s: the action is missing", channel)
	}
}

// jsonStrings joins every string of a JSON document, markup normalised to "**", so a test can
// search the text a person reads.
func jsonStrings(t *testing.T, doc []byte) string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(doc, &v))
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			b.WriteString(v + "\n")
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return strings.NewReplacer("*Recommended action:* `", "Recommended action:** ", "**Recommended action:** ", "Recommended action:** ").Replace(b.String())
}

// emailText is the plain-text part of a rendered email, markup normalised like jsonStrings.
func emailText(t *testing.T, raw []byte) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	part, err := multipart.NewReader(msg.Body, params["boundary"]).NextPart() // quoted-printable decoded
	require.NoError(t, err)
	text, err := io.ReadAll(part)
	require.NoError(t, err)
	return strings.ReplaceAll(string(text), "Recommended action: ", "Recommended action:** ")
}
