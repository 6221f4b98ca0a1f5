package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/serving/scoring"
)

const invocationsSuffix = "/invocations"

// ServeHTTP is the router. Invocation paths go to endpoints; /ping,
// /healthz and /metrics are answered here; anything else goes to routes
// mounted with Handle, or gets a JSON 404.
func (t *Target) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if strings.HasSuffix(path, invocationsSuffix) {
		t.invoke(w, r)
		return
	}
	switch path {
	case "/ping":
		t.ping(w, r)
	case "/healthz":
		t.healthz(w, r)
	case "/metrics":
		t.metrics.handler.ServeHTTP(w, r)
	default:
		if _, pattern := t.extra.Handler(r); pattern != "" {
			t.extra.ServeHTTP(w, r)
			return
		}
		scoring.WriteErrorCode(w, http.StatusNotFound, scoring.CodeNotFound,
			fmt.Sprintf("no such path %s: invoke models with POST /<model>/<stage-or-alias>/invocations", r.URL.Path))
	}
}

// ping answers 200 while the router serves (as MLflow's /ping does).
func (t *Target) ping(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	t.mu.Lock()
	closed := t.closed
	t.mu.Unlock()
	if closed {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	io.WriteString(w, "\n")
}

// healthz answers a summary of what the router serves.
func (t *Target) healthz(w http.ResponseWriter, r *http.Request) {
	type counts struct {
		Ready   int `json:"ready"`
		Pending int `json:"pending"`
		Failed  int `json:"failed"`
	}
	var out struct {
		Status    string `json:"status"`
		Endpoints int    `json:"endpoints"`
		Versions  counts `json:"versions"`
	}
	t.mu.Lock()
	out.Status = "ok"
	if t.closed {
		out.Status = "closed"
	}
	out.Endpoints = len(t.routes)
	for _, v := range t.versions {
		switch s, _ := v.status(); s {
		case model.StatusReady:
			out.Versions.Ready++
		case model.StatusPending:
			out.Versions.Pending++
		default:
			out.Versions.Failed++
		}
	}
	t.mu.Unlock()
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/json")
	if out.Status != "ok" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	w.Write(append(b, '\n'))
}

// lookup finds the route of an invocation path: /<model>/<slot>/invocations
// or /endpoints/<name>/invocations. Path segments are unescaped one by one,
// so a model name holding "/" is reachable as %2F.
func (tb *table) lookup(u *url.URL) *route {
	p := u.RawPath
	if p == "" {
		p = u.Path
	}
	if len(p) < len(invocationsSuffix)+4 || p[0] != '/' || !strings.HasSuffix(p, invocationsSuffix) {
		return nil
	}
	rest := p[1 : len(p)-len(invocationsSuffix)]
	i := strings.IndexByte(rest, '/')
	if i <= 0 || i == len(rest)-1 || strings.IndexByte(rest[i+1:], '/') >= 0 {
		return nil
	}
	a, b := rest[:i], rest[i+1:]
	if u.RawPath != "" {
		var err error
		if a, err = url.PathUnescape(a); err != nil {
			return nil
		}
		if b, err = url.PathUnescape(b); err != nil {
			return nil
		}
	}
	if a == "endpoints" && strings.HasPrefix(b, EndpointPrefix) {
		if rt := tb.byName[b]; rt != nil {
			return rt
		}
	}
	return tb.byKey[model.EndpointKey{Model: a, Slot: b}]
}

// reject answers an invocation the router cannot hand to a model.
func (t *Target) reject(w http.ResponseWriter, status int, code, msg string) {
	t.metrics.rejected.WithLabelValues(codeLabel(status)).Inc()
	scoring.WriteErrorCode(w, status, code, msg)
}

// invoke routes one invocation to a version of its endpoint.
func (t *Target) invoke(w http.ResponseWriter, r *http.Request) {
	rt := t.table.Load().lookup(r.URL)
	if rt == nil {
		t.reject(w, http.StatusNotFound, scoring.CodeNotFound, fmt.Sprintf(
			"no endpoint at %s: Bridge serves POST /<model>/<stage-or-alias>/invocations for every stage and alias the registry names (see bridge status)", r.URL.Path))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		t.reject(w, http.StatusMethodNotAllowed, scoring.CodeBadRequest, "invocations take POST")
		return
	}
	if r.ContentLength > MaxBodyBytes {
		t.reject(w, http.StatusRequestEntityTooLarge, scoring.CodeBadRequest, tooLarge)
		return
	}
	var b *backend
	for attempt := 0; ; attempt++ {
		if len(rt.backends) == 1 {
			b = rt.backends[0]
		} else {
			b = rt.pick(mrand.Float64())
		}
		if b.v.acquire() {
			break
		}
		// The version was retired after the table was read: read it again.
		if rt = t.table.Load().lookup(r.URL); rt == nil || attempt == 3 {
			t.reject(w, http.StatusServiceUnavailable, scoring.CodeUnavailable, "the endpoint is being updated; try again")
			return
		}
	}
	start := time.Now()
	c := calls.Get().(*call)
	c.w = w
	// The body is not pooled: an HTTP client inside a model (a proxy to a
	// Python server) may still read it after the model has answered.
	c.body = &body{rc: http.MaxBytesReader(w, r.Body, MaxBodyBytes)}
	var capIn, capOut bool
	if t.sink != nil {
		capIn, capOut = t.sink.Want(rt.name)
		c.body.tee = capIn
		if capIn && r.ContentLength > 0 {
			// One allocation of the right size instead of regrowing the
			// copy as the model reads (ContentLength <= MaxBodyBytes here),
			// with room after it for a typical answer, so that capturing
			// both halves costs one allocation.
			var room int64
			if capOut {
				room = answerRoom
			}
			buf := make([]byte, 0, r.ContentLength+room)
			c.body.buf = buf[:0:r.ContentLength]
			if capOut {
				c.out = buf[r.ContentLength:r.ContentLength]
			}
		}
		c.tee = capOut
	}
	r.Body = c.body
	w.Header()[HeaderVersion] = b.v.vhdr

	aborted := t.serveModel(c, b, r)

	status := c.status
	if status == 0 {
		status = http.StatusOK
	}
	b.latency.Observe(time.Since(start).Seconds())
	b.requests.Inc()
	if status >= 400 {
		t.metrics.errors.WithLabelValues(rt.key.Model, rt.key.Slot, b.v.label, codeLabel(status)).Inc()
	}
	if (capIn || capOut) && status < 400 && !aborted {
		if capIn && !c.body.ended {
			io.Copy(io.Discard, c.body) // the part the model did not read, within the body limit
		}
		// No EventID: the sink assigns one off the request path.
		rec := capture.Record{
			Endpoint:          rt.name,
			Variant:           b.v.vname,
			InferenceID:       headerValue(r.Header, HeaderInferenceID),
			Time:              start,
			InputContentType:  headerValue(r.Header, headerContentType),
			OutputContentType: headerValue(w.Header(), headerContentType),
		}
		if capIn {
			rec.Input = c.body.buf
		}
		if capOut {
			rec.Output = c.out
		}
		t.sink.Capture(rec)
	}
	b.v.release()
	*c = call{}
	calls.Put(c)
	if aborted {
		panic(http.ErrAbortHandler) // the answer is incomplete: drop the connection
	}
}

// serveModel runs the model's handler, turning a panic into a 500 answer
// (or, when the answer had started, an aborted connection) so one broken
// model never takes the router down.
func (t *Target) serveModel(c *call, b *backend, r *http.Request) (aborted bool) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler {
			aborted = true
			return
		}
		t.log.Error("model panicked while answering", "version", b.v.ref.String(), "panic", p, "stack", string(debug.Stack()))
		if c.wroteHeader {
			c.status = http.StatusInternalServerError
			aborted = true
			return
		}
		scoring.WriteErrorCode(c, http.StatusInternalServerError, scoring.CodeInternal,
			fmt.Sprintf("model %s failed while answering: %v", b.v.ref, p))
	}()
	b.v.model.ServeHTTP(c, r)
	return false
}

// answerRoom is the room for the answer allocated with the captured
// request body; longer answers grow their own copy.
const answerRoom = 128

const tooLarge = "request body over 6291456 bytes (6 MB): send smaller batches"

// call is the per-invocation state: the response writer the model sees,
// and the request body it reads. Pooled (but not its body or captures,
// which outlive it).
type call struct {
	w           http.ResponseWriter
	status      int
	wroteHeader bool
	swallow     bool   // the router answered 413 itself; drop the model's writes
	tee         bool   // copy the answer into out
	out         []byte // the answer, for capture
	body        *body
}

var calls = sync.Pool{New: func() any { return new(call) }}

// Header implements http.ResponseWriter.
func (c *call) Header() http.Header { return c.w.Header() }

// WriteHeader implements http.ResponseWriter. When the request body went
// over the limit, the answer is the router's 413 whatever the model says.
func (c *call) WriteHeader(code int) {
	if c.wroteHeader {
		return
	}
	if code >= 100 && code < 200 {
		c.w.WriteHeader(code)
		return
	}
	c.wroteHeader = true
	c.status = code
	if c.body.exceeded && code != http.StatusRequestEntityTooLarge {
		c.status = http.StatusRequestEntityTooLarge
		c.swallow = true
		scoring.WriteErrorCode(c.w, http.StatusRequestEntityTooLarge, scoring.CodeBadRequest, tooLarge)
		return
	}
	c.w.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (c *call) Write(p []byte) (int, error) {
	if !c.wroteHeader {
		c.WriteHeader(http.StatusOK)
	}
	if c.swallow {
		return len(p), nil
	}
	if c.tee && len(c.out)+len(p) <= MaxBodyBytes {
		c.out = append(c.out, p...)
	}
	return c.w.Write(p)
}

// Flush implements http.Flusher.
func (c *call) Flush() {
	if !c.wroteHeader {
		c.WriteHeader(http.StatusOK)
	}
	if f, ok := c.w.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the server's writer.
func (c *call) Unwrap() http.ResponseWriter { return c.w }

// body is the request body the model reads: bounded by MaxBytesReader,
// noting when the bound was hit, and copied for capture when asked.
type body struct {
	rc       io.ReadCloser
	exceeded bool
	ended    bool // a read returned an error (io.EOF included)
	tee      bool
	buf      []byte
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if b.tee && n > 0 {
		b.buf = append(b.buf, p[:n]...)
	}
	if err != nil {
		b.ended = true
	}
	if err != nil && err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			b.exceeded = true
		}
	}
	return n, err
}

func (b *body) Close() error { return b.rc.Close() }

const headerContentType = "Content-Type"

// headerValue is h.Get(key) for a key already in canonical form (skipping
// Get's canonicalization, which showed in capture's profile). Servers
// canonicalize the keys of requests they read, and handlers set headers
// through Header.Set, which canonicalizes.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
