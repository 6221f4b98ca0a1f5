package python

import "syscall"

// childAttrs puts a child in its own process group and has the kernel kill
// it when Bridge dies.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
