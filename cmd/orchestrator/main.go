// Command orchestrator is Kubernaut's orchestrator service; see `orchestrator --help`.
package main

import (
	"github.com/kubernaut/kubernaut/cmd/orchestrator/app"
	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
)

func main() {
	shared.Execute(app.NewCommand())
}
