package gateway

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// Mapping tells the gateway that an alert label names an object of one kind. Operators add their
// own in the file given by --target-mappings-file; they are tried before the built-in table.
type Mapping struct {
	// Name identifies the mapping in spec.targetResolution.source ("mapping:<name>"); the
	// label when empty.
	Name string `json:"name,omitempty"`
	// Label is the alert label whose value is the object's name.
	Label string `json:"label"`
	// APIVersion and Kind of the object, for example "apps/v1" and "Deployment".
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Namespaced says whether the kind lives in a namespace; the object is then looked up in
	// the namespace named by the alert's "namespace" label.
	Namespaced *bool `json:"namespaced"`
	// AlertNames limits the mapping to these alerts (all alerts when empty).
	AlertNames []string `json:"alertNames,omitempty"`
	// MatchLabels limits the mapping to alerts that carry all these label values.
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
}

// MappingsFile is the YAML document of --target-mappings-file.
type MappingsFile struct {
	// Mappings are tried in order, before the built-in table.
	Mappings []Mapping `json:"mappings"`
}

// rule is one line of the resolution table.
type rule struct {
	source           string // spec.targetResolution.source
	label            string
	apiVersion, kind string
	namespaced       bool
	alertNames       map[string]bool   // nil: any alert
	match            map[string]string // label values the alert must carry
	// nodeAddress: the value is a Node's name or InternalIP, with an optional :port.
	nodeAddress bool
	// optional: when no such object exists, the next rule is tried (instance is on every
	// scraped series, and names a Node only for node-level exporters).
	optional bool
}

// applies says whether the rule is considered for an alert.
func (r *rule) applies(alertname string, labels map[string]string) bool {
	if r.alertNames != nil && !r.alertNames[alertname] {
		return false
	}
	for k, v := range r.match {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// Job names of the exporters whose alerts the built-in table knows, as the kubernetes-mixin
// and node-exporter mixin select them.
const (
	jobKubeStateMetrics = "kube-state-metrics"
	jobNodeExporter     = "node-exporter"
)

// builtinRules is the resolution table, first match wins (docs/gateway.md explains each line).
// Labels of the scrape itself (job, instance, service, endpoint, prometheus, uid, container,
// cluster) name no target, except instance where it is a Node.
func builtinRules() []rule {
	return []rule{
		// node-exporter's series carry its own pod, namespace and container (the scrape target's):
		// its instance is the Node (kube-prometheus relabels it to the node name; host-network
		// scrapes give the InternalIP and port).
		{source: "instance", label: "instance", apiVersion: "v1", kind: "Node", nodeAddress: true, match: map[string]string{"job": jobNodeExporter}},
		{source: "deployment", label: "deployment", apiVersion: "apps/v1", kind: "Deployment", namespaced: true},
		{source: "statefulset", label: "statefulset", apiVersion: "apps/v1", kind: "StatefulSet", namespaced: true},
		{source: "daemonset", label: "daemonset", apiVersion: "apps/v1", kind: "DaemonSet", namespaced: true},
		{source: "replicaset", label: "replicaset", apiVersion: "apps/v1", kind: "ReplicaSet", namespaced: true},
		{source: "cronjob", label: "cronjob", apiVersion: "batch/v1", kind: "CronJob", namespaced: true},
		{source: "job_name", label: "job_name", apiVersion: "batch/v1", kind: "Job", namespaced: true},
		{source: "horizontalpodautoscaler", label: "horizontalpodautoscaler", apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", namespaced: true},
		{source: "persistentvolumeclaim", label: "persistentvolumeclaim", apiVersion: "v1", kind: "PersistentVolumeClaim", namespaced: true},
		{source: "poddisruptionbudget", label: "poddisruptionbudget", apiVersion: "policy/v1", kind: "PodDisruptionBudget", namespaced: true},
		// kube-state-metrics scraped without dropping its own target labels (the Helm chart's
		// ServiceMonitor) adds its pod and namespace to node series: node beats pod there.
		{source: "node", label: "node", apiVersion: "v1", kind: "Node", match: map[string]string{"job": jobKubeStateMetrics}},
		{source: "pod", label: "pod", apiVersion: "v1", kind: "Pod", namespaced: true},
		{source: "node", label: "node", apiVersion: "v1", kind: "Node"},
		{source: "persistentvolume", label: "persistentvolume", apiVersion: "v1", kind: "PersistentVolume"},
		{source: "instance", label: "instance", apiVersion: "v1", kind: "Node", nodeAddress: true, optional: true},
		{source: "namespace", label: "namespace", apiVersion: "v1", kind: "Namespace"},
	}
}

// knownScope says whether the kinds Kubernaut knows are namespaced, to check operators' mappings.
var knownScope = map[string]bool{
	"Pod": true, "ReplicaSet": true, "Deployment": true, "StatefulSet": true, "DaemonSet": true,
	"Job": true, "CronJob": true, "HorizontalPodAutoscaler": true, "PersistentVolumeClaim": true,
	"PodDisruptionBudget": true, "Service": true, "ConfigMap": true, "Secret": true, "ResourceQuota": true,
	"Node": false, "Namespace": false, "PersistentVolume": false, "StorageClass": false,
}

var (
	labelNamePattern = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	kindPattern      = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	mappingName      = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$`)
)

// LoadMappings reads and checks a target mappings file; every problem is reported at once.
func LoadMappings(path string) ([]Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading target mappings: %w", err)
	}
	m, err := ParseMappings(data)
	if err != nil {
		return nil, fmt.Errorf("target mappings file %s: %w", path, err)
	}
	return m, nil
}

// ParseMappings decodes a mappings document (unknown fields are errors) and checks each entry.
func ParseMappings(data []byte) ([]Mapping, error) {
	var f MappingsFile
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("not a mappings document: %w", err)
	}
	var errs []error
	for i, m := range f.Mappings {
		for _, p := range m.problems() {
			errs = append(errs, fmt.Errorf("mappings[%d] (label %q): %s", i, m.Label, p))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f.Mappings, nil
}

func (m *Mapping) problems() []string {
	var out []string
	if m.Name != "" && (len(m.Name) > 63 || !mappingName.MatchString(m.Name)) {
		out = append(out, "name must be at most 63 letters, digits, '-', '_' or '.'")
	}
	if !labelNamePattern.MatchString(m.Label) {
		out = append(out, "label must be a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)")
	}
	if gv, err := schema.ParseGroupVersion(m.APIVersion); err != nil || gv.Version == "" {
		out = append(out, fmt.Sprintf("apiVersion %q is not group/version or version", m.APIVersion))
	}
	if len(m.Kind) > 63 || !kindPattern.MatchString(m.Kind) {
		out = append(out, fmt.Sprintf("kind %q is not a Kubernetes kind (for example Deployment)", m.Kind))
	}
	if m.Namespaced == nil {
		out = append(out, "namespaced is required (true or false)")
	} else if scope, known := knownScope[m.Kind]; known && scope != *m.Namespaced {
		out = append(out, fmt.Sprintf("namespaced is %t, but a %s is %s", *m.Namespaced, m.Kind, map[bool]string{true: "namespaced", false: "cluster-scoped"}[scope]))
	}
	for _, a := range m.AlertNames {
		if strings.TrimSpace(a) == "" {
			out = append(out, "alertNames must not hold an empty name")
			break
		}
	}
	for k := range m.MatchLabels {
		if !labelNamePattern.MatchString(k) {
			out = append(out, fmt.Sprintf("matchLabels key %q is not a Prometheus label name", k))
		}
	}
	return out
}

// rule turns a checked mapping into a line of the table.
func (m *Mapping) rule() rule {
	name := m.Name
	if name == "" {
		name = m.Label
	}
	r := rule{
		source: "mapping:" + name, label: m.Label, apiVersion: m.APIVersion, kind: m.Kind,
		namespaced: m.Namespaced != nil && *m.Namespaced, match: m.MatchLabels,
	}
	if len(m.AlertNames) > 0 {
		r.alertNames = map[string]bool{}
		for _, a := range m.AlertNames {
			r.alertNames[strings.TrimSpace(a)] = true
		}
	}
	if r.kind == "Node" && (r.apiVersion == "v1") {
		r.nodeAddress = true
	}
	return r
}

// rules is the table the gateway uses: the operator's mappings, then the built-in lines.
func rules(mappings []Mapping) []rule {
	out := make([]rule, 0, len(mappings)+16)
	for i := range mappings {
		out = append(out, mappings[i].rule())
	}
	return append(out, builtinRules()...)
}
