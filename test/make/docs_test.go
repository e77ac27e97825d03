package make

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

var (
	// docFlagRE finds a long flag in the documentation: --name, not part of a longer word.
	docFlagRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])--([a-z][a-z0-9.-]*[a-z0-9-])`)
	// docMetricRE finds a metric name of ours.
	docMetricRE = regexp.MustCompile(`\bkubernaut_[a-z0-9_]*[a-z0-9]`)
	// flagDefRE finds a flag definition: pflag's and the standard library's XxxVar(&v, "name", …),
	// Xxx("name", …), XxxP("name", "n", …) and flag.Func("name", …).
	flagDefRE = regexp.MustCompile(`\.(?:String|Bool|Int|Int32|Int64|Uint|Float32|Float64|Duration|StringSlice|StringArray|StringToString|Var|Func)(?:Var)?P?\((?:&[^,]+, )?"([a-z][a-z0-9-]*)"`)
	// metricDefRE finds a metric name given to client_golang.
	metricDefRE = regexp.MustCompile(`(?:Name:\s*|NewDesc\()"(kubernaut_[a-z0-9_]+)"`)
)

// externalFlags are flags of other programs the documentation shows in commands (kubectl,
// Prometheus, kube-controller-manager, docker, go), never ours.
var externalFlags = map[string]bool{
	"server-side": true, "from-literal": true, "from-file": true, "subresource": true, "type": true, "dry-run": true,
	"cascade": true, "as": true, "context": true, "config.file": true, "node-monitor-grace-period": true,
	"cap-drop": true, "read-only": true, "help": true, "version": true, "file": true, "patch": true, "overwrite": true,
	"all-namespaces": true, "output": true, "selector": true,
	"token": true, "duration": true, // kubectl's (cli-runtime's --token; kubectl create token --duration)
	"resources": true, // kube-state-metrics'
	// the kubelet's, kube-proxy's and kube-apiserver's (docs/deployed.md)
	"cleanup": true, "hostname-override": true, "kubelet-preferred-address-types": true, "node-ip": true, "root-dir": true,
}

// notMetrics are names in our namespace that are labels, not metrics.
var notMetrics = map[string]bool{"kubernaut_self": true}

// TestDocumentedFlagsAndMetricsExist fails when the README or a page under docs/ names a flag no
// binary defines, or a metric no service registers: the documentation may not promise what the
// code does not have.
func TestDocumentedFlagsAndMetricsExist(t *testing.T) {
	root := testenv.RepoRoot()
	flags, metrics := map[string]bool{}, map[string]bool{}
	for _, dir := range []string{"cmd", "pkg", "hack/demo", "hack/soak", "hack/e2e-workload", "internal/testutil/localcluster"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range flagDefRE.FindAllStringSubmatch(string(src), -1) {
				flags[m[1]] = true
			}
			for _, m := range metricDefRE.FindAllStringSubmatch(string(src), -1) {
				metrics[m[1]] = true
			}
			return nil
		})
		require.NoError(t, err)
	}
	require.Contains(t, flags, "namespace", "the flag scan finds the shared flags")
	require.Contains(t, metrics, "kubernaut_gateway_signals_received_total", "the metric scan finds the gateway's metrics")

	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	docs = append(docs, filepath.Join(root, "README.md"))
	missingFlags, missingMetrics := map[string][]string{}, map[string][]string{}
	for _, doc := range docs {
		raw, err := os.ReadFile(doc)
		require.NoError(t, err)
		name, _ := filepath.Rel(root, doc)
		for _, m := range docFlagRE.FindAllStringSubmatch(string(raw), -1) {
			f := m[1]
			if externalFlags[f] || flags[f] || (strings.HasSuffix(f, "-") && hasPrefix(flags, f)) {
				continue
			}
			missingFlags[f] = appendOnce(missingFlags[f], name)
		}
		for _, m := range docMetricRE.FindAllString(string(raw), -1) {
			// A name is a metric, one of its histogram series, or a family named by its prefix
			// (kubernaut_gateway_signals_*).
			if notMetrics[m] || metrics[m] || metrics[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_sum"), "_count")] ||
				hasPrefix(metrics, m+"_") {
				continue
			}
			missingMetrics[m] = appendOnce(missingMetrics[m], name)
		}
	}
	assert.Empty(t, sorted(missingFlags), "flags named in the documentation that no binary defines (flag → documents)")
	assert.Empty(t, sorted(missingMetrics), "metrics named in the documentation that no service registers (metric → documents)")
}

func hasPrefix(set map[string]bool, prefix string) bool {
	for k := range set {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func sorted(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+" → "+strings.Join(v, ", "))
	}
	sort.Strings(out)
	return out
}
