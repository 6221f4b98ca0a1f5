package python

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/proctest"
	"github.com/bridgeops/bridge/internal/serving"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
)

// load loads the model in dir with a runtime for python and returns it
// with an HTTP server in front of it; both are closed with the test.
func load(t *testing.T, rt *Runtime, home, name string, version int, dir string) (serving.Model, *httptest.Server) {
	t.Helper()
	m, srv, err := tryLoad(t, rt, home, name, version, dir)
	if err != nil {
		t.Fatal(err)
	}
	return m, srv
}

// tryLoad is load for goroutines other than the test's: it returns errors.
func tryLoad(t *testing.T, rt *Runtime, home, name string, version int, dir string) (serving.Model, *httptest.Server, error) {
	mm, err := serving.ReadMLmodel(dir)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m, err := rt.Load(ctx, serving.LoadSpec{Name: name, Version: version, Dir: dir, LogDir: filepath.Join(home, "logs")}, mm)
	if err != nil {
		return nil, nil, err
	}
	srv := httptest.NewServer(m)
	t.Cleanup(func() {
		srv.Close()
		m.Close(context.Background())
	})
	return m, srv, nil
}

type answer struct {
	status int
	body   []byte
}

func post(t testing.TB, url, ctype string, body []byte) answer {
	t.Helper()
	resp, err := http.Post(url+"/invocations", ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, b}
}

func predictions(t testing.TB, a answer) []int {
	t.Helper()
	return pythontest.Predictions(t, a.status, a.body)
}

// bodies returns the same rows in every input format of the protocol.
func bodies(m pythontest.Sklearn) map[string]struct {
	ctype string
	body  []byte
} {
	records := make([]map[string]float64, len(m.Rows))
	cols := map[string][]float64{}
	for i, r := range m.Rows {
		records[i] = map[string]float64{}
		for j, c := range m.Columns {
			records[i][c] = r[j]
			cols[c] = append(cols[c], r[j])
		}
	}
	// Columns in reverse order: the signature puts them back.
	rev := make([]string, len(m.Columns))
	revRows := make([][]float64, len(m.Rows))
	for j := range m.Columns {
		rev[j] = m.Columns[len(m.Columns)-1-j]
	}
	for i, r := range m.Rows {
		revRows[i] = make([]float64, len(r))
		for j := range r {
			revRows[i][j] = r[len(r)-1-j]
		}
	}
	var csv strings.Builder
	csv.WriteString(strings.Join(m.Columns, ",") + "\n")
	for _, r := range m.Rows {
		for j, v := range r {
			if j > 0 {
				csv.WriteByte(',')
			}
			csv.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		}
		csv.WriteByte('\n')
	}
	js := func(v any) []byte { b, _ := json.Marshal(v); return b }
	type body = struct {
		ctype string
		body  []byte
	}
	return map[string]body{
		"dataframe_split":          {"application/json", m.SplitBody()},
		"dataframe_split reversed": {"application/json", js(map[string]any{"dataframe_split": map[string]any{"columns": rev, "data": revRows}})},
		"dataframe_records":        {"application/json; charset=utf-8", js(map[string]any{"dataframe_records": records})},
		"instances":                {"application/json", js(map[string]any{"instances": m.Rows})},
		"inputs rows":              {"application/json", js(map[string]any{"inputs": m.Rows})},
		"inputs columns":           {"application/json", js(map[string]any{"inputs": cols})},
		"csv":                      {"text/csv", []byte(csv.String())},
		"csv without header":       {"text/csv", []byte(csv.String()[strings.IndexByte(csv.String(), '\n')+1:])},
		"csv header=absent":        {"text/csv; header=absent", []byte(csv.String()[strings.IndexByte(csv.String(), '\n')+1:])},
	}
}

func TestSklearnModelsAnswerLikeScikitLearn(t *testing.T) {
	py := pythontest.Interpreter(t)
	home := t.TempDir()
	rt := New(Options{NoPrestart: true, Python: py, Server: ServerBridge})
	for _, format := range []string{"pickle", "joblib", "cloudpickle"} {
		t.Run(format, func(t *testing.T) {
			sk := pythontest.TrainSklearn(t, py, filepath.Join(home, "models", format), pythontest.SklearnSpec{Seed: 7, Format: format})
			m, srv := load(t, rt, home, "clf-"+format, 1, sk.Dir)
			if err := m.Ping(context.Background()); err != nil {
				t.Fatal(err)
			}
			if st := m.(serving.Stater).State(); st != "running" {
				t.Fatalf("state %q, want running", st)
			}
			for name, b := range bodies(sk) {
				got := predictions(t, post(t, srv.URL, b.ctype, b.body))
				if !slices.Equal(got, sk.Predictions) {
					t.Errorf("%s: predictions %v, scikit-learn says %v", name, got, sk.Predictions)
				}
			}
		})
	}
}

// TestRelativeHomeAndModelDir loads a model whose Bridge home and model
// directory are relative paths (BRIDGE_HOME=.bridge, the default): the
// server runs in the model directory, so every path it gets must be absolute.
func TestRelativeHomeAndModelDir(t *testing.T) {
	py := pythontest.Interpreter(t)
	t.Chdir(t.TempDir())
	rt := New(Options{NoPrestart: true, Python: py, Server: ServerBridge})
	sk := pythontest.TrainSklearn(t, py, filepath.Join("models", "rel"), pythontest.SklearnSpec{Seed: 3, Format: "pickle"})
	m, srv := load(t, rt, ".bridge", "rel", 1, sk.Dir)
	if err := m.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := bodies(sk)["inputs rows"]
	if got := predictions(t, post(t, srv.URL, b.ctype, b.body)); !slices.Equal(got, sk.Predictions) {
		t.Errorf("predictions %v, scikit-learn says %v", got, sk.Predictions)
	}
}

func TestBadInputIsABadRequest(t *testing.T) {
	py := pythontest.Interpreter(t)
	home := t.TempDir()
	sk := pythontest.TrainSklearn(t, py, filepath.Join(home, "m"), pythontest.SklearnSpec{Seed: 1})
	_, srv := load(t, New(Options{NoPrestart: true, Python: py, Server: ServerBridge}), home, "clf", 1, sk.Dir)
	tests := []struct {
		name, ctype, body, want string
		status                  int
	}{
		{"not JSON", "application/json", "{", "invalid JSON", 400},
		{"no known key", "application/json", `{"rows": [[1,2,3,4]]}`, "exactly one of", 400},
		{"two keys", "application/json", `{"instances": [[1]], "inputs": [[1]]}`, "exactly one of", 400},
		{"wrong width", "application/json", `{"instances": [[1, 2]]}`, "features", 400},
		// The content type is checked in front of the server, as for native models.
		{"unsupported type", "application/xml", `<x/>`, "is not supported", http.StatusUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, srv.URL, tt.ctype, []byte(tt.body))
			var e struct {
				Code    string `json:"error_code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(a.body, &e); err != nil {
				t.Fatalf("status %d, body %s: %v", a.status, a.body, err)
			}
			if a.status != tt.status || e.Code != "BAD_REQUEST" || !strings.Contains(e.Message, tt.want) {
				t.Fatalf("got %d %s %q, want %d BAD_REQUEST mentioning %q", a.status, e.Code, e.Message, tt.status, tt.want)
			}
		})
	}
	// A chunked request (no Content-Length) is answered too.
	chunked, err := http.Post(srv.URL+"/invocations", "application/json", io.MultiReader(bytes.NewReader(sk.SplitBody())))
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := io.ReadAll(chunked.Body)
	chunked.Body.Close()
	if got := predictions(t, answer{chunked.StatusCode, cb}); !slices.Equal(got, sk.Predictions) {
		t.Fatalf("chunked request: %v, want %v", got, sk.Predictions)
	}
	// The server still answers after bad input.
	if got := predictions(t, post(t, srv.URL, "application/json", sk.SplitBody())); !slices.Equal(got, sk.Predictions) {
		t.Fatalf("predictions after bad input %v, want %v", got, sk.Predictions)
	}
}

// writePyfuncModel writes a python_function model with its own
// loader_module: predictions are each row's sum times the factor in its
// data file. When spawn is set the loader starts a long-running child
// process (to check that Close stops the whole process group) and writes
// its pid to the data dir.
func writePyfuncModel(t *testing.T, dir string, factor float64, spawn bool) {
	t.Helper()
	files := map[string]string{
		"MLmodel": "flavors:\n  python_function:\n    loader_module: scaled_sum\n    code: code\n    data: data\n    env:\n      virtualenv: python_env.yaml\n",
		"code/scaled_sum.py": `import json, os, subprocess, sys


class ScaledSum(object):
    def __init__(self, factor):
        self.factor = factor

    def predict(self, data):
        rows = data.values.tolist() if hasattr(data, "values") else data.tolist()
        return [self.factor * sum(r) for r in rows]


def _load_pyfunc(path):
    with open(os.path.join(path, "conf.json")) as f:
        conf = json.load(f)
    if conf.get("spawn"):
        child = subprocess.Popen(["sleep", "300"])
        with open(os.path.join(path, "child.pid"), "w") as f:
            f.write(str(child.pid))
    return ScaledSum(conf["factor"])
`,
		"data/conf.json": fmt.Sprintf(`{"factor": %g, "spawn": %t}`, factor, spawn),
	}
	for p, body := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// waitFor polls cond until it holds or the deadline passes.
func TestPyfuncLoaderModuleAndCleanStop(t *testing.T) {
	py := pythontest.Interpreter(t)
	home := t.TempDir()
	dir := filepath.Join(home, "pyfunc")
	writePyfuncModel(t, dir, 2.5, true)
	m, srv := load(t, New(Options{NoPrestart: true, Python: py, Server: ServerBridge}), home, "scaled", 3, dir)
	a := post(t, srv.URL, "application/json", []byte(`{"inputs": [[1, 2], [3, 4.5]]}`))
	if a.status != http.StatusOK || strings.TrimSpace(string(a.body)) != `{"predictions": [7.5, 18.75]}` {
		t.Fatalf("got %d %s", a.status, a.body)
	}
	pidFile := filepath.Join(home, "run", "scaled-3.pid")
	pgid := readPID(t, pidFile)
	cb, err := os.ReadFile(filepath.Join(dir, "data", "child.pid"))
	if err != nil {
		t.Fatal(err)
	}
	child, _ := strconv.Atoi(string(cb))
	if !proctest.Alive(pgid) || !proctest.Alive(child) {
		t.Fatalf("server %d or its child %d not running", pgid, child)
	}
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if proctest.Alive(pgid) || proctest.Alive(child) {
		t.Fatalf("after Close: server alive %v, its child alive %v", proctest.Alive(pgid), proctest.Alive(child))
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Fatalf("pid file left after Close (stat err %v)", err)
	}
	if st := m.(serving.Stater).State(); st != "stopped" {
		t.Fatalf("state after Close %q", st)
	}
	if a := post(t, srv.URL, "application/json", []byte(`{"inputs": [[1]]}`)); a.status != http.StatusServiceUnavailable {
		t.Fatalf("request after Close: %d %s, want 503", a.status, a.body)
	}
	logText, _ := os.ReadFile(filepath.Join(home, "logs", "scaled-3.log"))
	if !strings.Contains(string(logText), "bridge: starting model server for scaled/3") {
		t.Fatalf("log file lacks the start line:\n%s", logText)
	}
}

func TestModelThatCannotLoad(t *testing.T) {
	py := pythontest.Interpreter(t)
	home := t.TempDir()
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"corrupt pickle", map[string]string{
			"MLmodel":   "flavors:\n  sklearn:\n    pickled_model: model.pkl\n    serialization_format: pickle\n",
			"model.pkl": "this is not a pickle",
		}, "UnpicklingError"},
		{"missing loader module", map[string]string{
			"MLmodel": "flavors:\n  python_function:\n    loader_module: no_such_module_here\n",
		}, "No module named 'no_such_module_here'"},
		{"flavor that needs MLflow", map[string]string{
			"MLmodel": "flavors:\n  python_function:\n    loader_module: mlflow.pytorch\n",
		}, "install mlflow"},
	}
	rt := New(Options{NoPrestart: true, Python: py, Server: ServerBridge})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(home, "m"+strconv.Itoa(i))
			for p, body := range tt.files {
				os.MkdirAll(dir, 0o755)
				if err := os.WriteFile(filepath.Join(dir, p), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			mm, err := serving.ReadMLmodel(dir)
			if err != nil {
				t.Fatal(err)
			}
			_, err = rt.Load(context.Background(), serving.LoadSpec{Name: "broken", Version: i + 1, Dir: dir, LogDir: filepath.Join(home, "logs")}, mm)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "before it was ready") {
				t.Fatalf("err = %v, want it to say the server exited and mention %q", err, tt.want)
			}
			if _, err := os.Stat(filepath.Join(home, "run", "broken-"+strconv.Itoa(i+1)+".pid")); !os.IsNotExist(err) {
				t.Fatalf("failed load left a pid file")
			}
		})
	}
}

func TestCrashedServerRestartsAndOthersKeepServing(t *testing.T) {
	py := pythontest.Interpreter(t)
	home := t.TempDir()
	rt := New(Options{NoPrestart: true, Python: py, Server: ServerBridge, RestartBackoff: 100 * time.Millisecond})
	a := pythontest.TrainSklearn(t, py, filepath.Join(home, "a"), pythontest.SklearnSpec{Seed: 1})
	b := pythontest.TrainSklearn(t, py, filepath.Join(home, "b"), pythontest.SklearnSpec{Seed: 2})
	ma, srvA := load(t, rt, home, "a", 1, a.Dir)
	_, srvB := load(t, rt, home, "b", 1, b.Dir)

	// Continuous load on b while a crashes.
	var okB, failB atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := http.Post(srvB.URL+"/invocations", "application/json", bytes.NewReader(b.SplitBody()))
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if err == nil && resp.StatusCode == 200 {
				okB.Add(1)
			} else {
				failB.Add(1)
			}
		}
	}()

	pidFile := filepath.Join(home, "run", "a-1.pid")
	old := readPID(t, pidFile)
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	st := ma.(serving.Stater)
	pythontest.WaitFor(t, "state restarting", 10*time.Second, func() bool { return strings.HasPrefix(st.State(), "restarting (") })
	pythontest.WaitFor(t, "state running again", 60*time.Second, func() bool { return st.State() == "running" })
	if got := predictions(t, post(t, srvA.URL, "application/json", a.SplitBody())); !slices.Equal(got, a.Predictions) {
		t.Fatalf("after restart: %v, want %v", got, a.Predictions)
	}
	if now := readPID(t, pidFile); now == old || !proctest.Alive(now) {
		t.Fatalf("pid file names %d after restart (old %d)", now, old)
	}
	close(stop)
	wg.Wait()
	if failB.Load() != 0 || okB.Load() == 0 {
		t.Fatalf("model b during a's crash: %d ok, %d failed", okB.Load(), failB.Load())
	}
}

func TestVirtualenvIsBuiltOnceAndReused(t *testing.T) {
	py := pythontest.Interpreter(t)
	if err := exec.Command(py, "-c", "import venv, ensurepip").Run(); err != nil {
		t.Skip("python3-venv is not installed (apt-get install python3-venv)")
	}
	t.Setenv("PIP_RETRIES", "0")
	t.Setenv("PIP_TIMEOUT", "3")
	home := t.TempDir()
	rt := New(Options{NoPrestart: true, Python: py, EnvManager: EnvVirtualenv, Server: ServerBridge})

	// Two versions with the same requirements, loaded at once: one env.
	var sks [2]pythontest.Sklearn
	for i := range sks {
		sks[i] = pythontest.TrainSklearn(t, py, filepath.Join(home, "m", strconv.Itoa(i)), pythontest.SklearnSpec{Seed: i + 3})
	}
	var wg sync.WaitGroup
	srvs := make([]*httptest.Server, len(sks))
	errs := make([]error, len(sks))
	for i := range sks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, srvs[i], errs[i] = tryLoad(t, rt, home, "venv-model", i+1, sks[i].Dir)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range sks {
		if got := predictions(t, post(t, srvs[i].URL, "application/json", sks[i].SplitBody())); !slices.Equal(got, sks[i].Predictions) {
			t.Fatalf("venv model %d: %v, want %v", i, got, sks[i].Predictions)
		}
	}
	envs, _ := filepath.Glob(filepath.Join(home, "envs", "*", envReadyMarker))
	if len(envs) != 1 {
		t.Fatalf("%d environments built for one requirements content, want 1", len(envs))
	}
	logs, _ := filepath.Glob(filepath.Join(home, "envs", "*.log"))
	if len(logs) != 1 {
		t.Fatalf("%d env build logs, want 1", len(logs))
	}
	text, _ := os.ReadFile(logs[0])
	if n := strings.Count(string(text), "-m venv"); n != 1 {
		t.Fatalf("virtualenv created %d times, want once:\n%s", n, text)
	}
	logText, _ := os.ReadFile(filepath.Join(home, "logs", "venv-model-1.log"))
	if !strings.Contains(string(logText), "with virtualenv "+filepath.Dir(envs[0])) {
		t.Fatalf("server did not run in the virtualenv:\n%s", logText)
	}

	// A third version, loaded later, reuses the environment quickly.
	third := pythontest.TrainSklearn(t, py, filepath.Join(home, "m", "2"), pythontest.SklearnSpec{Seed: 9})
	start := time.Now()
	load(t, rt, home, "venv-model", 3, third.Dir)
	t.Logf("load with a cached environment took %s", time.Since(start))
	text, _ = os.ReadFile(logs[0])
	if n := strings.Count(string(text), "-m venv"); n != 1 {
		t.Fatalf("cached environment was rebuilt")
	}

	// Requirements pip cannot satisfy: the error ends with pip's words.
	bad := pythontest.TrainSklearn(t, py, filepath.Join(home, "m", "bad"), pythontest.SklearnSpec{Seed: 4, Requirements: "scikit-learn\nbridge-no-such-package==0.0.1\n"})
	mm, _ := serving.ReadMLmodel(bad.Dir)
	_, err := rt.Load(context.Background(), serving.LoadSpec{Name: "bad", Version: 1, Dir: bad.Dir, LogDir: filepath.Join(home, "logs")}, mm)
	if err == nil {
		t.Fatal("load with unsatisfiable requirements succeeded")
	}
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, "bridge-no-such-package") {
		t.Fatalf("error does not end with pip's last line:\n%v", err)
	}
	if envs, _ := filepath.Glob(filepath.Join(home, "envs", "*", envReadyMarker)); len(envs) != 1 {
		t.Fatalf("failed install left a usable-looking environment (%d ready envs)", len(envs))
	}
}

// readPID reads a pid file: the process group id, then the leader's start
// time, which must match the running process.
func readPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	pgid, err := strconv.Atoi(lines[0])
	if err != nil || len(lines) != 2 {
		t.Fatalf("pid file %q: want the process group id and its start time", b)
	}
	if want := strings.Split(strings.TrimSpace(string(pidFile(pgid))), "\n"); len(want) != 2 || want[1] != lines[1] {
		t.Fatalf("pid file start time %s, process %d has %v", lines[1], pgid, want)
	}
	return pgid
}

func TestPrestartedServerTakesTheNextModel(t *testing.T) {
	py := pythontest.Interpreter(t)
	home := t.TempDir()
	rt := New(Options{Python: py, Server: ServerBridge, RestartBackoff: 50 * time.Millisecond})
	t.Cleanup(func() { rt.Stop(context.Background()) })
	first := pythontest.TrainSklearn(t, py, filepath.Join(home, "m1"), pythontest.SklearnSpec{Seed: 41})
	second := pythontest.TrainSklearn(t, py, filepath.Join(home, "m2"), pythontest.SklearnSpec{Seed: 42, Format: "joblib"})
	start := time.Now()
	load(t, rt, home, "first", 1, first.Dir)
	cold := time.Since(start)
	pythontest.WaitFor(t, "a pre-started server done importing", 60*time.Second, func() bool { return rt.Prestarted() == 1 })
	start = time.Now()
	m, srv := load(t, rt, home, "second", 1, second.Dir)
	warm := time.Since(start)
	t.Logf("cold load %s, load on a pre-started server %s", cold, warm)
	if got := predictions(t, post(t, srv.URL, "application/json", second.SplitBody())); !slices.Equal(got, second.Predictions) {
		t.Fatalf("pre-started server predicts %v, scikit-learn %v", got, second.Predictions)
	}
	logText, _ := os.ReadFile(filepath.Join(home, "logs", "second-1.log"))
	if !strings.Contains(string(logText), "(pre-started)") || !strings.Contains(string(logText), "serving "+second.Dir) {
		t.Fatalf("second model did not run on the pre-started server:\n%s", logText)
	}
	// A crash of an adopted server restarts it cold on the same socket.
	pid := readPID(t, filepath.Join(home, "run", "second-1.pid"))
	syscall.Kill(pid, syscall.SIGKILL)
	st := m.(serving.Stater)
	pythontest.WaitFor(t, "restart", 60*time.Second, func() bool {
		// A missing pid file (the old server gone, the new one not yet
		// started) reads as 0: wait for the new server's.
		n := readPIDIfAny(home, "second-1")
		return n != 0 && n != pid && st.State() == "running"
	})
	if got := predictions(t, post(t, srv.URL, "application/json", second.SplitBody())); !slices.Equal(got, second.Predictions) {
		t.Fatalf("after restart: %v, want %v", got, second.Predictions)
	}
	// Idle pre-started servers can be stopped; loaded models keep serving.
	pythontest.WaitFor(t, "the next pre-started server", 60*time.Second, func() bool {
		rt.spares.mu.Lock()
		defer rt.spares.mu.Unlock()
		return len(rt.spares.idle) == 1
	})
	rt.StopPrestarted()
	if n := len(serverProcesses(home)); n != 2 {
		t.Fatalf("%d server processes after StopPrestarted, want the 2 loaded models'", n)
	}
	if got := predictions(t, post(t, srv.URL, "application/json", second.SplitBody())); !slices.Equal(got, second.Predictions) {
		t.Fatalf("after StopPrestarted: %v, want %v", got, second.Predictions)
	}
}

func readPIDIfAny(home, base string) int {
	b, err := os.ReadFile(filepath.Join(home, "run", base+".pid"))
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.Split(string(b), "\n")[0])
	return n
}

// TestHelperBridgeProcess is not a test: TestServersDieWithBridge runs the
// test binary as a stand-in Bridge that loads a model and waits to be
// killed.
func TestHelperBridgeProcess(t *testing.T) {
	home, dir := os.Getenv("BRIDGE_TEST_HELPER_HOME"), os.Getenv("BRIDGE_TEST_HELPER_MODEL")
	if home == "" {
		t.Skip("helper process for TestServersDieWithBridge")
	}
	rt := New(Options{Python: os.Getenv("BRIDGE_TEST_HELPER_PYTHON"), Server: ServerBridge})
	mm, err := serving.ReadMLmodel(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Load(context.Background(), serving.LoadSpec{Name: "orphan", Version: 1, Dir: dir, LogDir: filepath.Join(home, "logs")}, mm); err != nil {
		t.Fatal(err)
	}
	pythontest.WaitFor(t, "a pre-started server process", time.Minute, func() bool {
		rt.spares.mu.Lock()
		defer rt.spares.mu.Unlock()
		return len(rt.spares.idle) == 1
	})
	fmt.Println("loaded")
	select {}
}

// serverProcesses lists the pids of processes running the scoring server
// written under home.
func serverProcesses(home string) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(b, []byte(filepath.Join(home, "lib"))) && proctest.Alive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

func TestServersDieWithBridge(t *testing.T) {
	py := pythontest.Interpreter(t)
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("needs /proc to find the server processes")
	}
	home := t.TempDir()
	dir := filepath.Join(home, "model")
	writePyfuncModel(t, dir, 1, false)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBridgeProcess$", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), "BRIDGE_TEST_HELPER_HOME="+home, "BRIDGE_TEST_HELPER_MODEL="+dir, "BRIDGE_TEST_HELPER_PYTHON="+py)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line := make([]byte, 7)
	if _, err := io.ReadFull(out, line); err != nil || string(line) != "loaded\n" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	if n := len(serverProcesses(home)); n != 2 {
		t.Fatalf("%d server processes (model server and pre-started server), want 2", n)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	pythontest.WaitFor(t, "the servers of a killed Bridge to exit", 10*time.Second, func() bool { return len(serverProcesses(home)) == 0 })
}

func TestMLflowScoringServerWhenMLflowIsImportable(t *testing.T) {
	py := pythontest.Interpreter(t)
	if exec.Command(py, "-c", "import mlflow").Run() == nil {
		t.Skip("a real mlflow is installed; this test puts a stand-in on PYTHONPATH")
	}
	standin, err := filepath.Abs(filepath.Join("testdata", "mlflow_standin"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PYTHONPATH", standin)
	home := t.TempDir()
	dir := filepath.Join(home, "model")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "MLmodel"), []byte("flavors:\n  python_function:\n    loader_module: mlflow.standin\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "standin.json"), []byte(`{"factor": 3}`), 0o644)
	_, srv := load(t, New(Options{NoPrestart: true, Python: py, Server: ServerAuto}), home, "via-mlflow", 1, dir)
	resp, err := http.Post(srv.URL+"/invocations", "application/json", strings.NewReader(`{"inputs": [[1, 2], [3, 4]]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("X-Served-By") != "mlflow-standin" || strings.TrimSpace(string(body)) != `{"predictions": [9, 21]}` {
		t.Fatalf("got %d %q %s, want MLflow's application to answer", resp.StatusCode, resp.Header.Get("X-Served-By"), body)
	}
	logText, _ := os.ReadFile(filepath.Join(home, "logs", "via-mlflow-1.log"))
	if !strings.Contains(string(logText), "with MLflow's scoring server") {
		t.Fatalf("log does not say MLflow's server was used:\n%s", logText)
	}
}
