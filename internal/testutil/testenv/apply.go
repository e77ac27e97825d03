package testenv

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// ApplyFile creates, or replaces when they exist, every object of the YAML (or JSON) documents
// in path, as an administrator: for installing the manifests of deploy/ (admission policies,
// ConfigMaps) into a test's API server exactly as they ship.
func (e *Env) ApplyFile(t testing.TB, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
			return
		} else {
			require.NoError(t, err, "decoding %s", path)
		}
		if len(u.Object) == 0 {
			continue
		}
		require.NoError(t, createOrReplace(context.Background(), e.Client, u), "applying %s %s from %s", u.GetKind(), u.GetName(), path)
	}
}
