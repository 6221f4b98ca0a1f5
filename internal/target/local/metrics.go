package local

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/promreg"
)

// metrics are the router's Prometheus collectors.
type metrics struct {
	requests *prometheus.CounterVec   // per endpoint and version
	errors   *prometheus.CounterVec   // per endpoint, version and status code
	latency  *prometheus.HistogramVec // per endpoint and version
	rejected *prometheus.CounterVec   // answered by the router itself, per status code
	loads    *prometheus.CounterVec   // model loads by result
	unloads  prometheus.Counter
	loaded   prometheus.Gauge
	handler  http.Handler // GET /metrics
}

// latencyBuckets span in-process models (tens of microseconds) to slow
// subprocess ones (seconds).
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	labels := []string{"model", "slot", "version"}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_invocations_total",
			Help: "Invocations answered by a model version, per endpoint (model, slot) and version.",
		}, labels),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_invocation_errors_total",
			Help: "Invocations a model version answered with a 4xx or 5xx status, per endpoint, version and status code.",
		}, append(labels, "code")),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bridge_invocation_duration_seconds",
			Help:    "Time from routing an invocation to its answer, per endpoint and version.",
			Buckets: latencyBuckets,
		}, labels),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_router_rejected_total",
			Help: "Invocations the router answered itself (unknown endpoint, body too large, wrong method, shutting down), per status code.",
		}, []string{"code"}),
		loads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_model_loads_total",
			Help: "Model version loads, by result (ok, error).",
		}, []string{"result"}),
		unloads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bridge_model_unloads_total",
			Help: "Model versions drained and closed.",
		}),
		loaded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bridge_models_loaded",
			Help: "Model versions loaded now.",
		}),
	}
	var err error
	m.requests = register(reg, m.requests, &err)
	m.errors = register(reg, m.errors, &err)
	m.latency = register(reg, m.latency, &err)
	m.rejected = register(reg, m.rejected, &err)
	m.loads = register(reg, m.loads, &err)
	m.unloads = register(reg, m.unloads, &err)
	m.loaded = register(reg, m.loaded, &err)
	if err != nil {
		return nil, fmt.Errorf("register localhost metrics: %w", err)
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m, nil
}

// register registers c, or returns the collector already registered under
// its name (a second target on one registry shares the series); the first
// error is kept in errp.
func register[C prometheus.Collector](reg *prometheus.Registry, c C, errp *error) C {
	c, err := promreg.Register(reg, c)
	if err != nil && *errp == nil {
		*errp = err
	}
	return c
}

// forget drops the series of one version behind one endpoint.
func (m *metrics) forget(key model.EndpointKey, version string) {
	lv := prometheus.Labels{"model": key.Model, "slot": key.Slot, "version": version}
	m.requests.Delete(lv)
	m.latency.Delete(lv)
	m.errors.DeletePartialMatch(lv)
}

// statusLabels caches the code label values.
var statusLabels = func() [600]string {
	var s [600]string
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func codeLabel(code int) string {
	if code >= 0 && code < len(statusLabels) {
		return statusLabels[code]
	}
	return strconv.Itoa(code)
}
