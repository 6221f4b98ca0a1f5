package python

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"time"

	"github.com/bridgeops/bridge/internal/serving/scoring"
)

// model is a loaded version: a reverse proxy in front of its server.
type model struct {
	p         *proc
	proxy     *httputil.ReverseProxy
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
	m := &model{p: p, transport: t, ping: &http.Client{Transport: t, Timeout: 5 * time.Second}}
	addr := p.addr
	m.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = addr
			pr.Out.URL.Path = "/invocations"
			pr.Out.URL.RawPath = ""
			pr.Out.Host = addr
		},
		Transport:  t,
		BufferPool: bufferPool{},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(r.Context().Err(), context.Canceled) {
				return // the client went away
			}
			p.log.Debug("model server request failed", "err", err)
			scoring.WriteErrorCode(w, http.StatusBadGateway, scoring.CodeUnavailable, "model server "+p.spec.Name+" did not answer: "+err.Error())
		},
	}
	return m
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
	m.proxy.ServeHTTP(w, r)
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

// bufferPool recycles the proxy's copy buffers.
type bufferPool struct{}

var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *(buffers.Get().(*[]byte)) }
func (bufferPool) Put(b []byte) { buffers.Put(&b) }
