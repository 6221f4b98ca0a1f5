package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/bridgerun/runtest"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/registry/store"
)

var captureRound = flag.Duration("capture.round", 10*time.Second, "BenchmarkCaptureUnderLoad: length of one wrk round")

// seedNative registers source as name's version 1 in Production, straight
// into home's embedded store.
func seedNative(tb testing.TB, home, name, source string) {
	tb.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, home)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateRegisteredModel(ctx, name, "", nil); err != nil {
		tb.Fatal(err)
	}
	if _, err := st.CreateModelVersion(ctx, store.VersionSpec{Name: name, Source: source}); err != nil {
		tb.Fatal(err)
	}
	if _, err := st.TransitionStage(ctx, name, 1, model.StageProduction, false); err != nil {
		tb.Fatal(err)
	}
}

// bridgeServer is a bridge run process serving one native model.
type bridgeServer struct {
	cmd  *exec.Cmd
	home string
	url  string // the model's Production invocation URL
	log  *bytes.Buffer
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startBridgeServer starts the real binary on loopback with its own home,
// serving a native linear model as churn/Production, and waits until it
// answers.
func startBridgeServer(tb testing.TB, bin string, extra ...string) *bridgeServer {
	tb.Helper()
	home := tb.TempDir()
	seedNative(tb, home, "churn", runtest.LinearModel(tb, []float64{0.5, -0.25, 0.125}, 0.1))
	addr := freeAddr(tb)
	args := append([]string{"--home", home, "--log-level", "warn", "run", "--addr", addr, "--registry-addr", freeAddr(tb), "--monitor-schedules=false"}, extra...)
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BRIDGE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "BRIDGE_ENV_FILE=/nonexistent/.env")
	s := &bridgeServer{cmd: cmd, home: home, url: "http://" + addr + "/churn/Production/invocations", log: &bytes.Buffer{}}
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.stop() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Post(s.url, "text/csv", strings.NewReader("1,2,3"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("bridge run did not serve %s within 60 s: %v\n%s", s.url, err, s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the process with SIGTERM (bridge run flushes its capture) and
// waits for it.
func (s *bridgeServer) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// metric reads one Prometheus counter of the server (sum over labels).
func (s *bridgeServer) metric(tb testing.TB, name string) float64 {
	tb.Helper()
	resp, err := http.Get(strings.TrimSuffix(s.url, "/churn/Production/invocations") + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in`)
	wrkRate     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkErrors   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)|Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// runWrk loads url for d with 8 connections and returns the requests/s
// and the requests completed.
func runWrk(tb testing.TB, script, url string, d time.Duration) (rate float64, n int64) {
	tb.Helper()
	out, err := exec.Command("wrk", "-t", "2", "-c", "8", "-d", fmt.Sprintf("%ds", int(d.Seconds())), "-s", script, url).CombinedOutput()
	if err != nil {
		tb.Fatalf("wrk: %v\n%s", err, out)
	}
	m, r := wrkRequests.FindSubmatch(out), wrkRate.FindSubmatch(out)
	if m == nil || r == nil {
		tb.Fatalf("wrk output:\n%s", out)
	}
	if e := wrkErrors.Find(out); e != nil {
		tb.Fatalf("wrk saw errors: %s\n%s", e, out)
	}
	n, _ = strconv.ParseInt(string(m[1]), 10, 64)
	rate, _ = strconv.ParseFloat(string(r[1]), 64)
	return rate, n
}

// BenchmarkCaptureUnderLoad measures what data capture costs a saturated
// bridge run, from outside: two bridge run processes (the real binary)
// serve the same native model on loopback, one with --capture (every
// request, both halves), one without; wrk (2 threads, 8 connections, CSV
// POSTs with an inference id) loads them in alternating rounds of
// -capture.round (default 10 s), three each with the order swapped every
// round, and the medians are compared.
// After the rounds the capturing process is stopped (flushing its files)
// and its captured records counted: none may be lost while the queue has
// room (every answered request, plus any answered after wrk's count ended).
//
//	go test -run '^$' -bench CaptureUnderLoad -benchtime 1x ./cmd/bridge/
func BenchmarkCaptureUnderLoad(b *testing.B) {
	if _, err := exec.LookPath("wrk"); err != nil {
		b.Skip("wrk is not installed (apt-get install wrk)")
	}
	round := *captureRound
	bin := benchBinary(b)
	script := filepath.Join(b.TempDir(), "post.lua")
	runtest.WriteFile(b, script, `wrk.method = "POST"
wrk.body = "0.5,1.25,3"
wrk.headers["Content-Type"] = "text/csv"
local n = 0
request = function()
  n = n + 1
  wrk.headers["X-Amzn-SageMaker-Inference-Id"] = "req-" .. n
  return wrk.format()
end
`)
	off := startBridgeServer(b, bin)
	on := startBridgeServer(b, bin, "--capture")
	runWrk(b, script, off.url, time.Second) // warm both up
	runWrk(b, script, on.url, time.Second)
	var offRates, onRates []float64
	var onServed int64
	b.ResetTimer()
	for i := 0; i < 3; i++ {
		// Alternate which process goes first, so neither always runs on
		// the machine the other has just warmed (or heated).
		runOff := func() { r, _ := runWrk(b, script, off.url, round); offRates = append(offRates, r) }
		runOn := func() { r, n := runWrk(b, script, on.url, round); onRates = append(onRates, r); onServed += n }
		if i%2 == 0 {
			runOff()
			runOn()
		} else {
			runOn()
			runOff()
		}
	}
	b.StopTimer()
	dropped := on.metric(b, "bridge_capture_dropped_total")
	records := on.metric(b, "bridge_capture_records_total")
	on.stop()
	captured := countLines(b, filepath.Join(on.home, "datacapture"))
	median := func(v []float64) float64 { s := append([]float64(nil), v...); sort.Float64s(s); return s[len(s)/2] }
	offM, onM := median(offRates), median(onRates)
	b.ReportMetric(offM, "off-req/s")
	b.ReportMetric(onM, "on-req/s")
	b.ReportMetric(onM/offM, "on/off")
	b.ReportMetric(100*(1-onM/offM), "overhead-%")
	b.ReportMetric(dropped, "dropped")
	b.ReportMetric(float64(captured), "captured")
	b.ReportMetric(float64(onServed), "served")
	// Warm-up requests and the rounds' requests are all captured; wrk
	// counts only responses it read before its deadline.
	if dropped == 0 && int64(captured) < onServed {
		b.Errorf("%d records captured of %d requests served (dropped %v, counted %v)", captured, onServed, dropped, records)
	}
}

// benchBinary builds the bridge command once per benchmark.
func benchBinary(b *testing.B) string {
	path := filepath.Join(b.TempDir(), "bridge")
	out, err := exec.Command("go", "build", "-o", path, ".").CombinedOutput()
	if err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return path
}

func countLines(tb testing.TB, dir string) int {
	n := 0
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(p, ".jsonl") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		n += bytes.Count(b, []byte{'\n'})
		return nil
	})
	return n
}
