package gateway

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
)

// storedRequestJSON is a request as the API server returns it, with an 8 KiB payload.
func storedRequestJSON(b *testing.B) []byte {
	now := metav1.NewTime(time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC))
	rr := &remediationv1.RemediationRequest{
		TypeMeta: metav1.TypeMeta{APIVersion: remediationv1.GroupVersion.String(), Kind: "RemediationRequest"},
		ObjectMeta: metav1.ObjectMeta{Name: "remediation-0123456789abcdef", Namespace: "kubernaut-system", ResourceVersion: "42", UID: "0b5c",
			Labels:      map[string]string{remediationv1.LabelSignalFingerprint: strings.Repeat("a", 63), remediationv1.LabelSeverity: "critical"},
			Annotations: map[string]string{AnnotationGeneration: "0"}, CreationTimestamp: now},
		Spec: remediationv1.RemediationRequestSpec{SignalFingerprint: strings.Repeat("a", 64), SignalName: "HighMemoryUsage", ReceivedTime: now, FiringTime: now,
			SignalLabels:      map[string]string{"alertname": "HighMemoryUsage", "namespace": "shop", "deployment": "web", "container": "app"},
			SignalAnnotations: map[string]string{"summary": "Container memory usage is above 90%", "runbook_url": "https://runbooks.example.com/x"},
			OriginalPayload:   bytes.Repeat([]byte(`{"labels":{"alertname":"HighMemoryUsage"}},`), 8<<10/43)},
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(rr)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := json.Marshal(u)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// BenchmarkDecodeStoredRequest measures the informer's and the store's decode of one request,
// a watch event and a list of 100, payload cut included.
func BenchmarkDecodeStoredRequest(b *testing.B) {
	raw := storedRequestJSON(b)
	event := []byte(`{"type":"MODIFIED","object":` + string(raw) + "}")
	items := make([]string, 100)
	for i := range items {
		items[i] = string(raw)
	}
	list := []byte(`{"kind":"RemediationRequestList","apiVersion":"remediation.kubernaut.io/v1alpha1","metadata":{"resourceVersion":"43"},"items":[` + strings.Join(items, ",") + "]}")
	b.Run("object", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, _, err := (stateSerializer{}).Decode(raw, nil, &rrState{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("watch-event", func(b *testing.B) {
		b.SetBytes(int64(len(event)))
		for b.Loop() {
			var we metav1.WatchEvent
			if _, _, err := (stateSerializer{}).Decode(event, nil, &we); err != nil {
				b.Fatal(err)
			}
			if _, _, err := (stateSerializer{}).Decode(we.Object.Raw, nil, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("list-100", func(b *testing.B) {
		b.SetBytes(int64(len(list)))
		for b.Loop() {
			if _, _, err := (stateSerializer{}).Decode(list, nil, &rrStateList{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
