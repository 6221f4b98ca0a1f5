package python

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/serving"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
)

// TestRequiredModules: the interpreter is picked by what the model's
// flavor needs, so every flavor the runtime serves must name its modules —
// a SageMaker scikit-learn layout as much as an MLflow sklearn model, and a
// flavor only MLflow loads needs mlflow and the flavor's library.
func TestRequiredModules(t *testing.T) {
	fl := func(kv ...any) serving.MLmodel {
		mm := serving.MLmodel{Flavors: map[string]map[string]any{}}
		for i := 0; i < len(kv); i += 2 {
			mm.Flavors[kv[i].(string)] = kv[i+1].(map[string]any)
		}
		return mm
	}
	pyfunc := func(loader string) map[string]any { return map[string]any{"loader_module": loader} }
	tests := []struct {
		name   string
		mm     serving.MLmodel
		server string
		want   []string
	}{
		{"mlflow sklearn", fl("python_function", pyfunc("mlflow.sklearn"), "sklearn", map[string]any{"pickled_model": "model.pkl"}), ServerAuto, []string{"sklearn"}},
		{"sklearn flavor alone", fl("sklearn", map[string]any{}), ServerAuto, []string{"sklearn"}},
		{"sklearn, MLflow's server forced", fl("sklearn", map[string]any{}), ServerMLflow, []string{"mlflow", "sklearn"}},
		{"SageMaker scikit-learn layout", fl("sagemaker_sklearn", map[string]any{"model_file": "model.joblib"}), ServerAuto, []string{"sklearn"}},
		{"SageMaker layout, MLflow's server asked for", fl("sagemaker_sklearn", map[string]any{"model_file": "model.joblib"}), ServerMLflow, []string{"sklearn"}},
		{"pyfunc of mlflow.sklearn without the sklearn flavor", fl("python_function", pyfunc("mlflow.sklearn")), ServerAuto, []string{"mlflow", "sklearn"}},
		{"xgboost through MLflow", fl("python_function", pyfunc("mlflow.xgboost"), "xgboost", map[string]any{}), ServerAuto, []string{"mlflow", "xgboost"}},
		{"pytorch through MLflow", fl("python_function", pyfunc("mlflow.pytorch")), ServerAuto, []string{"mlflow", "torch"}},
		{"custom pyfunc model", fl("python_function", pyfunc("mlflow.pyfunc.model")), ServerAuto, []string{"mlflow"}},
		{"custom loader module", fl("python_function", pyfunc("my_loader")), ServerAuto, nil},
		{"Bridge's server forced: it names what it cannot load itself", fl("python_function", pyfunc("mlflow.xgboost")), ServerBridge, nil},
	}
	for _, tt := range tests {
		if got := requiredModules(tt.mm, tt.server); !slices.Equal(got, tt.want) {
			t.Errorf("%s: requiredModules = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestInterpreterForSageMakerLayout: a SageMaker scikit-learn layout (what
// a model package's model.tar.gz holds) with a python3 first on PATH that
// cannot import scikit-learn — the pyenv case: the runtime skips it, as it
// does for MLflow sklearn models, instead of failing on joblib.
func TestInterpreterForSageMakerLayout(t *testing.T) {
	py := pythontest.Interpreter(t)
	home := t.TempDir()
	bin := filepath.Join(home, "bin")
	os.MkdirAll(bin, 0o755)
	// -S: no site-packages, so no scikit-learn, joblib or numpy.
	if err := os.WriteFile(filepath.Join(bin, "python3"), []byte("#!/bin/sh\nexec "+py+" -S \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("BRIDGE_PYTHON", "")
	defer func(c []string) { config.PythonCandidates = c }(config.PythonCandidates)
	config.PythonCandidates = []string{"python3", py}

	trained := pythontest.TrainSklearn(t, py, filepath.Join(home, "trained"), pythontest.SklearnSpec{Seed: 12})
	dir := filepath.Join(home, "sm")
	os.MkdirAll(dir, 0o755)
	pkl, err := os.ReadFile(filepath.Join(trained.Dir, "model.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "model.joblib"), pkl, 0o644) // joblib loads plain pickles
	os.WriteFile(filepath.Join(dir, "MLmodel"), []byte("flavors:\n  sagemaker_sklearn:\n    model_file: model.joblib\n"), 0o644)

	var logs bytes.Buffer
	rt := New(Options{NoPrestart: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	_, srv, err := tryLoad(t, rt, home, "sm", 1, dir)
	if err != nil {
		t.Fatalf("load a SageMaker scikit-learn layout: %v\n%s", err, logs.String())
	}
	var csv strings.Builder
	for _, r := range trained.Rows {
		for i, v := range r {
			if i > 0 {
				csv.WriteByte(',')
			}
			csv.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		}
		csv.WriteByte('\n')
	}
	a := post(t, srv.URL, "text/csv", []byte(csv.String()))
	var preds []float64
	if a.status != 200 || json.Unmarshal(a.body, &preds) != nil || len(preds) != len(trained.Rows) {
		t.Fatalf("answer %d %s: want %d predictions", a.status, a.body, len(trained.Rows))
	}
	if !strings.Contains(logs.String(), "Python interpreter chosen") || !strings.Contains(logs.String(), "python="+py) {
		t.Fatalf("log does not say %s was chosen:\n%s", py, logs.String())
	}
}
