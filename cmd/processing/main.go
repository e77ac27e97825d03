// Command processing is Kubernaut's processing service; see `processing --help`.
package main

import (
	"github.com/kubernaut/kubernaut/cmd/processing/app"
	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
)

func main() {
	shared.Execute(app.NewCommand())
}
