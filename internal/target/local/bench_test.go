package local

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/serving"
)

// irisJSON is a multinomial logistic regression over 4 features and 3
// classes, the shape of the classic iris model.
const irisJSON = `{"kind": "logistic_regression",
 "coefficients": [[-0.42, 0.97, -2.52, -1.08], [0.53, -0.32, -0.21, -0.94], [-0.11, -0.65, 2.73, 2.02]],
 "intercepts": [9.85, 2.23, -12.08], "classes": ["setosa", "versicolor", "virginica"]}`

const benchBody = `{"dataframe_split": {"columns": ["sepal_length", "sepal_width", "petal_length", "petal_width"], "data": [[5.1, 3.5, 1.4, 0.2]]}}`

// loadResult is what one load run measured.
type loadResult struct {
	requests int
	elapsed  time.Duration
	lat      []time.Duration
}

func (r loadResult) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

func (r loadResult) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	s := slices.Clone(r.lat)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// runLoad sends POSTs of body to url from clients concurrent keep-alive
// connections for d, and measures every request.
func runLoad(tb testing.TB, url string, body []byte, clients int, d time.Duration) loadResult {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var mu sync.Mutex
	var res loadResult
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					tb.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					tb.Errorf("status %d", resp.StatusCode)
					return
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.requests = len(res.lat)
	return res
}

// benchServers starts a plain net/http server running the native model's
// handler directly and the router serving the same model on an endpoint.
func benchServers(b *testing.B) (plainURL, routerURL string) {
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "MLmodel"), []byte("flavors:\n  bridge_linear:\n    data: model.json\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "model.json"), []byte(irisJSON), 0o644)
	m, err := newModels(b).Load(context.Background(), serving.LoadSpec{Name: "iris", Version: 1, Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		m.ServeHTTP(w, r)
	}))
	b.Cleanup(plain.Close)

	e := newEnv(b, nil)
	e.f.mu.Lock()
	e.f.dirs = map[string]string{"iris": dir}
	e.f.mu.Unlock()
	e.deploy(b, prod, map[int]string{1: "iris"})
	return plain.URL + "/invocations", e.srv.URL + "/houses/Production/invocations"
}

// BenchmarkRouterVsPlain measures the router against a plain net/http
// handler computing the same prediction (the native model's handler),
// with the same in-process load generator: BENCH_CLIENTS concurrent
// keep-alive clients (default 16), rounds of BENCH_ROUND_MS (default 1000)
// that alternate between the two servers, BENCH_ROUNDS (default 10) each.
// Alternating short rounds spreads the load of a shared machine over both;
// median-round-ratio is the median of the per-round-pair ratios. It sizes
// itself; run it with -benchtime 1x.
func BenchmarkRouterVsPlain(b *testing.B) {
	clients := envInt("BENCH_CLIENTS", 16)
	rounds := envInt("BENCH_ROUNDS", 10)
	round := time.Duration(envInt("BENCH_ROUND_MS", 1000)) * time.Millisecond
	plainURL, routerURL := benchServers(b)
	body := []byte(benchBody)
	runLoad(b, plainURL, body, clients, round/4) // warm up both
	runLoad(b, routerURL, body, clients, round/4)
	b.ResetTimer()
	var plain, router loadResult
	var ratios []float64 // router/plain requests/s of each pair of rounds
	for range b.N {
		for range rounds {
			var rps [2]float64
			for i, x := range []struct {
				url string
				acc *loadResult
			}{{plainURL, &plain}, {routerURL, &router}} {
				r := runLoad(b, x.url, body, clients, round)
				x.acc.requests += r.requests
				x.acc.elapsed += r.elapsed
				x.acc.lat = append(x.acc.lat, r.lat...)
				rps[i] = r.rps()
			}
			ratios = append(ratios, rps[1]/rps[0])
		}
	}
	b.StopTimer()
	slices.Sort(ratios)
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	b.ReportMetric(plain.rps(), "plain-req/s")
	b.ReportMetric(router.rps(), "router-req/s")
	b.ReportMetric(router.rps()/plain.rps(), "ratio")
	b.ReportMetric(ratios[len(ratios)/2], "median-round-ratio")
	b.ReportMetric(us(plain.pct(0.5)), "plain-p50-µs")
	b.ReportMetric(us(router.pct(0.5)), "router-p50-µs")
	b.ReportMetric(us(plain.pct(0.99)), "plain-p99-µs")
	b.ReportMetric(us(router.pct(0.99)), "router-p99-µs")
	b.ReportMetric(0, "ns/op")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkHandler measures one invocation in-process, without the
// network: the native model's handler alone, behind the router, and behind
// a router capturing both halves of every invocation into a sink that
// drops the records (the router's share of capture's cost; the capture
// writer's is BenchmarkCapture in internal/capture).
func BenchmarkHandler(b *testing.B) {
	e := newEnv(b, nil)
	e.f.add(b, "iris", "bridge_linear", irisJSON)
	e.deploy(b, prod, map[int]string{1: "iris"})
	model := e.t.table.Load().byKey[prod].backends[0].v.model
	ds := &discardSink{}
	ec := newEnv(b, ds)
	ec.f.add(b, "iris", "bridge_linear", irisJSON)
	ec.deploy(b, prod, map[int]string{1: "iris"})
	for _, tc := range []struct {
		name string
		h    http.Handler
		path string
	}{
		{"model", model, "/invocations"},
		{"router", e.t, "/houses/Production/invocations"},
		{"router-capture", ec.t, "/houses/Production/invocations"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			w := &nullWriter{h: http.Header{}}
			body := bytes.NewReader([]byte(benchBody))
			req := httptest.NewRequest(http.MethodPost, tc.path, nil)
			req.Header.Set("Content-Type", "application/json")
			b.ReportAllocs()
			cpu := benchCPU(b)
			for b.Loop() {
				body.Seek(0, io.SeekStart)
				req.Body = io.NopCloser(body)
				req.ContentLength = int64(len(benchBody)) // as a client sends it
				clear(w.h)
				w.code = 0
				tc.h.ServeHTTP(w, req)
				if w.code != 200 {
					b.Fatalf("status %d", w.code)
				}
			}
			// CPU time per invocation: steadier than ns/op on a shared machine.
			b.ReportMetric(float64((benchCPU(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
			if tc.h == ec.t && ds.n.Load() == 0 {
				b.Fatal("no complete record captured")
			}
		})
	}
}

// benchCPU returns the CPU time (user and system) the process has used.
func benchCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// discardSink captures both halves of every invocation and drops the
// records, counting them.
type discardSink struct{ n atomic.Int64 }

func (s *discardSink) Want(string) (bool, bool) { return true, true }
func (s *discardSink) Capture(r capture.Record) {
	if len(r.Input) == len(benchBody) && len(r.Output) > 0 {
		s.n.Add(1)
	}
}

type nullWriter struct {
	h    http.Header
	code int
}

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nullWriter) WriteHeader(code int)        { w.code = code }
