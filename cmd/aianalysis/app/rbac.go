package app

// Leader election (--leader-elect, on in deploy/) holds a Lease in --namespace: granted there
// only, by the Role kubernaut-leader-election (deploy/base/leader-election.yaml), never
// cluster-wide. The same Role grants the Events the service records: the one of a won election,
// and those about its own resources, which live in --namespace too (none are recorded
// elsewhere, so no ClusterRole grants Events). The controller's own permissions are in
// pkg/aianalysis.
