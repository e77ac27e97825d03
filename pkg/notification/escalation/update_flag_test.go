package escalation_test

import "flag"

// The -update flag regenerates golden files in pkg/notification/delivery; it is accepted here
// too so that `go test ./pkg/notification/... -update` runs in every package.
var _ = flag.Bool("update", false, "rewrite golden files (used by pkg/notification/delivery)")
