package python

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/serving"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
)

// TestRelativeHomeSecondModelOnPrestartedServer loads two models with the
// default relative home (.bridge): the second runs on a pre-started server,
// whose working directory is not Bridge's, so the log path it is handed
// must be absolute.
func TestRelativeHomeSecondModelOnPrestartedServer(t *testing.T) {
	py := pythontest.Interpreter(t)
	t.Chdir(t.TempDir())
	rt := New(Options{Python: py, Server: ServerBridge})
	t.Cleanup(func() { rt.Stop(context.Background()) })
	first := pythontest.TrainSklearn(t, py, filepath.Join("models", "v1"), pythontest.SklearnSpec{Seed: 5})
	second := pythontest.TrainSklearn(t, py, filepath.Join("models", "v2"), pythontest.SklearnSpec{Seed: 6})
	load(t, rt, ".bridge", "churn", 1, first.Dir)
	pythontest.WaitFor(t, "a pre-started server done importing", 60*time.Second, func() bool { return rt.Prestarted() == 1 })
	m, srv := load(t, rt, ".bridge", "churn", 2, second.Dir)
	if err := m.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := predictions(t, post(t, srv.URL, "application/json", second.SplitBody())); !slices.Equal(got, second.Predictions) {
		t.Fatalf("predictions %v, scikit-learn says %v", got, second.Predictions)
	}
}

// startTestSpare starts a pre-started server of python with home as the
// runtime's home.
func startTestSpare(t *testing.T, python, home string) (Options, string, environment, *spare) {
	t.Helper()
	rt := New(Options{Python: python, Server: ServerBridge})
	opts, err := rt.opts.resolved(serving.LoadSpec{LogDir: filepath.Join(home, "logs")})
	if err != nil {
		t.Fatal(err)
	}
	script, err := rt.writeScript(opts.Home)
	if err != nil {
		t.Fatal(err)
	}
	env := environment{python: python, desc: python}
	sp, err := startSpare(env, script, opts)
	if err != nil {
		t.Fatal(err)
	}
	return opts, script, env, sp
}

// TestPrestartedServerOutputReachesTheError hands a pre-started server a log
// it cannot open: what it writes before its log is open (the Python
// exception) must reach the load error, in one line.
func TestPrestartedServerOutputReachesTheError(t *testing.T) {
	py := pythontest.Interpreter(t)
	home := t.TempDir()
	opts, script, env, sp := startTestSpare(t, py, home)
	model := pythontest.TrainSklearn(t, py, filepath.Join(home, "m"), pythontest.SklearnSpec{Seed: 8})
	spec := serving.LoadSpec{Name: "churn", Version: 2, Dir: model.Dir, LogDir: filepath.Join(home, "logs")}
	p, err := newProc(opts, spec, env, script, "{}", sp)
	if err != nil {
		t.Fatal(err)
	}
	// As with a relative home before paths were made absolute: a log path
	// that Bridge can open from its working directory and the server,
	// running elsewhere, cannot.
	t.Chdir(t.TempDir())
	os.Mkdir("x", 0o755)
	p.logPath = filepath.Join("x", "churn-2.log")
	p.logFile.Close()
	if p.logFile, err = os.Create(p.logPath); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = p.startFirst(ctx, sp)
	if err == nil {
		t.Fatal("start succeeded with a log the server cannot open")
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "FileNotFoundError") || strings.Contains(msg, "\n") {
		t.Fatalf("error does not start with the server's own reason on one line:\n%s", msg)
	}
	logText, _ := os.ReadFile(p.logPath)
	if !strings.Contains(string(logText), "Traceback") {
		t.Fatalf("the server's early output is not in the model's log:\n%s", logText)
	}
}

// TestInterpreterIsTheFirstThatImportsTheFlavor puts a python3 that cannot
// import scikit-learn first: the runtime skips it for an sklearn model and
// logs the one it chose; with only unfit interpreters the error names
// BRIDGE_PYTHON and the missing module.
func TestInterpreterIsTheFirstThatImportsTheFlavor(t *testing.T) {
	py := pythontest.Interpreter(t)
	home := t.TempDir()
	bin := filepath.Join(home, "bin")
	os.MkdirAll(bin, 0o755)
	// -S: no site-packages, so no scikit-learn.
	shim := filepath.Join(bin, "python3")
	if err := os.WriteFile(shim, []byte("#!/bin/sh\nexec "+py+" -S \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	model := pythontest.TrainSklearn(t, py, filepath.Join(home, "m"), pythontest.SklearnSpec{Seed: 9})
	defer func(c []string) { config.PythonCandidates = c }(config.PythonCandidates)

	tests := []struct {
		name       string
		python     string   // BRIDGE_PYTHON
		candidates []string // config.PythonCandidates
		want       string   // in the error; "" means the load works
	}{
		{"first candidate lacks sklearn", "", []string{"python3", py}, ""},
		{"no candidate fits", "", []string{"python3", filepath.Join(bin, "missing")}, "set BRIDGE_PYTHON"},
		{"BRIDGE_PYTHON lacks sklearn", shim, nil, "BRIDGE_PYTHON=" + shim},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config.PythonCandidates = tt.candidates
			var logs bytes.Buffer
			rt := New(Options{Python: tt.python, NoPrestart: true, Server: ServerBridge, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			m, srv, err := tryLoad(t, rt, home, "pick", i+1, model.Dir)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := predictions(t, post(t, srv.URL, "application/json", model.SplitBody())); !slices.Equal(got, model.Predictions) {
					t.Fatalf("predictions %v, want %v", got, model.Predictions)
				}
				if !strings.Contains(logs.String(), "Python interpreter chosen") || !strings.Contains(logs.String(), "python="+py) {
					t.Fatalf("log does not say %s was chosen:\n%s", py, logs.String())
				}
				_ = m
				return
			}
			if err == nil {
				t.Fatal("load succeeded without an interpreter that has scikit-learn")
			}
			if msg := err.Error(); !strings.Contains(msg, tt.want) || !strings.Contains(msg, "No module named 'sklearn'") || !strings.Contains(msg, "BRIDGE_PYTHON") {
				t.Fatalf("error = %v\nwant it to name %q, BRIDGE_PYTHON and the missing module", err, tt.want)
			}
		})
	}
}

func TestRootCause(t *testing.T) {
	tests := []struct{ tail, want string }{
		{"--- 2026-12-01T04:24:04Z bridge: starting model server for churn/2\n", ""},
		{"Traceback (most recent call last):\n  File \"x.py\", line 3, in <module>\n    f()\n    ^^^\nValueError: bad value\n", "ValueError: bad value"},
		{"bridge-scoring-server: cannot load the model: UnpicklingError: invalid load key, 't'.\n   \n", "cannot load the model: UnpicklingError: invalid load key, 't'."},
		{"    x = y[0]\n        ~^^^\n", "x = y[0]"},
	}
	for _, tt := range tests {
		if got := rootCause(tt.tail); got != tt.want {
			t.Errorf("rootCause(%q) = %q, want %q", tt.tail, got, tt.want)
		}
	}
}

// TestPrestartedServerThatDiedBeforeItsModelIsReplaced hands the model to a
// pre-started server that exited during its imports (as when it dies
// between being taken and being assigned): the load still succeeds on a new
// server, and the model's log keeps the dead server's own output.
func TestPrestartedServerThatDiedBeforeItsModelIsReplaced(t *testing.T) {
	py := pythontest.Interpreter(t)
	home := t.TempDir()
	// An interpreter whose pre-started servers crash while importing.
	shim := filepath.Join(home, "python-shim")
	body := "#!/bin/sh\ncase \"$*\" in *--control-fd*) echo 'ImportError: numpy is broken in this pre-started server' >&2; exit 1;; esac\nexec " + py + " \"$@\"\n"
	if err := os.WriteFile(shim, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	opts, script, env, sp := startTestSpare(t, shim, home)
	select {
	case <-sp.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the crashing pre-started server did not exit")
	}
	model := pythontest.TrainSklearn(t, py, filepath.Join(home, "m"), pythontest.SklearnSpec{Seed: 10})
	spec := serving.LoadSpec{Name: "churn", Version: 3, Dir: model.Dir, LogDir: filepath.Join(home, "logs")}
	mlmodel := `{"flavors": {"sklearn": {"pickled_model": "model.pkl", "serialization_format": "pickle"}}}`
	p, err := newProc(opts, spec, env, script, mlmodel, sp)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.startFirst(ctx, sp); err != nil {
		t.Fatalf("load after a dead pre-started server: %v", err)
	}
	defer p.close(context.Background())
	if got := predictions(t, post(t, "http://"+p.addr, "application/json", model.SplitBody())); !slices.Equal(got, model.Predictions) {
		t.Fatalf("predictions %v, scikit-learn says %v", got, model.Predictions)
	}
	logText, _ := os.ReadFile(p.logPath)
	for _, want := range []string{"numpy is broken in this pre-started server", "starting a new one", "serving " + model.Dir} {
		if !strings.Contains(string(logText), want) {
			t.Errorf("model log lacks %q:\n%s", want, logText)
		}
	}
}
