//go:build !linux

package freeport

import (
	"net"
	"sync"
)

var (
	handedOutMu sync.Mutex
	handedOut   = map[string]bool{}
)

// Reserve, outside Linux (whose reservation trick other kernels refuse), listens on port 0 and
// closes the listener, never returning a port it returned before in this process. Another
// process can still take the port before the server listens on it.
func Reserve() (string, func(), error) {
	handedOutMu.Lock()
	defer handedOutMu.Unlock()
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, err
		}
		held = append(held, l)
		if addr := l.Addr().String(); !handedOut[addr] {
			handedOut[addr] = true
			return addr, func() {}, nil
		}
	}
}
