package app

// Permissions of the aianalysis service; `make manifests` turns them into deploy/base/rbac/aianalysis.
// +kubebuilder:rbac:groups=aianalysis.kubernaut.io,resources=aianalyses;aiapprovalrequests,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=aianalysis.kubernaut.io,resources=aianalyses;aiapprovalrequests/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="";events.k8s.io,resources=events,verbs=create;patch
