// Command imagebuild writes one docker-archive tarball per service from static binaries, with no
// Docker daemon and no base image (see package imagebuild). `make docker-build` runs it:
//
//	go run ./hack/imagebuild/cmd --bin-dir bin/linux-amd64 --out bin/images/v1.2.3 \
//	    --repository-prefix kubernaut --tag v1.2.3 gateway orchestrator ...
//
// With --e2e-workload it also (or, given no service, only) writes e2e-workload.tar: the e2e
// workload's two images kubernaut.local/e2e-workload:1.4.2 and :1.5.0 (package
// internal/workload) from <bin-dir>/e2e-workload, in one archive (`make e2e-workload-image`).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kubernaut/kubernaut/hack/imagebuild"
)

func main() {
	binDir := flag.String("bin-dir", "", "Directory with the static linux binaries, one per service.")
	out := flag.String("out", "", "Directory the archives <service>.tar are written to.")
	prefix := flag.String("repository-prefix", "kubernaut", "Image names are <prefix>/<service>.")
	tags := flag.String("tag", "dev", "Comma-separated tags written into each archive.")
	version := flag.String("version", "", "Version label (org.opencontainers.image.version); defaults to the first tag.")
	revision := flag.String("revision", "", "Revision label (the git commit).")
	arch := flag.String("arch", runtime.GOARCH, "GOARCH the binaries were built for.")
	certs := flag.String("ca-certificates", "/etc/ssl/certs/ca-certificates.crt", "PEM bundle copied into the images.")
	epoch := flag.String("source-date-epoch", os.Getenv("SOURCE_DATE_EPOCH"), "Unix time of every file and of the images (reproducible builds); default 0.")
	e2eWorkload := flag.Bool("e2e-workload", false, "Also write "+imagebuild.ArchiveName(imagebuild.WorkloadService)+
		", the e2e workload's images (both tags, fixed; --tag and --repository-prefix do not apply) from <bin-dir>/"+imagebuild.WorkloadService+".")
	flag.Parse()
	if *binDir == "" || *out == "" || (flag.NArg() == 0 && !*e2eWorkload) {
		fmt.Fprintln(os.Stderr, "usage: imagebuild --bin-dir DIR --out DIR [flags] [--e2e-workload] SERVICE...")
		flag.PrintDefaults()
		os.Exit(2)
	}
	created := time.Unix(0, 0).UTC()
	if *epoch != "" {
		sec, err := strconv.ParseInt(*epoch, 10, 64)
		if err != nil {
			fail(fmt.Errorf("--source-date-epoch %q: %w", *epoch, err))
		}
		created = time.Unix(sec, 0).UTC()
	}
	tagList := strings.Split(*tags, ",")
	if *version == "" {
		*version = tagList[0]
	}
	for _, svc := range flag.Args() {
		o := imagebuild.Options{
			Service: svc, Binary: filepath.Join(*binDir, svc), Repository: *prefix + "/" + svc, Tags: tagList,
			Version: *version, Revision: *revision, Arch: *arch, CACertificates: *certs, Created: created,
		}
		path := filepath.Join(*out, imagebuild.ArchiveName(svc))
		if err := imagebuild.Write(o, path); err != nil {
			fail(err)
		}
		img, err := imagebuild.Load(path, o.Repository+":"+tagList[0])
		if err != nil {
			fail(err)
		}
		digest, err := img.Digest()
		if err != nil {
			fail(err)
		}
		fmt.Printf("%-40s %s  %s\n", o.Repository+":"+strings.Join(tagList, ","), digest, path)
	}
	if *e2eWorkload {
		o := imagebuild.Options{
			Binary: filepath.Join(*binDir, imagebuild.WorkloadService), Revision: *revision, Arch: *arch,
			CACertificates: *certs, Created: created,
		}
		images, err := imagebuild.WorkloadImages(o)
		if err != nil {
			fail(err)
		}
		path := filepath.Join(*out, imagebuild.ArchiveName(imagebuild.WorkloadService))
		if err := imagebuild.WriteArchive(path, images); err != nil {
			fail(err)
		}
		refs := make([]string, 0, len(images))
		for ref := range images {
			refs = append(refs, ref)
		}
		sort.Strings(refs)
		for _, ref := range refs {
			digest, err := images[ref].Digest()
			if err != nil {
				fail(err)
			}
			fmt.Printf("%-40s %s  %s\n", ref, digest, path)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "imagebuild:", err)
	os.Exit(1)
}
