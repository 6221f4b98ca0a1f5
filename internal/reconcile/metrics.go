package reconcile

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bridgeops/bridge/internal/promreg"
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
		// Several loops may share one registry (as in tests): they share
		// the series.
		m.passes = promreg.MustRegister(reg, m.passes)
		m.duration = promreg.MustRegister(reg, m.duration)
		m.failures = promreg.MustRegister(reg, m.failures)
		m.actions = promreg.MustRegister(reg, m.actions)
	}
	return m
}
