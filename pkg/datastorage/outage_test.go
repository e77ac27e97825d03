package datastorage_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/internal/testutil/testpg"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
)

func (e *env) ready() int {
	resp, err := http.Get(e.health.URL + "/readyz")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

func TestDatabaseStoppedAndRestartedUnderTheService(t *testing.T) {
	pg := testpg.NewServer(t)
	e := newEnv(t, pg.NewDatabase(t))
	code, body := e.post(record("rr-before"))
	require.Equal(t, http.StatusCreated, code, string(body))
	require.Equal(t, http.StatusOK, e.ready())

	require.NoError(t, pg.Stop())
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, http.StatusServiceUnavailable, e.ready(), "not ready without the database")
	}, 20*time.Second, 100*time.Millisecond)
	for name, do := range map[string]func() (int, []byte){
		"post": func() (int, []byte) { return e.post(record("rr-during")) },
		"get":  func() (int, []byte) { return e.do(http.MethodGet, auditapi.RemediationPath+"/rr-before", nil) },
		"list": func() (int, []byte) { return e.do(http.MethodGet, auditapi.RemediationPath, nil) },
		"effectiveness": func() (int, []byte) {
			return e.do(http.MethodGet, auditapi.EffectivenessPath+"?signalName=a&action=b", nil)
		},
	} {
		code, body := do()
		assert.Equal(t, http.StatusServiceUnavailable, code, "%s while the database is down: %s", name, body)
	}
	healthz, err := http.Get(e.health.URL + "/healthz")
	require.NoError(t, err)
	healthz.Body.Close()
	assert.Equal(t, http.StatusOK, healthz.StatusCode, "alive while the database is down")

	require.NoError(t, pg.Start())
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, http.StatusOK, e.ready())
	}, 30*time.Second, 100*time.Millisecond)
	// The retried post now succeeds and the earlier record survived.
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		code, _ := e.post(record("rr-during"))
		assert.Equal(c, http.StatusCreated, code)
	}, 30*time.Second, 100*time.Millisecond)
	assert.Equal(t, "rr-before", e.get("rr-before").RemediationName)
	assert.Equal(t, "rr-during", e.get("rr-during").RemediationName)
}
