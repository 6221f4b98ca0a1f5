package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
	"github.com/bridgeops/bridge/internal/serving/trees/treestest"
)

// startRunIn starts the real bridge run in workDir with default settings:
// no BRIDGE_* variables but extraEnv, so the home is ./.bridge.
func startRunIn(t testing.TB, workDir string, extraEnv ...string) *runProcess {
	t.Helper()
	p := &runProcess{addr: runFreeAddr(t), stderr: &runLog{}, exited: make(chan error, 1)}
	regAddr := runFreeAddr(t)
	p.regURL = "http://" + regAddr
	p.cmd = exec.Command(runBinary(t), "run", "--addr", p.addr, "--registry-addr", regAddr)
	p.cmd.Dir = workDir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BRIDGE_") && !strings.HasPrefix(kv, "LOG_LEVEL=") && !strings.HasPrefix(kv, "PORT=") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Env = append(p.cmd.Env, extraEnv...)
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	waitUntil(t, 60*time.Second, "bridge run to answer", p, func() bool {
		r1, err1 := http.Get("http://" + p.addr + "/ping")
		r2, err2 := http.Get(p.regURL + "/health")
		if err1 == nil {
			r1.Body.Close()
		}
		if err2 == nil {
			r2.Body.Close()
		}
		return err1 == nil && err2 == nil && r1.StatusCode == 200
	})
	return p
}

func waitUntil(t testing.TB, d time.Duration, what string, p *runProcess, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		select {
		case err := <-p.exited:
			t.Fatalf("bridge run exited while waiting for %s: %v\n%s", what, err, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s\n%s", d, what, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// statusRuntimes runs bridge status -o json and returns version -> runtime.
func statusRuntimes(t testing.TB, workDir, addr string) map[string]string {
	t.Helper()
	cmd := exec.Command(runBinary(t), "status", "-o", "json", "--addr", addr)
	cmd.Dir = workDir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bridge status: %v\n%s", err, out)
	}
	var doc struct {
		Versions []struct {
			Model   string
			Version int
			State   string
			Runtime string
		}
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("bridge status -o json: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, v := range doc.Versions {
		got[v.Model] = v.State + " " + v.Runtime
	}
	return got
}

// TestBinaryServesRandomForestNatively runs the real binary from a fresh
// working directory with the default home: a scikit-learn random forest
// and a gradient boosting pipeline are served in-process (bridge status
// says native; no Python server runs) with scikit-learn's own answers,
// while a model that cannot convert is served by Python.
func TestBinaryServesRandomForestNatively(t *testing.T) {
	py := pythontest.Interpreter(t)
	models := treestest.Train(t, py, []treestest.Spec{
		{Name: "forest", Kind: "RandomForestClassifier", Estimators: 50, Classes: 3, TestRows: 500, Seed: 3},
		{Name: "boosted", Kind: "GradientBoostingRegressor", Estimators: 40, Classes: 0, TestRows: 500, NaN: 0.1, Steps: []string{"SimpleImputer", "StandardScaler"}},
		{Name: "custom", Kind: "RandomForestClassifier", Classes: 2, TestRows: 20, Steps: []string{"FunctionTransformer"}},
	})
	work := t.TempDir()
	p := startRunIn(t, work, "BRIDGE_PYTHON="+py, "LOG_LEVEL=info")
	for _, name := range []string{"forest", "boosted", "custom"} {
		runRegister(t, p.regURL, name, filepath.Join(models, name))
	}
	waitUntil(t, 2*time.Minute, "3 versions DEPLOYED", p, func() bool { return deployedCount(t, p.regURL) == 3 })
	// A second Python model gets the pre-started server, which must find
	// its log under the relative default home too.
	runRegister(t, p.regURL, "custom2", filepath.Join(models, "custom"))
	waitUntil(t, 2*time.Minute, "4 versions DEPLOYED", p, func() bool { return deployedCount(t, p.regURL) == 4 })

	for _, name := range []string{"forest", "boosted"} {
		e := treestest.ReadExpect(t, filepath.Join(models, name))
		resp, err := http.Post("http://"+p.addr+"/"+name+"/Production/invocations", "application/json", strings.NewReader(string(e.SplitBody())))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", name, resp.StatusCode, body)
		}
		var got struct{ Predictions []float64 }
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		var want []float64
		for _, raw := range e.Predict {
			var v float64
			json.Unmarshal(raw, &v)
			want = append(want, v)
		}
		if !slices.EqualFunc(got.Predictions, want, func(a, b float64) bool { d := a - b; return d < 1e-9 && d > -1e-9 }) {
			t.Fatalf("%s predicts differently from scikit-learn", name)
		}
	}
	got := statusRuntimes(t, work, p.addr)
	want := map[string]string{"forest": "Ready native", "boosted": "Ready native", "custom": "Ready python", "custom2": "Ready python"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("bridge status: %s is %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	// The tree files are cached under the default home, ./.bridge.
	cached, _ := filepath.Glob(filepath.Join(work, ".bridge", "native", "*.json"))
	if len(cached) != 2 {
		t.Errorf("cached tree files %v, want 2", cached)
	}
	if !strings.Contains(p.stderr.String(), "FunctionTransformer") {
		t.Errorf("the log does not say why custom is served by Python:\n%s", p.stderr)
	}
}

// TestNativeRequireFailsAlone: with BRIDGE_NATIVE=require a model that
// cannot convert, and one whose pickle fails to load in the exporter, fail
// with the reason in bridge_deploy_error, and a random forest next to
// them is served natively.
func TestNativeRequireFailsAlone(t *testing.T) {
	py := pythontest.Interpreter(t)
	t.Setenv("BRIDGE_NATIVE", "require")
	br := startPyBridge(t, py)
	models := treestest.Train(t, py, []treestest.Spec{
		{Name: "forest", Kind: "RandomForestClassifier", Estimators: 10, Classes: 2, TestRows: 20},
		{Name: "custom", Kind: "RandomForestClassifier", Classes: 2, TestRows: 5, Steps: []string{"FunctionTransformer"}},
	})
	// A pickle that names a tree module but does not load.
	broken := filepath.Join(t.TempDir(), "broken")
	if err := os.CopyFS(broken, os.DirFS(filepath.Join(models, "forest"))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, "model.pkl"), []byte("sklearn.ensemble, but not a pickle"), 0o644); err != nil {
		t.Fatal(err)
	}
	fv := br.register(t, "forest", filepath.Join(models, "forest"), "")
	cv := br.register(t, "custom", filepath.Join(models, "custom"), "")
	bv := br.register(t, "broken", broken, "")
	e := treestest.ReadExpect(t, filepath.Join(models, "forest"))
	a := br.waitServing(t, "forest", model.SlotLatest, fv, e.SplitBody())
	var got struct{ Predictions []json.RawMessage }
	if err := json.Unmarshal(a.body, &got); err != nil || len(got.Predictions) != len(e.Predict) {
		t.Fatalf("forest answered %s", a.body)
	}
	for i := range e.Predict {
		if string(got.Predictions[i]) != string(e.Predict[i]) {
			t.Fatalf("row %d: %s, scikit-learn %s", i, got.Predictions[i], e.Predict[i])
		}
	}
	pythontest.WaitFor(t, "custom FAILED with the reason", 90*time.Second, func() bool {
		tags := br.tags(t, "custom", cv)
		return tags["bridge_deploy_state"] == "FAILED" &&
			strings.Contains(tags["bridge_deploy_error"], "BRIDGE_NATIVE=require") &&
			strings.Contains(tags["bridge_deploy_error"], "pipeline step FunctionTransformer")
	})
	pythontest.WaitFor(t, "broken FAILED with the exporter's error", 90*time.Second, func() bool {
		tags := br.tags(t, "broken", bv)
		return tags["bridge_deploy_state"] == "FAILED" &&
			strings.Contains(tags["bridge_deploy_error"], "BRIDGE_NATIVE=require") &&
			strings.Contains(tags["bridge_deploy_error"], "exporter failed") &&
			strings.Contains(tags["bridge_deploy_error"], "UnpicklingError")
	})
	if tags := br.tags(t, "forest", fv); tags["bridge_deploy_state"] != "DEPLOYED" {
		t.Fatalf("forest tags %v", tags)
	}
}
