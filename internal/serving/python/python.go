// Package python serves MLflow models of the python_function and sklearn
// flavors: one Python model server subprocess per loaded version, behind a
// reverse proxy that implements serving.Model.
//
// A Runtime is a value: each process builds its own from its typed
// settings (New(OptionsFrom(cfg.Python)); serving/runtimes registers it for
// the python_function, sklearn and sagemaker_sklearn flavors with priority
// 100, behind the native runtimes) and stops it when it exits (Stop: every
// server it started, pre-started or serving, is gone when Stop returns).
// Two runtimes share nothing. The settings (config.PythonSettings) are:
//
//	BRIDGE_PYTHON         interpreter (default: the first of python3 and
//	                      /usr/bin/python3 that imports what the model's
//	                      flavor needs, e.g. sklearn)
//	BRIDGE_ENV_MANAGER    local (default: the interpreter as is) or virtualenv
//	                      (one venv per distinct python_env.yaml/requirements.txt,
//	                      cached under <home>/envs)
//	BRIDGE_PYTHON_SERVER  auto (default: MLflow's scoring server when mlflow is
//	                      importable, else Bridge's), mlflow or bridge
//	BRIDGE_PYTHON_PRESTART 0 turns off pre-started servers: by default, once a
//	                      model of an environment has loaded, one idle server
//	                      with numpy, pandas and scikit-learn imported waits
//	                      for the next model of that environment
//
// where <home> is the parent of LoadSpec.LogDir ($BRIDGE_HOME).
//
// The server is bridge_scoring_server.py, embedded in the binary: it answers
// /ping and /invocations (MLflow's scoring protocol). Bridge opens the
// server's listening socket on 127.0.0.1 itself and hands it over as a file
// descriptor, so there is no race for a free port and a restarted server
// keeps its address. A server that dies is restarted with exponential
// backoff (State reports "running", "restarting (n)" or "failed: ...");
// its output goes to <LogDir>/<model>-<version>.log; it runs in its own
// process group, gets SIGKILL when Bridge dies (Linux), and while it runs
// <home>/run/<model>-<version>.pid holds its process group id and the
// leader's start time, so that `bridge destroy localhost`
// (local.StopRecordedServers) can stop servers a killed Bridge left behind.
package python

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/serving"
)

//go:embed bridge_scoring_server.py
var serverScript []byte

// Priority is the registration priority of the runtime (native runtimes
// use 0, so they win when a model has both kinds of flavor).
const Priority = 100

// Flavors are the MLmodel flavors the runtime serves.
var Flavors = []string{"python_function", "sklearn", "sagemaker_sklearn"}

// Environment managers.
const (
	EnvLocal      = "local"
	EnvVirtualenv = "virtualenv"
)

// Scoring servers.
const (
	ServerAuto   = "auto"
	ServerMLflow = "mlflow"
	ServerBridge = "bridge"
)

// Options configure a Runtime; empty fields are defaulted. OptionsFrom
// makes them from Bridge's configuration.
type Options struct {
	// Python is the interpreter (BRIDGE_PYTHON). Empty: the first of
	// python3 and /usr/bin/python3 that imports what the model's flavor
	// needs (scikit-learn for sklearn models).
	Python string
	// EnvManager is EnvLocal or EnvVirtualenv (BRIDGE_ENV_MANAGER).
	EnvManager string
	// Server is ServerAuto, ServerMLflow or ServerBridge (BRIDGE_PYTHON_SERVER).
	Server string
	// Home holds envs/, run/ and lib/; empty means the parent of the
	// LoadSpec's LogDir.
	Home string
	// StartTimeout bounds loading a model until /ping answers (default 2m).
	StartTimeout time.Duration
	// StopGrace is how long Close waits for in-flight requests and then for
	// the server to exit after SIGTERM before it sends SIGKILL (default 5s).
	StopGrace time.Duration
	// RestartBackoff is the first wait before restarting a crashed server;
	// it doubles up to MaxRestartBackoff (defaults 500ms and 30s).
	RestartBackoff    time.Duration
	MaxRestartBackoff time.Duration
	// NoPrestart turns off pre-started servers (BRIDGE_PYTHON_PRESTART=0):
	// by default, once a model of an environment has loaded, one idle
	// server with numpy, pandas and scikit-learn imported waits for the
	// next model of that environment, which then starts in a fraction of
	// the time.
	NoPrestart bool
	// MaxStartFailures is how many starts in a row may fail before the
	// model is reported failed and no longer restarted (default 5).
	MaxStartFailures int
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// OptionsFrom returns the options of the typed configuration section
// (BRIDGE_PYTHON, BRIDGE_ENV_MANAGER, BRIDGE_PYTHON_SERVER,
// BRIDGE_PYTHON_PRESTART).
func OptionsFrom(s config.PythonSettings) Options {
	return Options{Python: s.Interpreter, EnvManager: s.EnvManager, Server: s.Server, NoPrestart: !s.Prestart}
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}

func (o Options) resolved(spec serving.LoadSpec) (Options, error) {
	// An empty Python means: the first of config.PythonCandidates that
	// imports what the model needs.
	if o.EnvManager == "" {
		o.EnvManager = EnvLocal
	}
	if o.Server == "" {
		o.Server = ServerAuto
	}
	switch o.EnvManager {
	case EnvLocal, EnvVirtualenv:
	default:
		return o, fmt.Errorf("BRIDGE_ENV_MANAGER=%q: want local or virtualenv", o.EnvManager)
	}
	switch o.Server {
	case ServerAuto, ServerMLflow, ServerBridge:
	default:
		return o, fmt.Errorf("BRIDGE_PYTHON_SERVER=%q: want auto, mlflow or bridge", o.Server)
	}
	if o.Home == "" {
		if spec.LogDir == "" {
			return o, errors.New("python runtime: LoadSpec.LogDir is not set")
		}
		o.Home = filepath.Dir(filepath.Clean(spec.LogDir))
	}
	home, err := filepath.Abs(o.Home)
	if err != nil {
		return o, fmt.Errorf("python runtime: %w", err)
	}
	o.Home = home
	if o.StartTimeout <= 0 {
		o.StartTimeout = 2 * time.Minute
	}
	if o.StopGrace <= 0 {
		o.StopGrace = 5 * time.Second
	}
	if o.RestartBackoff <= 0 {
		o.RestartBackoff = 500 * time.Millisecond
	}
	if o.MaxRestartBackoff <= 0 {
		o.MaxRestartBackoff = 30 * time.Second
	}
	if o.MaxStartFailures <= 0 {
		o.MaxStartFailures = 5
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// Runtime loads python_function and sklearn models into Python servers.
type Runtime struct {
	opts   Options
	envs   envBuilds
	spares spares
	pys    interpreters
	life   lifecycle

	scriptMu sync.Mutex
}

// New returns a Runtime; it serves until Stop.
func New(opts Options) *Runtime {
	r := &Runtime{opts: opts}
	r.life.init()
	return r
}

// Load starts a model server for spec and returns when it answers /ping.
func (r *Runtime) Load(ctx context.Context, spec serving.LoadSpec, mm serving.MLmodel) (serving.Model, error) {
	ctx, done, err := r.life.enter(ctx)
	if err != nil {
		return nil, fmt.Errorf("load %s/%d: %w", spec.Name, spec.Version, err)
	}
	defer done()
	opts, err := r.opts.resolved(spec)
	if err != nil {
		return nil, err
	}
	// Servers run in the model directory (pre-started ones in the home
	// until they get a model): every path they get is absolute.
	if spec.Dir, err = filepath.Abs(spec.Dir); err != nil {
		return nil, fmt.Errorf("load %s/%d: %w", spec.Name, spec.Version, err)
	}
	if spec.LogDir, err = filepath.Abs(spec.LogDir); err != nil {
		return nil, fmt.Errorf("load %s/%d: %w", spec.Name, spec.Version, err)
	}
	ref := spec.Name + "/" + strconv.Itoa(spec.Version)
	env, err := r.environment(ctx, opts, spec.Dir, requiredModules(mm, opts.Server))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", ref, err)
	}
	script, err := r.writeScript(opts.Home)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", ref, err)
	}
	mlmodelJSON, err := json.Marshal(map[string]any{"flavors": mm.Flavors, "signature": mm.Signature})
	if err != nil {
		return nil, fmt.Errorf("load %s: encode MLmodel: %w", ref, err)
	}
	key := spareKey(env, script, opts.Server)
	var sp *spare
	if !opts.NoPrestart {
		sp = r.spares.take(key)
		defer r.spares.refill(key, env, script, opts)
	}
	p, err := newProc(opts, spec, env, script, string(mlmodelJSON), sp)
	if err != nil {
		if sp != nil {
			killGroup(sp.cmd.Process.Pid, syscall.SIGKILL)
			sp.release()
		}
		return nil, fmt.Errorf("load %s: %w", ref, err)
	}
	startCtx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	if err := p.startFirst(startCtx, sp); err != nil {
		return nil, fmt.Errorf("load %s: %w", ref, err)
	}
	if err := r.life.track(p); err != nil {
		p.close(context.Background())
		return nil, fmt.Errorf("load %s: %w", ref, err)
	}
	return newModel(p), nil
}

// writeScript writes the embedded server to <home>/lib once per content.
func (r *Runtime) writeScript(home string) (string, error) {
	r.scriptMu.Lock()
	defer r.scriptMu.Unlock()
	dir := filepath.Join(home, "lib")
	p := filepath.Join(dir, "bridge_scoring_server-"+shortHash(serverScript)+".py")
	if b, err := os.ReadFile(p); err == nil && string(b) == string(serverScript) {
		return p, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".server-*.py")
	if err != nil {
		return "", err
	}
	if _, err := tmp.Write(serverScript); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return p, nil
}
