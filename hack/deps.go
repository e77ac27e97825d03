//go:build tools

// Package hack pins the modules the services use so that `go mod tidy` keeps them while a
// service is being written; remove an import once real code uses the module.
package hack

import (
	_ "github.com/emersion/go-sasl"
	_ "github.com/emersion/go-smtp"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/pressly/goose/v3"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/stretchr/testify/assert"
	_ "sigs.k8s.io/controller-runtime/pkg/envtest"
)
