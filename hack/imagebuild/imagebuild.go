// Package imagebuild builds Kubernaut's container images without a Docker daemon or a base
// image: each image is the equivalent of
//
//	FROM scratch
//	COPY ca-certificates.crt /etc/ssl/certs/
//	COPY passwd group /etc/          # root and nonroot (uid/gid 65532)
//	COPY <service> /usr/local/bin/
//	USER 65532:65532
//	ENTRYPOINT ["/usr/local/bin/<service>"]
//
// assembled with go-containerregistry and written as a docker-archive tarball (what `docker
// load` and `kind load image-archive` accept). The binaries must be static (CGO_ENABLED=0).
// Builds are reproducible: every file time and the image's creation time are the given Created
// time (the commit time in `make docker-build`).
//
// The same layout carries the e2e workload (WorkloadImages): one archive with its two tags, the
// healthy workload.Good and workload.Bad, whose Cmd makes it exit with code 1 (`make
// e2e-workload-image`).
package imagebuild

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// NonRootUID is the user (and group) every image runs as; deploy/base sets the same runAsUser.
const NonRootUID = 65532

// HTTPServices are the services that serve an HTTP API on :8080 besides probes and metrics.
var HTTPServices = map[string]bool{"gateway": true, "notification": true, "datastorage": true}

// Ports every service exposes: probes (:8081) and metrics (:9090).
const (
	ProbePort   = 8081
	MetricsPort = 9090
	HTTPPort    = 8080
)

// Options describe one build.
type Options struct {
	// Service is the binary's name (gateway, orchestrator, ...).
	Service string
	// Binary is the path of the static binary built for Arch.
	Binary string
	// Repository is the image name without tag, e.g. kubernaut/gateway.
	Repository string
	// Tags are the tags written into the archive (at least one).
	Tags []string
	// Version and Revision go into the OCI labels.
	Version, Revision string
	// Arch is the GOARCH of the binary (amd64, arm64).
	Arch string
	// CACertificates is a PEM bundle copied to /etc/ssl/certs/ca-certificates.crt.
	CACertificates string
	// Created is the time of every file and of the image (reproducible builds).
	Created time.Time
	// Cmd is the image's default arguments after the entrypoint (Config.Cmd); the services have
	// none.
	Cmd []string
	// NoPorts leaves out the probe, metrics and HTTP ports, for a program that serves nothing (the
	// e2e workload).
	NoPorts bool
}

// EntrypointPath is where a service's binary lives in its image.
func EntrypointPath(service string) string { return "/usr/local/bin/" + service }

// Image assembles the image of one service.
func Image(o Options) (v1.Image, error) {
	if o.Service == "" || o.Binary == "" {
		return nil, errors.New("imagebuild: service and binary are required")
	}
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("reading the binary of %s: %w", o.Service, err)
	}
	if err := checkStatic(bin); err != nil {
		return nil, fmt.Errorf("binary %s: %w", o.Binary, err)
	}
	certs, err := os.ReadFile(o.CACertificates)
	if err != nil {
		return nil, fmt.Errorf("reading CA certificates (install Debian's ca-certificates or pass another bundle): %w", err)
	}
	base, err := layer(o.Created, baseFiles(certs))
	if err != nil {
		return nil, err
	}
	app, err := layer(o.Created, []file{
		{name: "usr/", mode: 0o755, dir: true},
		{name: "usr/local/", mode: 0o755, dir: true},
		{name: "usr/local/bin/", mode: 0o755, dir: true},
		{name: "usr/local/bin/" + o.Service, mode: 0o555, data: bin},
	})
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, base, app)
	if err != nil {
		return nil, fmt.Errorf("adding layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", o.Arch
	cf.Created = v1.Time{Time: o.Created}
	var ports map[string]struct{}
	if !o.NoPorts {
		ports = map[string]struct{}{
			strconv.Itoa(ProbePort) + "/tcp":   {},
			strconv.Itoa(MetricsPort) + "/tcp": {},
		}
		if HTTPServices[o.Service] {
			ports[strconv.Itoa(HTTPPort)+"/tcp"] = struct{}{}
		}
	}
	cf.Config = v1.Config{
		User:         fmt.Sprintf("%d:%d", NonRootUID, NonRootUID),
		Entrypoint:   []string{EntrypointPath(o.Service)},
		Cmd:          o.Cmd,
		WorkingDir:   "/",
		Env:          []string{"PATH=/usr/local/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
		ExposedPorts: ports,
		Labels: map[string]string{
			"org.opencontainers.image.title":       "kubernaut-" + o.Service,
			"org.opencontainers.image.description": "Kubernaut " + o.Service + " (static binary, non-root)",
			"org.opencontainers.image.version":     o.Version,
			"org.opencontainers.image.revision":    o.Revision,
			"org.opencontainers.image.source":      "https://github.com/kubernaut/kubernaut",
		},
	}
	return mutate.ConfigFile(img, cf)
}

// Write builds the image and writes it with all its tags as a docker-archive tarball at path.
func Write(o Options, path string) error {
	if len(o.Tags) == 0 {
		return errors.New("imagebuild: at least one tag is required")
	}
	img, err := Image(o)
	if err != nil {
		return err
	}
	images := map[string]v1.Image{}
	for _, tag := range o.Tags {
		images[o.Repository+":"+tag] = img
	}
	return WriteArchive(path, images)
}

// WriteArchive writes images, keyed by their references (repository:tag), as one docker-archive
// tarball at path; the images may differ (layers they share are written once).
func WriteArchive(path string, images map[string]v1.Image) error {
	refs := map[name.Reference]v1.Image{}
	for r, img := range images {
		ref, err := name.NewTag(r, name.WeakValidation)
		if err != nil {
			return fmt.Errorf("image name %s: %w", r, err)
		}
		refs[ref] = img
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := tarball.MultiRefWriteToFile(tmp, refs); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

// ArchiveName is the file name of a service's archive.
func ArchiveName(service string) string { return service + ".tar" }

// Load reads the image tagged ref (e.g. kubernaut/gateway:dev) from a docker-archive tarball;
// an empty ref reads the only image.
func Load(path, ref string) (v1.Image, error) {
	var tag *name.Tag
	if ref != "" {
		t, err := name.NewTag(ref, name.WeakValidation)
		if err != nil {
			return nil, err
		}
		tag = &t
	}
	return tarball.ImageFromPath(path, tag)
}

// Unpack writes the image's flattened filesystem into dir (files keep their modes; owners are
// applied only when running as root).
func Unpack(img v1.Image, dir string) error {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the image filesystem: %w", err)
		}
		target := filepath.Join(dir, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, tr); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected entry %s of type %c in the image", h.Name, h.Typeflag)
		}
		if err := os.Chmod(target, h.FileInfo().Mode()); err != nil {
			return err
		}
		if os.Geteuid() == 0 {
			if err := os.Lchown(target, h.Uid, h.Gid); err != nil {
				return err
			}
		}
	}
}

type file struct {
	name     string
	mode     int64
	dir      bool
	uid, gid int
	data     []byte
}

func baseFiles(certs []byte) []file {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", NonRootUID, NonRootUID)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", NonRootUID)
	return []file{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		{name: "etc/ssl/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: certs},
		{name: "home/", mode: 0o755, dir: true},
		{name: "home/nonroot/", mode: 0o700, dir: true, uid: NonRootUID, gid: NonRootUID},
		{name: "tmp/", mode: 0o1777, dir: true},
	}
}

// layer writes files (in name order) as one uncompressed tar layer.
func layer(mtime time.Time, files []file) (v1.Layer, error) {
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Uid: f.uid, Gid: f.gid, ModTime: mtime, Format: tar.FormatPAX}
		if f.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	raw := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil })
}

// checkStatic refuses binaries that need a dynamic loader (scratch images have none).
func checkStatic(bin []byte) error {
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return fmt.Errorf("not a Linux ELF binary (build with GOOS=linux): %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("dynamically linked (build with CGO_ENABLED=0): a scratch image has no loader")
		}
	}
	return nil
}
