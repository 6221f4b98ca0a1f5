package python

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bridgeops/bridge/internal/serving/scoring"
)

// model is a loaded version: a lean reverse proxy in front of its server.
type model struct {
	p         *proc
	url       string // http://127.0.0.1:port/invocations
	transport *http.Transport
	ping      *http.Client

	mu       sync.Mutex
	closed   bool
	inflight sync.WaitGroup
}

func newModel(p *proc) *model {
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ExpectContinueTimeout: 0,
	}
	return &model{
		p:         p,
		url:       "http://" + p.addr + "/invocations",
		transport: t,
		ping:      &http.Client{Transport: t, Timeout: 5 * time.Second},
	}
}

// ServeHTTP forwards one invocation to the model server.
func (m *model) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		unavailable(w, "model "+m.p.spec.Name+" is being unloaded")
		return
	}
	m.inflight.Add(1)
	m.mu.Unlock()
	defer m.inflight.Done()
	if !m.p.running.Load() {
		unavailable(w, "model server of "+m.p.spec.Name+" is "+m.p.State())
		return
	}
	// The same HTTP contract as native models: 415 for content types
	// (and charsets) the scoring protocol does not speak, CSV answers for
	// Accept: text/csv.
	if err := scoring.CheckContentType(r.Header.Get("Content-Type")); err != nil {
		scoring.WriteError(w, err)
		return
	}
	if scoring.Negotiate(r.Header.Get("Accept")) == scoring.FormatCSV {
		m.forwardCSV(w, r)
		return
	}
	m.forward(w, r)
}

// forwardCSV asks the server for JSON and answers its predictions as CSV;
// errors pass through as they are.
func (m *model) forwardCSV(w http.ResponseWriter, r *http.Request) {
	r.Header = r.Header.Clone()
	r.Header.Set("Accept", scoring.ContentTypeJSON)
	rec := &recorder{header: http.Header{}}
	m.forward(rec, r)
	if rec.status == http.StatusOK {
		out, err := scoring.PredictionsToCSV(rec.body.Bytes())
		if err != nil {
			scoring.WriteError(w, err)
			return
		}
		for k, v := range rec.header {
			if k != "Content-Type" && k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.Header().Set("Content-Type", scoring.ContentTypeCSV)
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.WriteHeader(http.StatusOK)
		w.Write(out)
		return
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	w.Write(rec.body.Bytes())
}

// recorder keeps an answer in memory.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}

// hopByHop lists the headers that belong to one connection, not to the
// request or answer (RFC 9110 7.6.1), plus the ones Go's server sets itself.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Content-Length": true, "Date": true, "Server": true,
}

// forward sends r to the server and copies the answer back. It does what a
// general reverse proxy does for this one local hop, with less work per
// request: headers are shared rather than cloned, and there are no
// trailers, X-Forwarded headers or flush intervals.
func (m *model) forward(w http.ResponseWriter, r *http.Request) {
	u := m.url
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	body, length := r.Body, r.ContentLength
	if length < 0 && body != nil {
		// A chunked request: the servers want a Content-Length, and the
		// router has bounded the body, so read it whole.
		b, err := io.ReadAll(body)
		if err != nil {
			scoring.WriteError(w, scoring.BadRequest("read request body: %v", err))
			return
		}
		body, length = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	}
	if length == 0 || body == nil {
		body, length = http.NoBody, 0
	}
	out, err := http.NewRequestWithContext(r.Context(), http.MethodPost, u, body)
	if err != nil {
		scoring.WriteError(w, err)
		return
	}
	out.ContentLength = length
	for k, v := range r.Header {
		if !hopByHop[k] {
			out.Header[k] = v
		}
	}
	resp, err := m.transport.RoundTrip(out)
	if err != nil {
		if errors.Is(r.Context().Err(), context.Canceled) {
			return // the client went away
		}
		m.p.log.Debug("model server request failed", "err", err)
		scoring.WriteErrorCode(w, http.StatusBadGateway, scoring.CodeUnavailable, "model server of "+m.p.spec.Name+" did not answer: "+err.Error())
		return
	}
	defer resp.Body.Close()
	h := w.Header()
	for k, v := range resp.Header {
		if !hopByHop[k] {
			h[k] = v
		}
	}
	if resp.ContentLength >= 0 {
		h["Content-Length"] = []string{strconv.FormatInt(resp.ContentLength, 10)}
	}
	w.WriteHeader(resp.StatusCode)
	buf := buffers.Get().(*[]byte)
	_, err = io.CopyBuffer(w, resp.Body, *buf)
	buffers.Put(buf)
	if err != nil && r.Context().Err() == nil {
		// The answer is cut short: let the router drop the connection.
		panic(http.ErrAbortHandler)
	}
}

func unavailable(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", "1")
	scoring.WriteErrorCode(w, http.StatusServiceUnavailable, scoring.CodeUnavailable, msg)
}

// Ping checks that the server answers /ping.
func (m *model) Ping(ctx context.Context) error {
	if !m.p.running.Load() {
		return errors.New("model server is " + m.p.State())
	}
	return ping(ctx, m.ping, m.p.addr)
}

// State reports the server's health for bridge status.
func (m *model) State() string { return m.p.State() }

// Close waits for in-flight requests (up to the stop grace period), then
// stops the server's process group.
func (m *model) Close(ctx context.Context) error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	drained := make(chan struct{})
	go func() {
		m.inflight.Wait()
		close(drained)
	}()
	t := time.NewTimer(m.p.opts.StopGrace)
	select {
	case <-drained:
	case <-t.C:
	case <-ctx.Done():
	}
	t.Stop()
	err := m.p.close(ctx)
	m.p.setState("stopped")
	m.transport.CloseIdleConnections()
	return err
}

// buffers recycles the copy buffers of answers.
var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
