package scoring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// What the runtimes that score in Bridge's own process (native linear
// models, tree ensembles) share: the model's life cycle, the pooled
// per-request scratch space, reading and checking an invocation, and the
// feature names of an MLmodel signature.

// InProcess is the life cycle of a model scored in Bridge's process: it
// holds nothing to release, and once closed it fails its health check.
// Embed it to implement serving.Model's Ping and Close.
type InProcess struct {
	closed atomic.Bool
}

// Ping implements serving.Model.
func (m *InProcess) Ping(ctx context.Context) error {
	if m.closed.Load() {
		return errors.New("model is closed")
	}
	return nil
}

// Close implements serving.Model.
func (m *InProcess) Close(ctx context.Context) error {
	m.closed.Store(true)
	return nil
}

// Preparer parses a request body into a frame and checks it against the
// model's features; errors are *Error.
type Preparer interface {
	Prepare(f *Frame, contentType string, body []byte) error
}

// Invocation is the per-request scratch space every in-process model
// needs: the request body and the frame parsed from it. Embed it in the
// runtime's request type and recycle that with a Pool.
type Invocation struct {
	Body  []byte
	Frame Frame
}

// Scratch returns inv (it lets Pool reach the Invocation a request embeds).
func (inv *Invocation) Scratch() *Invocation { return inv }

// Read reads r's body into inv.Body and has p parse it into inv.Frame. It
// returns the output format the client asked for (Accept), or false after
// it has answered w with the error: 413 for a body over the server's
// limit, else 400.
func (inv *Invocation) Read(w http.ResponseWriter, r *http.Request, p Preparer) (Format, bool) {
	var err error
	inv.Body, err = readBody(r, inv.Body[:0])
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			WriteErrorCode(w, http.StatusRequestEntityTooLarge, CodeBadRequest,
				fmt.Sprintf("request body over %d bytes: send smaller batches", mbe.Limit))
			return 0, false
		}
		WriteError(w, BadRequest("read request body: %v", err))
		return 0, false
	}
	if err := p.Prepare(&inv.Frame, r.Header.Get("Content-Type"), inv.Body); err != nil {
		WriteError(w, err)
		return 0, false
	}
	return Negotiate(r.Header.Get("Accept")), true
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

// maxPooledBody keeps large request buffers out of the pool.
const maxPooledBody = 1 << 20

// Pool recycles a runtime's per-request scratch space T (a struct that
// embeds Invocation); P is *T. A request whose body buffer grew past
// 1 MiB is not kept. The zero Pool is ready to use.
type Pool[T any, P interface {
	*T
	Scratch() *Invocation
}] struct {
	pool sync.Pool
}

// Get returns a request from the pool, or a new one.
func (p *Pool[T, P]) Get() P {
	if q, ok := p.pool.Get().(P); ok {
		return q
	}
	q := P(new(T))
	q.Scratch().Body = make([]byte, 0, 1024)
	return q
}

// Put returns q to the pool.
func (p *Pool[T, P]) Put(q P) {
	if cap(q.Scratch().Body) <= maxPooledBody {
		p.pool.Put(q)
	}
}

// FeatureHint lists a model's feature names for an error message about the
// number of features: ` ("a", "b", ... (n more))`, or "" without names.
func FeatureHint(names []string) string {
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

// SignatureNames returns the column names of an MLmodel column-based input
// signature (signature.inputs, a JSON string or already decoded), or nil
// when there is none or it is tensor-based or has unnamed columns.
func SignatureNames(sig map[string]any) ([]string, error) {
	raw, ok := sig["inputs"]
	if !ok {
		return nil, nil
	}
	var cols []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	data, isString := raw.(string)
	b := []byte(data)
	if !isString {
		var err error
		if b, err = json.Marshal(raw); err != nil {
			return nil, fmt.Errorf("inputs: %w", err)
		}
	}
	if err := json.Unmarshal(b, &cols); err != nil {
		return nil, fmt.Errorf("inputs: %w", err)
	}
	var names []string
	for _, c := range cols {
		if c.Type == "tensor" || c.Name == "" {
			return nil, nil
		}
		names = append(names, c.Name)
	}
	return names, nil
}
