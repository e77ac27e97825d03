// Package testpg gives tests a real PostgreSQL: a fresh database per test on a server shared by
// the test package, and, for outage tests, a server of their own that can be stopped and
// started again under a running service.
//
// When KUBERNAUT_TEST_DATABASE_URL is set, the shared server is that database server (each test
// gets a new database inside it). Otherwise a throwaway PostgreSQL 15 cluster is initialised from
// /usr/lib/postgresql/15/bin (override with KUBERNAUT_TEST_PG_BIN) in a temporary directory, run
// as the postgres user when the tests run as root, and removed when the package's tests end.
// Tests never skip: a missing PostgreSQL fails them with a message saying how to install it.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { testpg.Main(m) }
//
//	func TestX(t *testing.T) { url := testpg.Start(t); ... }
package testpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kubernaut/kubernaut/internal/testutil/freeport"
)

// EnvDatabaseURL names the variable pointing tests at an existing server.
const EnvDatabaseURL = "KUBERNAUT_TEST_DATABASE_URL"

// EnvBinDir overrides the directory holding initdb and pg_ctl.
const EnvBinDir = "KUBERNAUT_TEST_PG_BIN"

// DefaultBinDir is where Debian installs the PostgreSQL 15 server binaries.
const DefaultBinDir = "/usr/lib/postgresql/15/bin"

var (
	mainCalled atomic.Bool
	sharedOnce sync.Once
	shared     *Server
	sharedErr  error
	dbCounter  atomic.Int64
)

// Main runs the package's tests and then stops the shared server, if one was started.
func Main(m *testing.M) {
	mainCalled.Store(true)
	code := m.Run()
	if shared != nil && !shared.external {
		if err := shared.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "testpg: stopping PostgreSQL: %v\n", err)
		}
	}
	os.Exit(code)
}

// Start returns the URL of a new, empty database on the package's shared server; the database
// is dropped when the test ends.
func Start(tb testing.TB) string {
	tb.Helper()
	if !mainCalled.Load() {
		tb.Fatal("testpg: call testpg.Main(m) from the package's TestMain so the shared PostgreSQL is stopped after the tests")
	}
	sharedOnce.Do(func() {
		if u := os.Getenv(EnvDatabaseURL); u != "" {
			shared, sharedErr = &Server{url: u, external: true}, nil
			return
		}
		shared, sharedErr = newLocal()
	})
	if sharedErr != nil {
		tb.Fatalf("testpg: %v", sharedErr)
	}
	return shared.NewDatabase(tb)
}

// NewServer starts a PostgreSQL cluster owned by the test (never the external one, so that it
// can be stopped and restarted); it is removed when the test ends.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s, err := newLocal()
	if err != nil {
		tb.Fatalf("testpg: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("testpg: %v", err)
		}
	})
	return s
}

// StartServer starts a throwaway PostgreSQL server outside a test (the e2e launcher and the demo
// use it); Close stops it and removes its files.
func StartServer() (*Server, error) { return newLocal() }

// Server is one PostgreSQL server.
type Server struct {
	url      string // admin URL (database "postgres")
	external bool

	binDir, root, dataDir, sockDir, logFile string
	port                                    int
	releasePort                             func()     // ends the port's reservation (freeport)
	asUser                                  *user.User // run server commands as this user (nil: as ourselves)
	mu                                      sync.Mutex
	running                                 bool
}

// URL is the admin connection URL (database "postgres").
func (s *Server) URL() string { return s.url }

// NewDatabase creates a fresh database and returns its URL; it is dropped when the test ends.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("kubernaut_test_%d_%d", os.Getpid(), dbCounter.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("testpg: creating database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if !s.external && !s.isRunning() {
			return
		}
		if err := s.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Logf("testpg: dropping database %s: %v", name, err)
		}
	})
	u, err := url.Parse(s.url)
	if err != nil {
		tb.Fatalf("testpg: parsing %s: %v", s.url, err)
	}
	u.Path = "/" + name
	return u.String()
}

func (s *Server) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

func (s *Server) isRunning() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// Stop stops the server (fast shutdown: open connections are cut), keeping its data.
func (s *Server) Stop() error {
	if s.external {
		return errors.New("cannot stop an external server")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return nil
	}
	if out, err := s.run(s.pgctl("stop", "-m", "fast", "-w")...); err != nil {
		return fmt.Errorf("pg_ctl stop: %w: %s", err, out)
	}
	s.running = false
	return nil
}

// Start starts a stopped server again on the same port with the same data.
func (s *Server) Start() error {
	if s.external {
		return errors.New("cannot start an external server")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return nil
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200", s.port, s.sockDir)
	if out, err := s.run(s.pgctl("start", "-w", "-t", "60", "-l", s.logFile, "-o", opts)...); err != nil {
		logs, _ := os.ReadFile(s.logFile)
		return fmt.Errorf("pg_ctl start: %w: %s\nserver log:\n%s", err, out, logs)
	}
	s.running = true
	return nil
}

// Close stops the server and removes its files.
func (s *Server) Close() error {
	if s.external {
		return nil
	}
	err := s.Stop()
	if s.releasePort != nil {
		s.releasePort()
	}
	return errors.Join(err, os.RemoveAll(s.root))
}

func (s *Server) pgctl(args ...string) []string {
	return append([]string{filepath.Join(s.binDir, "pg_ctl"), "-D", s.dataDir}, args...)
}

// run runs a server command, as the postgres user when we are root.
func (s *Server) run(argv ...string) ([]byte, error) {
	if s.asUser != nil {
		argv = append([]string{"runuser", "-u", s.asUser.Username, "--"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

func newLocal() (*Server, error) {
	binDir := os.Getenv(EnvBinDir)
	if binDir == "" {
		binDir = DefaultBinDir
	}
	for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(binDir, b)); err != nil {
			return nil, fmt.Errorf("PostgreSQL server binaries not found in %s (%v): install them with `apt-get install postgresql`, set %s to their directory, or set %s to a server's URL", binDir, err, EnvBinDir, EnvDatabaseURL)
		}
	}
	s := &Server{binDir: binDir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs the postgres user to run the server (PostgreSQL refuses root): %w; install it with `apt-get install postgresql`", err)
		}
		s.asUser = u
	}
	root, err := os.MkdirTemp("", "kubernaut-testpg-")
	if err != nil {
		return nil, fmt.Errorf("creating the temporary directory: %w", err)
	}
	s.root, s.dataDir, s.sockDir, s.logFile = root, filepath.Join(root, "data"), filepath.Join(root, "sock"), filepath.Join(root, "postgres.log")
	if err := os.Mkdir(s.sockDir, 0o700); err != nil {
		return nil, errors.Join(err, os.RemoveAll(root))
	}
	if s.asUser != nil {
		uid, _ := strconv.Atoi(s.asUser.Uid)
		gid, _ := strconv.Atoi(s.asUser.Gid)
		for _, p := range []string{root, s.sockDir} {
			if err := os.Chown(p, uid, gid); err != nil {
				return nil, errors.Join(fmt.Errorf("handing %s to the postgres user: %w", p, err), os.RemoveAll(root))
			}
		}
	}
	if out, err := s.run(filepath.Join(binDir, "initdb"), "-D", s.dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		return nil, errors.Join(fmt.Errorf("initdb: %w: %s", err, out), os.RemoveAll(root))
	}
	// The port stays reserved while the server lives, so a stopped server starts again on it.
	if s.port, s.releasePort, err = freePort(); err != nil {
		return nil, errors.Join(err, os.RemoveAll(root))
	}
	s.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
	if err := s.Start(); err != nil {
		s.releasePort()
		return nil, errors.Join(err, os.RemoveAll(root))
	}
	return s, nil
}

func freePort() (int, func(), error) {
	addr, release, err := freeport.Reserve()
	if err != nil {
		return 0, nil, fmt.Errorf("reserving a port: %w", err)
	}
	_, p, _ := strings.Cut(addr, ":")
	port, err := strconv.Atoi(p)
	if err != nil {
		release()
		return 0, nil, err
	}
	return port, release, nil
}
