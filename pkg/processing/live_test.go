package processing_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/processing"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

// read is one call an enrichment made to the API server.
type read struct {
	list            bool
	kind, namespace string
	labels, fields  string
	limit           int64
}

// recordingReader is the processing service's API reader, recording each read.
type recordingReader struct {
	client.Reader
	mu    sync.Mutex
	reads []read
}

func (r *recordingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	r.mu.Lock()
	r.reads = append(r.reads, read{kind: fmt.Sprintf("%T", obj), namespace: key.Namespace})
	r.mu.Unlock()
	return r.Reader.Get(ctx, key, obj, opts...)
}

func (r *recordingReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	o := (&client.ListOptions{}).ApplyOptions(opts)
	rd := read{list: true, kind: fmt.Sprintf("%T", list), namespace: o.Namespace, limit: o.Limit}
	if o.LabelSelector != nil {
		rd.labels = o.LabelSelector.String()
	}
	if o.FieldSelector != nil {
		rd.fields = o.FieldSelector.String()
	}
	r.mu.Lock()
	r.reads = append(r.reads, rd)
	r.mu.Unlock()
	return r.Reader.List(ctx, list, opts...)
}

// take returns the reads recorded since the last take.
func (r *recordingReader) take() []read {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reads
	r.reads = nil
	return out
}

// fastClient is an administrator's client without client-side rate limit, for fixtures in bulk.
func fastClient(t testing.TB, env *testenv.Env) client.Client {
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 5000, 10000
	c, err := client.New(cfg, client.Options{Scheme: app.NewScheme()})
	require.NoError(t, err)
	return c
}

// warnings creates n Warning events about pods named <prefix>-<i> in ns, 16 at a time.
func warnings(t testing.TB, c client.Client, ns, prefix string, n int) {
	work := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range work {
				name := fmt.Sprintf("%s-%d", prefix, i)
				errs <- c.Create(context.Background(), &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: name + "."},
					InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: name}, Type: corev1.EventTypeWarning,
					Reason: "BackOff", Message: "Back-off restarting failed container", Count: 1, LastTimestamp: metav1.Now(), FirstTimestamp: metav1.Now(),
					Source: corev1.EventSource{Component: "kubelet"}})
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// Enrichment reads the cluster live and bounded: the service's cache holds no pods, events or
// nodes; every list is paged (a limit) and selected (the target's namespace with a label or
// field selector, or the pods of one node); and the number of reads does not grow with the
// workload's pods.
func testReadsAreBounded(t *testing.T, env *testenv.Env, h *harness) {
	ctx := context.Background()
	for _, list := range []client.ObjectList{&corev1.PodList{}, &corev1.EventList{}, &corev1.NodeList{}} {
		err := h.mgr.GetCache().List(ctx, list)
		var notCached *cache.ErrResourceNotCached
		assert.ErrorAs(t, err, &notCached, "the cache holds no %T", list)
	}

	ns := env.Namespace(t, nil)
	node := h.node(ns+"-node", nil)
	d := h.deployment(ns, "web", "web:1", 3)
	rs := h.replicaSet(d, 1, "web:1", 3, 1, time.Now())
	addPods := func(from, to int) {
		for i := from; i < to; i++ {
			h.pod(ns, rs, "apps/v1", "ReplicaSet", fmt.Sprintf("web-r1-%d", i), node.Name, "web:1", crashLooping("web:1"))
		}
	}
	addPods(0, 3)
	h.event(ns, "Pod", "web-r1-0", "BackOff", "Back-off restarting failed container app", 3, time.Now())
	rec := &recordingReader{Reader: h.mgr.GetAPIReader()}
	enrich := func() *common.KubernetesContext { // a new Enricher: nothing shared from the last one
		e := &processing.Enricher{Reader: rec}
		kc, _, err := e.Context(ctx, deployTarget(ns, "web"), processing.Focus{}, processing.MaxContextBytes)
		require.NoError(t, err)
		return kc
	}

	kc := enrich()
	few := rec.take()
	require.Len(t, kc.Pods, 3)
	assert.NotNil(t, eventGroup(kc, "BackOff", "Pod/web-r1-0"))
	for _, r := range few {
		if !r.list {
			continue
		}
		assert.Positive(t, r.limit, "%+v is paged", r)
		if r.namespace == "" {
			assert.Equal(t, "*v1.PartialObjectMetadataList", r.kind, "%+v: only a node's pods are listed across namespaces", r)
			assert.Equal(t, "spec.nodeName="+node.Name, r.fields, "%+v", r)
		}
		switch r.kind {
		case "*v1.PodList", "*v1.ReplicaSetList":
			assert.Equal(t, "app=web", r.labels, "%+v: by the Deployment's selector", r)
		case "*v1.EventList":
			assert.Equal(t, "type=Warning", r.fields, "%+v: Warning events only", r)
		}
	}
	t.Logf("reads of one Deployment enrichment: %d", len(few))

	addPods(3, 12)
	kc = enrich()
	many := rec.take()
	assert.Len(t, kc.Pods, 10)
	assert.Len(t, many, len(few), "as many reads with 12 pods as with 3")
}

// A namespace holding more Warning events than a scan takes is read object by object: the
// target's events are still found, with field selectors on the involved object, and the next
// enrichment goes there at once.
func testNoisyNamespace(t *testing.T, env *testenv.Env, h *harness) {
	ctx := context.Background()
	ns := env.Namespace(t, nil)
	d := h.deployment(ns, "web", "web:1", 2)
	rs := h.replicaSet(d, 1, "web:1", 2, 1, time.Now())
	h.pod(ns, rs, "apps/v1", "ReplicaSet", "web-r1-a", "", "web:1", crashLooping("web:1"))
	h.pod(ns, rs, "apps/v1", "ReplicaSet", "web-r1-b", "", "web:1", running("web:1"))
	warnings(t, fastClient(t, env), ns, "batch", 120)
	h.event(ns, "Pod", "web-r1-a", "BackOff", "Back-off restarting failed container app in pod web-r1-a", 7, time.Now())
	h.event(ns, "Deployment", "web", "ReplicaSetCreateError", "Failed to create new replica set", 1, time.Now())

	rec := &recordingReader{Reader: h.mgr.GetAPIReader()}
	e := &processing.Enricher{Reader: rec, MaxEventScan: 100}
	for _, round := range []string{"first", "second"} {
		kc, _, err := e.Context(ctx, deployTarget(ns, "web"), processing.Focus{}, processing.MaxContextBytes)
		require.NoError(t, err)
		backoff := eventGroup(kc, "BackOff", "Pod/web-r1-a")
		require.NotNil(t, backoff, "%s enrichment: %+v", round, kc.RecentEvents)
		assert.EqualValues(t, 7, backoff.Count)
		assert.NotNil(t, eventGroup(kc, "ReplicaSetCreateError", "Deployment/web"))
		assert.Len(t, kc.RecentEvents, 2, "nothing about the other pods")
		var whole, perObject int
		for _, r := range rec.take() {
			if r.kind != "*v1.EventList" || r.namespace != ns {
				continue
			}
			if r.fields == "type=Warning" {
				whole++
			} else {
				assert.Contains(t, r.fields, "involvedObject.name=", "%+v", r)
				perObject++
			}
		}
		if round == "first" {
			assert.Positive(t, whole, "the namespace was tried whole")
		} else {
			assert.Zero(t, whole, "a noisy namespace is read object by object at once")
		}
		assert.Positive(t, perObject)
	}
}

// The events of a namespace are read once for the enrichments in it, at once or one after the
// other within a few seconds: an alert storm in one namespace costs one scan of its events.
func testEventsShared(t *testing.T, env *testenv.Env, h *harness) {
	ctx := context.Background()
	ns := env.Namespace(t, nil)
	for i := range 8 {
		name := fmt.Sprintf("web-%d", i)
		d := h.deployment(ns, name, "web:1", 1)
		rs := h.replicaSet(d, 1, "web:1", 1, 0, time.Now())
		h.pod(ns, rs, "apps/v1", "ReplicaSet", name+"-r1-a", "", "web:1", crashLooping("web:1"))
		h.event(ns, "Pod", name+"-r1-a", "BackOff", "Back-off restarting failed container app in pod "+name+"-r1-a", int32(i+1), time.Now())
	}
	rec := &recordingReader{Reader: h.mgr.GetAPIReader()}
	e := &processing.Enricher{Reader: rec}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			name := fmt.Sprintf("web-%d", i)
			kc, _, err := e.Context(ctx, deployTarget(ns, name), processing.Focus{}, processing.MaxContextBytes)
			if assert.NoError(t, err) {
				g := eventGroup(kc, "BackOff", "Pod/"+name+"-r1-a")
				if assert.NotNil(t, g, "%s: %+v", name, kc.RecentEvents) {
					assert.EqualValues(t, i+1, g.Count)
				}
				assert.Len(t, kc.RecentEvents, 1, "only its own pod's events")
			}
		})
	}
	wg.Wait()
	kc, _, err := e.Context(ctx, deployTarget(ns, "web-3"), processing.Focus{}, processing.MaxContextBytes)
	require.NoError(t, err)
	assert.NotNil(t, eventGroup(kc, "BackOff", "Pod/web-3-r1-a"))
	scans := 0
	for _, r := range rec.take() {
		if r.kind == "*v1.EventList" && r.namespace == ns {
			scans++
		}
	}
	assert.Equal(t, 1, scans, "nine enrichments, one read of the namespace's events")
}

// Lists are paged and stop at their bound.
func testListPages(t *testing.T, env *testenv.Env, h *harness) {
	ctx := context.Background()
	ns := env.Namespace(t, nil)
	for i := range 7 {
		h.pod(ns, nil, "", "", fmt.Sprintf("p-%d", i), "", "busybox", nil)
	}
	tests := map[string]struct {
		size, max, names, reads int
		complete                bool
	}{
		"read to the end in pages": {size: 3, max: 100, names: 7, reads: 3, complete: true},
		"stopped at the bound":     {size: 3, max: 5, names: 5, reads: 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			names, reads, complete, err := processing.ListPodNames(ctx, h.mgr.GetAPIReader(), ns, tc.size, tc.max)
			require.NoError(t, err)
			assert.Len(t, names, tc.names)
			assert.Equal(t, tc.reads, reads)
			assert.Equal(t, tc.complete, complete)
		})
	}
}
