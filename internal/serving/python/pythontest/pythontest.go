// Package pythontest helps tests that need a real Python with scikit-learn:
// it picks the interpreter (or skips the test) and trains real models in
// MLflow's model layout.
package pythontest

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/config"
)

//go:embed train_sklearn.py
var trainScript []byte

var (
	once   sync.Once
	python string
	why    string
)

// Interpreter returns the Python to test with: $BRIDGE_PYTHON if set, else
// the first of config.PythonCandidates (python3, /usr/bin/python3) that can
// import scikit-learn, as the runtime picks for sklearn models.
// It skips t with a clear message when there is none.
func Interpreter(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		candidates := config.PythonCandidates // as the runtime picks
		if p := os.Getenv("BRIDGE_PYTHON"); p != "" {
			candidates = []string{p}
		}
		var tried []string
		for _, c := range candidates {
			path, err := exec.LookPath(c)
			if err != nil {
				tried = append(tried, c+": not found")
				continue
			}
			if out, err := exec.Command(path, "-c", "import sklearn, numpy").CombinedOutput(); err != nil {
				tried = append(tried, c+": cannot import sklearn ("+lastLine(string(out))+")")
				continue
			}
			python = path
			return
		}
		why = "no Python with scikit-learn (" + strings.Join(tried, "; ") + "): install python3-sklearn (Debian) or set BRIDGE_PYTHON"
	})
	if python == "" {
		t.Skip(why)
	}
	return python
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// SklearnSpec says what model to train. Zero values mean the defaults.
type SklearnSpec struct {
	Seed     int     `json:"seed"`
	Rows     int     `json:"rows,omitempty"`     // training rows (400)
	Features int     `json:"features,omitempty"` // 4
	C        float64 `json:"C,omitempty"`        // regularisation (1.0)
	// Format is the sklearn flavor's serialization_format: pickle
	// (default), joblib or cloudpickle.
	Format string `json:"format,omitempty"`
	// Requirements is requirements.txt ("scikit-learn\n").
	Requirements string `json:"requirements,omitempty"`
	// PythonEnv is python_env.yaml (MLflow's, pointing at requirements.txt).
	PythonEnv string `json:"python_env,omitempty"`
	TestRows  int    `json:"test_rows,omitempty"` // 25
	// ArrayFit fits on a numpy array, as scripts/train_churn.py does, so
	// that the estimator knows no feature names (the default fits on a
	// DataFrame with columns f0, f1, ...); the signature names them anyway.
	ArrayFit bool `json:"array_fit,omitempty"`
}

// Sklearn is a trained model and scikit-learn's own answers for test rows.
type Sklearn struct {
	Dir         string
	Columns     []string    `json:"columns"`
	Rows        [][]float64 `json:"rows"`
	Predictions []int       `json:"predictions"`
	Coef        [][]float64 `json:"coef"`
	Intercept   []float64   `json:"intercept"`
	Classes     []int       `json:"classes"`
}

// TrainSklearn trains a LogisticRegression on a generated dataset with
// python and writes it to dir in MLflow's layout: MLmodel (python_function
// and sklearn flavors, signature), model.pkl, requirements.txt and
// python_env.yaml.
func TrainSklearn(t testing.TB, python, dir string, spec SklearnSpec) Sklearn {
	t.Helper()
	script := filepath.Join(t.TempDir(), "train_sklearn.py")
	if err := os.WriteFile(script, trainScript, 0o644); err != nil {
		t.Fatal(err)
	}
	specJSON, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, script, dir, string(specJSON))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("train scikit-learn model: %v\n%s", err, stderr.String())
	}
	m := Sklearn{Dir: dir}
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("train scikit-learn model: decode %q: %v", out, err)
	}
	return m
}

// SplitBody returns an MLflow dataframe_split request body for rows.
func (m Sklearn) SplitBody() []byte {
	b, _ := json.Marshal(map[string]any{"dataframe_split": map[string]any{"columns": m.Columns, "data": m.Rows}})
	return b
}

// Predictions decodes a scoring server's {"predictions": [...]} answer of
// class labels; any status but 200 fails t.
func Predictions(t testing.TB, status int, body []byte) []int {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var out struct {
		Predictions []int `json:"predictions"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return out.Predictions
}

// WaitFor polls cond until it holds, failing t after d.
func WaitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
