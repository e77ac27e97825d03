// Package metricvalue reads a metric from controller-runtime's registry in tests.
package metricvalue

import (
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Get returns the value of the first series of metric name whose labels include every pair of
// labels (a counter's or gauge's value, a histogram's sample count) and whether one was found.
func Get(t testing.TB, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue series
				}
			}
			switch {
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue(), true
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

// Value is Get's value, 0 when the series does not exist.
func Value(t testing.TB, name string, labels map[string]string) float64 {
	t.Helper()
	v, _ := Get(t, name, labels)
	return v
}
