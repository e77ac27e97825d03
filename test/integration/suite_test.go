// Package integration_test holds the cross-service meeting tests: two or three services' real
// controllers run together on one API server (envtest), each under its generated RBAC, and a
// test checks what one service's real output does in the next one's real code. The services
// are started with internal/testutil/services, the objects the orchestrator creates around
// them built with internal/testutil/chain, as the services' own package tests do.
package integration_test

import (
	"os"
	"testing"

	"github.com/kubernaut/kubernaut/internal/testutil/chain"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

// One API server for the package (tests that install cluster-wide admission policies start
// their own); every test has its own namespaces.
var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.RunWithEnv(m, func(e *testenv.Env) { env = e })) }

const (
	wait = chain.Wait
	tick = chain.Tick
)
