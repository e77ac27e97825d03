package app

// The escalation API checks bearer tokens with TokenReview (--auth-mode=tokenreview).
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
