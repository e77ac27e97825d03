package controller_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
)

// BenchmarkCreateToSlack measures the time from creating a NotificationRequest to the Slack
// stand-in receiving the message, one request at a time, and reports p50 and p99.
//
//	go test ./pkg/notification/controller/ -run '^$' -bench CreateToSlack -benchtime 200x
func BenchmarkCreateToSlack(b *testing.B) {
	ns := namespace(b)
	startManager(b, ns, stand.Config)
	ctx := context.Background()
	recv := stand.Slack.Notify()
	for len(recv) > 0 {
		<-recv
	}
	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		nr := newNR(ns, fmt.Sprintf("bench-%d", i), notificationv1.ChannelSlack)
		start := time.Now()
		require.NoError(b, k8s.Create(ctx, nr))
		for {
			select {
			case r := <-recv:
				if !strings.Contains(string(r.Body), ns+"/"+nr.Name+"`") {
					continue
				}
				latencies = append(latencies, r.Time.Sub(start))
			case <-time.After(10 * time.Second):
				b.Fatalf("%s was not delivered within 10s", nr.Name)
			}
			break
		}
	}
	b.StopTimer()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[min(len(latencies)-1, int(float64(len(latencies))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
