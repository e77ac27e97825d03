// Command workflow is Kubernaut's workflow service; see `workflow --help`.
package main

import (
	"github.com/kubernaut/kubernaut/cmd/workflow/app"
	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
)

func main() {
	shared.Execute(app.NewCommand())
}
