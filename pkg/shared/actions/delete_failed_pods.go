package actions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// delete_failed_pods: delete the Failed Pods FailedPods selects (pods.go), each with its UID as
// precondition.
func deleteFailedPodsAction() Action {
	return Action{
		Name:    DeleteFailedPods,
		Timeout: 2 * time.Minute,
		Description: "Delete Pods in the Failed phase (e.g. Evicted or errored Pods) in a " +
			"Namespace, or those belonging to a Deployment, to clean up clutter and release " +
			"their resources. Running Pods are never touched.",
		TargetKinds: []TargetKind{KindNamespace, KindDeployment},
		Params: []Param{
			{
				Name:        "labelSelector",
				Description: `Only delete failed Pods matching this label selector, e.g. "app=web".`,
				Type:        ParamString,
				MaxLength:   1024,
				Format:      FormatLabelSelector,
			},
			{
				Name:        "maxPods",
				Description: "Maximum number of Pods to delete in one run.",
				Type:        ParamInt,
				Default:     "20",
				Min:         ptr[int64](1),
				Max:         ptr[int64](100),
			},
		},
		Risk:       RiskLow,
		Reversible: false,
		Verbs: []Verb{
			{Group: "", Resource: "namespaces", Verbs: []string{"get"}},
			{Group: "", Resource: "pods", Verbs: []string{"list", "delete"}},
			// To read a Deployment's selector.
			{Group: "apps", Resource: "deployments", Verbs: []string{"get"}},
		},
	}
}

// resolveDeleteFailedPods selects the Pods deleted (FailedPods, the executor's selection).
func resolveDeleteFailedPods(ctx context.Context, c Cluster, live client.Object, params map[string]string, r *Resolution, _ *Inputs) error {
	pods, err := FailedPods(ctx, c, live, params)
	if rf := (*Refusal)(nil); errors.As(err, &rf) {
		return mismatchf(ErrInvalidParameters, "%s", rf.Message)
	}
	if err != nil {
		return err
	}
	r.Deletes = pods
	r.Found = fmt.Sprintf("%d failed Pods%s", len(r.Deletes), PodList(r.Deletes))
	return nil
}
