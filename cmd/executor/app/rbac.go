package app

// Permissions of the executor process; the controller's and each action's are next to their
// code in pkg/executor. `make manifests` turns them into deploy/base/rbac/executor.
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete
// Leader election records a core Event when it is won.
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
