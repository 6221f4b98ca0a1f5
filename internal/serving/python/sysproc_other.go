//go:build unix && !linux

package python

import "syscall"

// childAttrs puts a child in its own process group. Without a parent-death
// signal, the server watches its parent and exits when Bridge is gone.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
