// Command datastorage is Kubernaut's datastorage service; see `datastorage --help`.
package main

import (
	"github.com/kubernaut/kubernaut/cmd/datastorage/app"
	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
)

func main() {
	shared.Execute(app.NewCommand())
}
