// Package frontdoor is bridge run's one HTTP server handler: it owns the
// process's own routes and mounts the rest.
//
//	GET  /healthz, /ping   the process is alive (always 200 while it serves)
//	GET  /readyz           200 when the last reconcile pass succeeded and
//	                       every desired endpoint is served, 503 and the
//	                       reason otherwise
//	GET  /metrics          Prometheus metrics of every part
//	GET  /status           what bridge status and bridge plan read
//	POST /hooks/registry   wake the reconcile loop (202)
//	.../invocations        the deploy target's invocation routes, if it
//	                       serves any (localhost)
//
// The routes mean the same on every deploy target. A new page (the web
// dashboard at /ui/) is one Handle call in the wiring.
package frontdoor

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options are what the front door serves. Metrics, Ready and Status are
// required.
type Options struct {
	// Target is the deploy target's kind, reported by /healthz and /readyz.
	Target string
	// Metrics is gathered by GET /metrics.
	Metrics prometheus.Gatherer
	// Ready says whether the process is ready (nil) or why not.
	Ready func() error
	// Status answers GET /status.
	Status http.Handler
	// Wake is called by POST /hooks/registry; nil disables the route.
	Wake func()
	// Invocations serves every path ending in /invocations (the target's
	// endpoints); nil means the target serves none here (SageMaker).
	Invocations http.Handler
}

// Door is the front door's handler.
type Door struct {
	opts    Options
	mux     *http.ServeMux
	started time.Time
}

// New returns the front door with its own routes mounted.
func New(o Options) *Door {
	d := &Door{opts: o, mux: http.NewServeMux(), started: time.Now()}
	d.mux.HandleFunc("GET /healthz", d.healthz)
	d.mux.HandleFunc("GET /ping", d.healthz)
	d.mux.HandleFunc("GET /readyz", d.readyz)
	d.mux.Handle("GET /metrics", promhttp.HandlerFor(o.Metrics, promhttp.HandlerOpts{}))
	d.mux.Handle("GET /status", o.Status)
	if o.Wake != nil {
		d.mux.HandleFunc("POST /hooks/registry", d.hook)
	}
	return d
}

// Handle mounts h for pattern (http.ServeMux syntax), e.g. "/ui/". Paths
// ending in /invocations always go to the target.
func (d *Door) Handle(pattern string, h http.Handler) { d.mux.Handle(pattern, h) }

// ServeHTTP routes a request.
func (d *Door) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/invocations") && d.opts.Invocations != nil {
		d.opts.Invocations.ServeHTTP(w, r)
		return
	}
	if _, pattern := d.mux.Handler(r); pattern == "" && !d.otherMethod(r) {
		writeJSON(w, http.StatusNotFound, map[string]string{
			"error_code": "ENDPOINT_NOT_FOUND",
			"message":    fmt.Sprintf("no such path %s: see GET /status for the endpoints served", r.URL.Path),
		})
		return
	}
	d.mux.ServeHTTP(w, r)
}

// otherMethod reports whether r's path is served for another method (the
// mux answers 405 then).
func (d *Door) otherMethod(r *http.Request) bool {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := d.mux.Handler(probe); pattern != "" {
			return true
		}
	}
	return false
}

func (d *Door) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "alive", "target": d.opts.Target, "since": d.started.UTC()})
}

func (d *Door) readyz(w http.ResponseWriter, r *http.Request) {
	if err := d.opts.Ready(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "target": d.opts.Target, "reason": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "target": d.opts.Target})
}

// hook wakes the loop. Waking is harmless (a pass acts on observed state
// only) and coalesced, so the hook takes no body and no credentials.
func (d *Door) hook(w http.ResponseWriter, r *http.Request) {
	d.opts.Wake()
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "reconcile pass scheduled"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
