package freeport

import (
	"fmt"
	"net"
	"syscall"
)

// Reserve binds a TCP socket to 127.0.0.1:0 with SO_REUSEADDR and never listens on it. While it
// is open, Linux skips its port for every bind to port 0 and every outgoing connection, but lets
// another socket with SO_REUSEADDR (every Go listener sets it) bind and listen on the port: the
// reservation holds the port until the server takes it over, and after the server stops too.
func Reserve() (addr string, release func(), err error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return "", nil, fmt.Errorf("creating a socket: %w", err)
	}
	release = func() { _ = syscall.Close(fd) }
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		release()
		return "", nil, fmt.Errorf("setting SO_REUSEADDR: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		release()
		return "", nil, fmt.Errorf("binding 127.0.0.1:0: %w", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		release()
		return "", nil, fmt.Errorf("reading the bound address: %w", err)
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		release()
		return "", nil, fmt.Errorf("unexpected socket address %T", sa)
	}
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(in4.Port)), release, nil
}
