package sagemaker_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/awsfake"
)

// BenchmarkObserve measures one Observe of 150 endpoints against the fake
// over loopback: "steady" with a warm target (nothing changed since the
// last look), "cold" as a fresh process sees it. calls/op is the number of
// AWS requests per Observe.
func BenchmarkObserve(b *testing.B) {
	benchmarkObserve(b, 0)
}

// BenchmarkObserveLatency is BenchmarkObserve with 5ms added to every
// answer, a round trip to an AWS region nearby: it shows what the
// concurrent describes of a cold Observe save.
func BenchmarkObserveLatency(b *testing.B) {
	benchmarkObserve(b, 5*time.Millisecond)
}

func benchmarkObserve(b *testing.B, latency time.Duration) {
	h := newHarness(b, harnessOpts{fake: awsfake.Options{CreateDelay: time.Millisecond, DeleteDelay: time.Millisecond, Latency: latency}})
	if err := h.tgt.Init(h.ctx); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 150; i++ {
		h.register(fmt.Sprintf("m%03d", i))
	}
	h.converge(2 * time.Minute)
	for _, mode := range []string{"steady", "cold"} {
		b.Run(mode+"/150-endpoints", func(b *testing.B) {
			tgt := h.tgt
			calls := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if mode == "cold" {
					tgt = h.open()
				}
				mark := h.fake.Mark()
				b.StartTimer()
				act, err := tgt.Observe(h.ctx)
				b.StopTimer()
				if err != nil || len(act.Endpoints) != 150 {
					b.Fatalf("observe: %d endpoints, %v", len(act.Endpoints), err)
				}
				calls += len(h.fake.CallsSince(mark))
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
		})
	}
}
