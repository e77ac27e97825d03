package app

// Permissions of the executor process; the controller's and each action's are next to their
// code in pkg/executor. `make manifests` turns them into deploy/base/rbac/executor.
// Leader election (--leader-elect, on in deploy/) holds a Lease in --namespace: granted there
// only, by the Role kubernaut-leader-election (deploy/base/leader-election.yaml), never
// cluster-wide. It records a core Event when it is won.
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
