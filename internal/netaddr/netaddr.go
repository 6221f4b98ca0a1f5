// Package netaddr turns listen addresses into addresses a local client can
// dial, and checks whether one answers.
package netaddr

import (
	"context"
	"net"
	"net/url"
	"time"
)

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

// Reachable reports whether something accepts TCP connections at u's host
// (port 80 or 443 by scheme when u names none), waiting at most 2 s.
func Reachable(ctx context.Context, u *url.URL) bool {
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
