// Command e2e-workload is the program of the e2e workload images (package
// github.com/kubernaut/kubernaut/internal/workload): a tiny static program that fails for real,
// so that a cluster with real kubelets (kind) shows the incidents the e2e scenarios stage.
//
//	e2e-workload                  idle until SIGTERM or SIGINT, then exit 0
//	e2e-workload --allocate=160Mi allocate and touch 160 MiB first (under a smaller memory limit
//	                              the kernel OOM-kills it: OOMKilled, exit code 137), then idle
//	e2e-workload --exit-code=1    exit with code 1 a second after start (the BadTag image's
//	                              command: the kubelet reports a crash loop)
//
// --allocate accepts only <N>Mi. A bad flag is reported on stderr with exit code 2. It uses only
// the standard library, so the image is one static binary.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kubernaut/kubernaut/internal/workload"
)

// pageSize is the step at which allocated memory is written, so that every page is committed.
const pageSize = 4096

// exitDelay is how long --exit-code waits before exiting.
const exitDelay = time.Second

// ballast keeps the allocated memory reachable for the life of the process.
var ballast []byte

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, stop))
}

// config is what the flags ask for.
type config struct {
	allocateMiB int
	exitCode    int
}

// parse reads the flags; the error says what is wrong with them.
func parse(args []string, stderr io.Writer) (config, error) {
	var cfg config
	var allocate string
	fs := flag.NewFlagSet("e2e-workload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&allocate, flagName(workload.AllocateFlag), "",
		"Allocate and touch this much memory at start, written <N>Mi (for example 160Mi), then idle.")
	fs.IntVar(&cfg.exitCode, flagName(workload.ExitFlag), 0,
		"Exit with this code (1-255) one second after start instead of idling; 0 idles.")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if allocate != "" {
		mib, err := parseMiB(allocate)
		if err != nil {
			return cfg, fmt.Errorf("%s=%s: %w", workload.AllocateFlag, allocate, err)
		}
		cfg.allocateMiB = mib
	}
	if cfg.exitCode < 0 || cfg.exitCode > 255 {
		return cfg, fmt.Errorf("%s=%d: want an exit code from 0 to 255", workload.ExitFlag, cfg.exitCode)
	}
	return cfg, nil
}

// parseMiB reads "<N>Mi" with N a positive integer.
func parseMiB(s string) (int, error) {
	digits, ok := strings.CutSuffix(s, "Mi")
	if !ok {
		return 0, errors.New("want <N>Mi, for example 160Mi")
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n <= 0 {
		return 0, errors.New("want <N>Mi with N a positive integer, for example 160Mi")
	}
	return n, nil
}

// flagName is a flag's name as package flag declares it ("--allocate" -> "allocate").
func flagName(f string) string { return strings.TrimLeft(f, "-") }

// run is the program: it returns the exit code.
func run(args []string, stdout, stderr io.Writer, stop <-chan os.Signal) int {
	cfg, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "e2e-workload:", err)
		return 2
	}
	if cfg.allocateMiB > 0 {
		ballast = allocate(cfg.allocateMiB)
		fmt.Fprintf(stdout, "allocated %d MiB\n", cfg.allocateMiB)
	}
	if cfg.exitCode != 0 {
		fmt.Fprintf(stdout, "exiting with code %d in %s\n", cfg.exitCode, exitDelay)
		select {
		case <-time.After(exitDelay):
			return cfg.exitCode
		case sig := <-stop:
			fmt.Fprintf(stdout, "%s: exiting\n", sig)
			return 0
		}
	}
	fmt.Fprintln(stdout, "running until SIGTERM")
	sig := <-stop
	fmt.Fprintf(stdout, "%s: exiting\n", sig)
	return 0
}

// allocate returns mib MiB with every page written, so the memory is committed (resident), not
// only reserved.
func allocate(mib int) []byte {
	b := make([]byte, mib<<20)
	for i := 0; i < len(b); i += pageSize {
		b[i] = 1
	}
	return b
}
