// Package native serves models in-process, without Python: the
// bridge_linear flavor, linear and logistic regression stored as JSON.
//
// A bridge_linear model directory holds an MLmodel file naming the flavor
//
//	flavors:
//	  bridge_linear:
//	    data: model.json
//
// and the model.json it points to, one of
//
//	{"kind": "linear_regression", "coefficients": [0.5, -1.2], "intercept": 3.0}
//	{"kind": "logistic_regression", "coefficients": [[..], ..], "intercepts": [..], "classes": [..]}
//
// A logistic model with one coefficient row is binary (sigmoid of the
// decision, classes[1] when it is above 0.5); with one row per class it is
// multinomial (softmax, the most probable class). Predictions are class labels,
// as scikit-learn's predict returns them; labels keep their JSON type.
// The optional "feature_names" in model.json, or the column names of the
// MLmodel signature, let dataframe inputs name their columns in any order.
package native

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bridgeops/bridge/internal/serving"
	"github.com/bridgeops/bridge/internal/serving/scoring"
)

// Flavor is the MLmodel flavor this runtime serves.
const Flavor = "bridge_linear"

// Model kinds in model.json.
const (
	KindLinear   = "linear_regression"
	KindLogistic = "logistic_regression"
)

// maxModelFile bounds model.json.
const maxModelFile = 64 << 20

// Runtime loads bridge_linear models. It holds no state; serving/runtimes
// registers it for Flavor with priority 0.
type Runtime struct{}

// Load implements serving.Runtime: it reads and validates model.json.
func (Runtime) Load(ctx context.Context, spec serving.LoadSpec, mm serving.MLmodel) (serving.Model, error) {
	conf := mm.Flavors[Flavor]
	data := "model.json"
	if v, ok := conf["data"]; ok {
		s, ok := v.(string)
		if !ok || s == "" {
			return nil, fmt.Errorf("load %s/%d: MLmodel flavor %s: data must name a file such as model.json", spec.Name, spec.Version, Flavor)
		}
		data = s
	}
	if !filepath.IsLocal(data) {
		return nil, fmt.Errorf("load %s/%d: MLmodel flavor %s: data %q must be a relative path inside the model directory", spec.Name, spec.Version, Flavor, data)
	}
	path := filepath.Join(spec.Dir, data)
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load %s/%d: %w", spec.Name, spec.Version, err)
	}
	if fi.Size() > maxModelFile {
		return nil, fmt.Errorf("load %s/%d: %s is %d bytes, over the %d-byte limit", spec.Name, spec.Version, path, fi.Size(), maxModelFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s/%d: %w", spec.Name, spec.Version, err)
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("load %s/%d: %s: %w", spec.Name, spec.Version, path, err)
	}
	names, err := scoring.SignatureNames(mm.Signature)
	if err != nil {
		return nil, fmt.Errorf("load %s/%d: MLmodel signature: %w", spec.Name, spec.Version, err)
	}
	if err := m.setFeatures(names, "the MLmodel signature"); err != nil {
		return nil, fmt.Errorf("load %s/%d: %w", spec.Name, spec.Version, err)
	}
	return m, nil
}

// Model is a loaded linear or logistic regression model. It answers the
// MLflow scoring protocol (serving.Model).
type Model struct {
	kind       string
	nfeat      int
	coef       []float64 // rows × nfeat, row-major
	intercepts []float64 // one per row
	classes    []scoring.Label
	features   []string // column names, nil when unknown
	scoring.InProcess
}

// modelFile is model.json.
type modelFile struct {
	Kind         string            `json:"kind"`
	Coefficients json.RawMessage   `json:"coefficients"`
	Intercept    *float64          `json:"intercept"`
	Intercepts   []float64         `json:"intercepts"`
	Classes      []json.RawMessage `json:"classes"`
	FeatureNames []string          `json:"feature_names"`
}

// Parse reads and validates a model.json document.
func Parse(b []byte) (*Model, error) {
	var mf modelFile
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&mf); err != nil {
		return nil, fmt.Errorf("parse model.json: %w", err)
	}
	if len(mf.Coefficients) == 0 {
		return nil, errors.New(`model.json has no "coefficients"`)
	}
	m := &Model{kind: mf.Kind}
	switch mf.Kind {
	case KindLinear:
		var row []float64
		if err := json.Unmarshal(mf.Coefficients, &row); err != nil {
			var rows [][]float64
			if err2 := json.Unmarshal(mf.Coefficients, &rows); err2 != nil || len(rows) != 1 {
				return nil, fmt.Errorf(`linear_regression "coefficients" must be a list of numbers (one per feature): %v`, err)
			}
			row = rows[0]
		}
		if len(row) == 0 {
			return nil, errors.New(`linear_regression "coefficients" is empty: give one coefficient per feature`)
		}
		if mf.Intercepts != nil || mf.Classes != nil {
			return nil, errors.New(`linear_regression takes "intercept" (one number), not "intercepts" or "classes"`)
		}
		m.nfeat = len(row)
		m.coef = row
		m.intercepts = []float64{0}
		if mf.Intercept != nil {
			m.intercepts[0] = *mf.Intercept
		}
	case KindLogistic:
		var rows [][]float64
		if err := json.Unmarshal(mf.Coefficients, &rows); err != nil {
			return nil, fmt.Errorf(`logistic_regression "coefficients" must be a list of rows of numbers ([[...]] for binary, one row per class for multinomial): %v`, err)
		}
		if mf.Intercept != nil {
			return nil, errors.New(`logistic_regression takes "intercepts" (a list, one per coefficient row), not "intercept"`)
		}
		if len(rows) == 0 || len(rows[0]) == 0 {
			return nil, errors.New(`logistic_regression "coefficients" is empty`)
		}
		m.nfeat = len(rows[0])
		for i, r := range rows {
			if len(r) != m.nfeat {
				return nil, fmt.Errorf("logistic_regression coefficients row %d has %d values but row 0 has %d: every row needs one coefficient per feature", i, len(r), m.nfeat)
			}
			m.coef = append(m.coef, r...)
		}
		if len(mf.Intercepts) != len(rows) {
			return nil, fmt.Errorf(`logistic_regression has %d coefficient rows but %d "intercepts": give one intercept per row`, len(rows), len(mf.Intercepts))
		}
		m.intercepts = mf.Intercepts
		switch {
		case len(rows) == 1 && len(mf.Classes) != 2:
			return nil, fmt.Errorf(`binary logistic_regression (one coefficient row) needs exactly 2 "classes", got %d`, len(mf.Classes))
		case len(rows) > 1 && len(mf.Classes) != len(rows):
			return nil, fmt.Errorf(`multinomial logistic_regression has %d coefficient rows but %d "classes": give one row per class`, len(rows), len(mf.Classes))
		}
		seen := map[string]bool{}
		for i, raw := range mf.Classes {
			l, err := scoring.NewLabel(raw)
			if err != nil {
				return nil, fmt.Errorf("classes[%d]: %w", i, err)
			}
			if seen[l.String()] {
				return nil, fmt.Errorf("classes[%d] %s is listed twice: classes must be distinct", i, l)
			}
			seen[l.String()] = true
			m.classes = append(m.classes, l)
		}
	case "":
		return nil, fmt.Errorf(`model.json has no "kind": want %q or %q`, KindLinear, KindLogistic)
	default:
		return nil, fmt.Errorf("model.json kind %q is not supported: want %q or %q", mf.Kind, KindLinear, KindLogistic)
	}
	if err := m.setFeatures(mf.FeatureNames, `"feature_names"`); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Model) setFeatures(names []string, from string) error {
	if len(names) == 0 {
		return nil
	}
	if len(names) != m.nfeat {
		return fmt.Errorf("%s names %d features but the model has %d coefficients per row", from, len(names), m.nfeat)
	}
	if m.features != nil && !slices.Equal(m.features, names) {
		return fmt.Errorf("%s names the features %q but model.json names %q", from, names, m.features)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			return fmt.Errorf("%s names feature %q twice", from, n)
		}
		seen[n] = true
	}
	m.features = names
	return nil
}

// Features returns the model's feature names, nil when it has none.
func (m *Model) Features() []string { return m.features }

// NumFeatures is the number of features a row must have.
func (m *Model) NumFeatures() int { return m.nfeat }

// request is the per-request scratch space, pooled.
type request struct {
	scoring.Invocation
	out   []float64
	picks []int
}

var requests scoring.Pool[request, *request]

// ServeHTTP implements serving.Model: it scores one invocation.
func (m *Model) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := requests.Get()
	defer requests.Put(q)
	format, ok := q.Read(w, r, m)
	if !ok {
		return
	}
	if m.kind == KindLinear {
		q.out = m.regress(&q.Frame, q.out[:0])
		scoring.WriteFloats(w, format, q.out)
		return
	}
	q.picks = m.classify(&q.Frame, q.picks[:0])
	scoring.WriteLabels(w, format, m.classes, q.picks)
}

// Prepare parses body into f and checks it against the model's features:
// on success f holds rows of exactly NumFeatures values, in the model's
// feature order. Errors are *scoring.Error.
func (m *Model) Prepare(f *scoring.Frame, contentType string, body []byte) error {
	if err := f.Parse(contentType, body); err != nil {
		return err
	}
	if m.features != nil {
		if err := f.Select(m.features); err != nil {
			return err
		}
	}
	if f.Width != m.nfeat {
		return scoring.BadRequest("the model expects %d features per row%s, got %d", m.nfeat, scoring.FeatureHint(m.features), f.Width)
	}
	return nil
}

// regress appends the linear model's prediction for every row of f to dst.
func (m *Model) regress(f *scoring.Frame, dst []float64) []float64 {
	b := m.intercepts[0]
	for r := range f.Rows() {
		dst = append(dst, dot(m.coef, f.Row(r))+b)
	}
	return dst
}

// classify appends the index of the predicted class of every row of f to
// dst. Sigmoid and softmax are monotonic, so the most probable class is
// the one with the largest decision value (the first on ties, as numpy's
// argmax), and a binary model picks classes[1] when its decision is > 0.
func (m *Model) classify(f *scoring.Frame, dst []int) []int {
	k := len(m.intercepts)
	for r := range f.Rows() {
		x := f.Row(r)
		if k == 1 {
			if dot(m.coef, x)+m.intercepts[0] > 0 {
				dst = append(dst, 1)
			} else {
				dst = append(dst, 0)
			}
			continue
		}
		best, bestV := 0, 0.0
		for c := range k {
			v := dot(m.coef[c*m.nfeat:(c+1)*m.nfeat], x) + m.intercepts[c]
			if c == 0 || v > bestV {
				best, bestV = c, v
			}
		}
		dst = append(dst, best)
	}
	return dst
}

func dot(w, x []float64) float64 {
	x = x[:len(w)]
	s := 0.0
	for i, v := range w {
		s += v * x[i]
	}
	return s
}

// Runtime names the runtime serving the model, for bridge status.
func (m *Model) Runtime() string { return "native" }
