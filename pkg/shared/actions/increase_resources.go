package actions

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// increase_resources: raise the requests and limits of one or every container of a Pod
// template, to new values or by a factor of the live ones (RaiseResources). Post-condition: the
// new template rolled out and available.
func increaseResourcesAction() Action {
	return Action{
		Name:    IncreaseResources,
		Timeout: 5 * time.Minute,
		Description: "Raise the CPU and/or memory requests and limits of the containers of a " +
			"Deployment, StatefulSet or DaemonSet, for example after OOMKilled restarts or CPU " +
			"throttling, either to new values (memory, cpu, memoryLimit, cpuLimit) or by a factor " +
			"of the current ones (memoryFactor, cpuFactor). Changing the Pod template rolls out new " +
			"Pods. Undone by restoring the recorded previous values.",
		TargetKinds: []TargetKind{KindDeployment, KindStatefulSet, KindDaemonSet},
		Params: []Param{
			{
				Name:        "container",
				Description: "Name of the container to change; when omitted every container of the Pod template is changed.",
				Type:        ParamString,
				Format:      FormatDNSLabel,
			},
			{
				Name: "memory",
				Description: `New memory request, e.g. "512Mi". At least one of memory, memoryFactor, cpu and cpuFactor ` +
					`is required.`,
				Type: ParamQuantity,
			},
			{
				Name: "cpu",
				Description: `New CPU request, e.g. "500m" or "2". At least one of memory, memoryFactor, cpu and ` +
					`cpuFactor is required.`,
				Type: ParamQuantity,
			},
			{
				Name:        "memoryLimit",
				Description: `New memory limit, e.g. "1Gi"; must not be below memory when both are given.`,
				Type:        ParamQuantity,
			},
			{
				Name:        "cpuLimit",
				Description: `New CPU limit, e.g. "1"; must not be below cpu when both are given.`,
				Type:        ParamQuantity,
			},
			factorParam("memory", "memory", "a whole Mi"),
			factorParam("cpu", "CPU", "a whole millicore"),
		},
		Risk:       RiskMedium,
		Reversible: true,
		ReversedBy: IncreaseResources,
		Verbs: []Verb{
			{Group: "apps", Resource: "deployments", Verbs: getPatch()},
			{Group: "apps", Resource: "statefulsets", Verbs: getPatch()},
			{Group: "apps", Resource: "daemonsets", Verbs: getPatch()},
		},
		Check: checkIncreaseResources,
	}
}

// factorParam is the memoryFactor or cpuFactor parameter of increase_resources: param is the
// parameter prefix ("memory"), what the resource as a reader calls it ("CPU").
func factorParam(param, what, unit string) Param {
	return Param{
		Name: param + "Factor",
		Description: fmt.Sprintf(`Multiply the current %[2]s request and limit of each changed container by this factor, `+
			`e.g. "1.5" (more than 1, at most %[3]d), rounded up to %[4]s. Each changed container must have a %[2]s `+
			`request or limit; when it has only one of the two, the other stays unset. Not together with %[1]s or %[1]sLimit.`,
			param, what, MaxResourceFactor, unit),
		Type:      ParamFactor,
		MaxFactor: MaxResourceFactor,
	}
}

func checkIncreaseResources(params map[string]string) []Problem {
	problems := atLeastOneOf(params, "cpu", "cpuFactor", "memory", "memoryFactor")
	for _, r := range []string{"cpu", "memory"} {
		factor := r + "Factor"
		if !present(params, factor) {
			continue
		}
		var absolute []string
		for _, name := range []string{r, r + "Limit"} {
			if present(params, name) {
				absolute = append(absolute, name)
			}
		}
		if len(absolute) > 0 {
			problems = append(problems, Problem{
				Param: factor,
				Message: fmt.Sprintf("must not be combined with %s: a factor multiplies the current %s request and limit, "+
					"give either a factor or new values", strings.Join(absolute, " and "), r),
			})
		}
	}
	for _, pair := range [][2]string{{"cpu", "cpuLimit"}, {"memory", "memoryLimit"}} {
		request, okRequest := parsedQuantity(params, pair[0])
		limit, okLimit := parsedQuantity(params, pair[1])
		if okRequest && okLimit && limit.Cmp(request) < 0 {
			problems = append(problems, Problem{
				Param:   pair[1],
				Message: fmt.Sprintf("must not be below %s (%s), got %s", pair[0], params[pair[0]], quote(params[pair[1]])),
			})
		}
	}
	return problems
}

// RaiseResources applies increase_resources to a Pod template, on the named container or,
// without container, on every container.
//
// memory and cpu set the requests, memoryLimit and cpuLimit the limits. When a new request
// exceeds a limit that is not being set, the limit is raised to the request (a request above its
// limit is invalid). A limit set below an existing request is left for the API server to refuse.
//
// memoryFactor and cpuFactor multiply the container's current request and limit of the resource
// (see Multiply: memory rounded up to a whole Mi, CPU to a whole millicore); whichever of the two
// the container lacks stays unset. A container with neither is an ErrNoCurrentValue, naming
// every such container. A factor with an absolute value of the same resource is an
// ErrInvalidParameters (the catalog refuses it first).
func RaiseResources(tpl *corev1.PodTemplateSpec, params map[string]string) error {
	type change struct {
		param string
		name  corev1.ResourceName
		limit bool
	}
	changes := []change{
		{"memory", corev1.ResourceMemory, false}, {"cpu", corev1.ResourceCPU, false},
		{"memoryLimit", corev1.ResourceMemory, true}, {"cpuLimit", corev1.ResourceCPU, true},
	}
	quantities := make(map[string]resource.Quantity, len(changes))
	for _, c := range changes {
		v, ok := params[c.param]
		if !ok || v == "" {
			continue
		}
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalidParameters, c.param, err)
		}
		quantities[c.param] = q
	}
	type factor struct {
		param, absolute string
		name            corev1.ResourceName
		f               *big.Rat
	}
	var factors []factor
	for _, f := range []factor{{param: "memoryFactor", absolute: "memory", name: corev1.ResourceMemory}, {param: "cpuFactor", absolute: "cpu", name: corev1.ResourceCPU}} {
		v := params[f.param]
		if v == "" {
			continue
		}
		r, err := ParseFactor(v)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalidParameters, f.param, err)
		}
		if r.Sign() <= 0 {
			return fmt.Errorf("%w: %s: must be greater than zero, got %q", ErrInvalidParameters, f.param, v)
		}
		for _, abs := range []string{f.absolute, f.absolute + "Limit"} {
			if _, ok := quantities[abs]; ok {
				return fmt.Errorf("%w: %s and %s both given", ErrInvalidParameters, f.param, abs)
			}
		}
		f.f = r
		factors = append(factors, f)
	}
	if len(quantities) == 0 && len(factors) == 0 {
		return fmt.Errorf("%w: none of memory, cpu, memoryLimit, cpuLimit, memoryFactor, cpuFactor given", ErrInvalidParameters)
	}
	containers := tpl.Spec.Containers
	var indexes []int
	if name := params["container"]; name != "" {
		i := slices.IndexFunc(containers, func(c corev1.Container) bool { return c.Name == name })
		if i < 0 {
			names := make([]string, len(containers))
			for j, c := range containers {
				names[j] = c.Name
			}
			return fmt.Errorf("%w: %q (the Pod template has %v)", ErrContainerNotFound, name, names)
		}
		indexes = []int{i}
	} else {
		for i := range containers {
			indexes = append(indexes, i)
		}
	}
	for _, f := range factors {
		var lacking []string
		for _, i := range indexes {
			r := containers[i].Resources
			_, hasRequest := r.Requests[f.name]
			_, hasLimit := r.Limits[f.name]
			if !hasRequest && !hasLimit {
				lacking = append(lacking, containers[i].Name)
			}
		}
		if len(lacking) > 0 {
			which := "container " + lacking[0] + " has"
			if len(lacking) > 1 {
				which = "containers " + strings.Join(lacking, ", ") + " have"
			}
			return fmt.Errorf("%w: %s multiplies the current %s request and limit, and %s neither; "+
				"name a container that has one, or give %s instead", ErrNoCurrentValue, f.param, f.name, which, f.absolute)
		}
	}
	for _, i := range indexes {
		r := &containers[i].Resources
		for _, f := range factors {
			if q, ok := r.Requests[f.name]; ok {
				r.Requests[f.name] = Multiply(q, f.name, f.f)
			}
			if q, ok := r.Limits[f.name]; ok {
				r.Limits[f.name] = Multiply(q, f.name, f.f)
			}
		}
		for _, c := range changes {
			q, ok := quantities[c.param]
			if !ok {
				continue
			}
			if c.limit {
				r.Limits = set(r.Limits, c.name, q)
				continue
			}
			r.Requests = set(r.Requests, c.name, q)
			limitParam := c.param + "Limit"
			if _, explicit := quantities[limitParam]; explicit {
				continue
			}
			if l, ok := r.Limits[c.name]; ok && l.Cmp(q) < 0 {
				r.Limits[c.name] = q.DeepCopy()
			}
		}
	}
	return nil
}

// mebibyte is the unit memory is rounded up to by Multiply.
const mebibyte = 1 << 20

// Multiply returns q times f, rounded up: memory to a whole Mi (written in binary units, e.g.
// "192Mi" or "1Gi"), any other resource (CPU) to a whole thousandth (e.g. "150m" or "2"). A
// result beyond what a quantity holds is capped at the largest one, which every configured
// maximum refuses. The executor bounds a change by Multiply of the current amount and its
// maximum factor, so that a factor step rounds the same way on both sides.
func Multiply(q resource.Quantity, name corev1.ResourceName, f *big.Rat) resource.Quantity {
	var v, unit int64
	if name == corev1.ResourceMemory {
		v, unit = q.Value(), mebibyte // Value rounds a fraction of a byte up
	} else {
		v, unit = q.MilliValue(), 1
	}
	// ceil(v·num / (den·unit)) · unit
	num := new(big.Int).Mul(big.NewInt(v), f.Num())
	den := new(big.Int).Mul(f.Denom(), big.NewInt(unit))
	n, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if rem.Sign() > 0 {
		n.Add(n, big.NewInt(1))
	}
	n.Mul(n, big.NewInt(unit))
	out := int64(math.MaxInt64)
	if n.IsInt64() {
		out = n.Int64()
	}
	if name == corev1.ResourceMemory {
		return *resource.NewQuantity(out, resource.BinarySI)
	}
	return *resource.NewMilliQuantity(out, resource.DecimalSI)
}

func mutateIncreaseResources(obj client.Object, params map[string]string, _ Inputs) error {
	tpl, err := PodTemplate(obj)
	if err != nil {
		return err
	}
	return RaiseResources(tpl, params)
}

// resolveIncreaseResources names the containers of the Pod template (the one changed, when the
// container parameter names it).
func resolveIncreaseResources(_ context.Context, _ Cluster, live client.Object, params map[string]string, r *Resolution, _ *Inputs) error {
	names, err := containerNames(live)
	if err != nil {
		return err
	}
	r.Found = "containers " + strings.Join(names, ", ")
	if c := params["container"]; c != "" {
		r.Found = "container " + c + " found among " + strings.Join(names, ", ")
	}
	return nil
}

// containerNames returns the names of the containers of a workload's Pod template.
func containerNames(live client.Object) ([]string, error) {
	tpl, err := PodTemplate(live)
	if err != nil {
		return nil, &Mismatch{Err: err}
	}
	names := make([]string, len(tpl.Spec.Containers))
	for i, c := range tpl.Spec.Containers {
		names[i] = c.Name
	}
	return names, nil
}
