// Package netaddr turns listen addresses into addresses a local client can
// dial.
package netaddr

import "net"

// Dialable returns addr (host:port or :port) with an empty or unspecified
// host (0.0.0.0, ::) replaced by 127.0.0.1. An address without a port is
// returned as is.
func Dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
