package trees

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/serving/native"
)

// stump is a valid tree file: two features, one tree
//
//	node 0: x1 <= 0.5 ? node 1 : node 2
//	node 1: x0 <= -1 ? leaf 3 (10) : leaf 4 (20)
//	node 2: leaf 30
func stump() map[string]any {
	return map[string]any{
		"format": "bridge-trees", "version": 1, "n_features": 2,
		"model": map[string]any{
			"kind": "trees", "split": "le", "combine": "sum", "n_outputs": 1, "link": "identity",
			"base_score": []float64{0.5}, "missing": true,
			"trees": []any{map[string]any{
				"feature":      []int{1, 0, 0, 0, 0},
				"threshold":    []any{0.5, -1, 0, 0, 0},
				"left":         []int{1, 3, -1, -1, -1},
				"right":        []int{2, 4, -1, -1, -1},
				"missing_left": []bool{true, false, false, false, false},
				"value":        []float64{0, 0, 30, 10, 20},
			}},
		},
	}
}

func parseDoc(t *testing.T, doc map[string]any) (*Ensemble, error) {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return Parse(b)
}

func TestParseEvaluates(t *testing.T) {
	e, err := parseDoc(t, stump())
	if err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	for _, c := range []struct {
		x    []float64
		want float64
	}{
		{[]float64{-2, 0}, 10.5}, {[]float64{0, 0.5}, 20.5}, {[]float64{0, 0.6}, 30.5},
		{[]float64{-2, nan}, 10.5}, // missing goes left at node 0
		{[]float64{nan, 0}, 20.5},  // and right at node 1
	} {
		s := scratch{raw: make([]float64, 1)}
		if _, got := e.predictRow(c.x, nil, &s); got != c.want {
			t.Errorf("predict %v = %v, want %v", c.x, got, c.want)
		}
	}
}

// TestParseRefuses: structural problems are refused when the file is
// loaded, with a message naming the node.
func TestParseRefuses(t *testing.T) {
	tree := func(d map[string]any) map[string]any {
		return d["model"].(map[string]any)["trees"].([]any)[0].(map[string]any)
	}
	cases := []struct {
		name   string
		change func(d map[string]any)
		want   string
	}{
		{"feature out of range", func(d map[string]any) { tree(d)["feature"] = []int{2, 0, 0, 0, 0} }, "node 0 splits on feature 2, outside 0..1"},
		{"negative feature", func(d map[string]any) { tree(d)["feature"] = []int{1, -1, 0, 0, 0} }, "node 1 splits on feature -1"},
		{"cycle to the root", func(d map[string]any) { tree(d)["right"] = []int{2, 0, -1, -1, -1} }, "node 1 has child 0 outside 1..4"},
		{"cycle", func(d map[string]any) {
			tree(d)["left"] = []int{1, 3, -1, 1, -1}
			tree(d)["right"] = []int{2, 4, -1, 4, -1}
		}, "is a child of both"},
		{"self loop", func(d map[string]any) { tree(d)["left"] = []int{1, 1, -1, -1, -1} }, "node 1 is its own child"},
		{"child out of range", func(d map[string]any) { tree(d)["right"] = []int{9, 4, -1, -1, -1} }, "node 0 has child 9 outside 1..4"},
		{"same child twice", func(d map[string]any) { tree(d)["right"] = []int{2, 3, -1, -1, -1} }, "is a child of both node 1 and node 1"},
		{"unreachable cycle", func(d map[string]any) {
			// nodes 5 -> (6, 7) and 7 -> (5, 8): a loop the root never reaches.
			tr := tree(d)
			tr["feature"] = []int{1, 0, 0, 0, 0, 0, 0, 0, 0}
			tr["threshold"] = []float64{0.5, -1, 0, 0, 0, 0, 0, 0, 0}
			tr["left"] = []int{1, 3, -1, -1, -1, 6, -1, 5, -1}
			tr["right"] = []int{2, 4, -1, -1, -1, 7, -1, 8, -1}
			tr["missing_left"] = make([]bool, 9)
			tr["value"] = make([]float64, 9)
		}, "4 of 9 nodes cannot be reached from the root"},
		{"half leaf", func(d map[string]any) { tree(d)["right"] = []int{2, 4, 3, -1, -1} }, "node 2 has no left child but right child 3"},
		{"short arrays", func(d map[string]any) { tree(d)["threshold"] = []float64{0.5} }, "want one per node"},
		{"value length", func(d map[string]any) { tree(d)["value"] = []float64{1, 2} }, "value has 2 entries"},
		{"no missing routing", func(d map[string]any) { delete(tree(d), "missing_left") }, "no missing_left"},
		{"NaN leaf", func(d map[string]any) { tree(d)["threshold"] = []any{"nan", 0, 0, 0, 0} }, "threshold"},
		{"unknown field", func(d map[string]any) { d["extra"] = 1 }, `unknown field "extra"`},
		{"wrong format", func(d map[string]any) { d["format"] = "onnx" }, `format "onnx"`},
		{"no features", func(d map[string]any) { d["n_features"] = 0 }, "n_features is 0"},
		{"unknown link", func(d map[string]any) { d["model"].(map[string]any)["link"] = "probit" }, `link "probit"`},
		{"sigmoid without classes", func(d map[string]any) { d["model"].(map[string]any)["link"] = "sigmoid" }, "needs 2 classes"},
		{"tree output out of range", func(d map[string]any) { tree(d)["output"] = 1 }, "output 1 out of range"},
		{"no trees", func(d map[string]any) { d["model"].(map[string]any)["trees"] = []any{} }, "no trees"},
		{"imputer keeps nothing", func(d map[string]any) {
			d["preprocess"] = []any{map[string]any{"kind": "simple_imputer", "fill": []float64{0, 0}, "keep": []int{}}}
		}, "no column would remain"},
		{"scaler width", func(d map[string]any) {
			d["preprocess"] = []any{map[string]any{"kind": "standard_scaler", "mean": []float64{0}}}
		}, "mean has 1 values for 2 features"},
		{"unknown step", func(d map[string]any) { d["preprocess"] = []any{map[string]any{"kind": "pca"}} }, `step kind "pca"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := stump()
			c.change(d)
			_, err := parseDoc(t, d)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to say %q", err, c.want)
			}
		})
	}
}

// TestBadRequestsAsNative: NaN, infinities, nulls and the wrong feature
// count get the same 400 answers from a tree model as from the
// bridge_linear runtime; a model that handles missing values takes null
// and "NaN" as missing.
func TestBadRequestsAsNative(t *testing.T) {
	d := stump()
	d["model"].(map[string]any)["missing"] = false
	e, err := parseDoc(t, d)
	if err != nil {
		t.Fatal(err)
	}
	lin, err := native.Parse([]byte(`{"kind": "linear_regression", "coefficients": [1, 2]}`))
	if err != nil {
		t.Fatal(err)
	}
	trees := NewModel(e)
	bodies := []string{
		`{"inputs": [[1, null]]}`,
		`{"inputs": [[1, "NaN"]]}`,
		`{"inputs": [[1, "Infinity"]]}`,
		`{"inputs": [[1, "-inf"]]}`,
		`{"inputs": [[1, 2, 3]]}`,
		`{"inputs": [[1]]}`,
		`{"inputs": []}`,
		`{"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}`,
		`not json`,
	}
	for _, b := range bodies {
		ts, tb := invoke(t, trees, []byte(b))
		ls, lb := invoke(t, lin, []byte(b))
		if ts != http.StatusBadRequest || ts != ls || string(tb) != string(lb) {
			t.Errorf("body %s: trees %d %s, bridge_linear %d %s", b, ts, tb, ls, lb)
		}
	}
	missing := NewModel(mustParse(t, stump()))
	for _, c := range []struct{ body, want string }{
		{`{"inputs": [[-2, null]]}`, `{"predictions": [10.5]}`},
		{`{"inputs": [[-2, "NaN"], [0, 1]]}`, `{"predictions": [10.5, 30.5]}`},
	} {
		s, b := invoke(t, missing, []byte(c.body))
		if s != 200 || strings.TrimSpace(string(b)) != c.want {
			t.Errorf("body %s: %d %s, want %s", c.body, s, b, c.want)
		}
	}
	if s, b := invoke(t, missing, []byte(`{"inputs": [[1, "Infinity"]]}`)); s != 400 || !strings.Contains(string(b), "not a finite number") {
		t.Errorf("infinity with missing values allowed: %d %s", s, b)
	}
}

func mustParse(t *testing.T, d map[string]any) *Ensemble {
	e, err := parseDoc(t, d)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestMissingCSV: for a model that handles missing values, empty CSV
// fields and NaN are missing values, also in the first row (not a header).
func TestMissingCSV(t *testing.T) {
	m := NewModel(mustParse(t, stump()))
	for _, c := range []struct{ body, want string }{
		{"-2,\n0,0.6\n", "10.5\n30.5\n"},
		{"-2,NaN\n", "10.5\n"},
		{"a,b\n-2,\n", "10.5\n"},
		{"\"-2\",\"\"\n", "10.5\n"},
	} {
		req := httptest.NewRequest(http.MethodPost, "/invocations", strings.NewReader(c.body))
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Accept", "text/csv")
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, req)
		if rec.Code != 200 || rec.Body.String() != c.want {
			t.Errorf("CSV %q: %d %q, want %q", c.body, rec.Code, rec.Body.String(), c.want)
		}
	}
}
