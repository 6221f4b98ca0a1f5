package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegisterShares(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "promreg_test_total", Help: "Test counter."}
	first, err := Register(reg, prometheus.NewCounterVec(opts, []string{"kind"}))
	if err != nil {
		t.Fatal(err)
	}
	second := MustRegister(reg, prometheus.NewCounterVec(opts, []string{"kind"}))
	if second != first {
		t.Fatal("the second registration did not return the registered collector")
	}
	first.WithLabelValues("a").Inc()
	second.WithLabelValues("a").Inc()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(fams) != 1 || len(fams[0].GetMetric()) != 1 {
		t.Fatalf("gathered %v, want one series", fams)
	}
	if got := fams[0].GetMetric()[0].GetCounter().GetValue(); got != 2 {
		t.Fatalf("shared counter = %v, want 2", got)
	}
}

func TestRegisterConflict(t *testing.T) {
	tests := []struct {
		name   string
		second prometheus.Collector
	}{
		{"other labels", prometheus.NewCounterVec(prometheus.CounterOpts{Name: "promreg_conflict_total", Help: "Test counter."}, []string{"other"})},
		{"other help", prometheus.NewCounterVec(prometheus.CounterOpts{Name: "promreg_conflict_total", Help: "Another help."}, []string{"kind"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			MustRegister(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "promreg_conflict_total", Help: "Test counter."}, []string{"kind"}))
			got, err := Register(reg, tt.second)
			if err == nil {
				t.Fatal("a conflicting definition registered without an error")
			}
			if got != tt.second {
				t.Fatal("Register did not return the collector it was given on an error")
			}
			defer func() {
				if recover() == nil {
					t.Fatal("MustRegister did not panic on a conflicting definition")
				}
			}()
			MustRegister(reg, tt.second)
		})
	}
}
