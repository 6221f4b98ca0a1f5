package trees

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/serving"
	"github.com/bridgeops/bridge/internal/serving/scoring"
)

//go:embed export_sklearn.py
var exporter []byte

// Priority is the registration priority of the tree runtime: ahead of the
// Python runtime (100), behind bridge_linear (0).
const Priority = 50

// Flavors the runtime serves.
const (
	FlavorSklearn  = "sklearn"
	FlavorXGBoost  = "xgboost"
	FlavorLightGBM = "lightgbm"
)

// Interpreters finds the Python a model runs with (python.Runtime does).
type Interpreters interface {
	Interpreter(ctx context.Context, spec serving.LoadSpec) (string, []string, error)
}

// Runtime serves sklearn, xgboost and lightgbm models natively when they
// convert and hands them to Fallback (the Python runtime) when they do not.
type Runtime struct {
	Fallback serving.Runtime
	Python   Interpreters
	// Mode is BRIDGE_NATIVE (config.Config.Native); empty means
	// config.NativeAuto.
	Mode config.NativeMode
	// ExportTimeout bounds one run of the exporter (default 2m).
	ExportTimeout time.Duration
	Logger        *slog.Logger

	locks sync.Map // cache key -> *sync.Mutex: one export per model at a time
}

// errNotNative says why a model cannot be served natively; it is not a
// failure of the version.
type errNotNative struct{ reason string }

func (e *errNotNative) Error() string { return e.reason }

func notNative(format string, args ...any) error {
	return &errNotNative{fmt.Sprintf(format, args...)}
}

func (r *Runtime) log() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// Load implements serving.Runtime.
func (r *Runtime) Load(ctx context.Context, spec serving.LoadSpec, mm serving.MLmodel) (serving.Model, error) {
	mode := r.Mode
	switch mode {
	case "":
		mode = config.NativeAuto
	case config.NativeOff, config.NativeAuto, config.NativeRequire:
	default:
		return nil, fmt.Errorf("BRIDGE_NATIVE=%q: want off, auto or require", mode)
	}
	ref := fmt.Sprintf("%s/%d", spec.Name, spec.Version)
	if mode == config.NativeOff {
		return r.fallback(ctx, spec, mm, "BRIDGE_NATIVE=off")
	}
	start := time.Now()
	e, err := r.convert(ctx, spec, mm)
	if err == nil {
		r.log().Info("serving model version natively", "version", ref, "model", e.source, "trees", len(e.trees), "took", time.Since(start).Round(time.Millisecond))
		return NewModel(e), nil
	}
	var nn *errNotNative
	if !errors.As(err, &nn) {
		// A broken tree file or a crashed exporter: still the Python
		// runtime's to try, unless native serving is required.
		err = notNative("%v", err)
	}
	if mode == config.NativeRequire {
		return nil, fmt.Errorf("load %s: BRIDGE_NATIVE=require but the model cannot be served natively: %v", ref, err)
	}
	return r.fallback(ctx, spec, mm, err.Error())
}

func (r *Runtime) fallback(ctx context.Context, spec serving.LoadSpec, mm serving.MLmodel, why string) (serving.Model, error) {
	ref := fmt.Sprintf("%s/%d", spec.Name, spec.Version)
	if r.Fallback == nil {
		return nil, fmt.Errorf("load %s: not served natively (%s) and no Python runtime", ref, why)
	}
	r.log().Info("serving model version with the Python runtime", "version", ref, "reason", why)
	return r.Fallback.Load(ctx, spec, mm)
}

// convert turns the model into an Ensemble, or says why it cannot.
func (r *Runtime) convert(ctx context.Context, spec serving.LoadSpec, mm serving.MLmodel) (*Ensemble, error) {
	var e *Ensemble
	var err error
	switch {
	case mm.Flavors[FlavorXGBoost] != nil:
		e, err = loadXGBoost(spec.Dir, mm.Flavors[FlavorXGBoost], mm.Flavors["python_function"])
	case mm.Flavors[FlavorLightGBM] != nil:
		e, err = loadLightGBM(spec.Dir, mm.Flavors[FlavorLightGBM], mm.Flavors["python_function"])
	case mm.Flavors[FlavorSklearn] != nil:
		e, err = r.exportSklearn(ctx, spec, mm)
	default:
		return nil, notNative("no sklearn, xgboost or lightgbm flavor")
	}
	if err != nil {
		return nil, err
	}
	names, err := scoring.SignatureNames(mm.Signature)
	if err != nil {
		return nil, notNative("MLmodel signature: %v", err)
	}
	if names != nil && e.features == nil {
		if len(names) != e.nIn {
			return nil, notNative("the MLmodel signature names %d columns but the model takes %d features", len(names), e.nIn)
		}
		e.features = names
	}
	return e, nil
}

// pickleMarkers are module names at least one of which a pickled model
// that can convert mentions (pickles name the classes they hold in plain
// text); a pickle that names none of them (a bare LogisticRegression, a
// custom model) keeps the Python runtime without running the exporter.
var pickleMarkers = [][]byte{[]byte("sklearn.tree"), []byte("sklearn.ensemble"), []byte("sklearn.pipeline")}

// exportSklearn converts the sklearn flavor's pickle with the exporter,
// caching the tree file (or the reason it cannot convert) under
// <home>/native, keyed by the pickle's and the exporter's content.
func (r *Runtime) exportSklearn(ctx context.Context, spec serving.LoadSpec, mm serving.MLmodel) (*Ensemble, error) {
	conf := mm.Flavors[FlavorSklearn]
	pyfunc := mm.Flavors["python_function"]
	pkl, _ := conf["pickled_model"].(string)
	if pkl == "" {
		pkl, _ = pyfunc["data"].(string)
	}
	if pkl == "" {
		pkl = "model.pkl"
	}
	if !filepath.IsLocal(pkl) {
		return nil, notNative("pickled_model %q is not inside the model directory", pkl)
	}
	b, err := os.ReadFile(filepath.Join(spec.Dir, pkl))
	if err != nil {
		return nil, notNative("read pickled model: %v", err)
	}
	if !compressed(b) && !containsAny(b, pickleMarkers) {
		return nil, notNative("the estimator is not a tree model or a Pipeline")
	}
	if spec.LogDir == "" {
		return nil, notNative("no Bridge home to cache the tree file in")
	}
	cacheDir, err := filepath.Abs(filepath.Join(filepath.Dir(filepath.Clean(spec.LogDir)), "native"))
	if err != nil {
		return nil, notNative("tree cache: %v", err)
	}
	mmJSON, err := json.Marshal(map[string]any{"flavors": mm.Flavors})
	if err != nil {
		return nil, notNative("encode MLmodel: %v", err)
	}
	h := sha256.New()
	for _, part := range [][]byte{exporter, mmJSON, b} {
		fmt.Fprintf(h, "%d\x00", len(part))
		h.Write(part)
	}
	key := hex.EncodeToString(h.Sum(nil)[:12])
	base := filepath.Join(cacheDir, fmt.Sprintf("%s-%d-%s", safeName(spec.Name), spec.Version, key))
	treePath, whyPath := base+".json", base+".unsupported"

	l, _ := r.locks.LoadOrStore(key, &sync.Mutex{})
	l.(*sync.Mutex).Lock()
	defer l.(*sync.Mutex).Unlock()
	if why, err := os.ReadFile(whyPath); err == nil {
		return nil, notNative("%s", strings.TrimSpace(string(why)))
	}
	if _, err := os.Stat(treePath); err != nil {
		if err := os.MkdirAll(cacheDir, 0o755); err != nil {
			return nil, notNative("tree cache: %v", err)
		}
		if err := r.runExporter(ctx, spec, mmJSON, treePath, whyPath, cacheDir); err != nil {
			return nil, err
		}
	}
	tb, err := os.ReadFile(treePath)
	if err != nil {
		return nil, notNative("read tree file: %v", err)
	}
	e, err := Parse(tb)
	if err != nil {
		return nil, fmt.Errorf("tree file %s: %w", treePath, err)
	}
	return e, nil
}

func (r *Runtime) runExporter(ctx context.Context, spec serving.LoadSpec, mmJSON []byte, treePath, whyPath, cacheDir string) error {
	if r.Python == nil {
		return notNative("no Python to run the exporter with")
	}
	py, env, err := r.Python.Interpreter(ctx, spec)
	if err != nil {
		return notNative("exporter: %v", err)
	}
	script := filepath.Join(cacheDir, "export_sklearn-"+hashHex(exporter)+".py")
	if old, err := os.ReadFile(script); err != nil || !bytes.Equal(old, exporter) {
		if err := os.WriteFile(script, exporter, 0o644); err != nil {
			return notNative("exporter: %v", err)
		}
	}
	timeout := r.ExportTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dir, err := filepath.Abs(spec.Dir)
	if err != nil {
		return notNative("exporter: %v", err)
	}
	cmd := exec.CommandContext(ctx, py, script, dir, string(mmJSON), treePath)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &limited{w: &stderr, n: 64 << 10}
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee) && ee.ExitCode() == 3:
		why := lastLine(stdout.String())
		if why == "" {
			why = "the exporter gave no reason"
		}
		os.WriteFile(whyPath, []byte(why+"\n"), 0o644)
		return notNative("%s", why)
	default:
		msg := lastLine(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return notNative("exporter failed: %s", msg)
	}
}

func compressed(b []byte) bool {
	// zlib, gzip, bz2, xz, lzma: joblib's compressors.
	return len(b) > 2 && (b[0] == 0x78 || (b[0] == 0x1f && b[1] == 0x8b) || bytes.HasPrefix(b, []byte("BZh")) ||
		bytes.HasPrefix(b, []byte{0xfd, '7', 'z', 'X', 'Z'}) || b[0] == 0x5d)
}

func containsAny(b []byte, subs [][]byte) bool {
	for _, s := range subs {
		if bytes.Contains(b, s) {
			return true
		}
	}
	return false
}

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == ':' {
			return '_'
		}
		return r
	}, s)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// limited keeps the first n bytes written to it.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
