package trees

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/config"
)

// lgbDir lays out an MLflow lightgbm model directory for a text model.
func lgbDir(t *testing.T, model []byte, columns []string) string {
	t.Helper()
	dir := t.TempDir()
	var sig string
	if columns != nil {
		cols := make([]map[string]string, len(columns))
		for i, c := range columns {
			cols[i] = map[string]string{"type": "double", "name": c}
		}
		b, _ := json.Marshal(cols)
		sig = "signature:\n  inputs: '" + string(b) + "'\n"
	}
	mlmodel := "flavors:\n  python_function:\n    loader_module: mlflow.lightgbm\n    data: model.lgb\n" +
		"  lightgbm:\n    data: model.lgb\n    model_class: lightgbm.basic.Booster\n" + sig
	if err := os.WriteFile(filepath.Join(dir, "MLmodel"), []byte(mlmodel), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.lgb"), model, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestLightGBMAgainstLightGBM serves a LightGBM model (binary DART, 30
// features) and compares with the predictions LightGBM itself made for the
// same rows (testdata/lightgbm, from the leaves project).
func TestLightGBMAgainstLightGBM(t *testing.T) {
	model, err := os.ReadFile("testdata/lightgbm/lg_dart_breast_cancer.model")
	if err != nil {
		t.Fatal(err)
	}
	rowsText, _ := os.ReadFile("testdata/lightgbm/breast_cancer_test.tsv")
	predText, _ := os.ReadFile("testdata/lightgbm/lg_dart_breast_cancer_true_predictions.txt")
	var rows [][]float64
	for _, line := range strings.Split(strings.TrimSpace(string(rowsText)), "\n") {
		var row []float64
		for _, f := range strings.Split(line, "\t") {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				t.Fatal(err)
			}
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	var want []float64
	for _, f := range strings.Fields(string(predText)) {
		v, _ := strconv.ParseFloat(f, 64)
		want = append(want, v)
	}
	if len(rows) != len(want) || len(rows) < 50 {
		t.Fatalf("%d rows, %d predictions", len(rows), len(want))
	}
	rt := &Runtime{Mode: config.NativeRequire}
	m, err := load(t, rt, t.TempDir(), lgbDir(t, model, nil), "lgb")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"inputs": rows})
	status, out := invoke(t, m, body)
	if status != 200 {
		t.Fatalf("%d %s", status, out)
	}
	var got struct{ Predictions []float64 }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Abs(got.Predictions[i]-want[i]) > 1e-12 {
			t.Fatalf("row %d: native %.17g, LightGBM %.17g", i, got.Predictions[i], want[i])
		}
	}
}

// lgbMulti is a hand-made 3-class model: tree 0 splits on a (0 and NaN are
// missing, going left) then b (NaN missing, left); tree 1 is a single
// leaf; tree 2 splits on b with missing type None (NaN taken as 0).
const lgbMulti = `tree
version=v3
num_class=3
num_tree_per_iteration=3
label_index=0
max_feature_idx=1
objective=multiclass num_class:3
feature_names=a b
feature_infos=[-1:1] [-1:1]
tree_sizes=1 1 1

Tree=0
num_leaves=3
num_cat=0
split_feature=0 1
split_gain=1 1
threshold=0.5 1.5
decision_type=6 10
left_child=1 -1
right_child=-2 -3
leaf_value=1 2 3
leaf_count=1 1 1
internal_value=0 0
internal_count=2 2
is_linear=0
shrinkage=1


Tree=1
num_leaves=1
num_cat=0
split_feature=
split_gain=
threshold=
decision_type=
left_child=
right_child=
leaf_value=0.25
leaf_count=3
internal_value=
internal_count=
is_linear=0
shrinkage=1


Tree=2
num_leaves=2
num_cat=0
split_feature=1
split_gain=1
threshold=-1
decision_type=0
left_child=-1
right_child=-2
leaf_value=-1 1
leaf_count=1 1
internal_value=0
internal_count=2
is_linear=0
shrinkage=1


end of trees

parameters:
end of parameters
`

func TestLightGBMMissingTypes(t *testing.T) {
	rt := &Runtime{Mode: config.NativeRequire}
	m, err := load(t, rt, t.TempDir(), lgbDir(t, []byte(lgbMulti), []string{"a", "b"}), "lgb")
	if err != nil {
		t.Fatal(err)
	}
	softmax := func(raw ...float64) []float64 {
		s := 0.0
		for _, r := range raw {
			s += math.Exp(r)
		}
		out := make([]float64, len(raw))
		for i, r := range raw {
			out[i] = math.Exp(r) / s
		}
		return out
	}
	body := `{"dataframe_split": {"columns": ["b", "a"], "data": [[0, 1], [2, 0], [null, null], [-2, 0.3], [2, 1e-36]]}}`
	want := [][]float64{softmax(2, 0.25, 1), softmax(3, 0.25, 1), softmax(1, 0.25, 1), softmax(1, 0.25, -1), softmax(3, 0.25, 1)}
	status, out := invoke(t, m, []byte(body))
	if status != 200 {
		t.Fatalf("%d %s", status, out)
	}
	var got struct{ Predictions [][]float64 }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		closeVec(t, i, got.Predictions[i], want[i])
	}
}

func TestLightGBMRefused(t *testing.T) {
	for _, c := range []struct{ name, model, want string }{
		{"categorical", strings.Replace(lgbMulti, "decision_type=6 10", "decision_type=7 10", 1), "categorical"},
		{"objective", strings.Replace(lgbMulti, "objective=multiclass num_class:3", "objective=lambdarank", 1), "objective lambdarank"},
		{"child out of range", strings.Replace(lgbMulti, "left_child=1 -1", "left_child=1 -7", 1), "outside"},
		{"feature out of range", strings.Replace(lgbMulti, "split_feature=0 1", "split_feature=0 5", 1), "feature 5, outside 0..1"},
		{"not lightgbm", "hello", "not a LightGBM text model"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rt := &Runtime{Mode: config.NativeRequire}
			_, err := load(t, rt, t.TempDir(), lgbDir(t, []byte(c.model), nil), "lgb")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}
