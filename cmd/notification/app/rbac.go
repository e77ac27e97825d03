package app

// The escalation API checks bearer tokens with TokenReview (--auth-mode=tokenreview).
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create

// Leader election (--leader-elect, on in deploy/) holds a Lease in --namespace and records a
// core Event when it is won.
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
