package processing

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
)

func fullMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "shop", UID: "u1", ResourceVersion: "7", Labels: map[string]string{"app": "web"},
		Annotations:     map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{...big...}"},
		ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
		OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-1", Controller: ptr.To(true)}, {Kind: "Other", Name: "x"}},
		Finalizers:      []string{"f"}}
}

func TestTransformsStrip(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	res := corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}}
	pod := &corev1.Pod{ObjectMeta: fullMeta("web-1-a"),
		Spec: corev1.PodSpec{NodeName: "n1", ServiceAccountName: "sa", Volumes: []corev1.Volume{{Name: "v"}},
			InitContainers: []corev1.Container{{Name: "init", Image: "init:1"}},
			Containers: []corev1.Container{{Name: "app", Image: "web:1", Resources: res, Command: []string{"/web"}, Env: []corev1.EnvVar{{Name: "SECRET", Value: "x"}},
				LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}, PeriodSeconds: 5}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1", HostIP: "10.1.0.1",
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Image: "web:1", ImageID: "sha256:abc", ContainerID: "containerd://1", RestartCount: 2,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}}}}}
	got := stripPod(pod)
	want := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1-a", Namespace: "shop", UID: "u1", ResourceVersion: "7", Labels: map[string]string{"app": "web"},
		OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-1", Controller: ptr.To(true)}}},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "app", Image: "web:1", Resources: res, LivenessProbe: &corev1.Probe{}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Image: "web:1", RestartCount: 2, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}}}}}
	assert.Empty(t, cmp.Diff(want, got))

	rp := &processingv1.RemediationProcessing{ObjectMeta: fullMeta("rr-processing"),
		Spec: processingv1.RemediationProcessingSpec{Alert: processingv1.Alert{Payload: make([]byte, 60000), SignalName: "x"}},
		Status: processingv1.RemediationProcessingStatus{Phase: processingv1.PhaseCompleted, EnrichedSignal: &processingv1.EnrichedSignal{
			KubernetesContext: &common.KubernetesContext{TargetNotFound: true}}}}
	done := stripProcessing(rp)
	assert.Equal(t, processingv1.PhaseCompleted, done.Status.Phase)
	assert.Nil(t, done.Status.EnrichedSignal, "a finished processing keeps only its phase")
	assert.Empty(t, done.Spec.Alert.SignalName)
	rp.Status = processingv1.RemediationProcessingStatus{}
	open := stripProcessing(rp)
	assert.Nil(t, open.Spec.Alert.Payload, "the payload is never read")
	assert.Equal(t, "x", open.Spec.Alert.SignalName)
}

// Of a pod's volumes only the claims it mounts are kept, as claim names (a generic ephemeral
// volume's claim is <pod>-<volume>), so the claim index finds the pods of a PVC target.
func TestStripPodKeepsClaimNames(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "db-0", Namespace: "shop"}, Spec: corev1.PodSpec{Volumes: []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}}}},
		{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data-db-0", ReadOnly: true}}},
		{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}},
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}}}
	claim := func(name string) corev1.Volume {
		return corev1.Volume{VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: name}}}
	}
	assert.Empty(t, cmp.Diff([]corev1.Volume{claim("data-db-0"), claim("db-0-scratch")}, stripPod(pod).Spec.Volumes))
	assert.Nil(t, stripPod(&corev1.Pod{Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "tmp"}}}}).Spec.Volumes, "nothing kept for a pod without claims")
}
