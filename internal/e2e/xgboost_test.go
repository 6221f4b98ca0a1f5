package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
	"github.com/bridgeops/bridge/internal/serving/trees/treestest"
)

// TestBinaryServesXGBoostNatively runs the real binary from a fresh
// working directory with the default home: an XGBoost classifier (JSON,
// missing values, early stopping) and a regressor (UBJSON) are served
// in-process with exactly XGBoost's answers, and bridge status says so.
func TestBinaryServesXGBoostNatively(t *testing.T) {
	py := pythontest.Interpreter(t)
	if out, err := exec.Command(py, "-c", "import xgboost").CombinedOutput(); err != nil {
		t.Skipf("no xgboost in %s (install python3-xgboost): %s", py, out)
	}
	models := treestest.Train(t, py, []treestest.Spec{
		{Name: "xgbclf", Kind: "XGBClassifier", Estimators: 60, MaxDepth: 4, Classes: 3, NaN: 0.1, EarlyStop: 2, TestRows: 500},
		{Name: "xgbreg", Kind: "XGBRegressor", Estimators: 40, MaxDepth: 5, Classes: 0, NaN: 0.1, Format: "ubj", TestRows: 500},
	})
	work := t.TempDir()
	p := startRunIn(t, work, "BRIDGE_PYTHON="+py)
	for _, name := range []string{"xgbclf", "xgbreg"} {
		runRegister(t, p.regURL, name, filepath.Join(models, name))
	}
	waitUntil(t, 2*time.Minute, "2 versions DEPLOYED", p, func() bool { return deployedCount(t, p.regURL) == 2 })
	for _, name := range []string{"xgbclf", "xgbreg"} {
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
		if len(got.Predictions) != len(e.Predict) {
			t.Fatalf("%s: %d answers for %d rows", name, len(got.Predictions), len(e.Predict))
		}
		for i, raw := range e.Predict {
			var want float64
			json.Unmarshal(raw, &want)
			if got.Predictions[i] != want {
				t.Fatalf("%s row %d: %v, XGBoost %v", name, i, got.Predictions[i], want)
			}
		}
	}
	got := statusRuntimes(t, work, p.addr)
	for _, name := range []string{"xgbclf", "xgbreg"} {
		if got[name] != "Ready native" {
			t.Errorf("bridge status: %s is %q, want Ready native (all: %v)", name, got[name], got)
		}
	}
}
