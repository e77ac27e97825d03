package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubernaut/kubernaut/internal/launcher"
)

// service stops, kills and starts a Kubernaut service: its local process, or in remote mode its
// Deployment in the system namespace (scaled to zero and back; a kill also deletes the pods with
// no grace period, so the kubelet sends SIGKILL at once).
type service struct {
	name string
	// replicas the Deployment had before the scenario scaled it to zero (remote mode).
	replicas *int32
}

// svc returns the controls of a service.
func svc(name string) *service { return &service{name: name} }

// nameLabel selects a service's pods (deploy/base/services).
const nameLabel = "app.kubernetes.io/name"

// Stop stops the service gracefully.
func (s *service) Stop(ctx context.Context) error {
	if !remote {
		return sys.Services[s.name].Stop()
	}
	return s.scaleDown(ctx, false)
}

// Kill stops the service at once (SIGKILL).
func (s *service) Kill(ctx context.Context) error {
	if !remote {
		return sys.Services[s.name].Kill()
	}
	return s.scaleDown(ctx, true)
}

// Start starts the service again (remote: scales its Deployment back); WaitReady waits for it.
func (s *service) Start(ctx context.Context) error {
	if !remote {
		return sys.Services[s.name].Start()
	}
	d := &appsv1.Deployment{}
	if err := sys.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: launcher.SystemNamespace, Name: s.name}, d); err != nil {
		return err
	}
	want := s.want()
	if d.Spec.Replicas != nil && *d.Spec.Replicas == want {
		return nil
	}
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Replicas = &want
	if err := sys.Cluster.Client.Patch(ctx, d, patch); err != nil {
		return fmt.Errorf("scaling %s to %d: %w", s.name, want, err)
	}
	return nil
}

// want is the number of replicas the service runs with.
func (s *service) want() int32 {
	if s.replicas != nil {
		return *s.replicas
	}
	return 1
}

// WaitReady waits until the service is ready (remote: its Deployment has all its replicas
// updated and ready).
func (s *service) WaitReady(ctx context.Context) error {
	if !remote {
		return sys.Services[s.name].WaitReady(ctx)
	}
	d := &appsv1.Deployment{}
	want := s.want()
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := sys.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: launcher.SystemNamespace, Name: s.name}, d); err != nil {
			return false, nil
		}
		st := d.Status
		return st.ObservedGeneration >= d.Generation && st.ReadyReplicas == want && st.UpdatedReplicas == want && st.Replicas == want, nil
	})
	if err != nil {
		return fmt.Errorf("deployment %s did not become ready with %d replicas: %w", s.name, want, err)
	}
	return nil
}

// Running reports whether the service runs (remote: has at least one replica wanted).
func (s *service) Running(ctx context.Context) bool {
	if !remote {
		return sys.Services[s.name].Running()
	}
	d := &appsv1.Deployment{}
	err := sys.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: launcher.SystemNamespace, Name: s.name}, d)
	return err == nil && (d.Spec.Replicas == nil || *d.Spec.Replicas > 0)
}

// scaleDown scales the Deployment to zero (remembering its replicas), deletes its pods with no
// grace period when kill is set, and waits until none is left.
func (s *service) scaleDown(ctx context.Context, kill bool) error {
	c := sys.Cluster.Client
	d := &appsv1.Deployment{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: launcher.SystemNamespace, Name: s.name}, d); err != nil {
		return err
	}
	if s.replicas == nil {
		r := int32(1)
		if d.Spec.Replicas != nil && *d.Spec.Replicas > 0 {
			r = *d.Spec.Replicas
		}
		s.replicas = &r
	}
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Replicas = new(int32)
	if err := c.Patch(ctx, d, patch); err != nil {
		return fmt.Errorf("scaling %s to 0: %w", s.name, err)
	}
	if kill {
		err := c.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(launcher.SystemNamespace),
			client.MatchingLabels{nameLabel: s.name}, client.GracePeriodSeconds(0))
		if err != nil {
			return fmt.Errorf("killing the pods of %s: %w", s.name, err)
		}
	}
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		var pods corev1.PodList
		if err := c.List(ctx, &pods, client.InNamespace(launcher.SystemNamespace), client.MatchingLabels{nameLabel: s.name}); err != nil {
			return false, nil
		}
		return len(pods.Items) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("pods of %s still there after scaling to 0: %w", s.name, err)
	}
	return nil
}

// stoppedFor returns a service the scenario may stop or kill; when the scenario ends the service
// runs again and is ready, for the next one.
func stoppedFor(t *testing.T, name string) *service {
	s := svc(name)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if !s.Running(ctx) || remote {
			assert.NoError(t, s.Start(ctx))
		}
		require.NoError(t, s.WaitReady(ctx))
	})
	return s
}
