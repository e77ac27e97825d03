package controller

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/event"

	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
)

func TestCacheKeepsIdentityGenerationAndPhase(t *testing.T) {
	var opts cache.Options
	CacheOptions(&opts, "kubernaut-system")
	assert.Contains(t, opts.DefaultNamespaces, "kubernaut-system")
	require.Len(t, opts.ByObject, 1)
	var transform func(any) (any, error)
	for _, by := range opts.ByObject {
		transform = by.Transform
	}
	full := &notificationv1.NotificationRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "rr-completion", Namespace: "kubernaut-system", UID: "u1", ResourceVersion: "42", Generation: 1,
			Labels: map[string]string{"kubernaut.io/remediation-request": "rr"}, Annotations: map[string]string{"a": "b"},
			OwnerReferences: []metav1.OwnerReference{{Name: "rr"}}},
		Spec: notificationv1.NotificationRequestSpec{Type: notificationv1.TypeCompletion, Subject: "done", Body: "a long body",
			Channels: []notificationv1.Channel{notificationv1.ChannelSlack}},
		Status: notificationv1.NotificationRequestStatus{Phase: notificationv1.PhaseSent, ObservedGeneration: 1, Message: "delivered",
			DeliveryAttempts: []notificationv1.DeliveryAttempt{{Channel: notificationv1.ChannelSlack, Attempt: 1, Status: notificationv1.DeliverySuccess}}},
	}
	out, err := transform(full)
	require.NoError(t, err)
	slim := out.(*notificationv1.NotificationRequest)
	assert.Equal(t, &notificationv1.NotificationRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "rr-completion", Namespace: "kubernaut-system", UID: "u1", ResourceVersion: "42", Generation: 1},
		Status:     notificationv1.NotificationRequestStatus{Phase: notificationv1.PhaseSent, ObservedGeneration: 1},
	}, slim)
}

func TestStartUpSkipsRequestsInAFinalPhase(t *testing.T) {
	for phase, want := range map[notificationv1.Phase]bool{
		"": true, notificationv1.PhasePending: true, notificationv1.PhaseSending: true, notificationv1.PhaseRetrying: true,
		notificationv1.PhaseSent: false, notificationv1.PhasePartiallySent: false, notificationv1.PhaseFailed: false,
	} {
		nr := &notificationv1.NotificationRequest{Status: notificationv1.NotificationRequestStatus{Phase: phase}}
		assert.Equal(t, want, notFinished.Create(event.CreateEvent{Object: nr}), "phase %q", phase)
	}
}
