package gateway

// NewRequest exposes the request the gateway creates for a signal, so that the benchmarks'
// ceiling stores exactly the same objects.
var NewRequest = newRequest
