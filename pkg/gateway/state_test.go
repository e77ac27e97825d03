package gateway

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
)

func TestWithoutPayload(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"no payload":   {`{"spec":{"signalFingerprint":"ab"}}`, `{"spec":{"signalFingerprint":"ab"}}`},
		"one payload":  {`{"spec":{"originalPayload":"eyJhIjoxfQ==","signalFingerprint":"ab"}}`, `{"spec":{"originalPayload":"","signalFingerprint":"ab"}}`},
		"last field":   {`{"spec":{"signalFingerprint":"ab","originalPayload":"eyJhIjoxfQ=="}}`, `{"spec":{"signalFingerprint":"ab","originalPayload":""}}`},
		"list of two":  {`{"items":[{"spec":{"originalPayload":"QQ=="}},{"spec":{"originalPayload":"Qg=="}}]}`, `{"items":[{"spec":{"originalPayload":""}},{"spec":{"originalPayload":""}}]}`},
		"escaped text": {`{"metadata":{"annotations":{"x":"\"originalPayload\":\"keep\""}}}`, `{"metadata":{"annotations":{"x":"\"originalPayload\":\"keep\""}}}`},
		"watch event":  {`{"type":"ADDED","object":{"spec":{"originalPayload":"QQ=="}}}`, `{"type":"ADDED","object":{"spec":{"originalPayload":""}}}`},
		"spaced":       {"{ \"spec\" : { \"originalPayload\" : \"QQ==\" } }", "{ \"spec\" : { \"originalPayload\" : \"\" } }"},
		// A signal label or annotation named originalPayload is alert content: kept as it is,
		// escaped quote and all, before and after the payload.
		"label with an escaped quote": {
			`{"spec":{"originalPayload":"QQ==","signalLabels":{"originalPayload":"a\"b\\"}},"metadata":{"labels":{"originalPayload":"\\\""}}}`,
			`{"spec":{"originalPayload":"","signalLabels":{"originalPayload":"a\"b\\"}},"metadata":{"labels":{"originalPayload":"\\\""}}}`},
		"label before the payload": {
			`{"metadata":{"annotations":{"originalPayload":"x\"y"}},"spec":{"signalAnnotations":{"originalPayload":"\""},"originalPayload":"QQ=="}}`,
			`{"metadata":{"annotations":{"originalPayload":"x\"y"}},"spec":{"signalAnnotations":{"originalPayload":"\""},"originalPayload":""}}`},
		"not a string":     {`{"spec":{"originalPayload":null}}`, `{"spec":{"originalPayload":null}}`},
		"deeper spec":      {`{"spec":{"providerData":{"spec":{"originalPayload":"QQ=="}}}}`, `{"spec":{"providerData":{"spec":{"originalPayload":"QQ=="}}}}`},
		"unfinished input": {`{"spec":{"originalPayload":"QQ==`, `{"spec":{"originalPayload":"QQ==`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, string(withoutPayload([]byte(tc.in))))
			if json.Valid([]byte(tc.in)) {
				assert.True(t, json.Valid(withoutPayload([]byte(tc.in))), "valid JSON stays valid")
			}
		})
	}
}

func TestStateSerializerDecodes(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC))
	full := remediationv1.RemediationRequest{
		TypeMeta: metav1.TypeMeta{APIVersion: remediationv1.GroupVersion.String(), Kind: "RemediationRequest"},
		ObjectMeta: metav1.ObjectMeta{Name: "remediation-1", Namespace: "sys", ResourceVersion: "42",
			Annotations:   map[string]string{AnnotationGeneration: "3"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "gateway"}}},
		Spec: remediationv1.RemediationRequestSpec{SignalFingerprint: "ab", ReceivedTime: now, OriginalPayload: []byte(`{"big":"payload"}`),
			SignalLabels: map[string]string{"a": "b"}},
		Status: remediationv1.RemediationRequestStatus{OverallPhase: "Completed", CompletionTime: &now,
			Deduplication: &remediationv1.Deduplication{FirstSeen: now, LastSeen: now, OccurrenceCount: 7}},
	}
	raw, err := json.Marshal(full)
	require.NoError(t, err)

	obj, _, err := stateSerializer{}.Decode(raw, nil, nil)
	require.NoError(t, err)
	s, ok := obj.(*rrState)
	require.True(t, ok, "decoded %T", obj)
	assert.Equal(t, "remediation-1", s.Name)
	assert.Equal(t, "42", s.ResourceVersion)
	assert.Equal(t, int64(3), s.Generation())
	assert.Nil(t, s.ManagedFields)
	assert.Equal(t, "ab", s.Spec.SignalFingerprint)
	assert.True(t, s.Spec.ReceivedTime.Equal(&now))
	assert.Equal(t, remediationv1.Phase("Completed"), s.Status.OverallPhase)
	require.NotNil(t, s.Status.Deduplication)
	assert.Equal(t, int32(7), s.Status.Deduplication.OccurrenceCount)

	ev, err := json.Marshal(map[string]any{"type": "MODIFIED", "object": json.RawMessage(raw)})
	require.NoError(t, err)
	var we metav1.WatchEvent
	_, _, err = stateSerializer{}.Decode(ev, nil, &we)
	require.NoError(t, err)
	assert.Equal(t, "MODIFIED", we.Type)
	assert.NotContains(t, string(we.Object.Raw), "payload")

	bookmark := `{"kind":"RemediationRequest","apiVersion":"remediation.kubernaut.io/v1alpha1","metadata":{"resourceVersion":"99","annotations":{"k8s.io/initial-events-end":"true"}}}`
	obj, _, err = stateSerializer{}.Decode([]byte(bookmark), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "true", obj.(*rrState).Annotations[metav1.InitialEventsAnnotationKey], "the informer syncs on this bookmark")

	status, err := json.Marshal(apierrors.NewAlreadyExists(remediationv1.GroupVersion.WithResource(resource).GroupResource(), "remediation-1").Status())
	require.NoError(t, err)
	obj, _, err = stateSerializer{}.Decode(status, nil, nil)
	require.NoError(t, err)
	st, ok := obj.(*metav1.Status)
	require.True(t, ok, "decoded %T", obj)
	assert.True(t, apierrors.IsAlreadyExists(apierrors.FromObject(st)))
}

// BenchmarkDecodeRequest compares decoding one stored RemediationRequest (as a watch event
// delivers it) with the API machinery's codecs into the full type and with the gateway's slim
// decoder: go test ./pkg/gateway/ -run '^$' -bench DecodeRequest -benchmem
func BenchmarkDecodeRequest(b *testing.B) {
	now := metav1.NewTime(time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC))
	payload := make([]byte, 2048)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	labels := map[string]string{"alertname": "HighMemoryUsage", "severity": "critical", "namespace": "shop", "deployment": "web", "container": "app", "prometheus": "monitoring/k8s"}
	full := remediationv1.RemediationRequest{
		TypeMeta: metav1.TypeMeta{APIVersion: remediationv1.GroupVersion.String(), Kind: "RemediationRequest"},
		ObjectMeta: metav1.ObjectMeta{Name: "remediation-0123456789abcdef", Namespace: "kubernaut-system", ResourceVersion: "4242", UID: "0b0d5d1e-8d7e-4c1b-9a59-3f1c1f8f0a11",
			CreationTimestamp: now, Labels: map[string]string{remediationv1.LabelSignalFingerprint: "ab", remediationv1.LabelSeverity: "critical"},
			Annotations:   map[string]string{AnnotationGeneration: "0"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "gateway", Operation: "Update", APIVersion: "remediation.kubernaut.io/v1alpha1", FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:annotations":{".":{},"f:kubernaut.io/signal-generation":{}},"f:labels":{".":{},"f:kubernaut.io/severity":{}}},"f:spec":{".":{},"f:environment":{},"f:firingTime":{},"f:originalPayload":{},"f:priority":{},"f:providerData":{".":{},"f:alertmanagerURL":{},"f:namespace":{},"f:resource":{}},"f:receivedTime":{},"f:severity":{},"f:signalAnnotations":{},"f:signalFingerprint":{},"f:signalLabels":{},"f:signalName":{},"f:signalSource":{},"f:signalType":{},"f:targetResource":{}}}`)}}}},
		Spec: remediationv1.RemediationRequestSpec{SignalFingerprint: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", SignalName: "HighMemoryUsage",
			Severity: "critical", Environment: "production", Priority: "P0", SignalType: "prometheus-alert", SignalSource: "kubernaut",
			FiringTime: now, ReceivedTime: now, OriginalPayload: payload, SignalLabels: labels,
			SignalAnnotations: map[string]string{"summary": "Container memory usage is above 90%", "runbook_url": "https://runbooks.example.com/HighMemoryUsage"},
			ProviderData:      &remediationv1.ProviderData{Namespace: "shop", AlertmanagerURL: "http://alertmanager:9093"}},
	}
	raw, err := json.Marshal(full)
	require.NoError(b, err)
	scheme := runtime.NewScheme()
	require.NoError(b, remediationv1.AddToScheme(scheme))
	codecs := serializer.NewCodecFactory(scheme)
	b.Run("apimachinery-full", func(b *testing.B) {
		dec := codecs.UniversalDeserializer()
		for b.Loop() {
			if _, _, err := dec.Decode(raw, nil, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("slim-without-cutting-the-payload", func(b *testing.B) {
		for b.Loop() {
			var w wireState
			if err := json.Unmarshal(raw, &w); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("slim", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := (stateSerializer{}).Decode(raw, nil, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
