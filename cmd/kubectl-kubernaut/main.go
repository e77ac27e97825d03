// Command kubectl-kubernaut is the kubectl plugin to follow, approve and reject Kubernaut
// remediations; installed on PATH it runs as `kubectl kubernaut`. See `kubectl kubernaut --help`.
package main

import (
	"os"

	"github.com/kubernaut/kubernaut/pkg/kubectlplugin"
)

func main() {
	os.Exit(kubectlplugin.Main(os.Args[1:]))
}
