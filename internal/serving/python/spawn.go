package python

import (
	"os/exec"
	"runtime"
	"sync"
)

// Children get a parent-death signal (Linux), which the kernel sends when
// the *thread* that started them exits, not the process. Go ends threads
// only when a goroutine locked to one exits, but to be sure that no model
// server is ever killed by a thread going away, every child is started from
// one goroutine locked to a thread that never exits.

type spawnRequest struct {
	cmd  *exec.Cmd
	done chan error
}

var (
	spawnOnce sync.Once
	spawnCh   chan spawnRequest
)

func spawner() {
	runtime.LockOSThread() // never unlocked: this thread lives as long as Bridge
	for req := range spawnCh {
		req.done <- req.cmd.Start()
	}
}

// startCmd starts cmd from the spawner thread.
func startCmd(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnCh = make(chan spawnRequest)
		go spawner()
	})
	req := spawnRequest{cmd: cmd, done: make(chan error, 1)}
	spawnCh <- req
	return <-req.done
}
