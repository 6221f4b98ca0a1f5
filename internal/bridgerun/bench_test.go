package bridgerun_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/bridgerun/runtest"
	"github.com/bridgeops/bridge/internal/model"
)

// BenchmarkRegistryChangeToServing measures, over 20 swaps, how long it
// takes from a registry change to the new version answering on its
// endpoint, through bridge run's real parts on loopback (embedded registry
// API, change notifications, reconcile loop, localhost target, native
// runtime). Each swap registers a new version and moves it to Production
// with archive_existing_versions; a client polls the Production endpoint
// until the X-Bridge-Model-Version header names the new version.
//
//   - p50-ms, p90-ms: from the create-version request (register, load,
//     promote, route);
//   - promote-p50-ms, promote-p90-ms: from the transition-stage request.
func BenchmarkRegistryChangeToServing(b *testing.B) {
	const swaps = 20
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c := runtest.Config(b)
		a := runtest.Start(b, c)
		reg := runtest.MLflowREST{T: b, Base: a.RegistryURL()}
		hc := &http.Client{Timeout: 10 * time.Second}
		u := a.RouterURL() + "/swap/Production/invocations"
		reg.CreateModel("swap")
		v := reg.CreateVersion("swap", runtest.LinearModel(b, []float64{1}, 0))
		reg.Transition("swap", v, model.StageProduction, true)
		waitVersion(b, hc, u, v)
		var full, promote []time.Duration
		b.StartTimer()
		for s := 0; s < swaps; s++ {
			src := runtest.LinearModel(b, []float64{float64(s + 2)}, 0)
			start := time.Now()
			v = reg.CreateVersion("swap", src)
			promoted := time.Now()
			reg.Transition("swap", v, model.StageProduction, true)
			waitVersion(b, hc, u, v)
			full = append(full, time.Since(start))
			promote = append(promote, time.Since(promoted))
		}
		b.StopTimer()
		b.ReportMetric(ms(percentile(full, 50)), "p50-ms")
		b.ReportMetric(ms(percentile(full, 90)), "p90-ms")
		b.ReportMetric(ms(percentile(promote, 50)), "promote-p50-ms")
		b.ReportMetric(ms(percentile(promote, 90)), "promote-p90-ms")
		a.Stop()
		a.Wait()
	}
}

// waitVersion polls u until version v answers; every answer must be a
// success.
func waitVersion(b *testing.B, hc *http.Client, u string, v int) {
	b.Helper()
	want := fmt.Sprint(v)
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _, got, err := runtest.Invoke(hc, u, [][]float64{{1}})
		if err == nil && code == 200 && got == want {
			return
		}
		if err == nil && code != 200 && code != http.StatusNotFound {
			b.Fatalf("endpoint answered %d while waiting for version %d", code, v)
		}
		if time.Now().After(deadline) {
			b.Fatalf("version %d never answered (last: %d %q %v)", v, code, got, err)
		}
		time.Sleep(time.Millisecond)
	}
}

func percentile(ds []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)*p/100]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
