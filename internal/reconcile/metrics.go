package reconcile

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the loop's Prometheus collectors.
type metrics struct {
	passes   prometheus.Counter
	duration prometheus.Histogram
	failures *prometheus.CounterVec // by stage: registry, target, action, tags
	actions  *prometheus.CounterVec // by kind and result (ok, error, skipped)
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		passes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bridge_reconcile_passes_total",
			Help: "Reconcile passes run.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "bridge_reconcile_pass_duration_seconds",
			Help:    "Duration of reconcile passes.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_reconcile_failures_total",
			Help: "Reconcile failures by stage: registry (reading it), target (observing it), action (applying one), tags (writing deploy tags).",
		}, []string{"stage"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_reconcile_actions_total",
			Help: "Actions applied to the deploy target by kind and result (ok, error, skipped).",
		}, []string{"kind", "result"}),
	}
	if reg != nil {
		m.passes = register(reg, m.passes)
		m.duration = register(reg, m.duration)
		m.failures = register(reg, m.failures)
		m.actions = register(reg, m.actions)
	}
	return m
}

// register adds c to reg, or returns the collector already registered under
// the same name (several loops sharing one registry, as in tests).
func register[C prometheus.Collector](reg *prometheus.Registry, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		// A conflicting definition is a programming error.
		panic(err)
	}
	return c
}
