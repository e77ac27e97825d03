package action_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/pkg/executor/action"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// Every catalog action has an implementation: an action the workflow may plan must never reach
// the executor without one.
func TestEveryCatalogActionIsImplemented(t *testing.T) {
	for _, a := range actions.All() {
		_, ok := action.For(string(a.Name))
		assert.True(t, ok, "catalog action %s has no implementation in pkg/executor/action", a.Name)
	}
	_, ok := action.For("exec_shell")
	assert.False(t, ok)
}

func TestIdentityRoundTrips(t *testing.T) {
	id := action.Identity{Execution: "kubernaut-system/rr-execution", UID: "u1", Operation: "op", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	got, err := action.ParseIdentity(id.Encode())
	require.NoError(t, err)
	assert.Equal(t, id, got)
	assert.True(t, id.Same(got))
	other := id
	other.UID = "u2"
	assert.False(t, id.Same(other), "another execution's operation of the same name is another operation")
	_, err = action.ParseIdentity("not json")
	assert.Error(t, err)
}
