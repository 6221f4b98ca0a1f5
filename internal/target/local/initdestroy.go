package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// RunDir is where subprocess runtimes record their model servers: one
// <name>.pid file per server (see PIDFile).
func RunDir(home string) string { return filepath.Join(home, "run") }

// PIDFile is the content of a <home>/run/<name>.pid file: the process group
// id of one model server on the first line, and optionally, on the second,
// the start time of the group leader as field 22 of /proc/<pgid>/stat
// (clock ticks since boot). When the start time is given, Destroy signals
// the group only if its leader still has that start time, so a pid reused
// by an unrelated program after a crash is never signalled.
type PIDFile struct {
	PGID      int
	StartTime uint64 // 0: not recorded
}

// ParsePIDFile parses a pid file's content.
func ParsePIDFile(b []byte) (PIDFile, error) {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	pgid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pgid <= 1 {
		return PIDFile{}, fmt.Errorf("first line %q: want a process group id above 1", lines[0])
	}
	p := PIDFile{PGID: pgid}
	if len(lines) > 1 && strings.TrimSpace(lines[1]) != "" {
		if p.StartTime, err = strconv.ParseUint(strings.TrimSpace(lines[1]), 10, 64); err != nil {
			return PIDFile{}, fmt.Errorf("second line %q: want the start time in clock ticks", lines[1])
		}
	}
	return p, nil
}

// Init implements target.Initializer: it creates Bridge's home, model
// cache, log and run directories. Idempotent.
func (t *Target) Init(ctx context.Context) error {
	for _, d := range []string{t.home(), t.cacheDir(), t.logDir(), RunDir(t.home())} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	return nil
}

// Destroy implements target.Initializer: it stops every model server
// recorded under <home>/run and empties the model cache. The registry (and
// the rest of Bridge's home) is never touched. Idempotent.
func (t *Target) Destroy(ctx context.Context) error {
	var errs []error
	if err := t.Close(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := StopRecordedServers(ctx, RunDir(t.home())); err != nil {
		errs = append(errs, err)
	}
	if err := t.clearCache(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// clearCache removes the model cache, refusing paths that would take the
// registry or other data with it.
func (t *Target) clearCache() error {
	cache, err := filepath.Abs(t.cacheDir())
	if err != nil {
		return fmt.Errorf("model cache %s: %w", t.cacheDir(), err)
	}
	home, err := filepath.Abs(t.home())
	if err != nil {
		return fmt.Errorf("bridge home %s: %w", t.home(), err)
	}
	userHome, _ := os.UserHomeDir()
	switch {
	case cache == filepath.Dir(cache): // the file system root
		return fmt.Errorf("refusing to delete model cache %s: it is a file system root; set BRIDGE_MODEL_CACHE_PATH to a directory of its own", cache)
	case cache == home || isWithin(home, cache):
		return fmt.Errorf("refusing to delete model cache %s: it holds Bridge's home %s (and its registry); set BRIDGE_MODEL_CACHE_PATH to a directory of its own", cache, home)
	case userHome != "" && (cache == userHome || isWithin(userHome, cache)):
		return fmt.Errorf("refusing to delete model cache %s: it holds your home directory; set BRIDGE_MODEL_CACHE_PATH to a directory of its own", cache)
	}
	if err := os.RemoveAll(cache); err != nil {
		return fmt.Errorf("clear model cache: %w", err)
	}
	return nil
}

// isWithin reports whether path lies inside dir.
func isWithin(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && filepath.IsLocal(rel)
}

// StopRecordedServers stops the process group named by every *.pid file in
// dir (SIGTERM, then SIGKILL after a grace period) and removes the files.
// Files naming groups that are already gone are removed too.
func StopRecordedServers(ctx context.Context, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.pid"))
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pf, err := ParsePIDFile(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w; remove the file if no model server runs", f, err))
			continue
		}
		if err := stopGroup(ctx, pf, stopGrace); err != nil {
			errs = append(errs, fmt.Errorf("stop model server group %d (%s): %w", pf.PGID, f, err))
			continue
		}
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stopGrace is how long a model server group gets to exit after SIGTERM.
const stopGrace = 5 * time.Second
