package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/pipeline/local"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
)

// BenchmarkPipelineExample measures the wall time of the real binary running
// examples/sts (2,000 generated sentence pairs) from a fresh working
// directory: a cold run (empty home, nothing cached) and then a fully cached
// re-run of the same definition (every Processing and Training step a cache
// hit; the condition and RegisterModel run again, as on SageMaker). Both
// runs of an iteration happen back to back; the medians are reported.
//
//   - cold-s: the cold run (goal < 30 s on 2 cores);
//   - cached-s: the cached re-run (goal < 2 s);
//   - cold-cpu-s, cached-cpu-s: CPU time of bridge and every step process
//     (what the run costs when the machine is busy with other work).
func BenchmarkPipelineExample(b *testing.B) {
	if err := local.Probe(); err != nil {
		b.Skip(err)
	}
	py := pythontest.Interpreter(b)
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		b.Skip("the example needs python3-boto3")
	}
	bin := filepath.Join(b.TempDir(), "bridge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	example, _ := filepath.Abs("../../examples/sts/pipeline.json")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BRIDGE_") {
			env = append(env, kv)
		}
	}
	env = append(env, "BRIDGE_ENV_FILE=/nonexistent/.env", "BRIDGE_PYTHON="+py)
	run := func(dir string) (wall, cpu time.Duration) {
		cmd := exec.Command(bin, "pipeline", "run", example)
		cmd.Dir, cmd.Env = dir, env
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		if err != nil {
			b.Fatalf("pipeline run: %v\n%s", err, out)
		}
		return d, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	var cold, cached, coldCPU, cachedCPU []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		w, c := run(dir)
		cold, coldCPU = append(cold, w.Seconds()), append(coldCPU, c.Seconds())
		w, c = run(dir)
		cached, cachedCPU = append(cached, w.Seconds()), append(cachedCPU, c.Seconds())
	}
	b.StopTimer()
	b.ReportMetric(median(cold), "cold-s")
	b.ReportMetric(median(cached), "cached-s")
	b.ReportMetric(median(coldCPU), "cold-cpu-s")
	b.ReportMetric(median(cachedCPU), "cached-cpu-s")
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
