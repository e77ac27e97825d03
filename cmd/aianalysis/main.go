// Command aianalysis is Kubernaut's aianalysis service; see `aianalysis --help`.
package main

import (
	"github.com/kubernaut/kubernaut/cmd/aianalysis/app"
	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
)

func main() {
	shared.Execute(app.NewCommand())
}
