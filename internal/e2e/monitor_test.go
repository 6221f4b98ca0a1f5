package e2e

// End-to-end test of model monitoring on localhost: a model registered in
// the embedded registry is deployed by the reconcile loop behind the
// localhost router with data capture on; a few thousand requests with
// inference ids are captured; ground truth arrives for them (the second
// half drifted); the monitoring schedules' execution function evaluates an
// undrifted and a drifted window against baselines built from training
// data.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/bridgeops/bridge/internal/artifact"
	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/monitor"
	"github.com/bridgeops/bridge/internal/monitor/schedule"
	"github.com/bridgeops/bridge/internal/monitor/schema"
	"github.com/bridgeops/bridge/internal/monitor/source"
	"github.com/bridgeops/bridge/internal/reconcile"
	"github.com/bridgeops/bridge/internal/registry/mlflow"
	"github.com/bridgeops/bridge/internal/registry/mlflowapi"
	"github.com/bridgeops/bridge/internal/registry/store"
	"github.com/bridgeops/bridge/internal/serving/runtimes"
	"github.com/bridgeops/bridge/internal/target"
	"github.com/bridgeops/bridge/internal/target/local"
)

// monBridge is bridge run's parts with capture on, on loopback.
type monBridge struct {
	home    string
	store   *store.Store
	client  *mlflow.Client
	router  *httptest.Server
	capture *capture.Writer
	metrics *prometheus.Registry
}

func startMonBridge(t *testing.T) *monBridge {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b := &monBridge{home: t.TempDir(), metrics: prometheus.NewRegistry()}
	var err error
	if b.store, err = store.Open(ctx, b.home); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(mlflowapi.New(b.store, mlflowapi.Options{}))
	b.client = mlflow.NewClient(api.URL, "", nil)
	b.capture, err = capture.NewWriter(capture.WriterConfig{Root: filepath.Join(b.home, "datacapture"),
		Default: capture.DefaultEndpointConfig(), Metrics: b.metrics})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{Home: b.home, ModelCache: filepath.Join(b.home, "cache")}
	fetcher := artifact.New(artifact.Options{CacheDir: cfg.ModelCache, TrackingURI: api.URL})
	tgt, err := target.New(ctx, local.Kind, target.Deps{Config: cfg, Fetcher: fetcher, Metrics: b.metrics, Capture: b.capture, Models: newModels(t)})
	if err != nil {
		t.Fatal(err)
	}
	lt := tgt.(*local.Target)
	b.router = httptest.NewServer(lt.Handler())
	lt.SetAddr(b.router.Listener.Addr().String())
	rec, err := reconcile.New(reconcile.Options{Registry: b.store, Target: lt, Interval: 250 * time.Millisecond,
		BackoffBase: 200 * time.Millisecond, BackoffMax: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); rec.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		b.router.Close()
		lt.Close(context.Background())
		b.capture.Close(context.Background())
		api.Close()
		b.store.Close()
	})
	return b
}

// deploy registers a linear model y = 2*x1 - x2 + 3 as churn/Production.
func (b *monBridge) deploy(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "model.json"), []byte(`{"kind": "linear_regression", "coefficients": [2, -1], "intercept": 3}`), 0o644)
	os.WriteFile(filepath.Join(dir, "MLmodel"), []byte("flavors:\n  bridge_linear:\n    data: model.json\n"), 0o644)
	if _, err := b.client.CreateRegisteredModel(ctx, "churn", "", nil); err != nil {
		t.Fatal(err)
	}
	if err := b.client.UploadDir(ctx, dir, "churn/v1"); err != nil {
		t.Fatal(err)
	}
	mv, err := b.client.CreateModelVersion(ctx, mlflow.VersionSpec{Name: "churn", Source: "mlflow-artifacts:/churn/v1"})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := strconv.Atoi(mv.Version)
	if _, err := b.client.TransitionStage(ctx, "churn", v, "Production", true); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, code, err := b.invoke("", "0.5,0.5"); err == nil && code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("churn/Production not serving within 60 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *monBridge) invoke(id, csvRow string) (string, int, error) {
	req, _ := http.NewRequest(http.MethodPost, b.router.URL+"/churn/Production/invocations", strings.NewReader(csvRow))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Accept", "text/csv")
	if id != "" {
		req.Header.Set(local.HeaderInferenceID, id)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), resp.StatusCode, err
}

// monNextMillisecond returns the next millisecond boundary once the clock has
// reached it (at most a millisecond of spinning).
func monNextMillisecond() time.Time {
	next := time.Now().Truncate(time.Millisecond).Add(time.Millisecond)
	for time.Now().Before(next) {
		runtime.Gosched()
	}
	return next
}

func monCounter(t *testing.T, reg *prometheus.Registry, name, endpoint string) float64 {
	t.Helper()
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "endpoint" && l.GetValue() == endpoint {
					return monMetricValue(m)
				}
			}
		}
	}
	return -1
}

func monMetricValue(m *dto.Metric) float64 {
	if m.Counter != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

func TestMonitoringEndToEnd(t *testing.T) {
	b := startMonBridge(t)
	b.deploy(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	const endpoint = "brdg-churn-Production"

	// Baselines from training data and the model's predictions on it.
	var train, preds strings.Builder
	train.WriteString("x1,x2\n")
	preds.WriteString("prediction,label\n")
	for i := 0; i < 5000; i++ {
		x1, x2 := rng.NormFloat64(), rng.NormFloat64()
		fmt.Fprintf(&train, "%.5f,%.5f\n", x1, x2)
		y := 2*x1 - x2 + 3
		fmt.Fprintf(&preds, "%.5f,%.5f\n", y, y+rng.NormFloat64()*0.5)
	}
	dq, mq := filepath.Join(b.home, "baseline-dq"), filepath.Join(b.home, "baseline-mq")
	os.WriteFile(filepath.Join(b.home, "train.csv"), []byte(train.String()), 0o644)
	os.WriteFile(filepath.Join(b.home, "preds.csv"), []byte(preds.String()), 0o644)
	if _, err := monitor.BaselineDataQuality(ctx, filepath.Join(b.home, "train.csv"), dq); err != nil {
		t.Fatal(err)
	}
	if _, err := monitor.BaselineModelQuality(ctx, monitor.ModelQualityBaseline{Dataset: filepath.Join(b.home, "preds.csv"),
		ProblemType: schema.Regression, InferenceAttribute: "prediction", GroundTruthAttribute: "label", Output: mq,
		// 20% slack: a 1,500-record window's mse varies by about 4%.
		Tolerance: 0.2}); err != nil {
		t.Fatal(err)
	}

	// Traffic: 1500 undrifted requests, then 1500 with x1 shifted by 3.
	const half = 1500
	type sent struct {
		x1, x2 float64
		drift  bool
	}
	inputs := map[string]sent{}
	for i := 0; i < 2*half; i++ {
		s := sent{x1: rng.NormFloat64(), x2: rng.NormFloat64(), drift: i >= half}
		if s.drift {
			s.x1 += 3
		}
		inputs[fmt.Sprintf("req-%05d", i)] = s
	}
	send := func(from, to int) {
		var wg sync.WaitGroup
		ids := make(chan int)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range ids {
					id := fmt.Sprintf("req-%05d", i)
					s := inputs[id]
					out, code, err := b.invoke(id, fmt.Sprintf("%.5f,%.5f", s.x1, s.x2))
					if err != nil || code != http.StatusOK {
						t.Errorf("request %s: %d %v %s", id, code, err, out)
						continue
					}
					if got, _ := strconv.ParseFloat(strings.TrimSpace(out), 64); got-(2*s.x1-s.x2+3) > 1e-3 || (2*s.x1-s.x2+3)-got > 1e-3 {
						t.Errorf("request %s: prediction %s", id, out)
					}
				}
			}()
		}
		for i := from; i < to; i++ {
			ids <- i
		}
		close(ids)
		wg.Wait()
	}
	// Capture files keep inference times to the millisecond: start each
	// phase on a fresh millisecond so no record of one phase can fall in
	// the other's window.
	t0 := monNextMillisecond()
	send(0, half)
	tMid := monNextMillisecond()
	send(half, 2*half)
	tEnd := monNextMillisecond()

	// Captures reach disk within the flush interval, without Close.
	capDir := filepath.Join(b.home, "datacapture")
	deadline := time.Now().Add(10 * time.Second)
	for {
		objs, err := source.Dir(capDir).List(ctx, endpoint)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, o := range objs {
			data, _ := os.ReadFile(filepath.Join(capDir, o.Key))
			n += bytes.Count(data, []byte("\n"))
		}
		if n >= 2*half+1 { // plus the readiness probe
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d captured lines on disk, want %d", n, 2*half+1)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := monCounter(t, b.metrics, "bridge_capture_dropped_total", endpoint); got != 0 {
		t.Errorf("bridge_capture_dropped_total = %g", got)
	}

	// Ground truth: the model's answer plus noise for the first half; for
	// the second, labels far from the predictions.
	var gt []byte
	for id, s := range inputs {
		y := 2*s.x1 - s.x2 + 3 + rng.NormFloat64()*0.5
		if s.drift {
			y += 6
		}
		gt = capture.AppendGroundTruthLine(gt, &capture.GroundTruth{EventID: id, Data: []byte(strconv.FormatFloat(y, 'f', 5, 64))})
	}
	gtDir := filepath.Join(b.home, "ground-truth")
	if err := source.Dir(gtDir).Put(ctx, source.HourPath(time.Now())+"/labels.jsonl", gt); err != nil {
		t.Fatal(err)
	}

	// Schedules, stored in the registry database, executed by the runner
	// bridge run uses, with a webhook for alerts.
	alerts := make(chan schedule.Alert, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a schedule.Alert
		json.NewDecoder(r.Body).Decode(&a)
		alerts <- a
	}))
	defer hook.Close()
	ss, err := schedule.OpenStore(ctx, b.store.DB())
	if err != nil {
		t.Fatal(err)
	}
	alerter := schedule.NewAlerter(hook.URL, b.metrics)
	defer alerter.Close(ctx)
	runner := &schedule.Runner{Store: ss, Metrics: schedule.NewMetrics(b.metrics), Alerter: alerter}
	schedules := []schedule.Schedule{
		{Name: "churn-data", Cron: "0 * * * *", Spec: schedule.Spec{Type: monitor.DataQuality, Endpoint: endpoint, Capture: capDir,
			Baseline: dq, Output: filepath.Join(b.home, "reports", "data")}},
		{Name: "churn-quality", Cron: "0 * * * *", Spec: schedule.Spec{Type: monitor.ModelQuality, Endpoint: endpoint, Capture: capDir,
			GroundTruth: gtDir, Baseline: mq, Output: filepath.Join(b.home, "reports", "quality")}},
	}
	for _, sc := range schedules {
		if err := ss.Create(ctx, sc); err != nil {
			t.Fatal(err)
		}
	}
	windows := []struct {
		name       string
		start, end time.Time
		want       map[string][]string // schedule -> violations that must be found
	}{
		{"undrifted", t0, tMid, map[string][]string{"churn-data": nil, "churn-quality": nil}},
		{"drifted", tMid, tEnd, map[string][]string{
			"churn-data":    {"x1/baseline_drift_check"},
			"churn-quality": {"mae/GreaterThanThreshold", "rmse/GreaterThanThreshold", "r2/LessThanThreshold"}}},
	}
	for _, w := range windows {
		for _, sc := range schedules {
			e, err := runner.ExecuteWindow(ctx, sc, w.start, w.end)
			if err != nil {
				t.Fatalf("%s %s: %v", w.name, sc.Name, err)
			}
			if e.Records != half {
				t.Errorf("%s %s: %d records, want %d", w.name, sc.Name, e.Records, half)
			}
			var v schema.Violations
			if err := schema.ReadJSON(e.Output, schema.ViolationsFile, &v); err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, x := range v.Violations {
				got[x.FeatureName+x.MetricName+"/"+x.ConstraintCheckType] = true
			}
			want := w.want[sc.Name]
			if len(want) == 0 && (len(got) > 0 || e.Status != schedule.StatusCompleted) {
				t.Errorf("%s %s: %s with violations %v on an undrifted window", w.name, sc.Name, e.Status, v.Violations)
			}
			for _, k := range want {
				if !got[k] {
					t.Errorf("%s %s: violation %s not found in %v", w.name, sc.Name, k, v.Violations)
				}
			}
			if len(want) > 0 && e.Status != schedule.StatusViolations {
				t.Errorf("%s %s: status %s", w.name, sc.Name, e.Status)
			}
		}
	}
	// Two alerts: one per schedule on the drifted window.
	seen := map[string]bool{}
	for len(seen) < 2 {
		select {
		case a := <-alerts:
			seen[a.Schedule] = true
			if len(a.Violations) == 0 || a.ViolationsPath == "" {
				t.Errorf("alert %+v", a)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("alerts received for %v, want both schedules", seen)
		}
	}
	for _, sc := range schedules {
		ex, err := ss.Executions(ctx, sc.Name, 0)
		if err != nil || len(ex) != 2 || ex[0].Status != schedule.StatusViolations || ex[1].Status != schedule.StatusCompleted {
			t.Errorf("history of %s: %+v %v", sc.Name, ex, err)
		}
	}
	if got := monCounter(t, b.metrics, "bridge_monitor_violations", endpoint); got < 1 {
		t.Errorf("bridge_monitor_violations = %g", got)
	}
}

// monLastTarget is the target monBenchRouter built last.
var monLastTarget *local.Target

// monDirFetcher serves artifact sources that are local model directories.
type monDirFetcher struct{}

func (monDirFetcher) Fetch(ctx context.Context, ref model.VersionRef, source string) (string, error) {
	return source, nil
}

// monBenchRouter is a localhost target serving churn/Production on loopback,
// with sink as its capture sink (nil: capture off).
func monBenchRouter(b *testing.B, sink capture.Sink) (url string, stop func()) {
	b.Helper()
	// Quiet: log lines would interleave with the benchmark's result line.
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	b.Cleanup(func() { slog.SetDefault(prev) })
	ctx := context.Background()
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "model.json"), []byte(`{"kind": "linear_regression", "coefficients": [2, -1, 0.5, 0.1], "intercept": 3}`), 0o644)
	os.WriteFile(filepath.Join(dir, "MLmodel"), []byte("flavors:\n  bridge_linear:\n    data: model.json\n"), 0o644)
	deps := target.Deps{Config: config.Config{Home: b.TempDir()}, Fetcher: monDirFetcher{}, Metrics: prometheus.NewRegistry(), Models: newModels(b)}
	if sink != nil {
		deps.Capture = sink
	}
	tgt, err := target.New(ctx, local.Kind, deps)
	if err != nil {
		b.Fatal(err)
	}
	ref := model.VersionRef{Model: "churn", Version: 1}
	if err := tgt.CreateVersion(ctx, target.VersionSpec{Ref: ref, Source: dir}); err != nil {
		b.Fatal(err)
	}
	if err := tgt.Route(ctx, model.EndpointKey{Model: "churn", Slot: "Production"}, []model.WeightedVersion{{Version: 1, Weight: 1}}); err != nil {
		b.Fatal(err)
	}
	lt := tgt.(*local.Target)
	monLastTarget = lt
	srv := httptest.NewServer(lt.Handler())
	return srv.URL + "/churn/Production/invocations", func() { srv.Close(); lt.Close(ctx) }
}

// monLoad sends n requests from c keep-alive clients and returns requests/s;
// any failed request fails the benchmark.
func monLoad(b *testing.B, url string, n, c int) float64 {
	b.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := []byte("0.5,1.25,-3,7")
			for next.Add(1) <= int64(n) {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "text/csv")
				req.Header.Set(local.HeaderInferenceID, "bench")
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d requests failed", f, n)
	}
	return float64(n) / el.Seconds()
}

// BenchmarkCaptureOverhead measures router throughput with data capture
// off and on (every request captured, both halves), side by side: rounds
// alternate between two identical routers in one process, and the medians
// are compared, as are the medians of the per-pair ratios (an off round
// and the adjacent on round see much the same load from the rest of the
// machine). Besides requests per second (wall clock, sensitive to
// whatever else runs on the machine), it reports the process's CPU time
// per request (client and router alike; for capture-on rounds including
// the writer's work on that round's records, waited for after the round):
// the client's share is the same on both sides, so the difference is
// capture's cost.
//
//	go test -run '^$' -bench 'CaptureOverhead$' -benchtime 1x -count 3 ./internal/e2e/
func BenchmarkCaptureOverhead(b *testing.B) {
	reg := prometheus.NewRegistry()
	w, err := capture.NewWriter(capture.WriterConfig{Root: b.TempDir(), Default: capture.DefaultEndpointConfig(), Metrics: reg})
	if err != nil {
		b.Fatal(err)
	}
	offURL, stopOff := monBenchRouter(b, nil)
	defer stopOff()
	onURL, stopOn := monBenchRouter(b, w)
	defer stopOn()
	// Short rounds, alternating (ABBA), so that load from elsewhere on the
	// machine falls on both sides alike.
	const perRound, clients, rounds = 4000, 16, 30
	monLoad(b, offURL, 2000, clients) // warm up both
	monLoad(b, onURL, 2000, clients)
	sent := 2000.0
	monWaitWritten(b, reg, sent)
	var off, on, offCPU, onCPU []float64
	round := func(capture bool) {
		url := offURL
		if capture {
			url = onURL
		}
		cpu := monCPU(b)
		rps := monLoad(b, url, perRound, clients)
		if capture {
			sent += perRound
			monWaitWritten(b, reg, sent)
		}
		perReq := float64((monCPU(b) - cpu).Microseconds()) / perRound
		if capture {
			on, onCPU = append(on, rps), append(onCPU, perReq)
		} else {
			off, offCPU = append(off, rps), append(offCPU, perReq)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for r := 0; r < rounds; r++ {
			round(r%2 == 1)
			round(r%2 == 0)
		}
	}
	b.StopTimer()
	if err := w.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	mOff, mOn := monMedian(off), monMedian(on)
	b.ReportMetric(mOff, "off-req/s")
	b.ReportMetric(mOn, "on-req/s")
	b.ReportMetric(100*(mOff-mOn)/mOff, "overhead-%")
	cOff, cOn := monMedian(offCPU), monMedian(onCPU)
	b.ReportMetric(cOff, "off-cpu-µs/req")
	b.ReportMetric(cOn, "on-cpu-µs/req")
	b.ReportMetric(100*(cOn-cOff)/cOff, "cpu-overhead-%")
	var pairs, cpuPairs []float64
	for i := range off {
		pairs = append(pairs, 100*(off[i]-on[i])/off[i])
		cpuPairs = append(cpuPairs, 100*(onCPU[i]-offCPU[i])/offCPU[i])
	}
	b.ReportMetric(monMedian(pairs), "pair-overhead-%")
	b.ReportMetric(monMedian(cpuPairs), "pair-cpu-overhead-%")
	_, dropped := monCaptureCounts(b, reg)
	b.ReportMetric(dropped, "dropped")
}

// monCPU returns the CPU time (user and system) the process has used.
func monCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// monCaptureCounts reads bridge_capture_records_total and
// bridge_capture_dropped_total, summed over endpoints.
func monCaptureCounts(b *testing.B, reg *prometheus.Registry) (written, dropped float64) {
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "bridge_capture_records_total":
				written += m.GetCounter().GetValue()
			case "bridge_capture_dropped_total":
				dropped += m.GetCounter().GetValue()
			}
		}
	}
	return written, dropped
}

// monWaitWritten polls until the writer has written (or dropped) n records.
func monWaitWritten(b *testing.B, reg *prometheus.Registry, n float64) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if written, dropped := monCaptureCounts(b, reg); written+dropped >= n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("the capture writer did not write %g records within 10 s", n)
		}
		time.Sleep(time.Millisecond)
	}
}

func monMedian(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// monBenchHandler is monBenchRouter without the network: the router's handler.
func monBenchHandler(b *testing.B, sink capture.Sink) (http.Handler, func()) {
	b.Helper()
	url, stop := monBenchRouter(b, sink)
	_ = url
	return monLastTarget.Handler(), stop
}

// monDiscard is a minimal http.ResponseWriter.
type monDiscard struct {
	h    http.Header
	code int
}

func (d *monDiscard) Header() http.Header         { return d.h }
func (d *monDiscard) Write(p []byte) (int, error) { return len(p), nil }
func (d *monDiscard) WriteHeader(code int)        { d.code = code }

// BenchmarkCaptureOverheadHandler measures the router's handler in-process
// on every core (b.RunParallel), capture off and on: the difference in
// ns/op is capture's cost per request, including the writer goroutine's
// share of the CPU.
//
//	go test -run '^$' -bench CaptureOverheadHandler ./internal/e2e/
func BenchmarkCaptureOverheadHandler(b *testing.B) {
	w, err := capture.NewWriter(capture.WriterConfig{Root: b.TempDir(), Default: capture.DefaultEndpointConfig(), QueueSize: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close(context.Background())
	for _, mode := range []struct {
		name string
		sink capture.Sink
	}{{"off", nil}, {"on", w}, {"off-again", nil}, {"on-again", w}} {
		h, stop := monBenchHandler(b, mode.sink)
		b.Run(mode.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				body := bytes.NewReader([]byte("0.5,1.25,-3,7"))
				req := httptest.NewRequest(http.MethodPost, "/churn/Production/invocations", nil)
				req.Header.Set("Content-Type", "text/csv")
				req.Header.Set(local.HeaderInferenceID, "bench")
				d := &monDiscard{h: http.Header{}}
				for pb.Next() {
					body.Seek(0, io.SeekStart)
					req.Body = io.NopCloser(body)
					clear(d.h)
					d.code = 0
					h.ServeHTTP(d, req)
					if d.code != 0 && d.code != http.StatusOK {
						b.Fatalf("status %d", d.code)
					}
				}
			})
		})
		stop()
	}
}

// newModels returns model runtimes with the default settings, stopped
// when tb ends (after the targets built later: cleanups run last-in
// first-out).
func newModels(tb testing.TB) *runtimes.Set {
	s := runtimes.New(runtimes.Options{})
	tb.Cleanup(func() {
		if err := s.Stop(context.Background()); err != nil {
			tb.Errorf("stop the model runtimes: %v", err)
		}
	})
	return s
}
