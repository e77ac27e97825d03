package app_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

// Requests as client-go sends them are named as the API server's request info names them.
func TestKubeRequest(t *testing.T) {
	tests := []struct {
		method, url    string
		verb, resource string
		dryRun         bool
	}{
		{"GET", "/apis/apps/v1/namespaces/shop/deployments/web", "get", "apps/deployments", false},
		{"GET", "/apis/apps/v1/namespaces/shop/replicasets?labelSelector=app%3Dweb", "list", "apps/replicasets", false},
		{"GET", "/apis/apps/v1/replicasets?allowWatchBookmarks=true&resourceVersion=5&watch=true", "watch", "apps/replicasets", false},
		{"PATCH", "/apis/apps/v1/namespaces/shop/deployments/web?dryRun=All", "patch", "apps/deployments", true},
		{"PATCH", "/apis/kubernetesexecution.kubernaut.io/v1alpha1/namespaces/kubernaut-system/kubernetesexecutions/rr-1-execution/status", "patch", "kubernetesexecution.kubernaut.io/kubernetesexecutions/status", false},
		{"POST", "/apis/remediation.kubernaut.io/v1alpha1/namespaces/kubernaut-system/remediationrequests", "create", "remediation.kubernaut.io/remediationrequests", false},
		{"POST", "/apis/events.k8s.io/v1/namespaces/kubernaut-system/events", "create", "events.k8s.io/events", false},
		{"GET", "/api/v1/namespaces/shop/pods?limit=100", "list", "pods", false},
		{"POST", "/api/v1/namespaces/shop/pods/web-1/eviction", "create", "pods/eviction", false},
		{"GET", "/api/v1/namespaces/shop", "get", "namespaces", false},
		{"GET", "/api/v1/namespaces", "list", "namespaces", false},
		{"PUT", "/api/v1/namespaces/shop/finalize", "update", "namespaces/finalize", false},
		{"GET", "/api/v1/nodes/node-1", "get", "nodes", false},
		{"PATCH", "/api/v1/nodes/node-1/status", "patch", "nodes/status", false},
		{"DELETE", "/api/v1/namespaces/shop/pods/web-1", "delete", "pods", false},
		{"DELETE", "/api/v1/namespaces/shop/pods?labelSelector=a%3Db", "deletecollection", "pods", false},
		{"PUT", "/apis/coordination.k8s.io/v1/namespaces/kubernaut-system/leases/kubernaut-executor", "update", "coordination.k8s.io/leases", false},
		{"POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", "create", "authorization.k8s.io/subjectaccessreviews", false},
		{"GET", "/apis/apps/v1/namespaces/shop/deployments/web/scale", "get", "apps/deployments/scale", false},
		{"GET", "/api", "get", "nonresource", false},
		{"GET", "/apis/apps/v1", "get", "nonresource", false},
		{"GET", "/version", "get", "nonresource", false},
		{"GET", "/openapi/v3", "get", "nonresource", false},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.url, func(t *testing.T) {
			u, err := url.Parse("https://127.0.0.1:6443" + tc.url)
			assert.NoError(t, err)
			verb, resource, dryRun := app.KubeRequest(&http.Request{Method: tc.method, URL: u})
			assert.Equal(t, tc.verb, verb)
			assert.Equal(t, tc.resource, resource)
			assert.Equal(t, tc.dryRun, dryRun)
		})
	}
}
