//go:build linux

package freeport_test

import (
	"net"
	"net/http"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/internal/testutil/freeport"
)

// bindWithoutReuse binds a socket without SO_REUSEADDR to addr, as the kernel's own port
// allocation would consider it: it fails while the port is held by anyone.
func bindWithoutReuse(t *testing.T, addr string) error {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	defer syscall.Close(fd)
	return syscall.Bind(fd, &syscall.SockaddrInet4{Port: p, Addr: [4]byte{127, 0, 0, 1}})
}

func TestReserveStaysReservedUntilTheTestEnds(t *testing.T) {
	addr := reserve(t)
	assert.ErrorIs(t, bindWithoutReuse(t, addr), syscall.EADDRINUSE, "the port must stay held after Reserve returns")
}

func TestReserveNeverRepeatsAPort(t *testing.T) {
	seen := map[string]bool{}
	for range 500 {
		addr := reserve(t)
		require.False(t, seen[addr], "Reserve returned %s twice", addr)
		seen[addr] = true
	}
	// Nothing else on the machine gets a reserved port from port 0 either.
	for range 500 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		require.False(t, seen[l.Addr().String()], "port 0 handed out reserved %s", l.Addr())
		defer l.Close()
	}
}

func TestAServerListensOnAReserveAgainAndAgain(t *testing.T) {
	addr := reserve(t)
	for range 2 { // a restarted server gets the same port back
		l, err := net.Listen("tcp", addr)
		require.NoError(t, err)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })}
		go func() { _ = srv.Serve(l) }()
		resp, err := http.Get("http://" + addr + "/")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusTeapot, resp.StatusCode)
		_, err = net.Listen("tcp", addr)
		assert.Error(t, err, "a second server cannot listen while the first one does")
		require.NoError(t, srv.Close())
	}
}

func reserve(t *testing.T) string {
	t.Helper()
	addr, release, err := freeport.Reserve()
	require.NoError(t, err)
	t.Cleanup(release)
	return addr
}
