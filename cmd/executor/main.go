// Command executor is Kubernaut's executor service; see `executor --help`.
package main

import (
	"github.com/kubernaut/kubernaut/cmd/executor/app"
	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
)

func main() {
	shared.Execute(app.NewCommand())
}
