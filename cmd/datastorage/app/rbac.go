package app

// Permissions of the datastorage service (only --auth-mode=tokenreview talks to the API server);
// `make manifests` turns them into deploy/base/rbac/datastorage.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
