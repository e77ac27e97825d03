package action

import (
	"fmt"
	"math/big"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets,verbs=get;patch

func init() {
	register(actions.IncreaseResources, workloadActions(increaseResources, true, true))
}

// increaseResources sets, or multiplies by memoryFactor/cpuFactor, the memory and/or CPU
// requests and limits of the named container, or of every container, of a pod template
// (actions.RaiseResources). It refuses a request that would decrease, and an amount (the
// result, for a factor) above Limits.MaxMemory/MaxCPU or more than Limits.MaxResourceFactor
// times the current one. Its post-condition is the new template rolled
// out and available: pods that cannot be scheduled with the new requests fail it, and the
// change is rolled back.
func increaseResources(env *Env, op *Op, tpl *corev1.PodTemplateSpec) (string, error) {
	before := tpl.DeepCopy()
	if err := actions.RaiseResources(tpl, op.Params); err != nil {
		return "", mutateErr(err)
	}
	var changed []string
	for i := range tpl.Spec.Containers {
		c, old := &tpl.Spec.Containers[i], &before.Spec.Containers[i]
		for _, r := range []struct {
			name corev1.ResourceName
			max  resource.Quantity
		}{{corev1.ResourceMemory, env.Limits.MaxMemory}, {corev1.ResourceCPU, env.Limits.MaxCPU}} {
			for _, kind := range []string{"request", "limit"} {
				oldList, newList := old.Resources.Requests, c.Resources.Requests
				if kind == "limit" {
					oldList, newList = old.Resources.Limits, c.Resources.Limits
				}
				q, ok := newList[r.name]
				o, had := oldList[r.name]
				if !ok || (had && q.Cmp(o) == 0) {
					continue
				}
				if had && q.Cmp(o) < 0 {
					return "", refuse(kev1.ReasonInvalidParameters, "container %s: %s %s %s would decrease from %s", c.Name, r.name, kind, q.String(), o.String())
				}
				if err := withinLimits(env, c.Name, r.name, kind, o, had, q, r.max); err != nil {
					return "", err
				}
				changed = append(changed, fmt.Sprintf("%s %s %s %s → %s", c.Name, r.name, kind, show(o, had), q.String()))
			}
		}
	}
	if len(changed) == 0 {
		return "resources already as requested", nil
	}
	return strings.Join(changed, ", "), nil
}

// withinLimits refuses an amount above the cap or growing by more than the configured factor.
// Both apply to the amount the operation would write, whether given as a value or computed from
// a factor (memoryFactor, cpuFactor). The factor bound is the current amount multiplied as a
// factor step multiplies it (actions.Multiply, rounded up to a whole Mi or millicore), so that a
// step by exactly the configured factor is never refused for its rounding.
func withinLimits(env *Env, container string, name corev1.ResourceName, what string, old resource.Quantity, hasOld bool, q, max resource.Quantity) error {
	if !max.IsZero() && q.Cmp(max) > 0 {
		return refuse(kev1.ReasonBlastRadius, "container %s: %s %s %s exceeds the cap %s", container, name, what, q.String(), max.String())
	}
	if f := env.Limits.MaxResourceFactor; hasOld && old.Sign() > 0 && f > 0 {
		if bound := actions.Multiply(old, name, new(big.Rat).SetFloat64(f)); q.Cmp(bound) > 0 {
			ratio := float64(q.MilliValue()) / float64(old.MilliValue())
			return refuse(kev1.ReasonBlastRadius, "container %s: %s %s %s → %s is a factor of %.2f, above the limit %.2f",
				container, name, what, old.String(), q.String(), ratio, f)
		}
	}
	return nil
}

func show(q resource.Quantity, ok bool) string {
	if !ok {
		return "(none)"
	}
	return q.String()
}
