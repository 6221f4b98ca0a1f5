package trees

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/bridgeops/bridge/internal/serving/scoring"
)

// Model serves an Ensemble in-process (serving.Model).
type Model struct {
	e      *Ensemble
	closed atomic.Bool
}

// NewModel returns a serving model for e.
func NewModel(e *Ensemble) *Model { return &Model{e: e} }

// Ensemble returns the compiled model.
func (m *Model) Ensemble() *Ensemble { return m.e }

// Runtime reports which runtime serves the version (for bridge status).
func (m *Model) Runtime() string { return "native" }

// Ping implements serving.Model.
func (m *Model) Ping(ctx context.Context) error {
	if m.closed.Load() {
		return errors.New("model is closed")
	}
	return nil
}

// Close implements serving.Model.
func (m *Model) Close(ctx context.Context) error {
	m.closed.Store(true)
	return nil
}

type request struct {
	body   []byte
	frame  scoring.Frame
	picks  []int
	floats []float64
	out    []byte
	s      scratch
}

const maxPooledBody = 1 << 20

var requests = sync.Pool{New: func() any { return &request{body: make([]byte, 0, 1024)} }}

// ServeHTTP implements serving.Model: it scores one invocation with the
// MLflow scoring protocol.
func (m *Model) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := requests.Get().(*request)
	defer func() {
		if cap(q.body) <= maxPooledBody {
			requests.Put(q)
		}
	}()
	var err error
	q.body, err = readBody(r, q.body[:0])
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			scoring.WriteErrorCode(w, http.StatusRequestEntityTooLarge, scoring.CodeBadRequest,
				fmt.Sprintf("request body over %d bytes: send smaller batches", mbe.Limit))
			return
		}
		scoring.WriteError(w, scoring.BadRequest("read request body: %v", err))
		return
	}
	if err := m.Prepare(&q.frame, r.Header.Get("Content-Type"), q.body); err != nil {
		scoring.WriteError(w, err)
		return
	}
	format := scoring.Negotiate(r.Header.Get("Accept"))
	e := m.e
	f := &q.frame
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
		return scoring.BadRequest("the model expects %d features per row%s, got %d", m.e.nIn, featureHint(m.e.features), f.Width)
	}
	return nil
}

func featureHint(names []string) string {
	if len(names) == 0 {
		return ""
	}
	const show = 10
	more := ""
	if len(names) > show {
		more = fmt.Sprintf(", ... (%d more)", len(names)-show)
		names = names[:show]
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	return " (" + strings.Join(quoted, ", ") + more + ")"
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

// readBody reads r's body into buf, sized from Content-Length when known.
func readBody(r *http.Request, buf []byte) ([]byte, error) {
	if r.Body == nil {
		return buf, nil
	}
	if n := r.ContentLength; n > 0 && int64(cap(buf)) < n+1 && n < 64<<20 {
		buf = make([]byte, 0, n+1)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
