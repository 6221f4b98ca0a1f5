package netaddr

import "net"

// IsLoopbackHost reports whether host (a name or an IP, without port) is
// this machine only: localhost or a loopback address.
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
