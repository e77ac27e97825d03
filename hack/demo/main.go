// Command kubernaut-demo starts the whole of Kubernaut on this machine (the e2e launcher: a
// local cluster whose pods run, PostgreSQL and the eight services) and plays one incident with
// a live timeline in the terminal, from the Alertmanager webhook to the audit record. `make demo`
// runs it. It lives under test/ so that no production binary links test code.
//
//	kubernaut-demo [--scenario oom|crashloop|node-notready] [--require-approval] [--keep-running]
//
// Ctrl-C stops everything it started. The services' logs stay in the folder it names.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/go-logr/logr"
	"os"
	"os/signal"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"strings"
	"syscall"
	"time"

	"github.com/kubernaut/kubernaut/internal/launcher"
	"github.com/kubernaut/kubernaut/internal/timing"
)

func main() {
	var o options
	flag.StringVar(&o.scenario, "scenario", "oom", "Incident to play: oom (a Deployment's container OOMKilled), crashloop (a crash loop after a bad rollout) or node-notready (a node stops reporting Ready).")
	flag.BoolVar(&o.requireApproval, "require-approval", false, "Require a person's approval before every change, and wait for yours: the demo prints the command that approves it (and never approves itself).")
	flag.StringVar(&o.approveAs, "approve-as", "demo-sre", "When a change waits for a person (every change in production does, by default), approve it as this user, bound to the shipped kubernaut-approver role, with the documented command. Empty: wait for your decision.")
	flag.BoolVar(&o.keepRunning, "keep-running", false, "Keep the system running after the incident ends, until Ctrl-C.")
	flag.StringVar(&o.workDir, "work-dir", "", "Folder for logs, kubeconfigs and configuration (default: a new temporary folder, kept afterwards).")
	flag.StringVar(&o.revision, "revision", "", "Build the services from this git revision (for example HEAD) instead of the working tree.")
	flag.BoolVar(&o.skipBuild, "skip-build", false, "Use the binaries already in bin/e2e instead of building them.")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "Longest time to wait for the incident to end.")
	flag.IntVar(&o.benchSequential, "bench-sequential", 0, "Instead of the demo, play this many OOM incidents one after another and print alert-to-change latencies.")
	flag.IntVar(&o.benchConcurrent, "bench-concurrent", 0, "Instead of the demo, play this many OOM incidents at once (each in its own namespace) and print alert-to-change latencies, remediations per second and the API server's write ceiling.")
	flag.IntVar(&o.benchConcurrentLarge, "bench-concurrent-large", 0, "After --bench-concurrent, play this many at once as a second round (the throughput benchmark, e.g. 100).")
	flag.Func("service-arg", "Add a flag to one service's command line, as service=--flag=value (repeatable), for example executor=--max-concurrent-executions=16.", func(v string) error {
		name, arg, ok := strings.Cut(v, "=")
		if !ok || !strings.HasPrefix(arg, "--") {
			return fmt.Errorf("want service=--flag=value, not %q", v)
		}
		if o.serviceArgs == nil {
			o.serviceArgs = map[string][]string{}
		}
		o.serviceArgs[name] = append(o.serviceArgs[name], arg)
		return nil
	})
	flag.Parse()
	switch o.scenario {
	case "oom", "crashloop", "node-notready":
	default:
		fmt.Fprintf(os.Stderr, "--scenario must be oom, crashloop or node-notready, not %q\n", o.scenario)
		os.Exit(2)
	}
	ctrllog.SetLogger(logr.Discard()) // the client's own logs are not part of the output
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintf(os.Stderr, "\nkubernaut-demo: %v\n", err)
		os.Exit(1)
	}
}

type options struct {
	scenario                                               string
	requireApproval, keepRunning                           bool
	skipBuild                                              bool
	workDir, revision                                      string
	approveAs                                              string
	timeout                                                time.Duration
	benchSequential, benchConcurrent, benchConcurrentLarge int
	serviceArgs                                            map[string][]string
}

func run(ctx context.Context, o options) (err error) {
	out := timing.NewClock(os.Stdout)
	fmt.Println("Kubernaut demo: an alert becomes a safe, audited fix. Ctrl-C stops everything.")
	fmt.Println()
	args := map[string][]string{
		// Verifying ends when the alert resolves (the demo sends Alertmanager's resolved
		// notification once the new pods run), or after this window.
		"orchestrator": {"--stabilization-window=30s"},
	}
	for name, extra := range o.serviceArgs {
		args[name] = append(args[name], extra...)
	}
	lo := launcher.Options{WorkDir: o.workDir, Revision: o.revision, SkipBuild: o.skipBuild, Progress: out, Args: args}
	if o.benchSequential > 0 || o.benchConcurrent > 0 || o.benchConcurrentLarge > 0 {
		// The benchmark makes more changes in a few minutes than the shipped budget of 10 per
		// hour across the cluster allows; it measures speed, not the budget.
		lo.ExecutorSafety = map[string]string{"maxChangesPerClusterPerHour": "100000"}
		// Nor is the storm cap measured: with the shipped 50 a remediation holds its slot until
		// verified (30 s here without a resolved alert), so 100 at once would measure that window.
		// A --service-arg given for the orchestrator comes later and wins.
		args["orchestrator"] = append([]string{"--max-active-remediations=1000"}, args["orchestrator"]...)
	}
	sys, err := launcher.Start(ctx, lo)
	if err != nil {
		return err
	}
	defer func() {
		out.Printf("stopping every process the demo started")
		if stopErr := sys.Stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
		} else {
			out.Printf("stopped; nothing left running. Logs: %s", sys.LogDir)
		}
	}()
	printSystem(sys)
	if o.benchSequential > 0 || o.benchConcurrent > 0 || o.benchConcurrentLarge > 0 {
		return bench(ctx, out, sys, o)
	}
	d := &demo{sys: sys, out: out, o: o}
	playErr := d.play(ctx)
	if playErr != nil && ctx.Err() == nil {
		return playErr
	}
	if o.keepRunning && ctx.Err() == nil {
		out.Printf("the system keeps running (--keep-running); Ctrl-C stops it")
		<-ctx.Done()
	}
	return nil
}

func printSystem(sys *launcher.System) {
	fmt.Println()
	fmt.Println("The system is up. To look around while it runs:")
	fmt.Printf("  export KUBECONFIG=%s\n", sys.Cluster.Kubeconfig)
	fmt.Printf("  export PATH=%s:$PATH   # kubectl kubernaut (the plugin)\n", sys.BinDir)
	fmt.Println("  kubectl get rr -n kubernaut-system          # or: kubectl kubernaut list")
	fmt.Println()
	fmt.Printf("  services' logs:        %s\n", sys.LogDir)
	fmt.Printf("  Prometheus config:     %s\n", sys.PrometheusConfig)
	for _, name := range launcher.Services {
		s := sys.Services[name]
		api := ""
		if s.APIAddr != "" {
			api = "  api " + s.URL()
		}
		fmt.Printf("  %-13s metrics http://%s/metrics%s\n", name, s.MetricsAddr, api)
	}
	fmt.Println()
}
