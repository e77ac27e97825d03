// Command kubernaut-soak starts the whole of Kubernaut on this machine (internal/launcher: a local
// cluster whose pods run, PostgreSQL and the eight services as processes), posts Alertmanager
// webhooks at a steady rate for a while across many namespaces and incident kinds, injects faults
// meanwhile (the API server paused, datastorage and notification killed and restarted, the
// executor killed during an operation), and ends with every alert accounted for. `make soak` runs
// it for 10 minutes, `make soak-ci` for 2; docs/soak.md explains the output.
//
//	kubernaut-soak [--duration 10m] [--interval 2s] [--duplicates 0.3] [--faults=true] ...
//
// It exits 1 when an invariant fails (and 2 on a usage error). It lives under hack/ so that no
// shipped binary links test code.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kubernaut/kubernaut/internal/launcher"
	"github.com/kubernaut/kubernaut/internal/timing"
)

type options struct {
	duration, interval, warmup, drainTimeout, sampleInterval time.Duration
	apiPause, outage                                         time.Duration
	duplicates                                               float64
	kinds                                                    string
	stageWorkers                                             int
	faults                                                   bool
	rssGrowthLimit                                           float64
	rssGrowthFloorMiB                                        float64
	workDir, revision                                        string
	skipBuild                                                bool
	seed                                                     int64
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 10*time.Minute, "How long alerts are posted.")
	flag.DurationVar(&o.interval, "interval", 2*time.Second, "One alert every interval (the requested rate is 1/interval).")
	flag.Float64Var(&o.duplicates, "duplicates", 0.3, "Share of the alerts that are re-sends of an alert still firing (Alertmanager re-sends them), the rest being new incidents.")
	flag.StringVar(&o.kinds, "kinds", "oom=4,crashloop=2,config-crashloop=1,hpa-maxed-out=1,healthy=1", "Incident kinds and their weights (internal/incident stages each in a namespace of its own).")
	flag.IntVar(&o.stageWorkers, "stage-workers", 3, "Incidents staged at the same time, ahead of the alerts.")
	flag.BoolVar(&o.faults, "faults", true, "Inject the faults (API server paused, datastorage and notification killed, executor killed during an operation).")
	flag.DurationVar(&o.apiPause, "api-pause", 20*time.Second, "How long the API server stays paused (SIGSTOP … SIGCONT).")
	flag.DurationVar(&o.outage, "outage", 10*time.Second, "How long datastorage and notification stay down once killed.")
	flag.DurationVar(&o.warmup, "warmup", 0, "RSS before this much of the run is warm-up (default a quarter of --duration).")
	flag.DurationVar(&o.sampleInterval, "sample-interval", 5*time.Second, "How often each service's RSS is sampled.")
	flag.Float64Var(&o.rssGrowthLimit, "rss-growth-limit", 0.5, "Fail when a service's RSS grew by more than this share from its first sample after warm-up to its last …")
	flag.Float64Var(&o.rssGrowthFloorMiB, "rss-growth-floor", 24, "… and by more than this many MiB.")
	flag.DurationVar(&o.drainTimeout, "drain-timeout", 3*time.Minute, "After the last alert, how long requests may take to end.")
	flag.StringVar(&o.workDir, "work-dir", "", "Folder for logs, kubeconfigs and configuration (default: a new temporary folder, kept afterwards).")
	flag.StringVar(&o.revision, "revision", "", "Build the services from this git revision (for example HEAD) instead of the working tree.")
	flag.BoolVar(&o.skipBuild, "skip-build", false, "Use the binaries already in bin/e2e instead of building them.")
	flag.Int64Var(&o.seed, "seed", 1, "Seed of the choice between new and re-sent alerts and of the kinds.")
	flag.Parse()
	if o.warmup == 0 {
		o.warmup = o.duration / 4
	}
	if o.interval <= 0 || o.duration <= 0 || o.duplicates < 0 || o.duplicates >= 1 || o.stageWorkers < 1 {
		fmt.Fprintln(os.Stderr, "kubernaut-soak: --interval and --duration must be positive, --duplicates in [0,1), --stage-workers at least 1")
		os.Exit(2)
	}
	if _, err := parseKinds(o.kinds); err != nil {
		fmt.Fprintf(os.Stderr, "kubernaut-soak: --kinds: %v\n", err)
		os.Exit(2)
	}
	ctrllog.SetLogger(logr.Discard()) // the client's own logs are not part of the output
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	failed, err := run(ctx, o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "\nkubernaut-soak: %v\n", err)
		os.Exit(1)
	}
	if failed {
		os.Exit(1)
	}
}

// orchestratorArgs are the end-to-end suite's, without its short processing timeout: a verified
// change ends at the resolved notification (the soak sends it as Alertmanager would once the fix
// shows), and an unavailable datastorage is retried at least every 5 s.
var orchestratorArgs = []string{"--verification-window=2m", "--retry-max-backoff=5s"}

func run(ctx context.Context, o options) (failed bool, err error) {
	out := timing.NewClock(os.Stdout)
	out.Printf("kubernaut-soak: %s of alerts, one every %s (%.0f%% re-sends), faults %v", o.duration, o.interval, o.duplicates*100, o.faults)
	startup := time.Now()
	sys, err := launcher.Start(ctx, launcher.Options{
		WorkDir: o.workDir, Revision: o.revision, SkipBuild: o.skipBuild, Progress: out, StandIns: true,
		Args: map[string][]string{"orchestrator": orchestratorArgs},
		// Every incident has a namespace of its own, whose budget (3 changes per hour) stays as
		// shipped; the soak makes hundreds of changes within an hour, far more than the cluster
		// budget deploy/base gives a real cluster (10).
		ExecutorSafety: map[string]string{"maxChangesPerClusterPerHour": "100000"},
	})
	if err != nil {
		return false, err
	}
	out.Printf("system up in %s; logs in %s; kubeconfig %s", time.Since(startup).Round(100*time.Millisecond), sys.LogDir, sys.Cluster.Kubeconfig)
	defer func() {
		out.Printf("stopping every process the soak started")
		if stopErr := sys.Stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
		} else {
			out.Printf("stopped; nothing left running. Logs: %s", sys.LogDir)
		}
	}()
	// The soak's watches end before the system stops: the API server waits for open watches when
	// it shuts down.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := newSoak(sctx, sys, out, o)
	if err != nil {
		return false, err
	}
	return s.run(sctx)
}
