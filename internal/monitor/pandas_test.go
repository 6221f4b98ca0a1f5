package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/monitor/pycheck"
)

// pandasScript is the same model-quality job in pandas + scikit-learn.
var pandasScript = filepath.Join("..", "..", "scripts", "monitor_pandas.py")

type pandasResult struct {
	Records int                `json:"records"`
	Rows    int                `json:"rows"`
	Metrics map[string]float64 `json:"metrics"`
	Seconds float64            `json:"seconds"`
	CPU     float64            `json:"cpu_seconds"`
}

// runPandas runs scripts/monitor_pandas.py on w's benchmark window.
func runPandas(tb testing.TB, w *world) pandasResult {
	tb.Helper()
	cmd := exec.Command(pycheck.Interpreter(tb), pandasScript, "--capture", w.capDir, "--endpoint", endpoint, "--ground-truth", w.gtDir,
		"--start", w.hourA.Format(time.RFC3339), "--end", w.hourA.Add(time.Hour).Format(time.RFC3339))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		tb.Fatalf("%s: %v\n%s", pandasScript, err, errOut.String())
	}
	var res pandasResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		tb.Fatalf("%s output: %v\n%s", pandasScript, err, out.String())
	}
	return res
}

// compareWithPandas checks the monitor's metrics equal the pandas +
// scikit-learn job's to 1e-9.
func compareWithPandas(tb testing.TB, rep *Report, want pandasResult) {
	tb.Helper()
	if int(rep.Rows) != want.Rows || int(rep.Records) != want.Records {
		tb.Errorf("monitor: %d records, %d rows; pandas %d, %d", rep.Records, rep.Rows, want.Records, want.Rows)
	}
	for k, v := range want.Metrics {
		got, ok := rep.Metrics[k]
		if !ok || math.Abs(got-v) > 1e-9 {
			tb.Errorf("%s: monitor %.12g (%v), scikit-learn %.12g", k, got, ok, v)
		}
	}
}

// The monitor and the pandas job agree on the same files, joined in memory
// and spilled.
func TestModelQualityMatchesPandasJob(t *testing.T) {
	pycheck.Interpreter(t)
	w := benchWorld(t, 10_000)
	want := runPandas(t, w)
	for _, limit := range []int64{0, 256 << 10} {
		j := w.job(ModelQuality, w.hourA, t.TempDir())
		j.JoinMemory = limit
		rep, err := Run(context.Background(), j)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Spilled != (limit != 0) {
			t.Errorf("limit %d: spilled %v", limit, rep.Spilled)
		}
		compareWithPandas(t, rep, want)
	}
}

// BenchmarkMonitorVsPandas runs the model-quality job on 1,000,000
// captured records merged with ground truth, with Bridge's monitor and with
// pandas + scikit-learn (scripts/monitor_pandas.py, timed from inside the
// script, so interpreter start and imports are not counted) on the same
// files in the same run: monitor, pandas, monitor. Metrics must agree to
// 1e-9.
//
//	go test -run '^$' -bench MonitorVsPandas -benchtime 1x ./internal/monitor/
func BenchmarkMonitorVsPandas(b *testing.B) {
	pycheck.Interpreter(b)
	const n = 1_000_000
	w := benchWorld(b, n)
	j := w.job(ModelQuality, w.hourA, filepath.Join(b.TempDir(), "out"))
	var goSecs, goCPU []float64
	var py pandasResult
	var rep *Report
	runGo := func() {
		runtime.GC()
		cpu0, start := cpuTime(), time.Now()
		var err error
		if rep, err = Run(context.Background(), j); err != nil {
			b.Fatal(err)
		}
		goSecs = append(goSecs, time.Since(start).Seconds())
		goCPU = append(goCPU, (cpuTime() - cpu0).Seconds())
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runGo()
		py = runPandas(b, w)
		runGo()
	}
	b.StopTimer()
	compareWithPandas(b, rep, py)
	best := math.Inf(1)
	var sum, cpu float64
	for i, s := range goSecs {
		sum += s
		cpu += goCPU[i]
		best = min(best, s)
	}
	mean := sum / float64(len(goSecs))
	b.ReportMetric(n/mean, "records/s")
	b.ReportMetric(n/best, "best-records/s")
	b.ReportMetric(n*float64(len(goSecs))/cpu, "records/cpu-s")
	b.ReportMetric(n/py.Seconds, "pandas-records/s")
	b.ReportMetric(n/py.CPU, "pandas-records/cpu-s")
	b.ReportMetric(py.Seconds/mean, "x-pandas")
	b.ReportMetric(py.CPU/(cpu/float64(len(goCPU))), "x-pandas-cpu")
	b.ReportMetric(boolFloat(rep.Spilled), "spilled")
}
