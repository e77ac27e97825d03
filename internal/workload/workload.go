// Package workload names the e2e workload: a tiny static program, shipped as the image
// Repository:GoodTag and Repository:BadTag, that fails for real the way the scenarios need, so
// that a cluster with real kubelets (kind) shows the same incidents that the local cluster's kwok
// reports from its stages (internal/testutil/localcluster/kwok-stages-e2e.yaml).
//
//   - Repository:GoodTag runs idle until SIGTERM (exit 0).
//   - With AllocateFlag=<N>Mi it first allocates and touches N MiB, so that under a memory limit
//     below N MiB the kernel OOM-kills it (the kubelet reports OOMKilled, exit code 137).
//   - Repository:BadTag is the same program whose image command is ExitFlag=1: it exits with
//     code 1 a moment after it starts (a bad release: the kubelet reports a crash loop).
package workload

const (
	// Repository is the image name without tag (loaded into kind by make e2e-kind; never pulled).
	Repository = "kubernaut.local/e2e-workload"
	// GoodTag is the healthy version.
	GoodTag = "1.4.2"
	// BadTag is the version that crashes at start.
	BadTag = "1.5.0"
	// AllocateFlag makes the program allocate and touch the given MiB (for example "160Mi") at
	// start; the value must be written in Mi.
	AllocateFlag = "--allocate"
	// ExitFlag makes the program exit with the given code one second after it starts.
	ExitFlag = "--exit-code"
)

// Good and Bad are the two image references.
var (
	Good = Repository + ":" + GoodTag
	Bad  = Repository + ":" + BadTag
)
