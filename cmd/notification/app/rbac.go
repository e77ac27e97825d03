package app

// The escalation API checks bearer tokens with TokenReview (--auth-mode=tokenreview).
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create

// Leader election (--leader-elect, on in deploy/) holds a Lease in --namespace: granted there
// only, by the Role kubernaut-leader-election (deploy/base/leader-election.yaml), never
// cluster-wide. It records a core Event when it is won.
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
