package python

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

// environment is the interpreter a model server runs with.
type environment struct {
	python string   // interpreter path
	env    []string // extra environment variables (VIRTUAL_ENV, PATH)
	desc   string   // for messages: "python3" or "virtualenv <dir>"
}

// envBuilds makes concurrent Loads that need the same virtualenv build it
// once: the first builds, the others wait for it.
type envBuilds struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

func (e *envBuilds) lock(key string) *sync.Mutex {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.locks == nil {
		e.locks = map[string]*sync.Mutex{}
	}
	m, ok := e.locks[key]
	if !ok {
		m = &sync.Mutex{}
		e.locks[key] = m
	}
	return m
}

func shortHash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}

// environment returns the interpreter for a model: the configured one
// (local), or a virtualenv built from the model's requirements.
func (r *Runtime) environment(ctx context.Context, opts Options, modelDir string, mods []string) (environment, error) {
	base, err := r.pys.pick(ctx, opts, mods, opts.EnvManager == EnvVirtualenv)
	if err != nil {
		return environment{}, err
	}
	if opts.EnvManager == EnvLocal {
		return environment{python: base, desc: base}, nil
	}
	deps, err := readRequirements(modelDir)
	if err != nil {
		return environment{}, err
	}
	return r.virtualenv(ctx, opts, base, modelDir, deps)
}

// requirements is what a model asks pip to install.
type requirements struct {
	args   []string // pip install arguments, relative to the model dir
	hashed []byte   // content the environment is keyed by
	python string   // python version python_env.yaml asks for, if any
	files  string   // for messages
}

// readRequirements reads python_env.yaml (MLflow's format: python,
// build_dependencies, dependencies) or, without it, requirements.txt.
func readRequirements(dir string) (requirements, error) {
	var req requirements
	var h bytes.Buffer
	add := func(name string) error {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("read %s of the model: %w", name, err)
		}
		fmt.Fprintf(&h, "%s\x00%d\x00", name, len(b))
		h.Write(b)
		return nil
	}
	pyEnv, err := os.ReadFile(filepath.Join(dir, "python_env.yaml"))
	switch {
	case err == nil:
		var doc struct {
			Python       string   `yaml:"python"`
			Dependencies []string `yaml:"dependencies"`
		}
		if err := yaml.Unmarshal(pyEnv, &doc); err != nil {
			return req, fmt.Errorf("parse python_env.yaml of the model: %w", err)
		}
		req.python = doc.Python
		req.files = "python_env.yaml"
		h.WriteString("python_env.yaml\x00")
		h.Write(pyEnv)
		for _, d := range doc.Dependencies {
			d = strings.TrimSpace(d)
			if f, ok := strings.CutPrefix(d, "-r"); ok {
				f = strings.TrimSpace(f)
				if err := add(f); err != nil {
					return req, err
				}
				req.args = append(req.args, "-r", f)
				req.files += ", " + f
				continue
			}
			req.args = append(req.args, d)
		}
	case errors.Is(err, fs.ErrNotExist):
		if _, err := os.Stat(filepath.Join(dir, "requirements.txt")); err == nil {
			if err := add("requirements.txt"); err != nil {
				return req, err
			}
			req.args = []string{"-r", "requirements.txt"}
			req.files = "requirements.txt"
		} else {
			req.files = "no requirements"
		}
	default:
		return req, fmt.Errorf("read python_env.yaml of the model: %w", err)
	}
	req.hashed = h.Bytes()
	return req, nil
}

const envReadyMarker = ".bridge-env-ready"

// virtualenv returns the environment for req, building it under
// <home>/envs/<hash> unless a complete one is there.
func (r *Runtime) virtualenv(ctx context.Context, opts Options, base, modelDir string, req requirements) (environment, error) {
	key := shortHash(append([]byte(base+"\x00"), req.hashed...))
	root := filepath.Join(opts.Home, "envs")
	dir := filepath.Join(root, key)
	env := environment{
		python: filepath.Join(dir, "bin", "python"),
		env:    []string{"VIRTUAL_ENV=" + dir, pathPrefix + filepath.Join(dir, "bin")},
		desc:   "virtualenv " + dir,
	}
	m := r.envs.lock(dir)
	m.Lock()
	defer m.Unlock()
	if err := os.MkdirAll(root, 0o755); err != nil {
		return env, err
	}
	// Another Bridge process may share the cache: hold a file lock too.
	lf, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return env, err
	}
	defer lf.Close()
	if err := flock(ctx, lf); err != nil {
		return env, fmt.Errorf("lock virtualenv %s: %w", dir, err)
	}
	defer syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)

	if _, err := os.Stat(filepath.Join(dir, envReadyMarker)); err == nil {
		return env, nil
	}
	log := opts.Logger.With("component", "python", "env", dir)
	log.Info("creating Python virtualenv", "requirements", req.files)
	if want := majorMinor(req.python); want != "" {
		out, err := exec.CommandContext(ctx, base, "-c", "import sys; print('%d.%d' % sys.version_info[:2])").Output()
		if got := strings.TrimSpace(string(out)); err == nil && got != want {
			log.Warn("the model asks for another Python version; using the configured interpreter", "model_python", req.python, "python", got, "interpreter", base)
		}
	}
	start := time.Now()
	if err := os.RemoveAll(dir); err != nil {
		return env, err
	}
	logPath := dir + ".log"
	if tail, err := runLogged(ctx, logPath, modelDir, base, "-m", "venv", "--system-site-packages", dir); err != nil {
		os.RemoveAll(dir)
		return env, withOutput(fmt.Sprintf("create virtualenv with %s (on Debian: apt-get install python3-venv)", base), err, tail, logPath)
	}
	if len(req.args) > 0 {
		args := append([]string{"-m", "pip", "install", "--disable-pip-version-check", "--no-input"}, req.args...)
		if tail, err := runLogged(ctx, logPath, modelDir, env.python, args...); err != nil {
			os.RemoveAll(dir)
			log.Warn("pip install failed", "log", logPath, "err", err)
			return env, withOutput("virtualenv for "+req.files+": pip install failed", err, tail, logPath)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, envReadyMarker), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return env, err
	}
	log.Info("Python virtualenv ready", "took", time.Since(start).Round(time.Millisecond))
	return env, nil
}

// flock takes an exclusive lock on f, giving up when ctx ends.
func flock(ctx context.Context, f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// runLogged runs a command in dir, appending its output to logPath. On
// failure it returns the output's error lines (or last lines).
func runLogged(ctx context.Context, logPath, dir, name string, args ...string) (string, error) {
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return "", err
	}
	defer lf.Close()
	fmt.Fprintf(lf, "--- %s $ %s %s\n", time.Now().UTC().Format(time.RFC3339), name, strings.Join(args, " "))
	var out tailBuffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdout = multiWriter{lf, &out}
	cmd.Stderr = multiWriter{lf, &out}
	cmd.SysProcAttr = childAttrs()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err = startCmd(cmd)
	if err == nil {
		err = cmd.Wait()
	}
	if err != nil {
		return out.errorLines(3), err
	}
	return "", nil
}

// withOutput is a one-line error that says why first (the command's last
// error line), then what failed and the log with the whole output.
func withOutput(what string, err error, output, logPath string) error {
	if cause := rootCause(output); cause != "" {
		return fmt.Errorf("%s (%s: %w; log %s)", cause, what, err, logPath)
	}
	return fmt.Errorf("%s: %w (log %s)", what, err, logPath)
}

type multiWriter struct {
	a, b interface{ Write([]byte) (int, error) }
}

func (m multiWriter) Write(p []byte) (int, error) {
	m.a.Write(p)
	return m.b.Write(p)
}

// tailBuffer keeps the last 64 KiB written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const tailMax = 64 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailMax {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailMax:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) lastLines(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return lastLines(t.buf, n)
}

// errorLines returns the last n lines that start with "error" (pip's and
// venv's diagnostics), or the last n lines when there are none.
func (t *tailBuffer) errorLines(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var errs []string
	for _, l := range strings.Split(lastLines(t.buf, 1000), "\n") {
		if strings.HasPrefix(strings.ToLower(l), "error") {
			errs = append(errs, l)
		}
	}
	if len(errs) == 0 {
		return lastLines(t.buf, n)
	}
	return strings.Join(errs[max(0, len(errs)-n):], "\n")
}

// lastLines returns the last n non-empty lines of b.
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	var keep []string
	for i := len(lines) - 1; i >= 0 && len(keep) < n; i-- {
		if l := strings.TrimRight(lines[i], "\r "); l != "" {
			keep = append(keep, l)
		}
	}
	for i, j := 0, len(keep)-1; i < j; i, j = i+1, j-1 {
		keep[i], keep[j] = keep[j], keep[i]
	}
	return strings.Join(keep, "\n")
}

// majorMinor returns "3.11" for "3.11.2" ("" when v is not a version).
func majorMinor(v string) string {
	parts := strings.Split(strings.TrimSpace(v), ".")
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return ""
	}
	return parts[0] + "." + parts[1]
}

// pathPrefix marks an environment entry whose directory goes in front of
// the inherited PATH (see childEnv).
const pathPrefix = "PATH+="

// childEnv is this process's environment with extra on top, for a child
// process: KEY=VALUE entries replace, PATH+=DIR entries put DIR first in
// PATH.
func childEnv(extra []string) []string {
	env := os.Environ()
	var prefix []string
	for _, kv := range extra {
		if dir, ok := strings.CutPrefix(kv, pathPrefix); ok {
			prefix = append(prefix, dir)
			continue
		}
		env = append(env, kv)
	}
	if len(prefix) == 0 {
		return env
	}
	path := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	if path != "" {
		prefix = append(prefix, path)
	}
	return append(env, "PATH="+strings.Join(prefix, string(os.PathListSeparator)))
}
