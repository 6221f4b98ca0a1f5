package trees

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/serving"
	"github.com/bridgeops/bridge/internal/serving/python"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
	"github.com/bridgeops/bridge/internal/serving/trees/treestest"
)

type (
	spec   = treestest.Spec
	expect = treestest.Expect
)

func train(t testing.TB, py string, specs []spec) string { return treestest.Train(t, py, specs) }

func readExpect(t testing.TB, dir string) expect { return treestest.ReadExpect(t, dir) }

// fakeFallback records that the Python runtime was asked to load a model.
type fakeFallback struct {
	mu    sync.Mutex
	loads []string
}

func (f *fakeFallback) Load(ctx context.Context, spec serving.LoadSpec, mm serving.MLmodel) (serving.Model, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loads = append(f.loads, spec.Name)
	return fallbackModel{}, nil
}

type fallbackModel struct{ http.Handler }

func (fallbackModel) Ping(context.Context) error  { return nil }
func (fallbackModel) Close(context.Context) error { return nil }
func (fallbackModel) Runtime() string             { return "python" }

func newRuntime(py string, mode config.NativeMode, fb serving.Runtime) *Runtime {
	return &Runtime{
		Fallback: fb,
		Python:   python.New(python.Options{Python: py, EnvManager: python.EnvLocal}),
		Mode:     mode,
	}
}

func load(t testing.TB, rt *Runtime, home, dir, name string) (serving.Model, error) {
	t.Helper()
	mm, err := serving.ReadMLmodel(dir)
	if err != nil {
		t.Fatal(err)
	}
	return rt.Load(context.Background(), serving.LoadSpec{Name: name, Version: 1, Dir: dir, LogDir: filepath.Join(home, "logs")}, mm)
}

func splitBody(e expect) []byte { return e.SplitBody() }

func invoke(t testing.TB, h http.Handler, body []byte) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/invocations", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// checkExact compares the native model's answers with the library's:
// identical class labels, numbers and probabilities within 1e-9.
func checkExact(t *testing.T, m *Model, e expect, predictFn string) {
	t.Helper()
	checkExactFn(t, m, e, predictFn)
}

func checkExactFn(t *testing.T, m *Model, e expect, predictFn string) {
	t.Helper()
	status, body := invoke(t, m, splitBody(e))
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var got struct {
		Predictions []json.RawMessage `json:"predictions"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if len(got.Predictions) != len(e.Rows) {
		t.Fatalf("%d predictions for %d rows", len(got.Predictions), len(e.Rows))
	}
	if predictFn == "predict_proba" {
		maxProba := 0.0
		for i, raw := range got.Predictions {
			var p []float64
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatalf("row %d: %s: %v", i, raw, err)
			}
			closeVec(t, i, p, e.Proba[i])
			for k := range p {
				maxProba = max(maxProba, math.Abs(p[k]-e.Proba[i][k]))
			}
		}
		t.Logf("%s: %d rows: max |native - library| %.3g for predict_proba", t.Name(), len(e.Rows), maxProba)
		return
	}
	bad := 0
	maxValue, maxProba := 0.0, 0.0
	defer func() {
		t.Logf("%s: %d rows: max |native - library| %.3g for predict, %.3g for predict_proba", t.Name(), len(e.Rows), maxValue, maxProba)
	}()
	for i, raw := range got.Predictions {
		want := e.Predict[i]
		var gw, ww any
		json.Unmarshal(raw, &gw)
		json.Unmarshal(want, &ww)
		gf, gok := gw.(float64)
		wf, wok := ww.(float64)
		same := gw == ww
		if gok && wok && m.e.Classes() == 0 {
			same = math.Abs(gf-wf) <= 1e-9*max(1, math.Abs(wf))
			if m.e.float32 {
				same = gf == wf // XGBoost: the same float32
			}
			maxValue = max(maxValue, math.Abs(gf-wf))
		}
		if !same {
			bad++
			if bad <= 5 {
				t.Errorf("row %d %v: native predicts %s, the library %s", i, e.Rows[i], raw, want)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d predictions differ", bad, len(e.Rows))
	}
	if e.Proba != nil && m.e.Classes() > 0 {
		var s scratch
		s.raw = make([]float64, m.e.outputs)
		p := make([]float64, m.e.Classes())
		for i, row := range e.Rows {
			x := make([]float64, len(row))
			for j, v := range row {
				x[j] = math.NaN()
				if v != nil {
					x[j] = *v
				}
			}
			m.e.predictRow(x, p, &s)
			closeVec(t, i, p, e.Proba[i])
			for k := range p {
				maxProba = max(maxProba, math.Abs(p[k]-e.Proba[i][k]))
				if m.e.float32 && p[k] != e.Proba[i][k] {
					t.Fatalf("row %d class %d: native probability %.9g, XGBoost %.9g: not the same float32", i, k, p[k], e.Proba[i][k])
				}
			}
		}
	}
}

func closeVec(t *testing.T, row int, got, want []float64) {
	t.Helper()
	closeVecTol(t, row, got, want, 1e-9)
}

func closeVecTol(t *testing.T, row int, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("row %d: %d probabilities, want %d", row, len(got), len(want))
	}
	for k := range got {
		if math.Abs(got[k]-want[k]) > tol {
			t.Fatalf("row %d class %d: native probability %.17g, the library %.17g", row, k, got[k], want[k])
		}
	}
}

// TestSklearnExact trains every supported kind (and pipelines) with the
// real scikit-learn and checks the native answers against scikit-learn's
// predict and predict_proba on 2000 rows each, including missing values
// (HistGradientBoosting routes them; SimpleImputer fills them) and one-hot
// and categorical columns.
func TestSklearnExact(t *testing.T) {
	py := pythontest.Interpreter(t)
	root := trainAll(t, py)
	rt := newRuntime(py, config.NativeRequire, nil)
	home := t.TempDir()
	for _, s := range exactSpecs {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(root, s.Name)
			m, err := load(t, rt, home, dir, s.Name)
			if err != nil {
				t.Fatal(err)
			}
			nm, ok := m.(*Model)
			if !ok {
				t.Fatalf("loaded %T, want the native model", m)
			}
			checkExact(t, nm, readExpect(t, dir), s.PredictFn)
		})
	}
}

// TestSklearnRandomised cross-checks random shapes: depth, number of
// estimators, feature and class counts.
func TestSklearnRandomised(t *testing.T) {
	py := pythontest.Interpreter(t)
	root := trainAll(t, py)
	rt := newRuntime(py, config.NativeRequire, nil)
	home := t.TempDir()
	for _, s := range randomSpecs() {
		t.Run(fmt.Sprintf("%s-%s-d%d-n%d-f%d-c%d-%s", s.Name, s.Kind, s.MaxDepth, s.Estimators, s.Features, s.Classes, strings.Join(s.Steps, "+")), func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(root, s.Name)
			m, err := load(t, rt, home, dir, s.Name)
			if err != nil {
				t.Fatal(err)
			}
			checkExact(t, m.(*Model), readExpect(t, dir), "")
		})
	}
}

// TestFallback: models that cannot convert go to the Python runtime (or
// fail under BRIDGE_NATIVE=require), and BRIDGE_NATIVE=off never converts.
func TestFallback(t *testing.T) {
	py := pythontest.Interpreter(t)
	root := trainAll(t, py)
	// A pickle that is not one.
	broken := filepath.Join(t.TempDir(), "broken")
	os.MkdirAll(broken, 0o755)
	mlm, _ := os.ReadFile(filepath.Join(root, "rf", "MLmodel"))
	os.WriteFile(filepath.Join(broken, "MLmodel"), mlm, 0o644)
	os.WriteFile(filepath.Join(broken, "model.pkl"), []byte("sklearn.ensemble but not a pickle"), 0o644)

	cases := []struct {
		name, dir string
		mode      config.NativeMode
		native    bool
		why       string
	}{
		{"bare-lr", "bare-lr", config.NativeAuto, false, "not a tree model or a Pipeline"},
		{"function-transformer", "func-step", config.NativeAuto, false, "pipeline step FunctionTransformer"},
		{"custom-transformer", "custom-step", config.NativeAuto, false, "exporter failed"},
		{"broken-pickle", broken, config.NativeAuto, false, "exporter failed"},
		{"regressor-proba", "reg-proba", config.NativeAuto, false, "predict_proba of a regressor"},
		{"off", "rf", config.NativeOff, false, "BRIDGE_NATIVE=off"},
		{"auto", "rf", config.NativeAuto, true, ""},
		{"require-fails", "func-step", config.NativeRequire, false, "BRIDGE_NATIVE=require"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fb := &fakeFallback{}
			rt := newRuntime(py, c.mode, fb)
			dir := c.dir
			if !filepath.IsAbs(dir) {
				dir = filepath.Join(root, dir)
			}
			m, err := load(t, rt, t.TempDir(), dir, c.name)
			if c.mode == config.NativeRequire {
				if err == nil || !strings.Contains(err.Error(), c.why) || !strings.Contains(err.Error(), "FunctionTransformer") {
					t.Fatalf("require: err = %v, want the reason", err)
				}
				if len(fb.loads) != 0 {
					t.Fatal("require fell back to Python")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, isNative := m.(*Model); isNative != c.native {
				t.Fatalf("native = %v, want %v", isNative, c.native)
			}
			if !c.native && len(fb.loads) != 1 {
				t.Fatalf("Python runtime loads %v, want one", fb.loads)
			}
		})
	}
}

// TestConversionCached: the second load of a version reads the cached tree
// file (and a cached "cannot convert") without running Python.
func TestConversionCached(t *testing.T) {
	py := pythontest.Interpreter(t)
	root := trainAll(t, py)
	home := t.TempDir()
	rt := newRuntime(py, config.NativeAuto, &fakeFallback{})
	for _, name := range []string{"rf", "func-step"} {
		if _, err := load(t, rt, home, filepath.Join(root, name), name); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(home, "native", "*"))
	var kinds []string
	for _, f := range files {
		kinds = append(kinds, filepath.Ext(f))
	}
	if !strings.Contains(strings.Join(kinds, " "), ".json") || !strings.Contains(strings.Join(kinds, " "), ".unsupported") {
		t.Fatalf("cache holds %v", files)
	}
	// No interpreter now: a cached result must not need one.
	rt2 := newRuntime(filepath.Join(t.TempDir(), "no-python"), config.NativeAuto, &fakeFallback{})
	m, err := load(t, rt2, home, filepath.Join(root, "rf"), "rf")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.(*Model); !ok {
		t.Fatalf("cached load gave %T", m)
	}
}

var exactSpecs = []spec{
	{Name: "dt-clf", Kind: "DecisionTreeClassifier", Classes: 3, OneHot: 4},
	{Name: "dt-reg", Kind: "DecisionTreeRegressor", Classes: 0, MaxDepth: 8},
	{Name: "rf-clf", Kind: "RandomForestClassifier", Estimators: 30, Classes: 2, OneHot: 3},
	{Name: "rf-clf-str", Kind: "RandomForestClassifier", Estimators: 10, Classes: 4, Labels: "str"},
	{Name: "rf-reg", Kind: "RandomForestRegressor", Estimators: 20, Classes: 0},
	{Name: "et-clf", Kind: "ExtraTreesClassifier", Estimators: 20, Classes: 3},
	{Name: "et-reg", Kind: "ExtraTreesRegressor", Estimators: 20, Classes: 0},
	{Name: "gb-bin", Kind: "GradientBoostingClassifier", Estimators: 30, Classes: 2},
	{Name: "gb-exp", Kind: "GradientBoostingClassifier", Estimators: 20, Classes: 2, Loss: "exponential"},
	{Name: "gb-multi", Kind: "GradientBoostingClassifier", Estimators: 20, Classes: 3, OneHot: 3},
	{Name: "gb-reg", Kind: "GradientBoostingRegressor", Estimators: 30, Classes: 0},
	{Name: "gb-huber", Kind: "GradientBoostingRegressor", Estimators: 10, Classes: 0, Loss: "huber"},
	{Name: "hgb-bin", Kind: "HistGradientBoostingClassifier", Estimators: 30, Classes: 2, NaN: 0.1},
	{Name: "hgb-multi", Kind: "HistGradientBoostingClassifier", Estimators: 20, Classes: 3, NaN: 0.1},
	{Name: "hgb-reg", Kind: "HistGradientBoostingRegressor", Estimators: 30, Classes: 0, NaN: 0.1},
	{Name: "hgb-poisson", Kind: "HistGradientBoostingRegressor", Estimators: 20, Classes: 0, Loss: "poisson"},
	{Name: "hgb-cat", Kind: "HistGradientBoostingClassifier", Estimators: 20, Classes: 2, Categorical: 2, NaN: 0.05},
	{Name: "pipe-rf", Kind: "RandomForestClassifier", Estimators: 10, Classes: 2, NaN: 0.1, Steps: []string{"SimpleImputer", "StandardScaler"}},
	{Name: "pipe-gb", Kind: "GradientBoostingRegressor", Estimators: 10, Classes: 0, NaN: 0.05, Steps: []string{"SimpleImputerMedian", "MinMaxScaler"}},
	{Name: "pipe-lr", Kind: "LogisticRegression", Classes: 2, Steps: []string{"StandardScaler"}},
	{Name: "pipe-lr-multi", Kind: "LogisticRegression", Classes: 3, Steps: []string{"MinMaxScaler"}},
	{Name: "pipe-linreg", Kind: "LinearRegression", Classes: 0, NaN: 0.1, Steps: []string{"SimpleImputer", "StandardScaler"}},
	{Name: "rf-proba", Kind: "RandomForestClassifier", Estimators: 10, Classes: 3, PredictFn: "predict_proba"},
}

var fallbackSpecs = []spec{
	{Name: "bare-lr", Kind: "LogisticRegression", Classes: 2},
	{Name: "func-step", Kind: "RandomForestClassifier", Classes: 2, Steps: []string{"FunctionTransformer"}},
	{Name: "custom-step", Kind: "RandomForestClassifier", Classes: 2, Steps: []string{"Doubler"}},
	{Name: "rf", Kind: "RandomForestClassifier", Classes: 2},
	{Name: "reg-proba", Kind: "RandomForestRegressor", Classes: 0, PredictFn: "predict_proba"},
}

// randomSpecs are random shapes: depth, number of estimators, features,
// classes, missing values.
func randomSpecs() []spec {
	rng := rand.New(rand.NewPCG(14, 1))
	kinds := []string{"DecisionTreeClassifier", "RandomForestClassifier", "ExtraTreesRegressor", "GradientBoostingClassifier", "GradientBoostingRegressor",
		"HistGradientBoostingClassifier", "HistGradientBoostingRegressor", "RandomForestRegressor", "ExtraTreesClassifier", "DecisionTreeRegressor"}
	stepChoices := [][]string{nil, {"StandardScaler"}, {"SimpleImputer", "MinMaxScaler"}, {"SimpleImputerMedian", "StandardScaler"}}
	var specs []spec
	for i := range 14 {
		k := kinds[i%len(kinds)]
		s := spec{Name: fmt.Sprintf("r%d", i), Kind: k, Seed: 100 + i, Estimators: 1 + rng.IntN(40), MaxDepth: 1 + rng.IntN(12), Features: 1 + rng.IntN(20), Rows: 200 + rng.IntN(800), TestRows: 1000}
		if strings.HasSuffix(k, "Classifier") {
			s.Classes = 2 + rng.IntN(4)
		}
		if rng.IntN(3) == 0 {
			s.OneHot = 2 + rng.IntN(4)
		}
		s.Steps = stepChoices[rng.IntN(len(stepChoices))]
		switch {
		case strings.HasPrefix(k, "Hist"):
			s.NaN = rng.Float64() * 0.3
			if rng.IntN(2) == 0 {
				s.Categorical = 1 + rng.IntN(3)
			}
			s.Steps = nil // the categorical columns' indices are the model's
		case len(s.Steps) > 0 && strings.HasPrefix(s.Steps[0], "SimpleImputer"):
			s.NaN = rng.Float64() * 0.2
		}
		specs = append(specs, s)
	}
	return specs
}

// randomXGBSpecs are random XGBoost shapes: depth, rounds, features,
// classes, missing values, base_score.
func randomXGBSpecs() []spec {
	rng := rand.New(rand.NewPCG(14, 2))
	kinds := []string{"XGBClassifier", "XGBRegressor", "XGBClassifier", "XGBRFRegressor"}
	var specs []spec
	for i := range 6 {
		k := kinds[i%len(kinds)]
		s := spec{Name: fmt.Sprintf("xr%d", i), Kind: k, Seed: 200 + i, Estimators: 1 + rng.IntN(40), MaxDepth: 1 + rng.IntN(10),
			Features: 1 + rng.IntN(20), Rows: 200 + rng.IntN(800), TestRows: 1000, NaN: rng.Float64() * 0.3}
		if strings.HasSuffix(k, "Classifier") {
			s.Classes = 2 + rng.IntN(3)
		}
		if rng.IntN(2) == 0 {
			b := 0.1 + 0.8*rng.Float64()
			s.BaseScore = &b
		}
		specs = append(specs, s)
	}
	return specs
}

var (
	trainOnce sync.Once
	trainDir  string
	trainErr  string
)

// trainAll trains every test model in one Python run, shared by the tests.
func trainAll(t *testing.T, py string) string {
	t.Helper()
	trainOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bridge-trees-test-")
		if err != nil {
			trainErr = err.Error()
			return
		}
		trainDir = dir
		specs := append(append(append([]spec{}, exactSpecs...), fallbackSpecs...), randomSpecs()...)
		if err := treestest.TrainInto(py, dir, specs); err != nil {
			trainErr = err.Error()
		}
	})
	if trainErr != "" {
		t.Fatal(trainErr)
	}
	return trainDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if trainDir != "" {
		os.RemoveAll(trainDir)
	}
	os.Exit(code)
}

// TestXGBoostExact checks XGBoost models (JSON and UBJSON files, binary,
// multi-class and regression, other objectives, early stopping, a
// missing value other than NaN, random forests, categorical splits, a
// bare Booster, with missing values) against the predict and
// predict_proba of the saved file loaded back as MLflow loads it. XGBoost
// computes in float32 with the C library's expf; the answers must be
// identical, not merely close.
func TestXGBoostExact(t *testing.T) {
	py := pythontest.Interpreter(t)
	if out, err := exec.Command(py, "-c", "import xgboost").CombinedOutput(); err != nil {
		t.Skipf("no xgboost in %s (install python3-xgboost): %s", py, lastLine(string(out)))
	}
	half, minus999 := 0.3, -999.0
	specs := []spec{
		{Name: "xgb-bin", Kind: "XGBClassifier", Estimators: 30, MaxDepth: 4, Classes: 2, NaN: 0.1},
		{Name: "xgb-bin-ubj", Kind: "XGBClassifier", Estimators: 20, MaxDepth: 6, Classes: 2, NaN: 0.1, Format: "ubj", BaseScore: &half},
		{Name: "xgb-multi", Kind: "XGBClassifier", Estimators: 20, MaxDepth: 3, Classes: 4, NaN: 0.05, OneHot: 3},
		{Name: "xgb-reg", Kind: "XGBRegressor", Estimators: 40, MaxDepth: 5, Classes: 0, NaN: 0.1},
		{Name: "xgb-reg-ubj", Kind: "XGBRegressor", Estimators: 10, MaxDepth: 8, Classes: 0, Format: "ubj", Features: 15},
		{Name: "xgb-early-stop", Kind: "XGBClassifier", Estimators: 80, MaxDepth: 5, Classes: 3, NaN: 0.05, EarlyStop: 2},
		{Name: "xgb-missing", Kind: "XGBRegressor", Estimators: 20, MaxDepth: 4, Classes: 0, NaN: 0.1, Missing: &minus999},
		{Name: "xgb-poisson", Kind: "XGBRegressor", Estimators: 30, MaxDepth: 4, Classes: 0, NaN: 0.05, Objective: "count:poisson"},
		{Name: "xgb-gamma-ubj", Kind: "XGBRegressor", Estimators: 20, MaxDepth: 3, Classes: 0, Objective: "reg:gamma", Format: "ubj", BaseScore: &half},
		{Name: "xgb-reg-logistic", Kind: "XGBRegressor", Estimators: 20, MaxDepth: 4, Classes: 0, Objective: "reg:logistic"},
		{Name: "xgb-booster", Kind: "XGBClassifier", Estimators: 25, MaxDepth: 5, Classes: 2, NaN: 0.1, ModelClass: "Booster"},
		{Name: "xgb-rf", Kind: "XGBRFClassifier", Estimators: 15, MaxDepth: 5, Classes: 3, NaN: 0.05},
		{Name: "xgb-cat", Kind: "XGBClassifier", Estimators: 20, MaxDepth: 4, Classes: 2, NaN: 0.05, Categorical: 2},
		{Name: "xgb-cat-multi", Kind: "XGBClassifier", Estimators: 10, MaxDepth: 3, Classes: 3, Categorical: 1, Format: "ubj"},
	}
	specs = append(specs, randomXGBSpecs()...)
	root := train(t, py, specs)
	rt := newRuntime(py, config.NativeRequire, nil)
	for _, s := range specs {
		t.Run(fmt.Sprintf("%s-d%d-n%d-f%d-c%d", s.Name, s.MaxDepth, s.Estimators, s.Features, s.Classes), func(t *testing.T) {
			dir := filepath.Join(root, s.Name)
			m, err := load(t, rt, t.TempDir(), dir, s.Name)
			if err != nil {
				t.Fatal(err)
			}
			nm := m.(*Model)
			// The cases must exercise what they name.
			if s.EarlyStop > 0 && nm.e.NumTrees() >= s.Estimators*s.Classes {
				t.Fatalf("%d trees: early stopping did not stop early", nm.e.NumTrees())
			}
			if s.Categorical > 0 && catSplits(nm.e) == 0 {
				t.Fatal("no categorical splits")
			}
			checkExact(t, nm, readExpect(t, dir), "")
		})
	}
}

func catSplits(e *Ensemble) int {
	n := 0
	for _, t := range e.trees {
		for _, x := range t.extra {
			if x.catRight {
				n++
			}
		}
	}
	return n
}
