package app

// Leader election (--leader-elect, on in deploy/) holds a Lease in --namespace and records a
// core Event when it is won. The controller's own permissions are in pkg/workflow.
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
