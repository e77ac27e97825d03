package imagebuild_test

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/hack/imagebuild"
	"github.com/kubernaut/kubernaut/internal/workload"
)

// staticBinary builds a tiny static Go program.
func staticBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module tiny\n\ngo 1.22\n"), 0o644))
	bin := filepath.Join(dir, "tiny")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

func options(bin string) imagebuild.Options {
	return imagebuild.Options{Service: "gateway", Binary: bin, Repository: "kubernaut/gateway", Tags: []string{"v1", "dev"},
		Version: "v1", Revision: "abc", Arch: "amd64", CACertificates: "/etc/ssl/certs/ca-certificates.crt",
		Created: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)}
}

func TestImageIsReproducibleNonRootAndLoadable(t *testing.T) {
	if _, err := os.Stat("/etc/ssl/certs/ca-certificates.crt"); err != nil {
		t.Fatalf("the CA bundle is missing: apt-get install ca-certificates")
	}
	o := options(staticBinary(t))
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.tar"), filepath.Join(dir, "b.tar")
	require.NoError(t, imagebuild.Write(o, a))
	require.NoError(t, imagebuild.Write(o, b))

	var digests []string
	for _, path := range []string{a, b} {
		for _, ref := range []string{"kubernaut/gateway:v1", "kubernaut/gateway:dev"} {
			img, err := imagebuild.Load(path, ref)
			require.NoError(t, err, ref)
			d, err := img.Digest()
			require.NoError(t, err)
			digests = append(digests, d.String())
		}
	}
	for _, d := range digests[1:] {
		assert.Equal(t, digests[0], d, "same inputs, same image, under every tag")
	}

	img, err := imagebuild.Load(a, "kubernaut/gateway:v1")
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, "65532:65532", cf.Config.User)
	assert.Equal(t, []string{"/usr/local/bin/gateway"}, cf.Config.Entrypoint)
	assert.Contains(t, cf.Config.ExposedPorts, "8080/tcp", "gateway serves an HTTP API")
	assert.Empty(t, cf.Config.Cmd, "a service image has only its entrypoint")
	assert.Equal(t, "v1", cf.Config.Labels["org.opencontainers.image.version"])
	assert.Equal(t, o.Created, cf.Created.Time.UTC())

	root := t.TempDir()
	require.NoError(t, imagebuild.Unpack(img, root))
	for path, mode := range map[string]os.FileMode{"usr/local/bin/gateway": 0o555, "etc/passwd": 0o644, "etc/ssl/certs/ca-certificates.crt": 0o644} {
		fi, err := os.Stat(filepath.Join(root, path))
		require.NoError(t, err, path)
		assert.Equal(t, mode, fi.Mode().Perm(), path)
	}
	passwd, err := os.ReadFile(filepath.Join(root, "etc", "passwd"))
	require.NoError(t, err)
	assert.Contains(t, string(passwd), "nonroot:x:65532:65532:")
}

func TestRefusesBinariesAScratchImageCannotRun(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o755))
	tests := map[string]struct {
		binary string
		want   string
	}{
		"not ELF":            {script, "not a Linux ELF binary"},
		"dynamically linked": {"/bin/ls", "dynamically linked"},
		"missing":            {filepath.Join(dir, "nope"), "no such file"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := options(tc.binary)
			_, err := imagebuild.Image(o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestWorkloadArchiveHoldsBothImages(t *testing.T) {
	if _, err := os.Stat("/etc/ssl/certs/ca-certificates.crt"); err != nil {
		t.Fatalf("the CA bundle is missing: apt-get install ca-certificates")
	}
	o := imagebuild.Options{Binary: staticBinary(t), Revision: "abc", Arch: "amd64",
		CACertificates: "/etc/ssl/certs/ca-certificates.crt", Created: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), imagebuild.ArchiveName(imagebuild.WorkloadService))
	require.NoError(t, imagebuild.WriteWorkload(o, path))

	// One docker-archive with two images: manifest.json lists each with its own config and tag,
	// and the layers they share once.
	manifest, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(path) })
	require.NoError(t, err)
	require.Len(t, manifest, 2)
	tags := map[string]string{}
	for _, d := range manifest {
		require.Len(t, d.RepoTags, 1)
		tags[d.RepoTags[0]] = d.Config
	}
	require.Contains(t, tags, workload.Good)
	require.Contains(t, tags, workload.Bad)
	assert.NotEqual(t, tags[workload.Good], tags[workload.Bad], "two different image configs")
	assert.Equal(t, manifest[0].Layers, manifest[1].Layers, "the same layers (the program), written once")

	tests := map[string]struct {
		ref, version string
		cmd          []string
	}{
		"good": {workload.Good, workload.GoodTag, nil},
		"bad":  {workload.Bad, workload.BadTag, []string{"--exit-code=1"}},
	}
	digests := map[string]bool{}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			img, err := imagebuild.Load(path, tc.ref)
			require.NoError(t, err)
			d, err := img.Digest()
			require.NoError(t, err)
			digests[d.String()] = true
			cf, err := img.ConfigFile()
			require.NoError(t, err)
			assert.Equal(t, "65532:65532", cf.Config.User)
			assert.Equal(t, []string{"/usr/local/bin/e2e-workload"}, cf.Config.Entrypoint)
			assert.Equal(t, tc.cmd, cf.Config.Cmd)
			assert.Empty(t, cf.Config.ExposedPorts, "the workload serves nothing")
			assert.Equal(t, tc.version, cf.Config.Labels["org.opencontainers.image.version"])
			assert.Equal(t, o.Created, cf.Created.Time.UTC())
		})
	}
	assert.Len(t, digests, 2, "two different images")
}
