package local

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/serving"
	"github.com/bridgeops/bridge/internal/serving/runtimes"
	"github.com/bridgeops/bridge/internal/target"
)

// Native models used across the tests, with predictions computed by hand:
// linear: 2a - b + 0.5c + 1; binary: a - 2b + 0.5 > 0 → "yes";
// multinomial: argmax(a, b, 0.5 - a - b) over classes 10, 20, 30.
const (
	linearJSON  = `{"kind": "linear_regression", "coefficients": [2, -1, 0.5], "intercept": 1}`
	linear2JSON = `{"kind": "linear_regression", "coefficients": [0, 0, 0], "intercept": 42}`
	binaryJSON  = `{"kind": "logistic_regression", "coefficients": [[1, -2]], "intercepts": [0.5], "classes": ["no", "yes"]}`
	multiJSON   = `{"kind": "logistic_regression", "coefficients": [[1, 0], [0, 1], [-1, -1]], "intercepts": [0, 0, 0.5], "classes": [10, 20, 30]}`
)

func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Verbose() {
		slog.SetDefault(slog.New(slog.DiscardHandler))
	}
	os.Exit(m.Run())
}

// fetcher is an artifact fetcher over local directories keyed by source.
type fetcher struct {
	mu    sync.Mutex
	dirs  map[string]string
	calls atomic.Int64
	gate  chan struct{} // when set, Fetch waits on it
}

func (f *fetcher) Fetch(ctx context.Context, ref model.VersionRef, source string) (string, error) {
	f.calls.Add(1)
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.dirs[source]
	if !ok {
		return "", fmt.Errorf("no artifact at %s", source)
	}
	return d, nil
}

// add writes a model directory with one flavor whose config is data and
// whose model.json (when modelJSON is not empty) is given.
func (f *fetcher) add(t testing.TB, source, flavor, modelJSON string) {
	t.Helper()
	dir := t.TempDir()
	ml := fmt.Sprintf("flavors:\n  %s:\n    data: model.json\n", flavor)
	if err := os.WriteFile(filepath.Join(dir, "MLmodel"), []byte(ml), 0o644); err != nil {
		t.Fatal(err)
	}
	if modelJSON != "" {
		if err := os.WriteFile(filepath.Join(dir, "model.json"), []byte(modelJSON), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dirs == nil {
		f.dirs = map[string]string{}
	}
	f.dirs[source] = dir
}

// sink is a capture sink that keeps what it receives.
type sink struct {
	mu      sync.Mutex
	want    map[string][2]bool
	records []capture.Record
}

func (s *sink) Want(endpoint string) (bool, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.want[endpoint]
	return w[0], w[1]
}

func (s *sink) Capture(r capture.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = append(s.records, r)
}

func (s *sink) all() []capture.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]capture.Record(nil), s.records...)
}

// env is a target behind a real loopback HTTP server.
type env struct {
	t       *Target
	srv     *httptest.Server
	f       *fetcher
	reg     *prometheus.Registry
	home    string
	closeMu sync.Once
}

func newEnv(tb testing.TB, s capture.Sink) *env {
	tb.Helper()
	home := tb.TempDir()
	e := &env{f: &fetcher{}, reg: prometheus.NewRegistry(), home: home}
	var sinkDep capture.Sink
	if s != nil {
		sinkDep = s
	}
	tgt, err := target.New(context.Background(), Kind, target.Deps{
		Config:  config.Config{Home: home, ModelCache: filepath.Join(home, "cache"), Port: 3000},
		Fetcher: e.f,
		Metrics: e.reg,
		Capture: sinkDep,
		Models:  newModels(tb),
	})
	if err != nil {
		tb.Fatal(err)
	}
	e.t = tgt.(*Target)
	e.srv = httptest.NewServer(e.t.Handler())
	e.t.SetAddr(e.srv.Listener.Addr().String())
	tb.Cleanup(func() {
		e.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.t.Close(ctx); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return e
}

// deploy creates the versions and routes the endpoint to them, evenly.
func (e *env) deploy(tb testing.TB, key model.EndpointKey, sources map[int]string) {
	tb.Helper()
	ctx := context.Background()
	var ws []model.WeightedVersion
	for v, src := range sources {
		if err := e.t.CreateVersion(ctx, target.VersionSpec{Ref: model.VersionRef{Model: key.Model, Version: v}, Source: src}); err != nil {
			tb.Fatalf("CreateVersion %s v%d: %v", key.Model, v, err)
		}
		ws = append(ws, model.WeightedVersion{Version: v, Weight: 1 / float64(len(sources))})
	}
	if err := e.t.Route(ctx, key, ws); err != nil {
		tb.Fatalf("Route %s: %v", key, err)
	}
}

type answer struct {
	status  int
	version string
	ct      string
	body    string
}

func (e *env) post(tb testing.TB, path, ct, accept, body string) answer {
	tb.Helper()
	a, err := postTo(http.DefaultClient, e.srv.URL+path, ct, accept, body, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func postTo(c *http.Client, url, ct, accept, body string, hdr map[string]string) (answer, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{resp.StatusCode, resp.Header.Get(HeaderVersion), resp.Header.Get("Content-Type"), string(b)}, nil
}

// errorBody decodes an MLflow-style error answer.
func errorBody(tb testing.TB, a answer) (code, msg string) {
	tb.Helper()
	var e struct {
		Code    string `json:"error_code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(a.body), &e); err != nil || a.ct != "application/json" {
		tb.Fatalf("answer %d %q (%s) is not MLflow error JSON: %v", a.status, a.body, a.ct, err)
	}
	return e.Code, e.Message
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Test runtimes for behaviours native models do not have: a model that
// blocks until released (drain), fails, panics, or reports its state.
const (
	flavorGate  = "bridge_test_gate"
	flavorError = "bridge_test_error"
	flavorPanic = "bridge_test_panic"
	flavorState = "bridge_test_state"
	flavorSlow  = "bridge_test_unready"
	flavorEcho  = "bridge_test_echo"
	flavorLate  = "bridge_test_panic_late"
)

// newModels returns the model runtimes of a test target: Bridge's own
// plus the test flavors. They stop when tb ends, after the targets built
// later (cleanups run last-in first-out).
func newModels(tb testing.TB) *runtimes.Set {
	tb.Helper()
	s := runtimes.New(runtimes.Options{})
	for _, f := range []string{flavorGate, flavorError, flavorPanic, flavorState, flavorSlow, flavorEcho, flavorLate} {
		s.Register(f, 0, testRuntime(f))
	}
	tb.Cleanup(func() {
		if err := s.Stop(context.Background()); err != nil {
			tb.Errorf("stop the model runtimes: %v", err)
		}
	})
	return s
}

type testRuntime string

// testModels finds test models by model directory, so tests can steer them.
var testModels sync.Map // dir -> *testModel

func (r testRuntime) Load(ctx context.Context, spec serving.LoadSpec, mm serving.MLmodel) (serving.Model, error) {
	m := &testModel{kind: string(r), entered: make(chan struct{}, 16), release: make(chan struct{})}
	m.state.Store("ready")
	testModels.Store(spec.Dir, m)
	return m, nil
}

type testModel struct {
	kind    string
	entered chan struct{} // a request reached the model
	release chan struct{} // closed to let gated requests finish
	closed  atomic.Bool
	state   atomic.Value // string
}

func (m *testModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m.closed.Load() {
		http.Error(w, "model used after Close", http.StatusTeapot)
		return
	}
	switch m.kind {
	case flavorGate:
		m.entered <- struct{}{}
		<-m.release
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"predictions": ["gated"]}`)
	case flavorError:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "scorer overloaded"}`)
	case flavorPanic:
		panic("weights corrupted")
	case flavorLate:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"predictions": [`)
		w.(http.Flusher).Flush()
		panic("failed halfway through the answer")
	case flavorEcho:
		// Reads the body and answers its size; a read error is a 400, as
		// a model that knows nothing of the router's limit would answer.
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read: "+err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"predictions": [%d]}`, len(b))
	default:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"predictions": [0]}`)
	}
}

func (m *testModel) Ping(ctx context.Context) error {
	if m.kind == flavorSlow {
		<-ctx.Done()
		return fmt.Errorf("connection refused")
	}
	if m.closed.Load() {
		return fmt.Errorf("closed")
	}
	return nil
}

func (m *testModel) Close(ctx context.Context) error {
	m.closed.Store(true)
	return nil
}

func (m *testModel) State() string { return m.state.Load().(string) }

func testModelAt(tb testing.TB, f *fetcher, source string) *testModel {
	tb.Helper()
	f.mu.Lock()
	dir := f.dirs[source]
	f.mu.Unlock()
	v, ok := testModels.Load(dir)
	if !ok {
		tb.Fatalf("no test model loaded from %s", source)
	}
	return v.(*testModel)
}
