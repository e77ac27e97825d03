// Command gateway is Kubernaut's gateway service; see `gateway --help`.
package main

import (
	"github.com/kubernaut/kubernaut/cmd/gateway/app"
	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
)

func main() {
	shared.Execute(app.NewCommand())
}
