// Command rootfsimage writes a docker-archive tarball (what `ctr images import` and `docker load`
// read) of one image made of a single layer, a tar of a root filesystem, with no Docker daemon and
// no registry. hack/node uses it for the images the local node needs that no registry can give it
// here: the pod sandbox ("pause") image and PostgreSQL built from Debian's packages.
//
//	go run ./hack/node/rootfsimage --layer rootfs.tar --tag docker.io/library/postgres:15 \
//	    --entrypoint /usr/local/bin/docker-entrypoint.sh --user 999:999 --env PATH=/usr/bin --out postgres.tar
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	layer := flag.String("layer", "", "Tar of the root filesystem (the image's only layer).")
	tag := flag.String("tag", "", "Image reference written into the archive.")
	out := flag.String("out", "", "Path of the docker-archive to write.")
	user := flag.String("user", "", "User the image runs as (uid[:gid]).")
	workdir := flag.String("workdir", "/", "Working directory.")
	var entrypoint, env, cmd list
	flag.Var(&entrypoint, "entrypoint", "Entrypoint argument (repeat for each).")
	flag.Var(&cmd, "cmd", "Cmd argument (repeat for each).")
	flag.Var(&env, "env", "KEY=VALUE (repeat).")
	flag.Parse()
	if *layer == "" || *tag == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: rootfsimage --layer TAR --tag REF --out FILE [--entrypoint ARG]... [--env K=V]... [--user U]")
		os.Exit(2)
	}
	if err := write(*layer, *tag, *out, *user, *workdir, entrypoint, cmd, env); err != nil {
		fmt.Fprintln(os.Stderr, "rootfsimage:", err)
		os.Exit(1)
	}
}

func write(layerPath, tag, out, user, workdir string, entrypoint, cmd, env []string) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromFile(layerPath)
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.Architecture = runtime.GOARCH
	cf.OS = "linux"
	cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cf.Config.Entrypoint = entrypoint
	cf.Config.Cmd = cmd
	cf.Config.Env = env
	cf.Config.User = user
	cf.Config.WorkingDir = workdir
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := tarball.WriteToFile(tmp, ref, img); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}
