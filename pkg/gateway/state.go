package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	jsonserializer "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/gateway/internal/slim"
)

// The slim types (see package slim) under the names this package uses.
type (
	rrState       = slim.Request
	rrStateSpec   = slim.Spec
	rrStateStatus = slim.Status
	rrStateList   = slim.RequestList
)

const resource = "remediationrequests"

// requests reads and writes the RemediationRequests of one namespace with the slim types, and
// keeps an informer of them indexed by fingerprint.
type requests struct {
	namespace string
	rc        *rest.RESTClient
	informer  toolscache.SharedIndexInformer
}

const byFingerprint = "fingerprint"

// newRequests builds the REST client and the (not yet started) informer from the manager's
// configuration and HTTP client.
func newRequests(mgr manager.Manager, namespace string) (*requests, error) {
	cfg := rest.CopyConfig(mgr.GetConfig())
	cfg.GroupVersion = &remediationv1.GroupVersion
	cfg.APIPath = "/apis"
	cfg.ContentType = runtime.ContentTypeJSON
	cfg.AcceptContentTypes = runtime.ContentTypeJSON
	cfg.NegotiatedSerializer = stateCodecs{}
	rc, err := rest.RESTClientForConfigAndClient(cfg, mgr.GetHTTPClient())
	if err != nil {
		return nil, fmt.Errorf("building the RemediationRequest client: %w", err)
	}
	lw := toolscache.NewListWatchFromClient(rc, resource, namespace, fields.Everything())
	inf := toolscache.NewSharedIndexInformerWithOptions(toolscache.ToListWatcherWithWatchListSemantics(lw, rc), &rrState{},
		toolscache.SharedIndexInformerOptions{Indexers: toolscache.Indexers{byFingerprint: func(obj any) ([]string, error) {
			return []string{obj.(*rrState).Spec.SignalFingerprint}, nil
		}}})
	if err := inf.SetTransform(func(obj any) (any, error) {
		if s, ok := obj.(*rrState); ok {
			s.ManagedFields = nil
		}
		return obj, nil
	}); err != nil {
		return nil, fmt.Errorf("setting up the RemediationRequest informer: %w", err)
	}
	return &requests{namespace: namespace, rc: rc, informer: inf}, nil
}

// Start runs the informer until ctx ends (a manager runnable on every replica).
func (r *requests) Start(ctx context.Context) error {
	r.informer.RunWithContext(ctx)
	return nil
}

// NeedLeaderElection says that every replica runs the informer.
func (r *requests) NeedLeaderElection() bool { return false }

// cached returns the informer's requests of a fingerprint (shared; never modify them).
func (r *requests) cached(fp string) []*rrState {
	objs, err := r.informer.GetIndexer().ByIndex(byFingerprint, fp)
	if err != nil {
		return nil
	}
	out := make([]*rrState, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*rrState))
	}
	return out
}

// create posts a RemediationRequest and returns what the API server stored.
func (r *requests) create(ctx context.Context, rr *remediationv1.RemediationRequest) (*rrState, error) {
	rr.APIVersion, rr.Kind = remediationv1.GroupVersion.String(), "RemediationRequest"
	body, err := json.Marshal(rr)
	if err != nil {
		return nil, fmt.Errorf("encoding RemediationRequest %s: %w", rr.Name, err)
	}
	out := &rrState{}
	err = r.rc.Post().Namespace(r.namespace).Resource(resource).Body(body).Do(ctx).Into(out)
	return out, err
}

// get reads one request from the API server.
func (r *requests) get(ctx context.Context, name string) (*rrState, error) {
	out := &rrState{}
	err := r.rc.Get().Namespace(r.namespace).Resource(resource).Name(name).Do(ctx).Into(out)
	return out, err
}

// list reads the requests with a label selector from the API server.
func (r *requests) list(ctx context.Context, selector string) (*rrStateList, error) {
	out := &rrStateList{}
	err := r.rc.Get().Namespace(r.namespace).Resource(resource).Param("labelSelector", selector).Do(ctx).Into(out)
	return out, err
}

// patchStatus applies a JSON merge patch of status to the request, guarded by the
// resourceVersion it was computed from (the API server answers Conflict when it moved on).
func (r *requests) patchStatus(ctx context.Context, name, resourceVersion string, status any) (*rrState, error) {
	if resourceVersion == "" {
		// Never patch without the lock; the caller re-reads the request and tries again.
		return nil, apierrors.NewConflict(remediationv1.GroupVersion.WithResource(resource).GroupResource(), name, errors.New("no resourceVersion to patch from"))
	}
	body, err := json.Marshal(struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Status any `json:"status"`
	}{Metadata: struct {
		ResourceVersion string `json:"resourceVersion"`
	}{resourceVersion}, Status: status})
	if err != nil {
		return nil, fmt.Errorf("encoding the status patch of RemediationRequest %s: %w", name, err)
	}
	out := &rrState{}
	err = r.rc.Patch(types.MergePatchType).Namespace(r.namespace).Resource(resource).Name(name).SubResource("status").Body(body).Do(ctx).Into(out)
	return out, err
}

// hasSynced says whether the informer has listed the namespace once.
func (r *requests) hasSynced() bool { return r.informer.HasSynced() }

// WaitForCacheSync waits until the gateway's informers (RemediationRequests of its namespace,
// Nodes) have listed once, or ctx ends; it says whether they synced.
func (g *Gateway) WaitForCacheSync(ctx context.Context) bool {
	return toolscache.WaitForCacheSync(ctx.Done(), g.rrs.hasSynced, g.nodes.hasSynced)
}

// stateCodecs is the REST client's serializer for the slim types: plain encoding/json straight
// into rrState, rrStateList, metav1.WatchEvent and metav1.Status. The API machinery's JSON
// serializer reads every document three times (finding apiVersion and kind, checking it, then
// decoding it) and each watch event twice more; this one reads each once to frame it and once
// to decode it.
type stateCodecs struct{}

var _ runtime.NegotiatedSerializer = stateCodecs{}

func (stateCodecs) SupportedMediaTypes() []runtime.SerializerInfo {
	return []runtime.SerializerInfo{{
		MediaType: runtime.ContentTypeJSON, MediaTypeType: "application", MediaTypeSubType: "json", EncodesAsText: true,
		Serializer: stateSerializer{}, PrettySerializer: stateSerializer{},
		StreamSerializer: &runtime.StreamSerializerInfo{EncodesAsText: true, Serializer: stateSerializer{}, Framer: jsonserializer.Framer},
	}}
}

func (stateCodecs) EncoderForVersion(e runtime.Encoder, _ runtime.GroupVersioner) runtime.Encoder {
	return e
}

func (stateCodecs) DecoderToVersion(d runtime.Decoder, _ runtime.GroupVersioner) runtime.Decoder {
	return d
}

type stateSerializer struct{}

// payloadKey is spec.originalPayload's key, quoted as the API server writes it.
var payloadKey = []byte(`"originalPayload"`)

// withoutPayload returns data with the value of spec.originalPayload emptied ("" instead of
// the base64 payload, which the gateway never reads), so that the JSON decoder does not scan it
// again and again. It reads data as JSON, not as bytes: only the key originalPayload of the
// spec of a request (the document, each of a list's items, or a watch event's object) counts,
// never the same bytes inside a string or a key of the same name elsewhere (a signal label
// called originalPayload). It hops from string to string with bytes.IndexByte, so the payload
// itself costs next to nothing. Data that is not valid JSON is returned unchanged, for the
// decoder to report.
func withoutPayload(data []byte) []byte {
	if !bytes.Contains(data, payloadKey) {
		return data
	}
	var (
		out  []byte // nil until the first cut
		last int    // data[last:] is not yet copied to out
		// stack holds, for each open object or array, the key whose value it is.
		stack     = make([]containerKey, 0, 8)
		inObject  []bool
		wantKey   bool         // the next string in this object is a key
		key       containerKey // the last key read in the innermost object
		cutString bool         // the next value is spec.originalPayload: empty it if it is a string
	)
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '"':
			end := stringEnd(data, i)
			if end < 0 {
				return data
			}
			if len(inObject) > 0 && inObject[len(inObject)-1] && wantKey {
				key = keyOf(data[i+1 : end])
				wantKey = false
				cutString = key == keyPayload && isRequestSpec(stack)
			} else {
				if cutString && end > i+1 {
					out = append(out, data[last:i+1]...)
					last = end
				}
				cutString = false
			}
			i = end
		case '{', '[':
			k := keyElement
			if len(inObject) > 0 && inObject[len(inObject)-1] {
				k = key
			}
			stack = append(stack, k)
			inObject = append(inObject, c == '{')
			wantKey, cutString = c == '{', false
		case '}', ']':
			if len(stack) == 0 {
				return data
			}
			stack, inObject = stack[:len(stack)-1], inObject[:len(inObject)-1]
			wantKey, cutString = false, false
		case ',':
			wantKey = len(inObject) > 0 && inObject[len(inObject)-1]
			cutString = false
		case ':', ' ', '\t', '\n', '\r':
		default: // a number, true, false or null
			cutString = false
		}
	}
	if out == nil {
		return data
	}
	return append(out, data[last:]...)
}

// containerKey is the key whose value an object or array is, as far as withoutPayload cares.
type containerKey uint8

const (
	keyOther   containerKey = iota
	keyElement              // an array element, or the document itself
	keySpec
	keyItems
	keyObject
	keyPayload
)

// keyOf classifies the raw bytes of a key (between its quotes). A key written with escapes
// ("spe\u0063") is unquoted first, as the decoder would read it.
func keyOf(name []byte) containerKey {
	if bytes.IndexByte(name, '\\') >= 0 {
		var unquoted string
		quoted := make([]byte, 0, len(name)+2)
		quoted = append(append(append(quoted, '"'), name...), '"')
		if json.Unmarshal(quoted, &unquoted) != nil {
			return keyOther
		}
		name = []byte(unquoted)
	}
	switch string(name) { // no allocation: the compiler compares in place
	case "spec":
		return keySpec
	case "items":
		return keyItems
	case "object":
		return keyObject
	case "originalPayload":
		return keyPayload
	}
	return keyOther
}

// isRequestSpec says whether the innermost open object is a request's spec: {"spec":{...}},
// {"items":[{"spec":{...}}]} or {"object":{"spec":{...}}}.
func isRequestSpec(stack []containerKey) bool {
	switch {
	case len(stack) == 2:
		return stack[1] == keySpec
	case len(stack) == 3:
		return stack[1] == keyObject && stack[2] == keySpec
	case len(stack) == 4:
		return stack[1] == keyItems && stack[2] == keyElement && stack[3] == keySpec
	}
	return false
}

// stringEnd returns the index of the quote that ends the JSON string starting at data[start],
// or -1. A quote ends the string unless an odd number of backslashes precedes it.
func stringEnd(data []byte, start int) int {
	from := start + 1
	for {
		j := bytes.IndexByte(data[from:], '"')
		if j < 0 {
			return -1
		}
		q := from + j
		n := 0
		for p := q - 1; p > start && data[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q
		}
		from = q + 1
	}
}

func (stateSerializer) Identifier() runtime.Identifier { return "kubernaut-gateway-state-json" }

func (stateSerializer) Encode(obj runtime.Object, w io.Writer) error {
	return json.NewEncoder(w).Encode(obj)
}

// Decode decodes into `into` when given (a request, a list, a watch event or a Status), and
// otherwise (the object of a watch event, an error body) into a request or a Status, by kind.
func (stateSerializer) Decode(data []byte, _ *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	data = withoutPayload(data)
	switch into := into.(type) {
	case *metav1.WatchEvent:
		var ev struct {
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		}
		if err := json.Unmarshal(data, &ev); err != nil {
			return nil, nil, fmt.Errorf("decoding a watch event of RemediationRequests: %w", err)
		}
		into.Type, into.Object = ev.Type, runtime.RawExtension{Raw: ev.Object}
		return into, nil, nil
	case nil:
		var w wireState
		err := json.Unmarshal(data, &w)
		if err == nil && w.Kind == "RemediationRequest" {
			out := w.state()
			gvk := out.GroupVersionKind()
			return out, &gvk, nil
		}
		var st metav1.Status
		if serr := json.Unmarshal(data, &st); serr == nil && (st.Kind == "Status" || st.Status == metav1.StatusFailure) {
			gvk := metav1.SchemeGroupVersion.WithKind("Status")
			return &st, &gvk, nil
		}
		if err == nil {
			err = fmt.Errorf("unexpected kind %q where a RemediationRequest or a Status was expected", w.Kind)
		}
		return nil, nil, fmt.Errorf("decoding a RemediationRequest: %w", err)
	case *rrState:
		var w wireState
		if err := json.Unmarshal(data, &w); err != nil {
			return nil, nil, fmt.Errorf("decoding a RemediationRequest: %w", err)
		}
		*into = *w.state()
		gvk := into.GroupVersionKind()
		return into, &gvk, nil
	case *rrStateList:
		var w struct {
			metav1.TypeMeta `json:",inline"`
			metav1.ListMeta `json:"metadata"`
			Items           []wireState `json:"items"`
		}
		if err := json.Unmarshal(data, &w); err != nil {
			return nil, nil, fmt.Errorf("decoding a list of RemediationRequests: %w", err)
		}
		into.TypeMeta, into.ListMeta = w.TypeMeta, w.ListMeta
		into.Items = make([]rrState, len(w.Items))
		for i := range w.Items {
			into.Items[i] = *w.Items[i].state()
		}
		gvk := into.GroupVersionKind()
		return into, &gvk, nil
	default:
		if err := json.Unmarshal(data, into); err != nil {
			return nil, nil, fmt.Errorf("decoding %T: %w", into, err)
		}
		gvk := into.GetObjectKind().GroupVersionKind()
		return into, &gvk, nil
	}
}

// wireState names the only fields of a RemediationRequest's JSON that the gateway decodes; the
// decoder skips the rest (labels, managedFields, the signal's labels and annotations, provider
// data, status refs) without allocating anything for them.
type wireState struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        struct {
		Name              string       `json:"name"`
		Namespace         string       `json:"namespace"`
		UID               types.UID    `json:"uid"`
		ResourceVersion   string       `json:"resourceVersion"`
		CreationTimestamp metav1.Time  `json:"creationTimestamp"`
		DeletionTimestamp *metav1.Time `json:"deletionTimestamp"`
		Annotations       struct {
			Generation string `json:"kubernaut.io/signal-generation"`
			// InitialEventsEnd marks the bookmark that ends the initial events of a watch
			// list (metav1.InitialEventsAnnotationKey); the informer syncs on it.
			InitialEventsEnd string `json:"k8s.io/initial-events-end"`
		} `json:"annotations"`
	} `json:"metadata"`
	Spec   rrStateSpec   `json:"spec"`
	Status rrStateStatus `json:"status"`
}

func (w *wireState) state() *rrState {
	m := &w.Metadata
	out := &rrState{TypeMeta: w.TypeMeta, Spec: w.Spec, Status: w.Status, ObjectMeta: metav1.ObjectMeta{
		Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
		CreationTimestamp: m.CreationTimestamp, DeletionTimestamp: m.DeletionTimestamp,
	}}
	if m.Annotations.Generation != "" {
		out.Annotations = map[string]string{AnnotationGeneration: m.Annotations.Generation}
	}
	if m.Annotations.InitialEventsEnd != "" {
		if out.Annotations == nil {
			out.Annotations = map[string]string{}
		}
		out.Annotations[metav1.InitialEventsAnnotationKey] = m.Annotations.InitialEventsEnd
	}
	return out
}
