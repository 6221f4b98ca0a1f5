// Package treestest trains real scikit-learn and XGBoost models for the
// tree runtime's tests and benchmarks, in MLflow's model layout, together
// with the library's own predictions.
package treestest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

//go:embed train_trees.py
var trainScript []byte

// Spec is one model for train_trees.py (see its docstring).
type Spec struct {
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	Seed        int      `json:"seed"`
	Estimators  int      `json:"n_estimators,omitempty"`
	MaxDepth    int      `json:"max_depth,omitempty"`
	Features    int      `json:"features,omitempty"`
	Classes     int      `json:"classes"`
	Rows        int      `json:"rows,omitempty"`
	TestRows    int      `json:"test_rows,omitempty"`
	NaN         float64  `json:"nan,omitempty"`
	OneHot      int      `json:"onehot,omitempty"`
	Categorical int      `json:"categorical,omitempty"`
	Steps       []string `json:"steps,omitempty"`
	PredictFn   string   `json:"predict_fn,omitempty"`
	Labels      string   `json:"labels,omitempty"`
	Loss        string   `json:"loss,omitempty"`
	Format      string   `json:"format,omitempty"`
	BaseScore   *float64 `json:"base_score,omitempty"`
	Objective   string   `json:"objective,omitempty"`
	EarlyStop   int      `json:"early_stopping,omitempty"`
	Missing     *float64 `json:"missing,omitempty"`
	ModelClass  string   `json:"model_class,omitempty"`
}

// Expect is what the library answered for the test rows.
type Expect struct {
	Columns []string          `json:"columns"`
	Rows    [][]*float64      `json:"rows"` // nil is a missing value
	Predict []json.RawMessage `json:"predict"`
	Proba   [][]float64       `json:"predict_proba"`
}

// Train trains specs with python in one run; model i is in
// <returned dir>/<specs[i].Name>.
func Train(t testing.TB, python string, specs []Spec) string {
	t.Helper()
	dir := t.TempDir()
	if err := TrainInto(python, dir, specs); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TrainInto is Train into a given directory.
func TrainInto(python, dir string, specs []Spec) error {
	script := filepath.Join(dir, "train_trees.py")
	if err := os.WriteFile(script, trainScript, 0o644); err != nil {
		return err
	}
	b, _ := json.Marshal(specs)
	cmd := exec.Command(python, script, dir, string(b))
	// One thread: OpenMP's spinning workers only slow training down on a
	// busy machine, and the models are small.
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("train models: %v\n%s", err, stderr.String())
	}
	return nil
}

// ReadExpect reads dir/expect.json.
func ReadExpect(t testing.TB, dir string) Expect {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "expect.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e Expect
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// SplitBody is a dataframe_split request for e's rows (missing values as
// null).
func (e Expect) SplitBody() []byte {
	b, _ := json.Marshal(map[string]any{"dataframe_split": map[string]any{"columns": e.Columns, "data": e.Rows}})
	return b
}
