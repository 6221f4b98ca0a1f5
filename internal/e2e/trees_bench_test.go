package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/serving"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
	"github.com/bridgeops/bridge/internal/serving/runtimes"
	"github.com/bridgeops/bridge/internal/serving/trees"
	"github.com/bridgeops/bridge/internal/serving/trees/treestest"
	"github.com/bridgeops/bridge/internal/target"
)

// BenchmarkTreeServing measures, in one run, a 100-tree scikit-learn
// random forest and a 100-round gradient boosting model served by the
// Python runtime and by the native tree runtime, both through Bridge's
// router: requests/s and latency of one-row requests (BENCH_CONCURRENCY
// clients, default 8; phases of BENCH_SECONDS, default 3, alternating
// Python and native twice), and the resident memory per version (the
// Python server's VmRSS; for native, the heap a loaded tree file takes).
// Run with -benchtime 1x.
func BenchmarkTreeServing(b *testing.B) {
	py := pythontest.Interpreter(b)
	secs, _ := strconv.Atoi(os.Getenv("BENCH_SECONDS"))
	if secs <= 0 {
		secs = 3
	}
	conc, _ := strconv.Atoi(os.Getenv("BENCH_CONCURRENCY"))
	if conc <= 0 {
		conc = 8
	}
	phase := time.Duration(secs) * time.Second
	b.Setenv("BRIDGE_PYTHON_PRESTART", "0")
	// Versions of the -py models load with BRIDGE_NATIVE=off (a second
	// runtime set around the same Python runtime), the others with the
	// default (auto).
	br := startPyBridgeWith(b, py, "local", func(auto *runtimes.Set) target.ModelLoader {
		off := runtimes.NewWith(auto.Python(), config.NativeOff, nil)
		return loaderFunc(func(ctx context.Context, spec serving.LoadSpec) (serving.Model, error) {
			if strings.HasSuffix(spec.Name, "-py") {
				return off.Load(ctx, spec)
			}
			return auto.Load(ctx, spec)
		})
	})
	models := treestest.Train(b, py, []treestest.Spec{
		{Name: "rf", Kind: "RandomForestClassifier", Estimators: 100, Classes: 2, Features: 10, Rows: 2000, TestRows: 1, Seed: 7},
		{Name: "gb", Kind: "GradientBoostingClassifier", Estimators: 100, MaxDepth: 3, Classes: 2, Features: 10, Rows: 2000, TestRows: 1, Seed: 8},
	})
	serve := func(name, dir string) []byte {
		v := br.register(b, name, dir, "")
		br.promote(b, name, v, model.StageProduction)
		e := treestest.ReadExpect(b, dir)
		body := e.SplitBody()
		a := br.waitServing(b, name, model.StageProduction, v, body)
		var got struct{ Predictions []json.RawMessage }
		if err := json.Unmarshal(a.body, &got); err != nil || len(got.Predictions) != 1 || string(got.Predictions[0]) != string(e.Predict[0]) {
			b.Fatalf("%s answers %s, scikit-learn %s", name, a.body, e.Predict[0])
		}
		return body
	}
	kinds := []string{"rf", "gb"}
	bodies := map[string][]byte{}
	for _, kind := range kinds {
		dir := filepath.Join(models, kind)
		bodies[kind] = serve(kind+"-py", dir)
		serve(kind+"-native", dir)
	}
	b.ResetTimer()
	for _, kind := range kinds {
		body := bodies[kind]
		pyURL := br.router.URL + "/" + kind + "-py/Production/invocations"
		nativeURL := br.router.URL + "/" + kind + "-native/Production/invocations"
		var pr, nr pyLoadResult
		b.StartTimer()
		for range b.N {
			pyLoad(pyURL, body, conc, time.Second) // warm up
			pyLoad(nativeURL, body, conc, time.Second)
			const rounds = 2
			for range rounds {
				pr = addLoad(pr, pyLoad(pyURL, body, conc, phase), rounds)
				nr = addLoad(nr, pyLoad(nativeURL, body, conc, phase), rounds)
			}
		}
		b.StopTimer()
		for name, r := range map[string]pyLoadResult{"python": pr, "native": nr} {
			if r.failed > 0 || r.requests == 0 {
				b.Fatalf("%s %s: %d requests, %d failed", kind, name, r.requests, r.failed)
			}
		}
		pyRSS := serverRSS(b, br.home, kind+"-py-1")
		nativeMem := treeFileHeap(b, br.home, kind+"-native-1-")
		b.ReportMetric(pr.rps, kind+"_python_req/s")
		b.ReportMetric(nr.rps, kind+"_native_req/s")
		b.ReportMetric(nr.rps/pr.rps, kind+"_native/python")
		b.ReportMetric(float64(pr.p50.Microseconds())/1000, kind+"_python_p50_ms")
		b.ReportMetric(float64(nr.p50.Microseconds())/1000, kind+"_native_p50_ms")
		b.ReportMetric(float64(nr.p99.Microseconds())/1000, kind+"_native_p99_ms")
		b.ReportMetric(float64(pyRSS)/(1<<20), kind+"_python_MB")
		b.ReportMetric(float64(nativeMem)/(1<<20), kind+"_native_MB")
		b.ReportMetric(float64(nativeMem)/float64(pyRSS), kind+"_mem_native/python")
		b.Logf("%s python %+v", kind, pr)
		b.Logf("%s native %+v", kind, nr)
	}
}

func addLoad(acc, r pyLoadResult, n int) pyLoadResult {
	acc.requests += r.requests
	acc.failed += r.failed
	acc.rps += r.rps / float64(n)
	acc.p50 += r.p50 / time.Duration(n)
	acc.p99 += r.p99 / time.Duration(n)
	return acc
}

// serverRSS is the resident memory of the Python server of <base>
// (<model>-<version>), from its pid file and /proc.
func serverRSS(t testing.TB, home, base string) int64 {
	t.Helper()
	pidText, err := os.ReadFile(filepath.Join(home, "run", base+".pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(strings.SplitN(string(pidText), "\n", 2)[0])
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS for pid %s", pid)
	return 0
}

// treeFileHeap loads the cached tree file of a native version again and
// returns the heap it holds once compiled (what the version keeps
// resident).
func treeFileHeap(t testing.TB, home, prefix string) int64 {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(home, "native", prefix+"*.json"))
	if len(files) != 1 {
		t.Fatalf("tree files for %s: %v", prefix, files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	// Load several copies so that what the rest of the process allocates
	// meanwhile is noise.
	const copies = 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ms := make([]*trees.Model, copies)
	for i := range ms {
		e, err := trees.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		ms[i] = trees.NewModel(e)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(ms)
	if after.HeapAlloc <= before.HeapAlloc {
		t.Fatalf("heap did not grow loading %s", files[0])
	}
	return int64(after.HeapAlloc-before.HeapAlloc) / copies
}
