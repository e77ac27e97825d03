package processing_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/processing/classify"
)

const policyV1 = `
environments:
  - {namespace: "override-*", environment: production}
rules:
  - name: payments-critical
    expression: 'namespaceLabels.?team.orValue("") == "payments" && signal.severity == "critical"'
    priority: P0
`

var nsCounter atomic.Int64

// namespace creates a namespace with a chosen name prefix (classification reads names).
func (h *harness) namespace(prefix string, labels map[string]string) string {
	h.t.Helper()
	name := fmt.Sprintf("%s-%d", prefix, nsCounter.Add(1))
	require.NoError(h.t, h.c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}))
	return name
}

// policyEvent waits for an event with reason about the policy ConfigMap whose note contains text.
func (h *harness) policyEvent(t *testing.T, reason, text string) *eventsv1.Event {
	t.Helper()
	var found *eventsv1.Event
	ok := assert.EventuallyWithT(t, func(c *assert.CollectT) {
		var list eventsv1.EventList
		if !assert.NoError(c, h.c.List(context.Background(), &list, client.InNamespace(h.sys))) {
			return
		}
		found = nil
		for i := range list.Items {
			e := &list.Items[i]
			if e.Regarding.Kind == "ConfigMap" && e.Regarding.Name == policyName && e.Reason == reason && strings.Contains(e.Note, text) {
				found = e
			}
		}
		assert.NotNil(c, found, "event %s containing %q", reason, text)
	}, wait, tick)
	if !ok {
		t.FailNow()
	}
	return found
}

func (h *harness) writePolicy(t *testing.T, doc string) string {
	t.Helper()
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: h.sys, Name: policyName}}
	err := h.c.Get(ctx, keyOf(cm), cm)
	cm.Data = map[string]string{classify.PolicyKey: doc}
	if err != nil {
		require.NoError(t, h.c.Create(ctx, cm))
	} else {
		require.NoError(t, h.c.Update(ctx, cm))
	}
	return cm.ResourceVersion
}

func testPolicy(t *testing.T, env *testenv.Env) {
	h := startProcessing(t, env, nil)
	payments := h.namespace("shop", map[string]string{"team": "payments"})
	critical := func(ns string) *processingv1.EnrichedSignal {
		rp := h.process(deployTarget(ns, "web"), nil)
		require.Equal(t, processingv1.PhaseCompleted, rp.Status.Phase)
		return rp.Status.EnrichedSignal
	}

	t.Run("built-in policy without a ConfigMap", func(t *testing.T) {
		es := critical(payments)
		assert.Equal(t, "P1", es.BusinessPriority)
		assert.Equal(t, "table:critical/unknown", es.PriorityRule)
		assert.Equal(t, classify.DefaultVersion, es.PolicyVersion)
	})

	v1 := h.writePolicy(t, policyV1)
	h.policyEvent(t, processingv1.EventReasonPolicyLoaded, v1)
	t.Run("a new policy is loaded without a restart", func(t *testing.T) {
		es := critical(payments)
		assert.Equal(t, "P0", es.BusinessPriority)
		assert.Equal(t, "rule:payments-critical", es.PriorityRule)
		assert.Equal(t, v1, es.PolicyVersion)
	})

	t.Run("classification sources", func(t *testing.T) {
		tests := map[string]struct {
			ns       string
			labels   map[string]string
			env      string
			source   processingv1.EnvironmentSource
			priority string
		}{
			"namespace label":     {ns: h.namespace("a", map[string]string{"kubernaut.io/environment": "staging", "env": "production"}), env: "staging", source: processingv1.EnvironmentFromNamespaceLabel, priority: "P1"},
			"namespace env label": {ns: h.namespace("b", map[string]string{"environment": "dev"}), env: "development", source: processingv1.EnvironmentFromNamespaceEnvLabel, priority: "P2"},
			"signal label":        {ns: h.namespace("override", nil), labels: map[string]string{"environment": "staging"}, env: "staging", source: processingv1.EnvironmentFromSignalLabel, priority: "P1"},
			"policy override":     {ns: h.namespace("override", nil), env: "production", source: processingv1.EnvironmentFromPolicyOverride, priority: "P0"},
			"namespace name":      {ns: h.namespace("shop-stg", nil), env: "staging", source: processingv1.EnvironmentFromNamespaceName, priority: "P1"},
			"nothing":             {ns: h.namespace("plain", nil), env: "unknown", source: processingv1.EnvironmentFromDefault, priority: "P1"},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				rp := h.process(deployTarget(tc.ns, "web"), func(rp *processingv1.RemediationProcessing) {
					for k, v := range tc.labels {
						rp.Spec.Alert.Labels[k] = v
					}
				})
				es := rp.Status.EnrichedSignal
				require.NotNil(t, es)
				assert.Equal(t, tc.env, es.Environment)
				assert.Equal(t, tc.source, es.EnvironmentSource)
				assert.Equal(t, tc.priority, es.BusinessPriority)
			})
		}
	})

	t.Run("criticality label raises the priority", func(t *testing.T) {
		ns := h.namespace("c", map[string]string{"kubernaut.io/environment": "staging", "kubernaut.io/criticality": "high"})
		es := critical(ns)
		assert.Equal(t, "P0", es.BusinessPriority)
		assert.Equal(t, "table:critical/staging+criticality:high", es.PriorityRule)
	})

	t.Run("an invalid policy is refused and the last good one stays", func(t *testing.T) {
		bad := h.writePolicy(t, `
rules:
  - name: broken
    expression: 'signal.severity + 1 == 2'
    priority: P0
`)
		e := h.policyEvent(t, processingv1.EventReasonPolicyInvalid, "does not compile")
		assert.Equal(t, corev1.EventTypeWarning, e.Type)
		assert.Contains(t, e.Note, "rules[0] (broken)")
		assert.Contains(t, e.Note, "policy version "+v1+" stays in force")
		es := critical(payments)
		assert.Equal(t, "rule:payments-critical", es.PriorityRule)
		assert.Equal(t, v1, es.PolicyVersion, "not %s", bad)
	})

	t.Run("a fixed policy replaces it", func(t *testing.T) {
		v3 := h.writePolicy(t, "priorities: {critical: {unknown: P3}}\n")
		h.policyEvent(t, processingv1.EventReasonPolicyLoaded, v3)
		es := critical(payments)
		assert.Equal(t, "P3", es.BusinessPriority)
		assert.Equal(t, "table:critical/unknown", es.PriorityRule)
		assert.Equal(t, v3, es.PolicyVersion)
	})
}
