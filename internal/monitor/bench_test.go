package monitor

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/monitor/source"
)

// benchWorld writes n captured records (CSV in and out) spread over one
// hour in files of 50,000 records, with ground truth for each.
func benchWorld(b testing.TB, n int) *world {
	b.Helper()
	w := newWorld(b, 10) // baselines; its own captures are in other hours
	w.capDir = filepath.Join(w.dir, "bench-capture")
	w.gtDir = filepath.Join(w.dir, "bench-gt")
	rng := rand.New(rand.NewPCG(7, 7))
	hour := w.hourA.Add(24 * time.Hour)
	w.hourA = hour
	capDir := filepath.Join(w.capDir, endpoint, "v1", source.HourPath(hour))
	gtDir := filepath.Join(w.gtDir, source.HourPath(hour))
	os.MkdirAll(capDir, 0o755)
	os.MkdirAll(gtDir, 0o755)
	var line, gline []byte
	plans := []string{"basic", "plus", "gold"}
	const perFile = 50000
	for f := 0; f*perFile < n; f++ {
		cf, err := os.Create(filepath.Join(capDir, fmt.Sprintf("%05d.jsonl", f)))
		if err != nil {
			b.Fatal(err)
		}
		gf, err := os.Create(filepath.Join(gtDir, fmt.Sprintf("%05d.jsonl", f)))
		if err != nil {
			b.Fatal(err)
		}
		cw, gw := bufio.NewWriterSize(cf, 1<<20), bufio.NewWriterSize(gf, 1<<20)
		for i := f * perFile; i < n && i < (f+1)*perFile; i++ {
			income := 50000 + rng.NormFloat64()*8000
			p := 1 / (1 + math.Exp((income-50000)/4000))
			id := "inf-" + strconv.Itoa(i)
			line = capture.AppendLine(line[:0], &capture.Record{EventID: capture.NewID(), InferenceID: id,
				Time: hour.Add(time.Duration(i) * time.Hour / time.Duration(n)), InputContentType: "text/csv",
				Input:             []byte(fmt.Sprintf("%d,%.2f,%s", 18+rng.IntN(60), income, plans[rng.IntN(3)])),
				OutputContentType: "text/csv", Output: []byte(strconv.FormatFloat(p, 'f', 4, 64))})
			cw.Write(line)
			label := "0"
			if rng.Float64() < p {
				label = "1"
			}
			gline = capture.AppendGroundTruthLine(gline[:0], &capture.GroundTruth{EventID: id, Data: []byte(label)})
			gw.Write(gline)
		}
		cw.Flush()
		gw.Flush()
		cf.Close()
		gf.Close()
	}
	return w
}

// peakHeap samples the heap's object bytes until stop is called, through
// runtime/metrics: runtime.ReadMemStats would stop the world every sample
// and preempt the workers being measured.
func peakHeap() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

// BenchmarkMonitorRun measures monitoring throughput on windows of captured
// records (model quality merges ground truth for every record) and the
// peak heap, which the sketches bound rather than the window's size.
//
//	go test -run '^$' -bench MonitorRun -benchtime 1x ./internal/monitor/
func BenchmarkMonitorRun(b *testing.B) {
	for _, n := range []int{250_000, 1_000_000} {
		w := benchWorld(b, n)
		for _, typ := range []string{DataQuality, ModelQuality} {
			b.Run(fmt.Sprintf("%s/records=%d", typ, n), func(b *testing.B) {
				j := w.job(typ, w.hourA, filepath.Join(b.TempDir(), "out"))
				var rep *Report
				runtime.GC()
				stop := peakHeap()
				cpu0 := cpuTime()
				start := time.Now()
				for i := 0; i < b.N; i++ {
					var err error
					if rep, err = Run(context.Background(), j); err != nil {
						b.Fatal(err)
					}
				}
				el := time.Since(start)
				cpu := cpuTime() - cpu0
				peak := stop()
				if rep.Rows != int64(n) {
					b.Fatalf("%d rows evaluated, want %d", rep.Rows, n)
				}
				b.ReportMetric(float64(n)*float64(b.N)/el.Seconds(), "records/s")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
				// CPU seconds are what a shared machine cannot steal: on an
				// idle machine wall-clock throughput approaches
				// records/cpu-s times the cores used.
				b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "records/cpu-s")
				if typ == ModelQuality {
					b.ReportMetric(boolFloat(rep.Spilled), "spilled")
					b.ReportMetric(float64(rep.JoinMemory)/(1<<20), "join-table-MiB")
				}
			})
		}
	}
}

func boolFloat(v bool) float64 {
	if v {
		return 1
	}
	return 0
}

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
