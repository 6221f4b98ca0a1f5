package python

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// KillLeftovers stops model servers that a killed Bridge left running: for
// every <home>/run/*.pid file it kills the process group named there (when
// its leader is still a Bridge model server) and removes the file. It
// returns how many groups it killed. `bridge destroy localhost` calls it.
func KillLeftovers(home string) (int, error) {
	files, err := filepath.Glob(filepath.Join(home, "run", "*.pid"))
	if err != nil {
		return 0, err
	}
	killed := 0
	var errs []error
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		pgid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pgid <= 1 {
			errs = append(errs, fmt.Errorf("%s: not a process group id: %q", f, b))
			continue
		}
		if isModelServer(pgid) {
			if err := syscall.Kill(-pgid, syscall.SIGKILL); err == nil {
				killed++
			} else if !errors.Is(err, syscall.ESRCH) {
				errs = append(errs, fmt.Errorf("kill process group %d (%s): %w", pgid, f, err))
				continue
			}
		}
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return killed, errors.Join(errs...)
}

// isModelServer reports whether pid runs Bridge's scoring server, so that a
// stale pid file never kills an unrelated process that reused the id.
// Where /proc is missing it trusts the pid file.
func isModelServer(pid int) bool {
	if runtime.GOOS != "linux" {
		return syscall.Kill(pid, 0) == nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	return bytes.Contains(b, []byte("bridge_scoring_server"))
}
