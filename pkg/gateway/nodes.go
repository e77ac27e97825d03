package gateway

import (
	"context"
	"fmt"
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// nodeIndex watches the cluster's Nodes and keeps of each only its name and InternalIPs, so
// that an alert's node or instance label is matched without an API call.
type nodeIndex struct {
	informer toolscache.SharedIndexInformer
}

const byInternalIP = "internalIP"

func newNodeIndex(mgr manager.Manager) (*nodeIndex, error) {
	cs, err := kubernetes.NewForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return nil, fmt.Errorf("building the Node client: %w", err)
	}
	lw := toolscache.NewListWatchFromClient(cs.CoreV1().RESTClient(), "nodes", "", fields.Everything())
	inf := toolscache.NewSharedIndexInformerWithOptions(lw, &corev1.Node{}, toolscache.SharedIndexInformerOptions{
		Indexers: toolscache.Indexers{byInternalIP: func(obj any) ([]string, error) {
			n := obj.(*corev1.Node)
			ips := make([]string, 0, len(n.Status.Addresses))
			for _, a := range n.Status.Addresses {
				ips = append(ips, a.Address)
			}
			return ips, nil
		}},
	})
	if err := inf.SetTransform(slimNode); err != nil {
		return nil, fmt.Errorf("setting up the Node informer: %w", err)
	}
	return &nodeIndex{informer: inf}, nil
}

// slimNode keeps a Node's name, resourceVersion and InternalIP addresses only.
func slimNode(obj any) (any, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	out := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name, ResourceVersion: n.ResourceVersion}}
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			out.Status.Addresses = append(out.Status.Addresses, corev1.NodeAddress{Type: a.Type, Address: a.Address})
		}
	}
	return out, nil
}

// Start runs the informer until ctx ends (a manager runnable on every replica).
func (n *nodeIndex) Start(ctx context.Context) error {
	n.informer.RunWithContext(ctx)
	return nil
}

// NeedLeaderElection says that every replica runs the informer.
func (n *nodeIndex) NeedLeaderElection() bool { return false }

func (n *nodeIndex) hasSynced() bool { return n.informer.HasSynced() }

// byName says whether a Node of that name exists.
func (n *nodeIndex) byName(name string) bool {
	_, ok, err := n.informer.GetIndexer().GetByKey(name)
	return err == nil && ok
}

// byAddress returns the Node named by an instance label: a Node's name, or one of its
// InternalIPs, either with an optional ":port" (IPv6 addresses in brackets).
func (n *nodeIndex) byAddress(value string) (string, bool) {
	host := value
	if h, _, err := net.SplitHostPort(value); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return "", false
	}
	if n.byName(host) {
		return host, true
	}
	if net.ParseIP(host) == nil {
		return "", false
	}
	objs, err := n.informer.GetIndexer().ByIndex(byInternalIP, host)
	if err != nil || len(objs) == 0 {
		return "", false
	}
	return objs[0].(*corev1.Node).Name, true
}
