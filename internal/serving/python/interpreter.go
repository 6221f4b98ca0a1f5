package python

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/serving"
)

// requiredModules returns the Python modules a model needs in the
// interpreter that serves it, so that the interpreter is picked by what the
// model's flavor needs:
//
//   - scikit-learn for the sklearn flavor and for SageMaker scikit-learn
//     layouts (Bridge's server loads both, as SageMaker's scikit-learn
//     container would: joblib and numpy come with scikit-learn);
//   - mlflow and the flavor's library (xgboost, torch, ...) for a
//     python_function model whose mlflow.* loader only MLflow has, unless
//     Bridge's server is forced (it then says what it cannot load);
//   - mlflow when MLflow's server is forced.
//
// Models with a custom loader_module bring their code; nothing is required
// up front.
func requiredModules(mm serving.MLmodel, server string) []string {
	var mods []string
	need := func(m string) {
		if m != "" && !slices.Contains(mods, m) {
			mods = append(mods, m)
		}
	}
	if _, ok := mm.Flavors[flavorSageMakerSklearn]; ok {
		// MLflow's server cannot load these layouts: Bridge's always does.
		need("sklearn")
		return mods
	}
	if server == ServerMLflow {
		need("mlflow")
	}
	loader, _ := mm.Flavors["python_function"]["loader_module"].(string)
	if _, ok := mm.Flavors["sklearn"]; ok && (loader == "" || loader == "mlflow.sklearn") {
		need("sklearn")
		return mods
	}
	if flavor, ok := strings.CutPrefix(loader, "mlflow."); ok && server != ServerBridge {
		need("mlflow")
		need(flavorModules[flavor])
	}
	return mods
}

// flavorSageMakerSklearn is the flavor the artifact fetcher writes for a
// SageMaker model package's scikit-learn layout (artifact.FlavorSageMakerSklearn).
const flavorSageMakerSklearn = "sagemaker_sklearn"

// flavorModules maps MLflow's loader modules (mlflow.<flavor>) to the
// library their flavor imports.
var flavorModules = map[string]string{
	"sklearn": "sklearn", "xgboost": "xgboost", "lightgbm": "lightgbm", "catboost": "catboost",
	"statsmodels": "statsmodels", "pytorch": "torch", "tensorflow": "tensorflow", "keras": "keras",
	"onnx": "onnxruntime", "prophet": "prophet", "spacy": "spacy", "h2o": "h2o", "transformers": "transformers",
}

// interpreters picks and remembers the interpreter for each set of
// required modules: the configured one (BRIDGE_PYTHON), or the first of
// config.PythonCandidates that imports them.
type interpreters struct {
	mu     sync.Mutex
	chosen map[string]string // candidates + modules → interpreter path
}

// probe reports why python cannot import mods ("" when it can).
func probe(ctx context.Context, python string, mods []string) string {
	if len(mods) == 0 {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "-c", "import "+strings.Join(mods, ", ")).CombinedOutput()
	if err == nil {
		return ""
	}
	if cause := rootCause(lastLines(out, 5)); cause != "" {
		return cause
	}
	return err.Error()
}

// pick returns the absolute path of the interpreter for a model needing
// mods: opts.Python (BRIDGE_PYTHON) when set, else the first of
// config.PythonCandidates that imports mods. With anyWorks (virtualenv: pip
// installs what is missing) the first candidate that exists is used when
// none has them.
func (in *interpreters) pick(ctx context.Context, opts Options, mods []string, anyWorks bool) (string, error) {
	candidates := config.PythonCandidates
	if opts.Python != "" {
		candidates = []string{opts.Python}
	}
	key := strings.Join(candidates, "\x00") + "\x01" + strings.Join(mods, ",")
	in.mu.Lock()
	if p, ok := in.chosen[key]; ok {
		in.mu.Unlock()
		return p, nil
	}
	in.mu.Unlock()

	var tried []string
	first := ""
	for _, c := range candidates {
		path, err := exec.LookPath(c)
		if err != nil {
			tried = append(tried, c+": not found")
			continue
		}
		if path, err = filepath.Abs(path); err != nil {
			tried = append(tried, c+": "+err.Error())
			continue
		}
		if first == "" {
			first = path
		}
		if why := probe(ctx, path, mods); why != "" {
			tried = append(tried, c+": "+why)
			continue
		}
		in.remember(key, path)
		opts.Logger.Info("Python interpreter chosen", "component", "python", "python", path, "needs", strings.Join(mods, ","))
		return path, nil
	}
	if anyWorks && first != "" {
		in.remember(key, first)
		opts.Logger.Info("Python interpreter chosen; the model's environment installs what it lacks", "component", "python", "python", first, "needs", strings.Join(mods, ","))
		return first, nil
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	need := "Python 3"
	if len(mods) > 0 {
		need = "a Python that can import " + strings.Join(mods, ", ")
	}
	if opts.Python != "" {
		return "", fmt.Errorf("BRIDGE_PYTHON=%s: %s: install what is missing there (scikit-learn: apt-get install python3-sklearn) or set BRIDGE_PYTHON to %s",
			opts.Python, strings.Join(tried, "; "), need)
	}
	return "", errors.New("no Python interpreter fits this model (" + strings.Join(tried, "; ") + "): set BRIDGE_PYTHON to " + need)
}

func (in *interpreters) remember(key, path string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.chosen == nil {
		in.chosen = map[string]string{}
	}
	in.chosen[key] = path
}

// Interpreter returns the Python interpreter a model's server would run
// with (building its virtualenv first when BRIDGE_ENV_MANAGER asks for
// one) and the extra environment variables it needs, so that other
// runtimes can run helper scripts in the model's own environment.
func (r *Runtime) Interpreter(ctx context.Context, spec serving.LoadSpec) (string, []string, error) {
	ctx, done, err := r.life.enter(ctx)
	if err != nil {
		return "", nil, err
	}
	defer done()
	opts, err := r.opts.resolved(spec)
	if err != nil {
		return "", nil, err
	}
	dir, err := filepath.Abs(spec.Dir)
	if err != nil {
		return "", nil, fmt.Errorf("model directory: %w", err)
	}
	env, err := r.environment(ctx, opts, dir, []string{"sklearn"}) // the exporter unpickles scikit-learn models
	if err != nil {
		return "", nil, err
	}
	return env.python, env.env, nil
}

// Runtime names the runtime serving the model, for bridge status.
func (m *model) Runtime() string { return "python" }
