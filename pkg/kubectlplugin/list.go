package kubectlplugin

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
)

// allPhases are the phases --phase accepts, in lifecycle order.
var allPhases = []remediationv1.Phase{
	remediationv1.PhasePending, remediationv1.PhaseProcessing, remediationv1.PhaseAnalyzing,
	remediationv1.PhaseAwaitingApproval, remediationv1.PhasePlanning, remediationv1.PhaseExecuting,
	remediationv1.PhaseVerifying, remediationv1.PhaseCompleted, remediationv1.PhaseFailed,
	remediationv1.PhaseTimedOut, remediationv1.PhaseBlocked, remediationv1.PhaseSkipped,
}

func phaseNames() string {
	names := make([]string, len(allPhases))
	for i, p := range allPhases {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}

func newListCommand(o *Options) *cobra.Command {
	var phase string
	var allNamespaces bool
	cmd := &cobra.Command{
		Use:   "list [--phase PHASE] [-A]",
		Short: "List remediation requests with phase, outcome, target, signal, priority, occurrences and age",
		Long: `List remediation requests with their phase, outcome, target, signal, priority, occurrences
(duplicates received after the first signal) and age (since the gateway received the signal),
newest first.`,
		Example: `  kubectl kubernaut list
  kubectl kubernaut list --phase AwaitingApproval
  kubectl kubernaut list -A -o json`,
		Aliases: []string{"ls", "get"},
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var want remediationv1.Phase
			if phase != "" {
				for _, p := range allPhases {
					if strings.EqualFold(phase, string(p)) {
						want = p
					}
				}
				if want == "" {
					return usageErr("--phase must be one of %s, got %q", phaseNames(), phase)
				}
			}
			return o.runList(cmd.Context(), want, allNamespaces)
		},
	}
	cmd.Flags().StringVar(&phase, "phase", "", "Only requests in this phase ("+phaseNames()+").")
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "List requests in every namespace.")
	return cmd
}

func (o *Options) runList(ctx context.Context, phase remediationv1.Phase, allNamespaces bool) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	var list remediationv1.RemediationRequestList
	var opts []client.ListOption
	if !allNamespaces {
		opts = append(opts, client.InNamespace(o.namespace()))
	}
	if err := c.List(ctx, &list, opts...); err != nil {
		return fmt.Errorf("listing remediation requests: %w", err)
	}
	items := list.Items[:0]
	for _, rr := range list.Items {
		if phase == "" || rr.Status.OverallPhase == phase {
			stripMeta(&rr.ObjectMeta)
			items = append(items, rr)
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		ti, tj := receivedAt(&items[i]), receivedAt(&items[j])
		if !ti.Equal(&tj) {
			return tj.Before(&ti)
		}
		if items[i].Namespace != items[j].Namespace {
			return items[i].Namespace < items[j].Namespace
		}
		return items[i].Name < items[j].Name
	})
	list.Items = items
	if o.structured() {
		list.APIVersion, list.Kind = remediationv1.GroupVersion.String(), "RemediationRequestList"
		list.ResourceVersion, list.Continue = "", ""
		for i := range list.Items {
			list.Items[i].APIVersion, list.Items[i].Kind = remediationv1.GroupVersion.String(), "RemediationRequest"
		}
		return o.printStructured(&list)
	}
	if len(items) == 0 {
		where := "in namespace " + o.namespace()
		if allNamespaces {
			where = "in any namespace"
		}
		_, err := fmt.Fprintf(o.ErrOut, "No remediation requests found %s.\n", where)
		return err
	}
	now := o.Now()
	w := newTable(o.Out)
	if allNamespaces {
		fmt.Fprint(w, "NAMESPACE\t")
	}
	fmt.Fprintln(w, "NAME\tPHASE\tOUTCOME\tTARGET\tSIGNAL\tPRIORITY\tOCCURRENCES\tAGE")
	for i := range items {
		rr := &items[i]
		if allNamespaces {
			fmt.Fprintf(w, "%s\t", rr.Namespace)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", rr.Name, orNone(string(rr.Status.OverallPhase)),
			orNone(string(rr.Status.Outcome)), targetString(rr.Spec.TargetResource), orNone(rr.Spec.SignalName),
			orNone(string(rr.Spec.Priority)), occurrences(rr), age(now, receivedAt(rr)))
	}
	return w.Flush()
}

// receivedAt is when the gateway received the signal (the creation time for older requests).
func receivedAt(rr *remediationv1.RemediationRequest) metav1.Time {
	if !rr.Spec.ReceivedTime.IsZero() {
		return rr.Spec.ReceivedTime
	}
	return rr.CreationTimestamp
}

func occurrences(rr *remediationv1.RemediationRequest) string {
	if rr.Status.Deduplication == nil {
		return "0"
	}
	return strconv.Itoa(int(rr.Status.Deduplication.OccurrenceCount))
}

// targetString prints a target as Kind/namespace/name (Kind/name when cluster-scoped).
func targetString(t common.TargetResource) string {
	if t.Kind == "" && t.Name == "" {
		return "-"
	}
	if t.Namespace == "" {
		return t.Kind + "/" + t.Name
	}
	return t.Kind + "/" + t.Namespace + "/" + t.Name
}
