package workflow_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/workflow"
)

var increaseMemory = common.WorkflowStep{Name: "increase-memory", Action: "increase_resources",
	Parameters: map[string]string{"container": "app", "memory": "512Mi"}}

// BenchmarkPlanAndValidate plans and validates a one-step increase_resources workflow against
// the API server, as the controller does for each workflow (one live read, the SubjectAccessReviews,
// one server-side dry-run patch), one workflow at a time, with the workflow service's RBAC.
func BenchmarkPlanAndValidate(b *testing.B) {
	f := start(b, nil, false)
	f.deployment(b, "web", "128Mi", "256Mi")
	c, err := client.New(env.AsService(b, "workflow", f.ns), client.Options{Scheme: app.NewScheme()})
	require.NoError(b, err)
	v := &workflow.Validator{Reader: c, Writer: c, Executor: f.executor}
	spec := f.workflowOf("bench", deploymentTarget(f.ns, "web"), increaseMemory).Spec
	ctx := context.Background()
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		p, err := workflow.NewPlan(&spec)
		if err != nil {
			b.Fatal(err)
		}
		res, err := v.Validate(ctx, &p.Operations[0])
		if err != nil || !res.Valid {
			b.Fatalf("%v %+v", err, res)
		}
		durations = append(durations, time.Since(start))
	}
	reportLatency(b, durations)
}

// BenchmarkController measures the controller end to end: b.N one-step increase_resources
// workflows created at once, from the first creation to the last Completed (4 reconciles at once).
func BenchmarkController(b *testing.B) {
	f := start(b, nil, true)
	f.deployment(b, "web", "128Mi", "256Mi")
	ctx := context.Background()
	b.ResetTimer()
	begin := time.Now()
	n := 0
	for b.Loop() {
		w := f.workflowOf(fmt.Sprintf("bench-%d", n), deploymentTarget(f.ns, "web"), increaseMemory)
		if err := f.c.Create(ctx, w); err != nil {
			b.Fatal(err)
		}
		n++
	}
	for {
		var list workflowv1.WorkflowExecutionList
		require.NoError(b, f.c.List(ctx, &list, client.InNamespace(f.ns)))
		done := 0
		for _, w := range list.Items {
			if w.Status.Phase == workflowv1.PhaseCompleted {
				done++
			} else if w.Status.Phase == workflowv1.PhaseFailed {
				b.Fatalf("%s failed: %s", w.Name, w.Status.Message)
			}
		}
		if done == n {
			break
		}
		time.Sleep(10 * time.Millisecond) // polling the benchmark's own progress, not a test wait
	}
	elapsed := time.Since(begin)
	b.ReportMetric(float64(n)/elapsed.Seconds(), "workflows/s")
}

func reportLatency(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	b.ReportMetric(float64(len(d))/sum.Seconds(), "workflows/s")
	b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
}
