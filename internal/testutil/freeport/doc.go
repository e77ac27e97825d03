// Package freeport reserves local TCP ports for servers that tests start, so that two servers
// of one test run, or of test binaries running side by side, never get the same port.
//
// Picking a port by listening on port 0 and closing the listener does not reserve it: the next
// pick, or any outgoing connection, can get the same port before the server listens on it.
package freeport
