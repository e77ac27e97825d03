package testenv_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

// A service run with AsService gets Leases exactly as deploy/ grants them: a controller through
// the namespaced Role kubernaut-leader-election in its own namespace only, a service without
// leader election not at all; no generated ClusterRole grants Leases anywhere.
func TestAsServiceGrantsLeasesOnlyInTheServiceNamespace(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	cases := map[string]struct{ elects bool }{
		"orchestrator": {elects: true}, "processing": {elects: true}, "aianalysis": {elects: true},
		"workflow": {elects: true}, "executor": {elects: true}, "notification": {elects: true},
		"gateway": {elects: false}, "datastorage": {elects: false},
	}
	for service, tc := range cases {
		t.Run(service, func(t *testing.T) {
			require.Equal(t, tc.elects, testenv.ElectsLeader(t, service), "deploy/base/services/%s.yaml binds the leader-election Role", service)
			ns, elsewhere := env.Namespace(t, nil), env.Namespace(t, nil)
			c, err := client.New(env.AsService(t, service, ns), client.Options{Scheme: env.Client.Scheme()})
			require.NoError(t, err)
			lease := func(namespace string) *coordinationv1.Lease {
				return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "kubernaut-" + service}}
			}
			err = c.Create(ctx, lease(ns))
			if tc.elects {
				require.NoError(t, err, "a controller holds its Lease in its namespace")
				var got coordinationv1.Lease
				assert.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(lease(ns)), &got))
			} else {
				assert.True(t, apierrors.IsForbidden(err), "no Lease for a service without leader election, got %v", err)
			}
			assert.True(t, apierrors.IsForbidden(c.Create(ctx, lease(elsewhere))), "no Lease outside the service's namespace")
			assert.True(t, apierrors.IsForbidden(c.List(ctx, &coordinationv1.LeaseList{})), "no Leases cluster-wide")
		})
	}
}
