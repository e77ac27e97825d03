package gateway

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
)

// FuzzStoredRequestDecodes follows alert content from the webhook to the informer: a webhook
// whose alert carries a fuzzed label and annotation (any key, originalPayload included, any
// value) becomes the request the gateway creates, stored as the API server returns it (an
// unstructured object: sorted keys, plus server-set metadata), and must decode as a single
// object, as a list item and as a watch event, with the fields the gateway reads intact.
//
//	go test -run '^$' -fuzz FuzzStoredRequestDecodes -fuzztime 60s ./pkg/gateway/
func FuzzStoredRequestDecodes(f *testing.F) {
	f.Add("originalPayload", `a"b`, `\"`)
	f.Add("originalPayload", `\`, `"originalPayload":"`)
	f.Add("x", `"spec":{"originalPayload":"`, "\u2028<&>\xff")
	f.Add("spec", `{"originalPayload":"x"}`, `}]},"items":[{`)
	now := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, key, value, annotation string) {
		labels := map[string]string{"alertname": "HighMemoryUsage", "severity": "critical", "namespace": "shop", "deployment": "web"}
		if _, taken := labels[key]; !taken {
			labels[key] = value
		}
		a := Alert{Status: "firing", Labels: labels, StartsAt: now, Fingerprint: "a1b2c3d4e5f60718",
			Annotations: map[string]string{"summary": value, key: annotation}}
		body, err := json.Marshal(WebhookMessage{Version: "4", GroupKey: "{}:{}", Status: "firing", Receiver: "kubernaut",
			CommonLabels: map[string]string{key: value}, Alerts: []Alert{a}})
		require.NoError(t, err)
		msg, problems := ParseWebhook(body)
		require.Empty(t, problems)
		s, err := msg.Signal(0, 64<<10)
		require.NoError(t, err)
		fp := Fingerprint(s.Target)
		rr := newRequest(DefaultConfig("sys"), s, fp, 0, remediationv1.EnvironmentProduction, now)
		rr.APIVersion, rr.Kind = remediationv1.GroupVersion.String(), "RemediationRequest"
		rr.UID, rr.ResourceVersion, rr.CreationTimestamp = "0b5c", "42", metav1.NewTime(now)
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(rr)
		require.NoError(t, err)
		stored, err := json.Marshal(u)
		require.NoError(t, err)

		check := func(got *rrState) {
			t.Helper()
			require.Equal(t, rr.Name, got.Name)
			require.Equal(t, "42", got.ResourceVersion)
			require.Equal(t, fp, got.Spec.SignalFingerprint)
			require.Equal(t, int64(0), got.Generation())
			require.True(t, got.Spec.ReceivedTime.Equal(&rr.Spec.ReceivedTime))
		}
		obj, _, err := stateSerializer{}.Decode(stored, nil, nil)
		require.NoError(t, err, "request %s", stored)
		check(obj.(*rrState))

		list := []byte(`{"kind":"RemediationRequestList","apiVersion":"remediation.kubernaut.io/v1alpha1","metadata":{"resourceVersion":"43"},"items":[` +
			string(stored) + "," + string(stored) + "]}")
		var l rrStateList
		_, _, err = stateSerializer{}.Decode(list, nil, &l)
		require.NoError(t, err, "list %s", list)
		require.Len(t, l.Items, 2)
		check(&l.Items[1])

		event := []byte(`{"type":"ADDED","object":` + string(stored) + "}")
		var we metav1.WatchEvent
		_, _, err = stateSerializer{}.Decode(event, nil, &we)
		require.NoError(t, err, "watch event %s", event)
		obj, _, err = stateSerializer{}.Decode(we.Object.Raw, nil, nil)
		require.NoError(t, err, "watch event object %s", we.Object.Raw)
		check(obj.(*rrState))

		for _, doc := range [][]byte{stored, list, event} {
			requireOnlyPayloadEmptied(t, doc)
		}
	})
}

// FuzzWithoutPayload feeds withoutPayload any JSON: the result must be the same JSON document
// with only the string values of spec.originalPayload (of the document, of each of its items, of
// its watch event object) emptied.
//
//	go test -run '^$' -fuzz FuzzWithoutPayload -fuzztime 60s ./pkg/gateway/
func FuzzWithoutPayload(f *testing.F) {
	for _, seed := range []string{
		`{"spec":{"originalPayload":"QQ==","signalLabels":{"originalPayload":"a\"b"}}}`,
		`{"items":[{"spec":{"originalPayload":"QQ=="}},{"spec":{"originalPayload":"\\\""}}]}`,
		`{"type":"ADDED","object":{"metadata":{"labels":{"originalPayload":"\\"}},"spec":{"originalPayload":"QQ=="}}}`,
		`{"spe\u0063":{"originalP\u0061yload":"QQ==","originalPayload":1}}`,
		`[{"spec":{"originalPayload":"x"}}]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			withoutPayload(data) // must not panic
			return
		}
		requireOnlyPayloadEmptied(t, data)
	})
}

// requireOnlyPayloadEmptied checks withoutPayload(doc) against the same cut made on the decoded
// document.
func requireOnlyPayloadEmptied(t *testing.T, doc []byte) {
	t.Helper()
	in := append([]byte(nil), doc...)
	out := withoutPayload(doc)
	require.Equal(t, in, doc, "withoutPayload must not modify its input")
	if !bytes.Contains(doc, payloadKey) {
		require.Equal(t, doc, out)
		return
	}
	var want, got any
	require.NoError(t, json.Unmarshal(doc, &want))
	require.NoError(t, json.Unmarshal(out, &got), "withoutPayload made invalid JSON of %s:\n%s", doc, out)
	root, _ := want.(map[string]any)
	emptyPayload(root["spec"])
	if o, ok := root["object"].(map[string]any); ok {
		emptyPayload(o["spec"])
	}
	if items, ok := root["items"].([]any); ok {
		for _, it := range items {
			if o, ok := it.(map[string]any); ok {
				emptyPayload(o["spec"])
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("withoutPayload(%s) = %s; differs from the document with its payloads emptied (-want +got):\n%s", doc, out, diff)
	}
}

func emptyPayload(spec any) {
	if m, ok := spec.(map[string]any); ok {
		if _, isString := m["originalPayload"].(string); isString {
			m["originalPayload"] = ""
		}
	}
}
