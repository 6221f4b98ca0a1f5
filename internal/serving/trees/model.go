package trees

import (
	"math"
	"net/http"

	"github.com/bridgeops/bridge/internal/serving/scoring"
)

// Model serves an Ensemble in-process (serving.Model).
type Model struct {
	e *Ensemble
	scoring.InProcess
}

// NewModel returns a serving model for e.
func NewModel(e *Ensemble) *Model { return &Model{e: e} }

// Ensemble returns the compiled model.
func (m *Model) Ensemble() *Ensemble { return m.e }

// Runtime reports which runtime serves the version (for bridge status).
func (m *Model) Runtime() string { return "native" }

type request struct {
	scoring.Invocation
	picks  []int
	floats []float64
	out    []byte
	s      scratch
}

var requests scoring.Pool[request, *request]

// ServeHTTP implements serving.Model: it scores one invocation with the
// MLflow scoring protocol.
func (m *Model) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := requests.Get()
	defer requests.Put(q)
	format, ok := q.Read(w, r, m)
	if !ok {
		return
	}
	e := m.e
	f := &q.Frame
	if len(q.s.raw) < e.outputs {
		q.s.raw = make([]float64, e.outputs)
	}
	switch {
	case e.proba:
		k := len(e.classes)
		q.floats = q.floats[:0]
		for i := range f.Rows() {
			q.floats = append(q.floats, make([]float64, k)...)
			e.predictRow(f.Row(i), q.floats[i*k:(i+1)*k], &q.s)
		}
		q.out = appendMatrix(q.out[:0], format, q.floats, k)
		writeBody(w, format, q.out)
	case len(e.classes) > 0:
		q.picks = q.picks[:0]
		for i := range f.Rows() {
			c, _ := e.predictRow(f.Row(i), nil, &q.s)
			q.picks = append(q.picks, c)
		}
		scoring.WriteLabels(w, format, e.classes, q.picks)
	default:
		q.floats = q.floats[:0]
		for i := range f.Rows() {
			_, v := e.predictRow(f.Row(i), nil, &q.s)
			q.floats = append(q.floats, v)
		}
		scoring.WriteFloats(w, format, q.floats)
	}
}

// Prepare parses body into f and checks it against the model's features;
// errors are *scoring.Error with the messages of the other runtimes.
func (m *Model) Prepare(f *scoring.Frame, contentType string, body []byte) error {
	f.Missing = m.e.missing
	if err := f.Parse(contentType, body); err != nil {
		return err
	}
	if m.e.features != nil {
		if err := f.Select(m.e.features); err != nil {
			return err
		}
	}
	if f.Width != m.e.nIn {
		return scoring.BadRequest("the model expects %d features per row%s, got %d", m.e.nIn, scoring.FeatureHint(m.e.features), f.Width)
	}
	return nil
}

// appendMatrix writes rows of k probabilities as {"predictions": [[...], ...]}
// or CSV lines.
func appendMatrix(dst []byte, f scoring.Format, v []float64, k int) []byte {
	if f == scoring.FormatCSV {
		for i := 0; i < len(v); i += k {
			for j := range k {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = scoring.AppendPyFloat(dst, v[i+j])
			}
			dst = append(dst, '\n')
		}
		return dst
	}
	dst = append(dst, `{"predictions": [`...)
	for i := 0; i < len(v); i += k {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, '[')
		for j := range k {
			if j > 0 {
				dst = append(dst, ", "...)
			}
			if x := v[i+j]; math.IsNaN(x) || math.IsInf(x, 0) {
				dst = append(dst, "null"...)
			} else {
				dst = scoring.AppendPyFloat(dst, x)
			}
		}
		dst = append(dst, ']')
	}
	return append(dst, "]}\n"...)
}

func writeBody(w http.ResponseWriter, f scoring.Format, b []byte) {
	if f == scoring.FormatCSV {
		w.Header().Set("Content-Type", scoring.ContentTypeCSV)
	} else {
		w.Header().Set("Content-Type", scoring.ContentTypeJSON)
	}
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
