package trees

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/libmf"
)

// xgbHand is a hand-written XGBoost 1.7 JSON model: binary:logistic,
// base_score 0.3, two features, early stopping at the first of two
// rounds, missing -1 in the scikit-learn metadata. Tree 0 splits f0 < 0.5
// (NaN right), then f1 by category (categories 1 and 3 go right, NaN
// left); tree 1 is a stump.
const xgbHand = `{"learner": {
  "attributes": {"best_iteration": "0", "scikit_learn": "{\"missing\": -1.0, \"n_estimators\": 2, \"base_score\": NaN}"},
  "feature_names": ["a", "b"], "feature_types": ["float", "c"],
  "gradient_booster": {"name": "gbtree", "model": {
    "gbtree_model_param": {"num_parallel_tree": "1", "num_trees": "2"},
    "tree_info": [0, 0],
    "trees": [
      {"left_children": [1, -1, 3, -1, -1], "right_children": [2, -1, 4, -1, -1],
       "split_indices": [0, 0, 1, 0, 0], "split_conditions": [0.5, 0.25, NaN, -0.5, 0.75],
       "default_left": [0, 0, 1, 0, 0], "split_type": [0, 0, 1, 0, 0],
       "categories": [1, 3], "categories_nodes": [2], "categories_segments": [0], "categories_sizes": [2]},
      {"left_children": [1, -1, -1], "right_children": [2, -1, -1],
       "split_indices": [0, 0, 0], "split_conditions": [0, 100, -100],
       "default_left": [1, 0, 0], "split_type": [0, 0, 0],
       "categories": [], "categories_nodes": [], "categories_segments": [], "categories_sizes": []}
    ]}},
  "learner_model_param": {"base_score": "3E-1", "num_class": "0", "num_feature": "2", "num_target": "1"},
  "objective": {"name": "binary:logistic"}},
 "version": [1, 7, 4]}`

func xgbDir(t *testing.T, model, class string) string {
	t.Helper()
	dir := t.TempDir()
	mlmodel := "flavors:\n  python_function:\n    loader_module: mlflow.xgboost\n    data: model.json\n" +
		"  xgboost:\n    data: model.json\n    model_class: " + class + "\n    model_format: json\n"
	if err := os.WriteFile(filepath.Join(dir, "MLmodel"), []byte(mlmodel), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.json"), []byte(model), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestXGBoostHandModel checks a hand-written model against answers worked
// out from XGBoost's rules: float32 margins from -logf(1/0.3-1), x < split
// goes left, NaN and the missing value -1 take the default child, a
// category in the node's set goes right, any other value (also negative
// or fractional ones, truncated first) goes left; the scikit-learn wrapper
// stops at best_iteration, a Booster uses every tree.
func TestXGBoostHandModel(t *testing.T) {
	base := -libmf.Logf(float32(1)/float32(0.3) - 1)
	p := func(leaves ...float32) float64 {
		m := base
		for _, l := range leaves {
			m += l
		}
		return float64(1 / (libmf.Expf(min(-m, 88.7)) + 1 + 1e-16))
	}
	nan := math.NaN()
	rows := []struct {
		x          []float64
		wrapper    float64 // positive-class probability, first tree only
		booster    float64 // both trees
		boosterWhy string
	}{
		{[]float64{0.4, 7}, p(0.25), p(0.25, -100), "f0 < 0.5: left leaf; f0 >= 0: right"},
		{[]float64{0.5, 1}, p(0.75), p(0.75, -100), "f0 = 0.5 goes right; category 1 goes right"},
		{[]float64{0.9, 3}, p(0.75), p(0.75, -100), "category 3 goes right"},
		{[]float64{0.9, 2}, p(-0.5), p(-0.5, -100), "category 2 goes left"},
		{[]float64{0.9, 3.7}, p(0.75), p(0.75, -100), "3.7 is category 3"},
		{[]float64{0.9, -3}, p(-0.5), p(-0.5, -100), "a negative category goes left"},
		{[]float64{0.9, 1e9}, p(-0.5), p(-0.5, -100), "a category beyond 2^24 goes left"},
		{[]float64{nan, 1}, p(0.75), p(0.75, 100), "NaN takes the default (right, then left in tree 1)"},
		{[]float64{0.9, nan}, p(-0.5), p(-0.5, -100), "NaN category: default left"},
		{[]float64{-1, 2}, p(-0.5), p(0.25, 100), "-1 is missing for the wrapper (right), a number for the Booster"},
		{[]float64{0.5 - 1e-9, 1}, p(0.75), p(0.75, -100), "0.5-1e-9 rounds to float32 0.5"},
	}
	for _, c := range []struct {
		class   string
		wrapper bool
	}{{"xgboost.sklearn.XGBClassifier", true}, {"xgboost.core.Booster", false}} {
		t.Run(c.class, func(t *testing.T) {
			rt := &Runtime{Mode: config.NativeRequire}
			m, err := load(t, rt, t.TempDir(), xgbDir(t, xgbHand, c.class), "xgb")
			if err != nil {
				t.Fatal(err)
			}
			e := m.(*Model).e
			s := scratch{raw: make([]float64, e.outputs)}
			for _, r := range rows {
				want := r.booster
				if c.wrapper {
					want = r.wrapper
				}
				proba := make([]float64, 2)
				cls, v := e.predictRow(r.x, proba, &s)
				got := v
				if c.wrapper {
					got = proba[1]
					if wantCls := map[bool]int{true: 1, false: 0}[want > 0.5]; cls != wantCls {
						t.Errorf("%v: class %d, want %d", r.x, cls, wantCls)
					}
				}
				if got != want {
					t.Errorf("%v (%s): %.9g, want %.9g", r.x, r.boosterWhy, got, want)
				}
			}
		})
	}
}

// TestXGBoostRefused: broken XGBoost files are refused when the version
// loads (BRIDGE_NATIVE=require fails, with the reason), never at request
// time.
func TestXGBoostRefused(t *testing.T) {
	for _, c := range []struct{ name, from, to, want string }{
		{"feature out of range", `"split_indices": [0, 0, 1, 0, 0]`, `"split_indices": [0, 0, 2, 0, 0]`, "feature 2 of 2"},
		{"cycle", `"left_children": [1, -1, 3, -1, -1], "right_children": [2, -1, 4, -1, -1]`, `"left_children": [1, -1, 0, -1, -1], "right_children": [2, -1, 1, -1, -1]`, "reached twice"},
		{"child out of range", `"left_children": [1, -1, 3, -1, -1], "right_children": [2, -1, 4, -1, -1]`, `"left_children": [1, -1, 8, -1, -1], "right_children": [2, -1, 9, -1, -1]`, "outside the tree"},
		{"children apart", `"left_children": [1, -1, 3, -1, -1], "right_children": [2, -1, 4, -1, -1]`, `"left_children": [2, -1, 3, -1, -1], "right_children": [1, -1, 4, -1, -1]`, "right child next to the left one"},
		{"NaN leaf", `"split_conditions": [0.5, 0.25,`, `"split_conditions": [0.5, NaN,`, "leaf 1 has value NaN"},
		{"category arrays", `"categories_sizes": [2]`, `"categories_sizes": [5]`, "outside the arrays"},
		{"objective", `"binary:logistic"`, `"rank:whatever:logistic"`, "objective rank:whatever:logistic in XGBClassifier"},
		{"booster", `"name": "gbtree"`, `"name": "gblinear"`, `booster "gblinear"`},
		{"base_score", `"3E-1"`, `"1.5"`, "base_score 1.5 outside (0, 1)"},
		{"not json", `{"learner"`, `{learner`, "invalid character"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(xgbHand, c.from) {
				t.Fatalf("the model has no %s", c.from)
			}
			model := strings.Replace(xgbHand, c.from, c.to, 1)
			rt := &Runtime{Mode: config.NativeRequire}
			_, err := load(t, rt, t.TempDir(), xgbDir(t, model, "xgboost.sklearn.XGBClassifier"), "xgb")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			// Under auto the same file goes to the Python runtime.
			fb := &fakeFallback{}
			rt = &Runtime{Fallback: fb, Mode: config.NativeAuto}
			if _, err := load(t, rt, t.TempDir(), xgbDir(t, model, "xgboost.sklearn.XGBClassifier"), "xgb"); err != nil || len(fb.loads) != 1 {
				t.Fatalf("auto: err %v, Python loads %v", err, fb.loads)
			}
		})
	}
}

// TestJSONNonFinite: XGBoost's NaN and infinities become JSON, strings
// stay as they are.
func TestJSONNonFinite(t *testing.T) {
	in := `{"a": [NaN, Infinity, -Infinity, 1], "s": "NaN \" Infinity"}`
	var doc any
	dec := json.NewDecoder(strings.NewReader(string(jsonNonFinite([]byte(in)))))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var err error
	g := &genP{v: doc, err: &err}
	a := g.key("a").floats()
	if s := g.key("s").str(); s != `NaN " Infinity` || err != nil {
		t.Fatalf("string %q, err %v", s, err)
	}
	if !math.IsNaN(a[0]) || !math.IsInf(a[1], 1) || !math.IsInf(a[2], -1) || a[3] != 1 {
		t.Fatalf("numbers %v", a)
	}
}
