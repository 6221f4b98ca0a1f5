package reconcile

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/artifact"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/registry"
	"github.com/bridgeops/bridge/internal/registry/store"
	"github.com/bridgeops/bridge/internal/serving/runtimes"
	"github.com/bridgeops/bridge/internal/target"
	"github.com/bridgeops/bridge/internal/target/local"
)

// countingRegistry counts the reads a pass makes of the registry.
type countingRegistry struct {
	registry.Registry
	reads, writes atomic.Int64
	readTime      atomic.Int64 // nanoseconds spent in Versions
}

func (c *countingRegistry) Versions(ctx context.Context) ([]model.ModelVersion, error) {
	c.reads.Add(1)
	start := time.Now()
	defer func() { c.readTime.Add(int64(time.Since(start))) }()
	return c.Registry.Versions(ctx)
}

func (c *countingRegistry) DownloadURI(ctx context.Context, ref model.VersionRef) (string, error) {
	c.reads.Add(1)
	return c.Registry.DownloadURI(ctx, ref)
}

func (c *countingRegistry) SetVersionTag(ctx context.Context, ref model.VersionRef, k, v string) error {
	c.writes.Add(1)
	return c.Registry.SetVersionTag(ctx, ref, k, v)
}

func (c *countingRegistry) DeleteVersionTag(ctx context.Context, ref model.VersionRef, k string) error {
	c.writes.Add(1)
	return c.Registry.DeleteVersionTag(ctx, ref, k)
}

// BenchmarkNoChangePass measures one reconcile pass that finds nothing to
// do, against the embedded SQLite registry and the localhost target
// serving every endpoint (1,000 models; per model v8 Staging, v9 Production
// and alias champion, the newest in None for Latest: 3,000 loaded native
// models, 4,000 endpoints). reads/pass counts Registry calls: it stays the
// same when the number of versions per model doubles.
func BenchmarkNoChangePass(b *testing.B) {
	for _, perModel := range []int{10, 20} {
		b.Run(fmt.Sprintf("1000x%d", perModel), func(b *testing.B) {
			benchNoChangePass(b, 1000, perModel)
		})
	}
}

func benchNoChangePass(b *testing.B, models, perModel int) {
	ctx := context.Background()
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil))) // the target logs every load
	home := b.TempDir()
	st, err := store.Open(ctx, home)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	src := writeLinearModel(b, filepath.Join(home, "model"))
	for m := 0; m < models; m++ {
		name := fmt.Sprintf("model-%04d", m)
		if _, err := st.CreateRegisteredModel(ctx, name, "", nil); err != nil {
			b.Fatal(err)
		}
		for v := 1; v <= perModel; v++ {
			if _, err := st.CreateModelVersion(ctx, store.VersionSpec{Name: name, Source: src}); err != nil {
				b.Fatal(err)
			}
		}
		for v, stage := range map[int]string{perModel - 2: model.StageStaging, perModel - 1: model.StageProduction} {
			if _, err := st.TransitionStage(ctx, name, v, stage, false); err != nil {
				b.Fatal(err)
			}
		}
		for v := 1; v <= perModel-3; v++ {
			if _, err := st.TransitionStage(ctx, name, v, model.StageArchived, false); err != nil {
				b.Fatal(err)
			}
		}
		if err := st.SetAlias(ctx, name, "champion", perModel-1); err != nil {
			b.Fatal(err)
		}
	}
	cfg := config.Config{Home: home, ModelCache: filepath.Join(home, "cache"), Port: 3000}
	rts := runtimes.New(runtimes.Options{})
	defer rts.Stop(ctx)
	tgt, err := local.New(target.Deps{Config: cfg, Fetcher: artifact.New(artifact.Options{CacheDir: cfg.ModelCache}), Models: rts})
	if err != nil {
		b.Fatal(err)
	}
	defer tgt.Close(ctx)
	reg := &countingRegistry{Registry: st}
	r, err := New(Options{Registry: reg, Target: tgt, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	res, err := r.RunOnce(ctx) // deploy everything
	if err != nil || len(res.Failed) > 0 {
		b.Fatalf("initial pass: %v %v", err, res.Failed)
	}
	if n := len(res.Actions); n != models*7 { // 3 creates + 4 routes per model
		b.Fatalf("initial pass applied %d actions, want %d", n, models*7)
	}
	reg.reads.Store(0)
	reg.writes.Store(0)
	reg.readTime.Store(0)
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := r.RunOnce(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if res.Changed() || res.TagWrites != 0 {
			b.Fatalf("no-change pass acted: %d actions, %d tag writes", len(res.Actions), res.TagWrites)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(b.N), "cpu-ms/pass")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/pass")
	b.ReportMetric(float64(reg.readTime.Load())/1e6/float64(b.N), "registry-ms/pass")
	b.ReportMetric(float64(reg.reads.Load())/float64(b.N), "reads/pass")
	b.ReportMetric(float64(reg.writes.Load())/float64(b.N), "writes/pass")
	b.ReportMetric(float64(models*perModel), "versions")
}

func writeLinearModel(b *testing.B, dir string) string {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	files := map[string]string{
		"MLmodel":    "flavors:\n  bridge_linear:\n    data: model.json\n",
		"model.json": `{"kind": "linear_regression", "coefficients": [1, 2], "intercept": 0}`,
	}
	for n, body := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return (&url.URL{Scheme: "file", Path: dir}).String()
}

// cpuTime is the user and system CPU time this process has used: on a
// shared machine it shows the cost of a pass apart from waiting for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
