package app

// Leader election (--leader-elect, on in deploy/) holds a Lease in --namespace: granted there
// only, by the Role kubernaut-leader-election (deploy/base/leader-election.yaml), never
// cluster-wide. It records a core Event when it is won. The controller's own permissions are in
// pkg/orchestrator.
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
