package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type unavailableAuth struct{}

func (unavailableAuth) Authenticate(context.Context, string) (string, error) {
	return "", &UnavailableError{Err: errors.New("api server down")}
}

func TestRequireBearer(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte("# comment\nfirst-token\n\nsecond-token\n"), 0o600))
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(Caller(r.Context()))) })

	tests := map[string]struct {
		auth     Authenticator
		header   string
		wantCode int
		wantBody string
	}{
		"no header":             {auth: &TokenFile{Path: tokens}, wantCode: http.StatusUnauthorized, wantBody: "missing bearer token"},
		"not a bearer header":   {auth: &TokenFile{Path: tokens}, header: "Basic abc", wantCode: http.StatusUnauthorized},
		"unknown token":         {auth: &TokenFile{Path: tokens}, header: "Bearer nope", wantCode: http.StatusUnauthorized, wantBody: "not accepted"},
		"first listed token":    {auth: &TokenFile{Path: tokens}, header: "Bearer first-token", wantCode: http.StatusOK, wantBody: "token-file#1"},
		"second listed token":   {auth: &TokenFile{Path: tokens}, header: "Bearer second-token", wantCode: http.StatusOK, wantBody: "token-file#2"},
		"authenticator is down": {auth: unavailableAuth{}, header: "Bearer x", wantCode: http.StatusServiceUnavailable},
		"no auth":               {auth: NoAuth{}, wantCode: http.StatusOK},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			rec := httptest.NewRecorder()
			RequireBearer(tc.auth, ok).ServeHTTP(rec, req)
			assert.Equal(t, tc.wantCode, rec.Code)
			assert.Contains(t, rec.Body.String(), tc.wantBody)
			if tc.wantCode == http.StatusServiceUnavailable {
				assert.NotEmpty(t, rec.Header().Get("Retry-After"))
			}
		})
	}
}

func TestTokenFileRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(path, []byte("old\n"), 0o600))
	tf := &TokenFile{Path: path}
	_, err := tf.Authenticate(context.Background(), "old")
	require.NoError(t, err)

	require.NoError(t, os.WriteFile(path, []byte("new\n"), 0o600))
	later := time.Now().Add(time.Second)
	require.NoError(t, os.Chtimes(path, later, later))
	_, err = tf.Authenticate(context.Background(), "old")
	assert.Error(t, err, "a rotated-out token is refused")
	_, err = tf.Authenticate(context.Background(), "new")
	assert.NoError(t, err)
}

func TestReadBodyLimit(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("0123456789"))
	_, err := ReadBody(req, 9)
	assert.ErrorIs(t, err, ErrTooLarge)
	rec := httptest.NewRecorder()
	WriteBodyError(rec, err, 9)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)

	req = httptest.NewRequest(http.MethodPost, "/", strings.NewReader("0123456789"))
	body, err := ReadBody(req, 10)
	require.NoError(t, err)
	assert.Equal(t, "0123456789", string(body))
}
