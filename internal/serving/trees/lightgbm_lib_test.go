package trees

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
)

// lgbTrain trains LightGBM Boosters (regression, binary, multiclass; NaN
// and zeros in the data) and writes model-<objective>.txt and
// <objective>.json with the rows and Booster.predict's answers.
const lgbTrain = `import json, sys, numpy as np, lightgbm as lgb
out = sys.argv[1]
rng = np.random.default_rng(7)
X = rng.normal(size=(2600, 8)); X[rng.uniform(size=X.shape) < 0.1] = np.nan; X[rng.uniform(size=X.shape) < 0.05] = 0
s = np.nan_to_num(X) @ rng.normal(size=8)
for obj, y, extra in [("regression", s, {}), ("binary", (s > 0).astype(int), {}),
                      ("multiclass", np.digitize(s, np.quantile(s, [0.33, 0.66])), {"num_class": 3}),
                      ("poisson", np.exp(s / 4).round(), {})]:
    b = lgb.train(dict(objective=obj, num_leaves=15, verbose=-1, num_threads=1, **extra), lgb.Dataset(X[:600], y[:600]), num_boost_round=30)
    b.save_model("%s/model-%s.txt" % (out, obj))
    Xt = X[600:]
    json.dump({"rows": [[None if v != v else float(v) for v in r] for r in Xt], "predict": b.predict(Xt).tolist()}, open("%s/%s.json" % (out, obj), "w"))
`

// TestLightGBMAgainstLibrary trains LightGBM models with the real LightGBM,
// when the test interpreter can import it (Debian has no package for it),
// and checks the native answers against Booster.predict on 2,000 rows
// with missing values and zeros.
func TestLightGBMAgainstLibrary(t *testing.T) {
	py := pythontest.Interpreter(t)
	if out, err := exec.Command(py, "-c", "import lightgbm").CombinedOutput(); err != nil {
		t.Skipf("no lightgbm in %s (TestLightGBMAgainstLightGBM and TestLightGBMMissingTypes still run): %s", py, lastLine(string(out)))
	}
	dir := t.TempDir()
	cmd := exec.Command(py, "-c", lgbTrain, dir)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	for _, obj := range []string{"regression", "binary", "multiclass", "poisson"} {
		t.Run(obj, func(t *testing.T) {
			model, err := os.ReadFile(filepath.Join(dir, "model-"+obj+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, obj+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var want struct {
				Rows    [][]*float64
				Predict []json.RawMessage
			}
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			rt := &Runtime{Mode: config.NativeRequire}
			m, err := load(t, rt, t.TempDir(), lgbDir(t, model, nil), "lgb")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := json.Marshal(map[string]any{"inputs": want.Rows})
			status, out := invoke(t, m, body)
			if status != 200 {
				t.Fatalf("%d %s", status, out)
			}
			var got struct{ Predictions []json.RawMessage }
			if err := json.Unmarshal(out, &got); err != nil || len(got.Predictions) != len(want.Predict) {
				t.Fatalf("%d answers for %d rows (%v)", len(got.Predictions), len(want.Predict), err)
			}
			maxDiff := 0.0
			for i := range want.Predict {
				var g, w any
				json.Unmarshal(got.Predictions[i], &g)
				json.Unmarshal(want.Predict[i], &w)
				gv, wv := flat(g), flat(w)
				if len(gv) != len(wv) {
					t.Fatalf("row %d: %s, LightGBM %s", i, got.Predictions[i], want.Predict[i])
				}
				for k := range gv {
					maxDiff = max(maxDiff, math.Abs(gv[k]-wv[k]))
				}
			}
			t.Logf("%d rows: max |native - LightGBM| %.3g", len(want.Predict), maxDiff)
			if maxDiff > 1e-9 {
				t.Fatalf("max difference %.3g > 1e-9", maxDiff)
			}
		})
	}
}

func flat(v any) []float64 {
	switch x := v.(type) {
	case float64:
		return []float64{x}
	case []any:
		var out []float64
		for _, e := range x {
			out = append(out, flat(e)...)
		}
		return out
	}
	panic(fmt.Sprintf("unexpected %T", v))
}
