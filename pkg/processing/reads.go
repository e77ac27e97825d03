package processing

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Bounds of the live reads of one enrichment. Every list is paged and stops after a bound, so
// neither the memory of an enrichment nor the load it puts on the API server grows with the
// cluster, or with a namespace beyond these bounds; what a bound cut is said in the context's
// truncated field.
const (
	// readFanOut is how many reads of one enrichment are in flight at once (independent reads
	// run in parallel: the target's pods, ReplicaSets, HPA and PDB; the nodes and the events).
	readFanOut = 8
	// podPage and maxPodsRead: the pods of one workload, node or claim, read in pages of
	// podPage, at most maxPodsRead of them.
	podPage     = 250
	maxPodsRead = 2000
	// ownedPage and maxOwnedRead: the ReplicaSets of a Deployment, the Jobs of a CronJob, the
	// HPAs and PDBs of a namespace.
	ownedPage    = 100
	maxOwnedRead = 500
	// eventPage and maxEventScan: the Warning events of a namespace are read whole, in pages
	// of eventPage, when there are at most maxEventScan of them (see digest), at most
	// wholeScans namespaces at a time. Beyond, the namespace is noisy: a field selector on the
	// involved object makes the API server filter every event of the namespace (it has no index
	// for it), so only the events of its maxNoisyObjects most relevant objects are read, one
	// object at a time. The events of other namespaces (a Node target's pods) are read that way
	// too, for at most maxEventObjects objects. At most maxEventsPerObject events per object.
	eventPage          = 500
	maxEventScan       = 10000
	wholeScans         = 2
	maxNoisyObjects    = 2
	maxEventObjects    = 8
	maxEventsPerObject = 500
	// digestTTL is how long the events read from a namespace serve the enrichments in it;
	// noisyFor how long a namespace found noisy is read object by object without a new scan;
	// maxDigestGroups bounds the event groups held for all namespaces together.
	digestTTL       = 15 * time.Second
	noisyFor        = 10 * time.Minute
	maxDigestGroups = 20000
	// nodeFactsTTL is how long the facts of a node serve the enrichments; maxNodeFacts bounds
	// how many nodes' facts are held.
	nodeFactsTTL = 15 * time.Second
	maxNodeFacts = 5000
)

// clusterEventNamespace is where the events about cluster-scoped objects (nodes, persistent
// volumes) are recorded.
const clusterEventNamespace = metav1.NamespaceDefault

// fanOut runs tasks concurrently and waits for all of them; the first error cancels the others
// and is returned. Their reads are bounded by the enrichment's semaphore, not here.
func fanOut(ctx context.Context, tasks ...func(context.Context) error) error {
	tasks = slices.DeleteFunc(tasks, func(t func(context.Context) error) bool { return t == nil })
	switch len(tasks) {
	case 0:
		return nil
	case 1:
		return tasks[0](ctx)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for _, task := range tasks {
		wg.Go(func() {
			if err := task(ctx); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// reads are the live reads of one enrichment: at most readFanOut in flight, and counted.
type reads struct {
	r     client.Reader
	sem   chan struct{}
	count atomic.Int32

	mu      sync.Mutex
	partial []string // what a bound cut, for the context's truncated field
}

func newReads(r client.Reader) *reads {
	return &reads{r: r, sem: make(chan struct{}, readFanOut)}
}

func (rd *reads) acquire(ctx context.Context) error {
	select {
	case rd.sem <- struct{}{}:
		rd.count.Add(1)
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (rd *reads) release() { <-rd.sem }

// cut records that a bound cut a read.
func (rd *reads) cut(note string) {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if !slices.Contains(rd.partial, note) {
		rd.partial = append(rd.partial, note)
	}
}

// fromWatchCache asks the API server to answer a Get from its watch cache (resourceVersion 0)
// rather than etcd: cheaper for it, and at most a moment old.
var fromWatchCache = &client.GetOptions{Raw: &metav1.GetOptions{ResourceVersion: "0"}}

// get reads obj by key, from the API server's watch cache; false when it does not exist (asked
// again of etcd, in case the cache has not seen it yet).
func (rd *reads) get(ctx context.Context, key client.ObjectKey, obj client.Object) (bool, error) {
	if err := rd.acquire(ctx); err != nil {
		return false, err
	}
	defer rd.release()
	err := rd.r.Get(ctx, key, obj, fromWatchCache)
	if apierrors.IsNotFound(err) {
		rd.count.Add(1)
		err = rd.r.Get(ctx, key, obj)
	}
	if err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("reading %T %s: %w", obj, key, err)
	}
	return true, nil
}

// listPages lists in pages of at most size items, a new list for each page, and hands each
// page to visit, until the list ends, visit returns false (done) or max items were read. It
// reports whether the list was read to its end (or visit was done).
func listPages[L client.ObjectList](ctx context.Context, rd *reads, newList func() L, size, max int, visit func(L) bool, opts ...client.ListOption) (bool, error) {
	read, cont := 0, ""
	for {
		list := newList()
		o := append(slices.Clone(opts), client.Limit(int64(min(size, max-read))))
		if cont != "" {
			o = append(o, client.Continue(cont))
		}
		if err := rd.acquire(ctx); err != nil {
			return false, err
		}
		err := rd.r.List(ctx, list, o...)
		rd.release()
		if err != nil {
			return false, fmt.Errorf("listing %T: %w", list, err)
		}
		read += meta.LenList(list)
		if !visit(list) {
			return true, nil
		}
		if cont = list.GetContinue(); cont == "" {
			return true, nil
		}
		if read >= max {
			return false, nil
		}
	}
}

// selectorOf converts a workload's label selector; false for none, an empty or an invalid one
// (which would select every pod of the namespace).
func selectorOf(ls *metav1.LabelSelector) (labels.Selector, bool) {
	if ls == nil {
		return nil, false
	}
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil || sel.Empty() {
		return nil, false
	}
	return sel, true
}
