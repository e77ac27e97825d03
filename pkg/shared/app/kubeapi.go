package app

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// kubeAPIRequests counts the requests a service sends to the API server by verb and resource,
// so that what Kubernaut costs the API server is read per service from its own /metrics
// (client-go's rest_client_requests_total has no resource). Watches count once, when opened.
var kubeAPIRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "kubernaut_kube_api_requests_total",
	Help: "Requests this service sent to the Kubernetes API server, by verb (get, list, watch, create, update, patch, delete, deletecollection), resource (group/resource[/subresource]; core kinds without a group; nonresource for discovery and other paths) and whether it was a server-side dry run.",
}, []string{"verb", "resource", "dry_run"})

func init() { metrics.Registry.MustRegister(kubeAPIRequests) }

// countRequests wraps a client's transport to count its requests in kubeAPIRequests.
var countRequests = OnRequest(func(verb, resource string, dryRun bool) {
	kubeAPIRequests.WithLabelValues(verb, resource, strconv.FormatBool(dryRun)).Inc()
})

// OnRequest returns a wrapper of a client's transport (rest.Config.Wrap) that calls seen with
// the name of each request (KubeRequest) before sending it.
func OnRequest(seen func(verb, resource string, dryRun bool)) func(http.RoundTripper) http.RoundTripper {
	return func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			seen(KubeRequest(req))
			return rt.RoundTrip(req)
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// namespaceSubresources are the subresources of a Namespace itself
// (/api/v1/namespaces/<name>/<subresource>), not namespaced collections.
var namespaceSubresources = map[string]bool{"status": true, "finalize": true}

// KubeRequest names an API request as the API server's request info does: its verb (get, list,
// watch, create, update, patch, delete, deletecollection) and its resource, "group/resource" or,
// for the core group, "resource", with "/subresource" when it has one; and whether it is a
// server-side dry run. Paths that name no resource (discovery, /version, /openapi) are
// "nonresource".
func KubeRequest(req *http.Request) (verb, resource string, dryRun bool) {
	q := req.URL.Query()
	dryRun = q.Has("dryRun")
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	var group string
	switch {
	case len(parts) >= 3 && parts[0] == "api": // /api/v1/...
		parts = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis": // /apis/<group>/<version>/...
		group, parts = parts[1], parts[3:]
	default:
		return strings.ToLower(req.Method), "nonresource", dryRun
	}
	if parts[0] == "namespaces" && len(parts) > 2 && !namespaceSubresources[parts[2]] {
		parts = parts[2:] // a namespaced resource: /namespaces/<ns>/<resource>/...
	}
	resource = parts[0]
	if len(parts) > 2 {
		resource += "/" + parts[2]
	}
	if group != "" {
		resource = group + "/" + resource
	}
	named := len(parts) > 1
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		switch {
		case q.Get("watch") == "true" || q.Get("watch") == "1":
			verb = "watch"
		case named:
			verb = "get"
		default:
			verb = "list"
		}
	case http.MethodPost:
		verb = "create"
	case http.MethodPut:
		verb = "update"
	case http.MethodPatch:
		verb = "patch"
	case http.MethodDelete:
		verb = "delete"
		if !named {
			verb = "deletecollection"
		}
	default:
		verb = strings.ToLower(req.Method)
	}
	return verb, resource, dryRun
}
