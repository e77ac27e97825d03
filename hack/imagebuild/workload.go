package imagebuild

import (
	"errors"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/kubernaut/kubernaut/internal/workload"
)

// WorkloadService is the e2e workload's binary name (hack/e2e-workload): its entrypoint
// is EntrypointPath(WorkloadService) and its archive ArchiveName(WorkloadService).
const WorkloadService = "e2e-workload"

// WorkloadBadCmd is the command of the workload.Bad image: it exits with code 1 a second after
// start, so a Deployment whose image tag changes from workload.GoodTag to workload.BadTag
// crash-loops.
var WorkloadBadCmd = []string{workload.ExitFlag + "=1"}

// WorkloadImages builds the e2e workload's two images (package internal/workload) from its
// static binary o.Binary, keyed by reference: workload.Good, with no command (it idles until
// SIGTERM), and workload.Bad, with the command WorkloadBadCmd. Both have the services' layout
// (scratch, CA bundle, passwd, user 65532) and expose no port; their version label is their tag.
// Only o.Binary, o.Revision, o.Arch, o.CACertificates and o.Created are used.
func WorkloadImages(o Options) (map[string]v1.Image, error) {
	if o.Binary == "" {
		return nil, errors.New("imagebuild: the binary of the e2e workload is required")
	}
	o.Service, o.Repository, o.NoPorts, o.Tags = WorkloadService, workload.Repository, true, nil
	images := map[string]v1.Image{}
	for ref, v := range map[string]struct {
		tag string
		cmd []string
	}{
		workload.Good: {workload.GoodTag, nil},
		workload.Bad:  {workload.BadTag, WorkloadBadCmd},
	} {
		o.Version, o.Cmd = v.tag, v.cmd
		img, err := Image(o)
		if err != nil {
			return nil, err
		}
		images[ref] = img
	}
	return images, nil
}

// WriteWorkload writes both e2e workload images into one docker-archive tarball at path (`kind
// load image-archive` loads both tags from it).
func WriteWorkload(o Options, path string) error {
	images, err := WorkloadImages(o)
	if err != nil {
		return err
	}
	return WriteArchive(path, images)
}
