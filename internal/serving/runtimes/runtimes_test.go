package runtimes_test

import (
	"context"
	"fmt"
	"github.com/bridgeops/bridge/internal/app"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/proctest"
	"github.com/bridgeops/bridge/internal/serving"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
	"github.com/bridgeops/bridge/internal/serving/runtimes"
)

// newSet builds a Set as bridge run does from its configuration, with
// Bridge's own scoring server and BRIDGE_NATIVE=off (so that the sklearn
// model runs in a Python server); it is stopped when t ends.
func newSet(t *testing.T, py string) *runtimes.Set {
	t.Helper()
	s := runtimes.New(runtimes.Options{
		Python: config.PythonSettings{Interpreter: py, EnvManager: "local", Server: "bridge", Prestart: true},
		Native: config.NativeOff,
	})
	t.Cleanup(func() { s.Stop(context.Background()) })
	return s
}

func loadModel(t *testing.T, s *runtimes.Set, home, name, dir string) serving.Model {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m, err := s.Load(ctx, serving.LoadSpec{Name: name, Version: 1, Dir: dir, LogDir: filepath.Join(home, "logs")})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.(serving.RuntimeNamer).Runtime(); got != "python" {
		t.Fatalf("%s is served by the %s runtime, want python", name, got)
	}
	return m
}

// invoke posts the model's test rows to m and checks scikit-learn's
// predictions come back.
func invoke(t *testing.T, m serving.Model, sk pythontest.Sklearn) {
	t.Helper()
	srv := httptest.NewServer(m)
	defer srv.Close()
	resp, err := srv.Client().Post(srv.URL+"/invocations", "application/json", strings.NewReader(string(sk.SplitBody())))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := pythontest.Predictions(t, resp.StatusCode, b); !slices.Equal(got, sk.Predictions) {
		t.Fatalf("predictions %v, scikit-learn says %v", got, sk.Predictions)
	}
}

// serverPid reads the process group id of name's server from its pid
// file (<home>/run/<name>-1.pid).
func serverPid(t *testing.T, home, name string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(home, "run", name+"-1.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestTwoSetsShareNothing runs two runtime sets in one process, in one
// home, each serving a model and holding a pre-started server: stopping
// one ends its own servers only; the other keeps serving and keeps its
// pre-started server, and the stopped one refuses new loads.
func TestTwoSetsShareNothing(t *testing.T) {
	py := pythontest.Interpreter(t)
	home := t.TempDir()
	sk := pythontest.TrainSklearn(t, py, filepath.Join(home, "model"), pythontest.SklearnSpec{Seed: 5})
	a, b := newSet(t, py), newSet(t, py)
	ma := loadModel(t, a, home, "a", sk.Dir)
	mb := loadModel(t, b, home, "b", sk.Dir)
	defer mb.Close(context.Background())
	invoke(t, ma, sk)
	invoke(t, mb, sk)
	pythontest.WaitFor(t, "a pre-started server in each set", 2*time.Minute, func() bool {
		return a.Python().Prestarted() == 1 && b.Python().Prestarted() == 1
	})
	pa, pb := serverPid(t, home, "a"), serverPid(t, home, "b")
	before := proctest.Descendants(os.Getpid())
	if len(before) != 4 {
		t.Fatalf("child processes %v, want 4 (two model servers, two pre-started)", before)
	}

	// ma is never closed: Stop ends its server too.
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if proctest.Alive(pa) {
		t.Errorf("the stopped set's model server %d is still alive", pa)
	}
	if n := a.Python().Running(); n != 0 {
		t.Errorf("the stopped set still supervises %d servers", n)
	}
	after := proctest.Descendants(os.Getpid())
	if len(after) != 2 || !proctest.Alive(pb) {
		t.Fatalf("after stopping one set: child processes %v, want the other's model server %d and its pre-started server", after, pb)
	}
	invoke(t, mb, sk)
	if b.Python().Prestarted() != 1 || b.Python().Running() != 1 {
		t.Errorf("the other set lost state: %d pre-started, %d running", b.Python().Prestarted(), b.Python().Running())
	}
	if _, err := a.Load(context.Background(), serving.LoadSpec{Name: "late", Version: 1, Dir: sk.Dir, LogDir: filepath.Join(home, "logs")}); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("load after Stop: %v, want an error saying the runtime is stopped", err)
	}

	if err := b.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if left := proctest.Descendants(os.Getpid()); len(left) != 0 {
		t.Fatalf("child processes left after both sets stopped: %v", left)
	}
}

// holder is a part that loads a model when it starts and, unless leak is
// set, closes it when it stops, as the localhost target does. It checks
// the runtimes still serve while it stops (they stop after it).
type holder struct {
	set   *runtimes.Set
	home  string
	name  string
	dir   string
	leak  bool
	m     serving.Model
	order *[]string
}

func (h *holder) Start(ctx context.Context, _ func(error)) error {
	m, err := h.set.Load(ctx, serving.LoadSpec{Name: h.name, Version: 1, Dir: h.dir, LogDir: filepath.Join(h.home, "logs")})
	h.m = m
	return err
}

func (h *holder) Stop(ctx context.Context) error {
	*h.order = append(*h.order, h.name)
	if h.m == nil {
		return nil
	}
	if err := h.m.Ping(ctx); err != nil {
		return fmt.Errorf("%s no longer answers while its holder stops (the runtimes stopped first?): %w", h.name, err)
	}
	if h.leak {
		return nil
	}
	return h.m.Close(ctx)
}

// orderedSet records when the runtimes stop.
type orderedSet struct {
	*runtimes.Set
	order *[]string
}

func (s orderedSet) Stop(ctx context.Context) error {
	*s.order = append(*s.order, "model runtimes")
	return s.Set.Stop(ctx)
}

// TestManagerStopsRuntimes runs the runtimes as bridge run does: a part of
// the process manager added before the parts that load models. On
// shutdown they stop after those parts, and no child process is left,
// neither the pre-started server nor the server of a model its holder
// never closed.
func TestManagerStopsRuntimes(t *testing.T) {
	py := pythontest.Interpreter(t)
	home := t.TempDir()
	sk := pythontest.TrainSklearn(t, py, filepath.Join(home, "model"), pythontest.SklearnSpec{Seed: 6})
	set := newSet(t, py)
	var order []string
	m := app.New(nil, 30*time.Second)
	m.Add("model runtimes", orderedSet{set, &order})
	closes := &holder{set: set, home: home, name: "closed", dir: sk.Dir, order: &order}
	leaks := &holder{set: set, home: home, name: "leaked", dir: sk.Dir, leak: true, order: &order}
	m.Add("target", closes)
	m.Add("careless part", leaks)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	invoke(t, closes.m, sk)
	invoke(t, leaks.m, sk)
	pythontest.WaitFor(t, "a pre-started server", 2*time.Minute, func() bool { return set.Python().Prestarted() == 1 })
	if n := len(proctest.Descendants(os.Getpid())); n != 3 {
		t.Fatalf("%d child processes, want 3 (two model servers, one pre-started)", n)
	}
	cancel() // the signal
	done := make(chan error, 1)
	go func() { done <- m.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the manager did not stop within a minute")
	}
	if want := []string{"leaked", "closed", "model runtimes"}; !slices.Equal(order, want) {
		t.Errorf("stop order %v, want %v", order, want)
	}
	if left := proctest.Descendants(os.Getpid()); len(left) != 0 {
		t.Fatalf("child processes left after shutdown: %v", left)
	}
	if err := set.Start(context.Background(), nil); err == nil {
		t.Errorf("a stopped runtime set starts again: %v", err)
	}
}
