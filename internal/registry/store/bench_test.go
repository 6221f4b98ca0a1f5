package store

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// BenchmarkCreateModelVersion measures version creations per second from
// one writer (each a committed transaction).
func BenchmarkCreateModelVersion(b *testing.B) {
	s, err := Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.CreateRegisteredModel(ctx, "m", "", nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := s.CreateModelVersion(ctx, VersionSpec{Name: "m", Source: "s3://bucket/model"}); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuTime() - c0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "versions/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
}

// Seed10k fills s with 100 models × 100 versions, with stages, aliases and
// two tags per version.
func seed10k(b *testing.B, s *Store) {
	ctx := context.Background()
	for m := 0; m < 100; m++ {
		name := fmt.Sprintf("model-%03d", m)
		if _, err := s.CreateRegisteredModel(ctx, name, "", nil); err != nil {
			b.Fatal(err)
		}
		for v := 1; v <= 100; v++ {
			if _, err := s.CreateModelVersion(ctx, VersionSpec{Name: name, Source: fmt.Sprintf("s3://bucket/%s/%d", name, v), RunID: fmt.Sprintf("run%d", v),
				Tags: map[string]string{"bridge_deploy_state": "DEPLOYED", "team": "ml"}}); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.TransitionStage(ctx, name, 90, "Production", false); err != nil {
			b.Fatal(err)
		}
		if err := s.SetAlias(ctx, name, "champion", 95); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVersions10k measures Registry.Versions (run on every reconcile
// pass) at 10,000 versions: "full" as a store with nothing cached reads
// them, "one-model-changed" after a tag was set on one model, "unchanged"
// from the cache. cpu-ms is the process's CPU time per call, less sensitive
// than wall time to other load on the machine.
func BenchmarkVersions10k(b *testing.B) {
	s, err := Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	seed10k(b, s)
	ctx := context.Background()
	for _, mode := range []string{"full", "one-model-changed", "unchanged"} {
		b.Run(mode, func(b *testing.B) {
			var cpu time.Duration
			for i := 0; i < b.N; i++ {
				switch mode {
				case "full":
					s.cacheMu.Lock()
					s.cache = nil
					s.cacheMu.Unlock()
				case "one-model-changed":
					b.StopTimer()
					if err := s.SetModelVersionTag(ctx, "model-000", 1, "n", fmt.Sprint(i)); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				c0 := cpuTime()
				vs, err := s.Versions(ctx)
				cpu += cpuTime() - c0
				if err != nil {
					b.Fatal(err)
				}
				if len(vs) != 10000 {
					b.Fatalf("got %d versions", len(vs))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/call")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/call")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
