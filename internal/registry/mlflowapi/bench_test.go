package mlflowapi

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/registry/store"
)

// serveHomeEnv makes the test binary serve the registry in that home (the
// server subprocess of BenchmarkServerRSS10k).
const serveHomeEnv = "BRIDGE_MLFLOWAPI_BENCH_SERVE_HOME"

func TestMain(m *testing.M) {
	if home := os.Getenv(serveHomeEnv); home != "" {
		os.Exit(serveForBenchmark(home))
	}
	os.Exit(m.Run())
}

// serveForBenchmark serves the registry in home on a loopback port, prints
// "ADDR host:port", and stops when its standard input closes.
func serveForBenchmark(home string) int {
	st, err := store.Open(context.Background(), home)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer st.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv := &http.Server{Handler: New(st, Options{})}
	go srv.Serve(ln)
	fmt.Printf("ADDR %s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin)
	srv.Close()
	return 0
}

// seed fills st with models × versions, each version with two tags, one
// Production version and one alias per model.
func seed(b *testing.B, st *store.Store, models, versions int) {
	b.Helper()
	ctx := context.Background()
	for m := 0; m < models; m++ {
		name := fmt.Sprintf("model-%03d", m)
		if _, err := st.CreateRegisteredModel(ctx, name, "", nil); err != nil {
			b.Fatal(err)
		}
		for v := 1; v <= versions; v++ {
			if _, err := st.CreateModelVersion(ctx, store.VersionSpec{Name: name, Source: fmt.Sprintf("s3://bucket/%s/%d", name, v),
				RunID: fmt.Sprintf("run-%d-%d", m, v), Tags: map[string]string{"bridge_deploy_state": "DEPLOYED", "team": "ml"}}); err != nil {
				b.Fatal(err)
			}
		}
		if versions < 2 {
			continue
		}
		if _, err := st.TransitionStage(ctx, name, versions-1, "Production", false); err != nil {
			b.Fatal(err)
		}
		if err := st.SetAlias(ctx, name, "champion", versions); err != nil {
			b.Fatal(err)
		}
	}
}

// latencies runs do b.N times and reports p50 and p99 in milliseconds.
func latencies(b *testing.B, do func(i int)) {
	b.Helper()
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		do(i)
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(ds[len(ds)/2]), "p50-ms")
	b.ReportMetric(ms(ds[len(ds)*99/100]), "p99-ms")
}

func httpGet(b *testing.B, hc *http.Client, u string) {
	resp, err := hc.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || n == 0 {
		b.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
}

func benchServer(b *testing.B, models, versions int) (*httptest.Server, *http.Client) {
	st, err := store.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	seed(b, st, models, versions)
	srv := httptest.NewServer(New(st, Options{}))
	b.Cleanup(func() { srv.Close(); st.Close() })
	return srv, srv.Client()
}

// BenchmarkSearchVersionsByName10k: model-versions/search?filter=name='…'
// over HTTP with 10,000 versions in the registry (100 models × 100
// versions; each answer holds one model's 100 versions).
func BenchmarkSearchVersionsByName10k(b *testing.B) {
	srv, hc := benchServer(b, 100, 100)
	latencies(b, func(i int) {
		f := url.QueryEscape(fmt.Sprintf("name = 'model-%03d'", i%100))
		httpGet(b, hc, srv.URL+"/api/2.0/mlflow/model-versions/search?filter="+f)
	})
}

// BenchmarkGetLatestVersions10k: registered-models/get-latest-versions over
// HTTP with 10,000 versions in the registry (100 models × 100 versions).
func BenchmarkGetLatestVersions10k(b *testing.B) {
	srv, hc := benchServer(b, 100, 100)
	latencies(b, func(i int) {
		httpGet(b, hc, fmt.Sprintf("%s/api/2.0/mlflow/registered-models/get-latest-versions?name=model-%03d", srv.URL, i%100))
	})
}

// BenchmarkOneModel10k: the worst case of one model holding all 10,000
// versions: get-latest-versions, and a search page of 100 by name.
func BenchmarkOneModel10k(b *testing.B) {
	srv, hc := benchServer(b, 1, 10000)
	b.Run("get-latest-versions", func(b *testing.B) {
		latencies(b, func(i int) {
			httpGet(b, hc, srv.URL+"/api/2.0/mlflow/registered-models/get-latest-versions?name=model-000")
		})
	})
	b.Run("search-page-100", func(b *testing.B) {
		latencies(b, func(i int) {
			httpGet(b, hc, srv.URL+"/api/2.0/mlflow/model-versions/search?max_results=100&filter="+url.QueryEscape("name='model-000'"))
		})
	})
}

// BenchmarkCreateVersionHTTP: model-versions/create over HTTP from one
// writer, each a committed transaction.
func BenchmarkCreateVersionHTTP(b *testing.B) {
	srv, hc := benchServer(b, 1, 0)
	body := `{"name": "model-000", "source": "s3://bucket/model"}`
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		resp, err := hc.Post(srv.URL+"/api/2.0/mlflow/model-versions/create", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("create: %d", resp.StatusCode)
		}
	}
	cpu := cpuTime() - c0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "versions/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op") // client and server
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkServerRSS10k measures the resident memory of a registry server
// process holding 10,000 versions after it answered every model's search,
// get-latest-versions and a full listing of all versions. It measures one
// server whatever b.N is.
func BenchmarkServerRSS10k(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc")
	}
	home := b.TempDir()
	st, err := store.Open(context.Background(), home)
	if err != nil {
		b.Fatal(err)
	}
	seed(b, st, 100, 100)
	st.Close()
	b.ResetTimer()
	{
		exe, err := os.Executable()
		if err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), serveHomeEnv+"="+home)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "ADDR ") {
			stdin.Close()
			cmd.Wait()
			b.Fatalf("server subprocess: %q %v", line, err)
		}
		base := "http://" + strings.TrimSpace(strings.TrimPrefix(line, "ADDR "))
		hc := &http.Client{Timeout: time.Minute}
		for m := 0; m < 100; m++ {
			f := url.QueryEscape(fmt.Sprintf("name = 'model-%03d'", m))
			httpGet(b, hc, base+"/api/2.0/mlflow/model-versions/search?filter="+f)
			httpGet(b, hc, fmt.Sprintf("%s/api/2.0/mlflow/registered-models/get-latest-versions?name=model-%03d", base, m))
		}
		httpGet(b, hc, base+"/api/2.0/mlflow/model-versions/search?max_results=10000")
		httpGet(b, hc, base+"/api/2.0/mlflow/registered-models/search?max_results=1000")
		rss, err := vmRSS(cmd.Process.Pid)
		stdin.Close()
		cmd.Wait()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(rss)/1024, "RSS-MB")
	}
}

// vmRSS returns a process's resident set size in KiB.
func vmRSS(pid int) (int, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			return strconv.Atoi(f[1])
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
