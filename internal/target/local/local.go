// Package local is the localhost deploy target: one HTTP router in front of
// every model version Bridge serves on this machine.
//
// Endpoints are reachable as
//
//	POST /<model>/<stage-or-alias>/invocations
//	POST /endpoints/brdg-<model>-<stage-or-alias>/invocations
//
// (the second is SageMaker-runtime style, so one client works against both
// targets), next to GET /ping, GET /healthz and GET /metrics. Model
// versions are loaded through the serving runtimes (in-process for native
// flavors, a subprocess for Python ones). Routes live in an immutable table
// swapped atomically: a version receives traffic only once it answers its
// health check, and a version leaving an endpoint finishes its in-flight
// requests before it is closed.
package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/netaddr"
	"github.com/bridgeops/bridge/internal/target"
)

// Kind is the target's name in BRIDGE_DEPLOY_KIND.
const Kind = "localhost"

// Defaults and limits.
const (
	// MaxBodyBytes is the largest invocation body the router accepts
	// (SageMaker's limit for real-time endpoints).
	MaxBodyBytes = 6 << 20
	// DefaultReadyTimeout bounds how long CreateVersion waits for a loaded
	// model to answer its health check (BRIDGE_MODEL_READY_TIMEOUT_S).
	DefaultReadyTimeout = 2 * time.Minute
	// HeaderVersion names the version that answered, on every invocation
	// answer.
	HeaderVersion = "X-Bridge-Model-Version"
	// HeaderInferenceID is the client's inference id, copied into captures.
	HeaderInferenceID = "X-Amzn-Sagemaker-Inference-Id"
	// EndpointPrefix starts every SageMaker-style endpoint name.
	EndpointPrefix = "brdg-"
)

func init() {
	target.Register(Kind, func(ctx context.Context, deps target.Deps) (target.Target, error) {
		return New(deps)
	})
}

// Target is the localhost deploy target. It implements target.Target and
// target.Initializer, and is the router (http.Handler) the run command
// serves.
type Target struct {
	cfg          config.Config
	fetcher      target.Fetcher
	models       target.ModelLoader
	sink         capture.Sink
	metrics      *metrics
	readyTimeout time.Duration
	log          *slog.Logger

	addr  atomic.Pointer[string] // host:port URLs are built from
	table atomic.Pointer[table]  // what the hot path reads
	extra *http.ServeMux         // routes mounted with Handle

	mu       sync.Mutex // control plane: the fields below
	closed   bool
	versions map[model.VersionRef]*version
	routes   map[model.EndpointKey]*route
	names    map[string]model.EndpointKey // endpoint name -> the key that owns it

	retiring sync.WaitGroup // versions draining and closing
}

// New builds a localhost target from deps. deps.Fetcher and deps.Models
// (the process's model runtimes, serving/runtimes) may be nil for commands
// that only Init, Destroy or read state.
func New(deps target.Deps) (*Target, error) {
	timeout := DefaultReadyTimeout
	if d := deps.Config.Local.ReadyTimeout; d > 0 {
		timeout = d
	}
	m, err := newMetrics(deps.Metrics)
	if err != nil {
		return nil, err
	}
	t := &Target{
		cfg:          deps.Config,
		fetcher:      deps.Fetcher,
		models:       deps.Models,
		sink:         deps.Capture,
		metrics:      m,
		readyTimeout: timeout,
		log:          slog.Default().With("target", Kind),
		extra:        http.NewServeMux(),
		versions:     map[model.VersionRef]*version{},
		routes:       map[model.EndpointKey]*route{},
		names:        map[string]model.EndpointKey{},
	}
	port := deps.Config.Port
	if port == 0 {
		port = 3000
	}
	t.SetAddr(net.JoinHostPort("", strconv.Itoa(port)))
	t.table.Store(&table{})
	return t, nil
}

// Name implements target.Target.
func (t *Target) Name() string { return Kind }

// SetAddr tells the target the address the router listens on (the run
// command's --addr, or the listener's actual address when the port was 0);
// URL builds endpoint URLs from it. An unspecified host means 127.0.0.1.
func (t *Target) SetAddr(addr string) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "3000")
	}
	a := netaddr.Dialable(addr)
	t.addr.Store(&a)
}

// URL implements target.Target: http://<host>:<port>/<model>/<slot>/invocations,
// with model and slot path-escaped.
func (t *Target) URL(key model.EndpointKey) string {
	return "http://" + *t.addr.Load() + "/" + url.PathEscape(key.Model) + "/" + url.PathEscape(key.Slot) + "/invocations"
}

// EndpointName is the SageMaker-style name of an endpoint: brdg-<model>-<slot>.
// Different keys can share a name (model "a-b" slot "c" and model "a" slot
// "b-c"); the router serves a name for the first key routed under it.
func EndpointName(key model.EndpointKey) string {
	return EndpointPrefix + key.Model + "-" + key.Slot
}

// ProcessBound implements target.ProcessBound: the models run inside (or
// under) the bridge run process and stop with it.
func (t *Target) ProcessBound() bool { return true }

// Invocations is what the target contributes to bridge run's front door:
// its invocation routes (paths ending in /invocations), nothing else.
func (t *Target) Invocations() http.Handler { return http.HandlerFunc(t.invoke) }

// Handler is the router: invocations, /ping, /healthz, /metrics and
// whatever was mounted with Handle.
func (t *Target) Handler() http.Handler { return t }

// Handle mounts h on the router for pattern (http.ServeMux syntax), e.g.
// "POST /hooks/registry". Invocation paths (.../invocations) always go to
// endpoints.
func (t *Target) Handle(pattern string, h http.Handler) { t.extra.Handle(pattern, h) }

// Close stops serving: every endpoint is removed, in-flight requests finish,
// then every model is closed. Shut the HTTP server down first so no new
// requests arrive.
func (t *Target) Close(ctx context.Context) error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		t.retiring.Wait()
		return nil
	}
	t.closed = true
	t.routes = map[model.EndpointKey]*route{}
	t.names = map[string]model.EndpointKey{}
	t.table.Store(&table{})
	vs := make([]*version, 0, len(t.versions))
	for _, v := range t.versions {
		vs = append(vs, v)
	}
	t.versions = map[model.VersionRef]*version{}
	t.mu.Unlock()
	for _, v := range vs {
		t.retire(v)
	}
	done := make(chan struct{})
	go func() { t.retiring.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close localhost target: models still draining: %w", ctx.Err())
	}
}

// logDir is where subprocess runtimes write their output.
func (t *Target) logDir() string { return filepath.Join(t.home(), "logs") }

func (t *Target) home() string {
	if t.cfg.Home == "" {
		return ".bridge"
	}
	return t.cfg.Home
}

func (t *Target) cacheDir() string {
	if t.cfg.ModelCache == "" {
		return filepath.Join(t.home(), "cache")
	}
	return t.cfg.ModelCache
}

// errClosed is returned by control-plane calls after Close.
var errClosed = errors.New("localhost target is closed")
