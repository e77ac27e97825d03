// Command notification is Kubernaut's notification service; see `notification --help`.
package main

import (
	"github.com/kubernaut/kubernaut/cmd/notification/app"
	shared "github.com/kubernaut/kubernaut/pkg/shared/app"
)

func main() {
	shared.Execute(app.NewCommand())
}
