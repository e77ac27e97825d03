package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/gateway"
	"github.com/kubernaut/kubernaut/pkg/shared/httpapi"
)

func TestPrometheusAlertCreatesRequest(t *testing.T) {
	sys := env.Namespace(t, nil)
	shop := env.Namespace(t, map[string]string{"kubernaut.io/environment": "production"})
	gw := startGateway(t, sys, options{})
	makeDeployment(t, shop, "web")

	code, _, body := post(t, gw.url, gateway.PathPrometheus, webhook(t, memoryAlert(shop, "web")), nil)
	require.Equal(t, http.StatusCreated, code, body)
	results := body["results"].([]any)
	require.Len(t, results, 1)
	res := results[0].(map[string]any)
	assert.Equal(t, "created", res["status"])

	items := requests(t, sys)
	require.Len(t, items, 1)
	rr := items[0]
	target := common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: shop, Name: "web"}
	fp := gateway.Fingerprint(target)
	assert.Equal(t, fp, rr.Spec.SignalFingerprint)
	assert.Len(t, fp, 64)
	assert.Equal(t, gateway.RequestName(fp, 0), rr.Name)
	assert.Equal(t, res["remediationRequest"], rr.Name)
	assert.Equal(t, "HighMemoryUsage", rr.Spec.SignalName)
	assert.Equal(t, remediationv1.SeverityCritical, rr.Spec.Severity)
	assert.Equal(t, remediationv1.EnvironmentProduction, rr.Spec.Environment)
	assert.Equal(t, remediationv1.PriorityP0, rr.Spec.Priority)
	assert.Equal(t, remediationv1.SignalTypePrometheusAlert, rr.Spec.SignalType)
	assert.Equal(t, "kubernaut", rr.Spec.SignalSource)
	assert.Equal(t, target, rr.Spec.TargetResource)
	assert.Equal(t, &remediationv1.TargetResolution{Source: "deployment", NamedTarget: &target}, rr.Spec.TargetResolution)
	assert.Equal(t, time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC), rr.Spec.FiringTime.UTC())
	assert.Equal(t, "app", rr.Spec.SignalLabels["container"])
	assert.Equal(t, "https://runbooks.example.com/HighMemoryUsage", rr.Spec.SignalAnnotations["runbook_url"])
	require.NotNil(t, rr.Spec.ProviderData)
	assert.Equal(t, shop, rr.Spec.ProviderData.Namespace)
	assert.Equal(t, &target, rr.Spec.ProviderData.Resource)
	assert.Equal(t, "http://alertmanager.monitoring:9093", rr.Spec.ProviderData.AlertmanagerURL)
	assert.Equal(t, "https://grafana.example.com/d/k8s-pods?var-namespace="+shop, rr.Spec.ProviderData.GrafanaURL)
	assert.Equal(t, map[string]string{
		remediationv1.LabelSignalFingerprint: fp[:63],
		remediationv1.LabelSeverity:          "critical",
		remediationv1.LabelEnvironment:       "production",
	}, rr.Labels)
	var stored gateway.WebhookMessage
	require.NoError(t, json.Unmarshal(rr.Spec.OriginalPayload, &stored))
	assert.Equal(t, "4", stored.Version)
	assert.Equal(t, "new_alerts", stored.NotificationReason)
	require.Len(t, stored.Alerts, 1)
	assert.Equal(t, "a1b2c3d4e5f60718", stored.Alerts[0].Fingerprint)
	assert.Nil(t, rr.Status.Deduplication, "deduplication is written at the first duplicate")
}

func TestEnvironmentAndPriority(t *testing.T) {
	sys := env.Namespace(t, nil)
	gw := startGateway(t, sys, options{config: func(c *gateway.Config) {
		c.Priorities, _ = gateway.DefaultPriorityTable().ParsePriorityOverrides("warning/staging=P3")
	}})
	cases := map[string]struct {
		nsLabels    map[string]string
		alertLabels map[string]string
		env         remediationv1.Environment
		priority    remediationv1.Priority
	}{
		"kubernaut label wins":         {map[string]string{"kubernaut.io/environment": "staging", "environment": "prod"}, map[string]string{"severity": "critical"}, "staging", "P1"},
		"plain environment label":      {map[string]string{"environment": "prod"}, map[string]string{"severity": "warning"}, "production", "P1"},
		"alert label when ns has none": {nil, map[string]string{"severity": "info", "env": "dev"}, "development", "P2"},
		"test counts as development":   {map[string]string{"environment": "qa"}, map[string]string{"severity": "critical"}, "test", "P2"},
		"unknown":                      {nil, map[string]string{"severity": "bogus"}, "unknown", "P2"},
		"configured override":          {map[string]string{"environment": "staging"}, map[string]string{"severity": "warning"}, "staging", "P3"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ns := env.Namespace(t, tc.nsLabels)
			makeDeployment(t, ns, "api")
			labels := map[string]string{"alertname": "X", "namespace": ns, "deployment": "api"}
			for k, v := range tc.alertLabels {
				labels[k] = v
			}
			code, _, body := post(t, gw.url, gateway.PathPrometheus, webhook(t, alert("firing", labels)), nil)
			require.Equal(t, http.StatusCreated, code, body)
			rr := &remediationv1.RemediationRequest{}
			name := body["results"].([]any)[0].(map[string]any)["remediationRequest"].(string)
			require.NoError(t, env.Client.Get(context.Background(), client.ObjectKey{Namespace: sys, Name: name}, rr))
			assert.Equal(t, tc.env, rr.Spec.Environment)
			assert.Equal(t, tc.priority, rr.Spec.Priority)
			assert.Equal(t, string(tc.env), rr.Labels[remediationv1.LabelEnvironment])
		})
	}
}

// makeDeploymentWithPod creates a Deployment, its ReplicaSet and a Pod with the owner
// references the controllers would set.
func makeDeploymentWithPod(t *testing.T, ns, name string) (pod string) {
	rs := makeReplicaSet(t, makeDeployment(t, ns, name), "5d9c7b8f6d")
	return makePod(t, ns, rs.Name+"-x7k2p", rs).Name
}

func TestPodAlertResolvesToDeployment(t *testing.T) {
	sys := env.Namespace(t, nil)
	shop := env.Namespace(t, nil)
	gw := startGateway(t, sys, options{})
	pod := makeDeploymentWithPod(t, shop, "checkout")

	podAlert := alert("firing", map[string]string{"alertname": "KubePodCrashLooping", "severity": "warning", "namespace": shop, "pod": pod, "container": "app"})
	code, _, body := post(t, gw.url, gateway.PathPrometheus, webhook(t, podAlert), nil)
	require.Equal(t, http.StatusCreated, code, body)
	items := requests(t, sys)
	require.Len(t, items, 1)
	want := common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: shop, Name: "checkout"}
	assert.Equal(t, want, items[0].Spec.TargetResource)
	assert.Equal(t, gateway.Fingerprint(want), items[0].Spec.SignalFingerprint)
	assert.Equal(t, pod, items[0].Spec.SignalLabels["pod"])
	named := common.TargetResource{APIVersion: "v1", Kind: "Pod", Namespace: shop, Name: pod}
	assert.Equal(t, &remediationv1.TargetResolution{Source: "pod", NamedTarget: &named}, items[0].Spec.TargetResolution)

	// The Deployment's own alert is the same remediation.
	code, _, body = post(t, gw.url, gateway.PathPrometheus, webhook(t, memoryAlert(shop, "checkout")), nil)
	assert.Equal(t, http.StatusAccepted, code, body)

	// A pod the API server does not know is stored unresolved, with the reason.
	gone := alert("firing", map[string]string{"alertname": "KubePodCrashLooping", "severity": "warning", "namespace": shop, "pod": "deleted-pod"})
	code, _, body = post(t, gw.url, gateway.PathPrometheus, webhook(t, gone), nil)
	require.Equal(t, http.StatusCreated, code, body)
	rr := getRequest(t, sys, body)
	assert.Equal(t, gateway.PseudoTargetKind, rr.Spec.TargetResource.Kind)
	assert.Contains(t, rr.Spec.TargetResolution.UnresolvedReason, "Pod "+shop+"/deleted-pod, which does not exist")
	assert.Len(t, requests(t, sys), 2)
}

func TestDuplicateCounting(t *testing.T) {
	sys := env.Namespace(t, nil)
	shop := env.Namespace(t, nil)
	gw := startGateway(t, sys, options{})
	makeDeployment(t, shop, "web")
	payload := webhook(t, memoryAlert(shop, "web"))

	code, _, body := post(t, gw.url, gateway.PathPrometheus, payload, nil)
	require.Equal(t, http.StatusCreated, code, body)
	for i := 1; i <= 3; i++ {
		code, _, body = post(t, gw.url, gateway.PathPrometheus, payload, nil)
		require.Equal(t, http.StatusAccepted, code, body)
		res := body["results"].([]any)[0].(map[string]any)
		assert.Equal(t, "duplicate", res["status"])
		assert.EqualValues(t, i, res["occurrenceCount"])
	}
	items := requests(t, sys)
	require.Len(t, items, 1)
	d := items[0].Status.Deduplication
	require.NotNil(t, d)
	assert.EqualValues(t, 3, d.OccurrenceCount)
	assert.Equal(t, items[0].Spec.ReceivedTime.Unix(), d.FirstSeen.Unix())
	assert.False(t, d.LastSeen.Before(&d.FirstSeen))

	// A batch with two alerts for the same deployment: both counted.
	code, _, body = post(t, gw.url, gateway.PathPrometheus, webhook(t, memoryAlert(shop, "web"), memoryAlert(shop, "web")), nil)
	require.Equal(t, http.StatusAccepted, code, body)
	assert.EqualValues(t, 2, body["duplicates"])
	require.NoError(t, env.Client.Get(context.Background(), client.ObjectKeyFromObject(&items[0]), &items[0]))
	assert.EqualValues(t, 5, items[0].Status.Deduplication.OccurrenceCount)
	first := memoryAlert(shop, "web").StartsAt
	if assert.NotNil(t, items[0].Status.Deduplication.LastFiringTime, "re-sends record the startsAt they carry") {
		assert.True(t, items[0].Status.Deduplication.LastFiringTime.Time.Equal(first), "a re-send keeps the original startsAt: not a re-fire")
	}

	// The alert resolved and fired again: a newer startsAt moves lastFiringTime (a re-fire);
	// an older one (a late re-send) never moves it back.
	refire := memoryAlert(shop, "web")
	refire.StartsAt = first.Add(20 * time.Minute)
	late := memoryAlert(shop, "web")
	late.StartsAt = first.Add(-time.Minute)
	for _, a := range []gateway.Alert{refire, late} {
		code, _, body = post(t, gw.url, gateway.PathPrometheus, webhook(t, a), nil)
		require.Equal(t, http.StatusAccepted, code, body)
	}
	require.NoError(t, env.Client.Get(context.Background(), client.ObjectKeyFromObject(&items[0]), &items[0]))
	assert.True(t, items[0].Status.Deduplication.LastFiringTime.Time.Equal(refire.StartsAt), "%v", items[0].Status.Deduplication.LastFiringTime)
	assert.EqualValues(t, 7, items[0].Status.Deduplication.OccurrenceCount)
}

func TestResolvedAlert(t *testing.T) {
	sys := env.Namespace(t, nil)
	shop := env.Namespace(t, nil)
	gw := startGateway(t, sys, options{})
	makeDeployment(t, shop, "web")
	firing := memoryAlert(shop, "web")
	code, _, body := post(t, gw.url, gateway.PathPrometheus, webhook(t, firing), nil)
	require.Equal(t, http.StatusCreated, code, body)

	resolved := firing
	resolved.Status = "resolved"
	resolved.EndsAt = firing.StartsAt.Add(7 * time.Minute)
	code, _, body = post(t, gw.url, gateway.PathPrometheus, webhook(t, resolved), nil)
	require.Equal(t, http.StatusOK, code, body)
	assert.EqualValues(t, 1, body["resolved"])

	items := requests(t, sys)
	require.Len(t, items, 1, "a resolved alert never creates a request")
	require.NotNil(t, items[0].Status.SignalResolvedAt)
	assert.Equal(t, resolved.EndsAt, items[0].Status.SignalResolvedAt.UTC())

	// Resolved alert without an active request: acknowledged, nothing created.
	other := alert("resolved", map[string]string{"alertname": "X", "namespace": shop, "deployment": "nothing-here"})
	code, _, body = post(t, gw.url, gateway.PathPrometheus, webhook(t, other), nil)
	require.Equal(t, http.StatusOK, code, body)
	res := body["results"].([]any)[0].(map[string]any)
	assert.Equal(t, "resolved", res["status"])
	assert.Empty(t, res["remediationRequest"])
	assert.Len(t, requests(t, sys), 1)
}

// finish marks rr terminal as the orchestrator would, ended at end.
func finish(t *testing.T, rr *remediationv1.RemediationRequest, end time.Time) {
	orig := rr.DeepCopy()
	rr.Status.OverallPhase = remediationv1.PhaseCompleted
	rr.Status.Outcome = remediationv1.OutcomeRemediated
	ts := metav1.NewTime(end)
	rr.Status.CompletionTime = &ts
	require.NoError(t, env.Client.Status().Patch(context.Background(), rr, client.MergeFrom(orig)))
}

func TestCooldown(t *testing.T) {
	cases := map[string]struct {
		endedAgo    time.Duration
		wantCode    int
		wantStatus  string
		wantRequest int
	}{
		"ended within the cooldown: duplicate": {endedAgo: time.Minute, wantCode: http.StatusAccepted, wantStatus: "duplicate", wantRequest: 1},
		"ended past the cooldown: new request": {endedAgo: 10 * time.Minute, wantCode: http.StatusCreated, wantStatus: "created", wantRequest: 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sys := env.Namespace(t, nil)
			shop := env.Namespace(t, nil)
			gw := startGateway(t, sys, options{config: func(c *gateway.Config) { c.Cooldown = 5 * time.Minute }})
			makeDeployment(t, shop, "web")
			payload := webhook(t, memoryAlert(shop, "web"))
			code, _, body := post(t, gw.url, gateway.PathPrometheus, payload, nil)
			require.Equal(t, http.StatusCreated, code, body)
			items := requests(t, sys)
			require.Len(t, items, 1)
			finish(t, &items[0], time.Now().Add(-tc.endedAgo))

			code, _, body = post(t, gw.url, gateway.PathPrometheus, payload, nil)
			assert.Equal(t, tc.wantCode, code, body)
			assert.Equal(t, tc.wantStatus, body["results"].([]any)[0].(map[string]any)["status"])
			assert.Len(t, requests(t, sys), tc.wantRequest)
			if tc.wantRequest == 2 {
				assert.Equal(t, gateway.RequestName(items[0].Spec.SignalFingerprint, 1), body["results"].([]any)[0].(map[string]any)["remediationRequest"])
			}
		})
	}
}

// fire posts the same alert n times concurrently, spread over the instances, and returns the
// status codes.
func fire(t *testing.T, n int, payload []byte, instances ...*instance) map[int]int {
	var (
		mu    sync.Mutex
		codes = map[int]int{}
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			code, _, _ := post(t, instances[i%len(instances)].url, gateway.PathPrometheus, payload, nil)
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return codes
}

func TestConcurrentIdenticalSignals(t *testing.T) {
	cases := map[string]struct{ instances int }{
		"one gateway":  {instances: 1},
		"two gateways": {instances: 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sys := env.Namespace(t, nil)
			shop := env.Namespace(t, nil)
			var gws []*instance
			for range tc.instances {
				gws = append(gws, startGateway(t, sys, options{}))
			}
			makeDeployment(t, shop, "web")
			codes := fire(t, 50, webhook(t, memoryAlert(shop, "web")), gws...)
			assert.Equal(t, map[int]int{http.StatusCreated: 1, http.StatusAccepted: 49}, codes)
			items := requests(t, sys)
			require.Len(t, items, 1)
			require.NotNil(t, items[0].Status.Deduplication)
			assert.EqualValues(t, 49, items[0].Status.Deduplication.OccurrenceCount)
		})
	}
}

func TestConcurrentAfterCooldownAcrossGateways(t *testing.T) {
	sys := env.Namespace(t, nil)
	shop := env.Namespace(t, nil)
	a := startGateway(t, sys, options{})
	b := startGateway(t, sys, options{})
	makeDeployment(t, shop, "web")
	payload := webhook(t, memoryAlert(shop, "web"))
	code, _, body := post(t, a.url, gateway.PathPrometheus, payload, nil)
	require.Equal(t, http.StatusCreated, code, body)
	first := requests(t, sys)[0]
	finish(t, &first, time.Now().Add(-time.Hour))

	// Both gateways may hold the old generation; exactly one new generation is created.
	codes := fire(t, 30, payload, a, b)
	assert.Equal(t, map[int]int{http.StatusCreated: 1, http.StatusAccepted: 29}, codes)
	items := requests(t, sys)
	require.Len(t, items, 2)
	var second remediationv1.RemediationRequest
	require.NoError(t, env.Client.Get(context.Background(), client.ObjectKey{Namespace: sys, Name: gateway.RequestName(first.Spec.SignalFingerprint, 1)}, &second))
	require.NotNil(t, second.Status.Deduplication)
	assert.EqualValues(t, 29, second.Status.Deduplication.OccurrenceCount)
}

func event(ns, typ, reason string, involved corev1.ObjectReference) []byte {
	ev := corev1.Event{
		TypeMeta:       metav1.TypeMeta{APIVersion: "v1", Kind: "Event"},
		ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: involved.Name + ".17f3a2b4c5d6e7f8"},
		InvolvedObject: involved, Reason: reason, Type: typ,
		Message:        "Back-off restarting failed container app in pod " + involved.Name,
		Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"},
		FirstTimestamp: metav1.NewTime(time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)),
		LastTimestamp:  metav1.NewTime(time.Date(2026, 11, 26, 1, 5, 0, 0, time.UTC)),
		Count:          7,
	}
	b, _ := json.Marshal(ev)
	return b
}

func TestKubernetesEvent(t *testing.T) {
	sys := env.Namespace(t, nil)
	shop := env.Namespace(t, map[string]string{"environment": "staging"})
	gw := startGateway(t, sys, options{})
	pod := makeDeploymentWithPod(t, shop, "cart")
	involved := corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: shop, Name: pod}

	code, _, body := post(t, gw.url, gateway.PathKubernetesEvent, event(shop, corev1.EventTypeNormal, "Pulled", involved), nil)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "ignored", body["results"].([]any)[0].(map[string]any)["status"])
	assert.Empty(t, requests(t, sys))

	code, _, body = post(t, gw.url, gateway.PathKubernetesEvent, event(shop, corev1.EventTypeWarning, "BackOff", involved), nil)
	require.Equal(t, http.StatusCreated, code, body)
	items := requests(t, sys)
	require.Len(t, items, 1)
	rr := items[0]
	assert.Equal(t, remediationv1.SignalTypeKubernetesEvent, rr.Spec.SignalType)
	assert.Equal(t, "BackOff", rr.Spec.SignalName)
	assert.Equal(t, "kubelet", rr.Spec.SignalSource)
	assert.Equal(t, remediationv1.SeverityWarning, rr.Spec.Severity)
	assert.Equal(t, remediationv1.EnvironmentStaging, rr.Spec.Environment)
	assert.Equal(t, remediationv1.PriorityP2, rr.Spec.Priority)
	assert.Equal(t, common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: shop, Name: "cart"}, rr.Spec.TargetResource)
	assert.Contains(t, rr.Spec.SignalAnnotations["message"], "Back-off restarting")
	assert.NotEmpty(t, rr.Spec.OriginalPayload)

	code, _, body = post(t, gw.url, gateway.PathKubernetesEvent, event(shop, corev1.EventTypeWarning, "BackOff", involved), nil)
	assert.Equal(t, http.StatusAccepted, code, body)
}

func TestBadInput(t *testing.T) {
	sys := env.Namespace(t, nil)
	tokenFile := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(tokenFile, []byte("# gateway callers\ns3cret-alertmanager\n"), 0o600))
	gw := startGateway(t, sys, options{auth: &httpapi.TokenFile{Path: tokenFile}})
	ok := map[string]string{"Authorization": "Bearer s3cret-alertmanager"}
	valid := string(webhook(t, memoryAlert("shop", "web")))

	cases := map[string]struct {
		method, path, body string
		header             map[string]string
		code               int
		mention            string
	}{
		"no token":               {http.MethodPost, gateway.PathPrometheus, valid, nil, http.StatusUnauthorized, "bearer"},
		"wrong token":            {http.MethodPost, gateway.PathPrometheus, valid, map[string]string{"Authorization": "Bearer nope"}, http.StatusUnauthorized, "not accepted"},
		"not a bearer token":     {http.MethodPost, gateway.PathPrometheus, valid, map[string]string{"Authorization": "Basic Zm9vOmJhcg=="}, http.StatusUnauthorized, "bearer"},
		"wrong method":           {http.MethodGet, gateway.PathPrometheus, "", ok, http.StatusMethodNotAllowed, "POST"},
		"wrong method (event)":   {http.MethodPut, gateway.PathKubernetesEvent, "{}", ok, http.StatusMethodNotAllowed, "POST"},
		"too large":              {http.MethodPost, gateway.PathPrometheus, `{"x":"` + strings.Repeat("a", 300<<10) + `"}`, ok, http.StatusRequestEntityTooLarge, "exceeds"},
		"invalid JSON":           {http.MethodPost, gateway.PathPrometheus, `{"version": "4", "alerts": [`, ok, http.StatusBadRequest, "invalid JSON"},
		"not Alertmanager":       {http.MethodPost, gateway.PathPrometheus, `{"hello":"world"}`, ok, http.StatusBadRequest, "version must be"},
		"wrong version":          {http.MethodPost, gateway.PathPrometheus, strings.Replace(valid, `"version":"4"`, `"version":"3"`, 1), ok, http.StatusBadRequest, `got "3"`},
		"no alerts":              {http.MethodPost, gateway.PathPrometheus, `{"version":"4","groupKey":"g","status":"firing","receiver":"r","alerts":[]}`, ok, http.StatusBadRequest, "at least one alert"},
		"alert without name":     {http.MethodPost, gateway.PathPrometheus, strings.Replace(valid, `"alertname":"HighMemoryUsage","container"`, `"container"`, 1), ok, http.StatusBadRequest, "alertname is required"},
		"alert without startsAt": {http.MethodPost, gateway.PathPrometheus, strings.Replace(valid, `"startsAt":"2026-11-26T01:00:00Z"`, `"startsAt":"0001-01-01T00:00:00Z"`, 1), ok, http.StatusBadRequest, "startsAt is required"},
		"event invalid JSON":     {http.MethodPost, gateway.PathKubernetesEvent, `[1,2`, ok, http.StatusBadRequest, "invalid JSON"},
		"event without object":   {http.MethodPost, gateway.PathKubernetesEvent, `{"kind":"Event","type":"Warning","reason":"BackOff"}`, ok, http.StatusBadRequest, "involvedObject.kind is required"},
		"event of odd type":      {http.MethodPost, gateway.PathKubernetesEvent, `{"kind":"Event","type":"Error","reason":"X","involvedObject":{"kind":"Pod","name":"p"}}`, ok, http.StatusBadRequest, "Normal or Warning"},
		"unknown path":           {http.MethodPost, "/api/v1/signals/other", valid, ok, http.StatusNotFound, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, gw.url+tc.path, strings.NewReader(tc.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tc.code, resp.StatusCode)
			if tc.mention == "" {
				return
			}
			var eb httpapi.ErrorBody
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&eb))
			assert.Contains(t, strings.ToLower(eb.Error+" "+strings.Join(eb.Details, " ")), strings.ToLower(tc.mention))
		})
	}
	assert.Empty(t, requests(t, sys), "no bad input creates a request")

	code, _, body := post(t, gw.url, gateway.PathPrometheus, []byte(valid), ok)
	assert.Equal(t, http.StatusCreated, code, body)
}

func TestMixedBatchReportsEachAlert(t *testing.T) {
	sys := env.Namespace(t, nil)
	shop := env.Namespace(t, nil)
	gw := startGateway(t, sys, options{})
	makeDeployment(t, shop, "web")
	nameless := alert("firing", map[string]string{"severity": "warning", "namespace": shop, "deployment": "web"})
	noTarget := alert("firing", map[string]string{"alertname": "NoTarget", "severity": "warning"})
	payload := webhook(t, memoryAlert(shop, "web"), nameless, noTarget)
	code, _, body := post(t, gw.url, gateway.PathPrometheus, payload, nil)
	require.Equal(t, http.StatusCreated, code, body)
	results := body["results"].([]any)
	require.Len(t, results, 3)
	assert.Equal(t, "created", results[0].(map[string]any)["status"])
	assert.Equal(t, "rejected", results[1].(map[string]any)["status"])
	assert.Contains(t, results[1].(map[string]any)["reason"], "alertname is required")
	assert.Equal(t, "created", results[2].(map[string]any)["status"], "an alert naming no object is stored, unresolved")
	assert.Len(t, requests(t, sys), 2)
}

func TestAPIServerUnavailable(t *testing.T) {
	sys := env.Namespace(t, nil)
	shop := env.Namespace(t, nil)
	u, err := url.Parse(env.Config.Host)
	require.NoError(t, err)
	proxy := newProxy(t, u.Host)
	cfg := rest.CopyConfig(env.Config)
	cfg.Host = "https://" + proxy.addr
	gw := startGateway(t, sys, options{rest: cfg, config: func(c *gateway.Config) { c.APITimeout = 2 * time.Second }})
	makeDeployment(t, shop, "web")
	makeDeployment(t, shop, "api")

	proxy.Stop()
	code, header, body := post(t, gw.url, gateway.PathPrometheus, webhook(t, memoryAlert(shop, "web")), nil)
	assert.Equal(t, http.StatusServiceUnavailable, code, body)
	assert.Equal(t, "5", header.Get("Retry-After"))
	assert.Contains(t, body["error"], "unavailable")
	assert.Empty(t, requests(t, sys))

	proxy.Start(t)
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		code, _, _ := post(t, gw.url, gateway.PathPrometheus, webhook(t, memoryAlert(shop, "web")), nil)
		assert.Equal(c, http.StatusCreated, code)
	}, 30*time.Second, 200*time.Millisecond)
	assert.Len(t, requests(t, sys), 1)

	// A slow API server (connections accepted, never answered): 503 after --api-timeout.
	proxy.Hang()
	other := webhook(t, memoryAlert(shop, "api"))
	code, header, body = post(t, gw.url, gateway.PathPrometheus, other, nil)
	assert.Equal(t, http.StatusServiceUnavailable, code, body)
	assert.Equal(t, "5", header.Get("Retry-After"))
	proxy.Resume()
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		code, _, _ := post(t, gw.url, gateway.PathPrometheus, other, nil)
		assert.Contains(c, []int{http.StatusCreated, http.StatusAccepted}, code)
	}, 30*time.Second, 200*time.Millisecond)
	assert.Len(t, requests(t, sys), 2)
}

func TestTokenReviewAuth(t *testing.T) {
	sys := env.Namespace(t, nil)
	shop := env.Namespace(t, nil)
	ctx := context.Background()
	auth, err := httpapi.NewTokenReview(env.Config)
	require.NoError(t, err)
	gw := startGateway(t, sys, options{auth: auth})
	makeDeployment(t, shop, "web")

	cs, err := kubernetes.NewForConfig(env.Config)
	require.NoError(t, err)
	sa, err := cs.CoreV1().ServiceAccounts(sys).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "alertmanager"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	tr, err := cs.CoreV1().ServiceAccounts(sys).CreateToken(ctx, sa.Name, &authnv1.TokenRequest{}, metav1.CreateOptions{})
	require.NoError(t, err)

	payload := webhook(t, memoryAlert(shop, "web"))
	code, _, body := post(t, gw.url, gateway.PathPrometheus, payload, map[string]string{"Authorization": "Bearer not-a-service-account-token"})
	assert.Equal(t, http.StatusUnauthorized, code, body)
	assert.Empty(t, requests(t, sys))
	code, _, body = post(t, gw.url, gateway.PathPrometheus, payload, map[string]string{"Authorization": "Bearer " + tr.Status.Token})
	assert.Equal(t, http.StatusCreated, code, body)
}

// TestAlertContentCannotStopTheGateway sends an alert with a label and an annotation named
// originalPayload whose values hold escaped quotes and backslashes. The request is stored, and
// the gateway (and a restarted one) still reads it: duplicates are counted, not answered 503.
func TestAlertContentCannotStopTheGateway(t *testing.T) {
	sys := env.Namespace(t, nil)
	shop := env.Namespace(t, nil)
	gw := startGateway(t, sys, options{})
	makeDeployment(t, shop, "web")
	a := memoryAlert(shop, "web")
	a.Labels["originalPayload"] = `x"y\`
	a.Annotations["originalPayload"] = `"},"status":{"overallPhase":"Completed`
	payload := webhook(t, a)

	code, _, body := post(t, gw.url, gateway.PathPrometheus, payload, nil)
	require.Equal(t, http.StatusCreated, code, body)
	code, _, body = post(t, gw.url, gateway.PathPrometheus, payload, nil)
	require.Equal(t, http.StatusAccepted, code, body)

	restarted := startGateway(t, sys, options{}) // syncs its informer, or fails within a minute
	code, _, body = post(t, restarted.url, gateway.PathPrometheus, payload, nil)
	require.Equal(t, http.StatusAccepted, code, body)
	items := requests(t, sys)
	require.Len(t, items, 1)
	assert.Equal(t, `x"y\`, items[0].Spec.SignalLabels["originalPayload"])
	require.NotNil(t, items[0].Status.Deduplication)
	assert.EqualValues(t, 2, items[0].Status.Deduplication.OccurrenceCount)
}
