package processing

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ListPodNames lists the pods of ns as enrichment lists (pages of size, at most max pods) and
// returns their names, the number of reads and whether the list was read to its end.
func ListPodNames(ctx context.Context, r client.Reader, ns string, size, max int) (names []string, reads int, complete bool, err error) {
	rd := newReads(r)
	complete, err = listPages(ctx, rd, func() *corev1.PodList { return &corev1.PodList{} }, size, max, func(l *corev1.PodList) bool {
		for _, p := range l.Items {
			names = append(names, p.Name)
		}
		return true
	}, client.InNamespace(ns))
	return names, int(rd.count.Load()), complete, err
}
