//go:build unix

package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopGroup sends SIGTERM to the process group, waits up to grace for it
// to exit, then sends SIGKILL. A group that no longer exists, or whose
// leader's start time differs from the recorded one, is left alone.
func stopGroup(ctx context.Context, pf PIDFile, grace time.Duration) error {
	if pf.StartTime != 0 {
		st, err := startTime(pf.PGID)
		if err != nil || st != pf.StartTime {
			return nil // the leader is gone; its pid may belong to someone else now
		}
	}
	if err := syscall.Kill(-pf.PGID, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return err
	}
	deadline := time.Now().Add(grace)
	wait := 5 * time.Millisecond
	for time.Now().Before(deadline) {
		if !groupAlive(pf.PGID) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 200*time.Millisecond)
	}
	if err := syscall.Kill(-pf.PGID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// groupAlive reports whether any process of the group exists. Zombies of a
// group whose leader is our child count as gone.
func groupAlive(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	if errors.Is(err, syscall.ESRCH) {
		return false
	}
	if st, err := os.ReadFile("/proc/" + strconv.Itoa(pgid) + "/stat"); err == nil {
		if f := statFields(string(st)); len(f) > 0 && f[0] == "Z" {
			// The leader is a zombie; other members may still run.
			return syscall.Kill(-pgid, 0) == nil && othersAlive(pgid)
		}
	}
	return true
}

// othersAlive reports whether a process other than the (zombie) leader is
// in the group, by scanning /proc.
func othersAlive(pgid int) bool {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == pgid {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f := statFields(string(st))
		// f[0] is the state (field 3), f[2] the process group (field 5).
		if len(f) > 2 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" {
			return true
		}
	}
	return false
}

// startTime reads the start time (field 22) of a process from /proc.
func startTime(pid int) (uint64, error) {
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	f := statFields(string(st))
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// statFields splits /proc/<pid>/stat after the command name (which may
// hold spaces and parentheses): the result starts at field 3 (state).
func statFields(s string) []string {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}
