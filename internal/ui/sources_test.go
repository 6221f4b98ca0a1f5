package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/monitor"
	"github.com/bridgeops/bridge/internal/monitor/schedule"
	"github.com/bridgeops/bridge/internal/monitor/schema"
)

type fakePipelines struct {
	ex  []PipelineExecution
	err error
}

func (f fakePipelines) PipelineExecutions(context.Context, int) ([]PipelineExecution, error) {
	return f.ex, f.err
}

func TestPipelinesPage(t *testing.T) {
	t0 := time.Now().Add(-time.Hour)
	ex := PipelineExecution{ID: "exec-1", Pipeline: "churn-train", Status: "Failed", Started: t0, Finished: t0.Add(3 * time.Minute), Steps: []PipelineStep{
		{Name: "Preprocess", Type: "Processing", Status: "Succeeded", Started: t0, Finished: t0.Add(time.Minute), CacheHit: true},
		{Name: "Train", Type: "Training", Status: "Succeeded", DependsOn: []string{"Preprocess"}, Started: t0.Add(time.Minute), Finished: t0.Add(2 * time.Minute), Log: "epoch 1 " + xss},
		{Name: "CheckAccuracy", Type: "Condition", Status: "Succeeded", DependsOn: []string{"Train"}, Condition: "false"},
		{Name: "Register", Type: "RegisterModel", Status: "Failed", DependsOn: []string{"CheckAccuracy"}, Error: "accuracy 0.61 below 0.8"},
	}}
	tests := []struct {
		name string
		src  Pipelines
		want []string
	}{
		{"history", fakePipelines{ex: []PipelineExecution{ex}}, []string{`<g class="step ok">`, `<g class="step bad">`, "cached", "· false", "accuracy 0.61 below 0.8", "&lt;script&gt;", "1m0s"}},
		{"none yet", fakePipelines{}, []string{"No pipelines yet", "No pipeline has run yet"}},
		{"no runner", nil, []string{"No pipelines yet", "no pipeline runner"}},
		{"down", fakePipelines{err: errors.New("history unreadable")}, []string{`class="banner"`, "history unreadable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(New(Options{Pipelines: tt.src}))
			defer srv.Close()
			code, body := get(t, srv.Client(), srv.URL+"/ui/pipelines")
			if code != 200 {
				t.Fatalf("status %d", code)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			if strings.Contains(body, xss) {
				t.Error("unescaped log")
			}
		})
	}
}

type fakeMonitor struct {
	scs []schedule.Schedule
	ex  map[string][]schedule.Execution
}

func (f fakeMonitor) List(context.Context) ([]schedule.Schedule, error) { return f.scs, nil }
func (f fakeMonitor) Executions(_ context.Context, name string, limit int) ([]schedule.Execution, error) {
	ex := f.ex[name]
	if len(ex) > limit {
		ex = ex[:limit]
	}
	return ex, nil
}

func TestModelQualityTrend(t *testing.T) {
	dir := t.TempDir()
	baseline := filepath.Join(dir, "baseline")
	if err := schema.WriteJSON(baseline, schema.ConstraintsFile, schema.ModelQualityConstraints{Binary: map[string]schema.MetricConstraint{
		"accuracy": {Threshold: 0.8, ComparisonOperator: schema.LessThanThreshold}}}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out", "3")
	schema.WriteJSON(out, schema.ViolationsFile, schema.Violations{Violations: []schema.Violation{{MetricName: "accuracy", ConstraintCheckType: schema.LessThanThreshold, Description: "Metric accuracy with 0.62 was LessThanThreshold 0.8 " + xss}}})
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	ex := []schedule.Execution{ // newest first
		{ID: 3, Status: schedule.StatusViolations, WindowEnd: t0.Add(2 * time.Hour), Violations: 1, Metrics: map[string]float64{"accuracy": 0.62}, ViolationsPath: filepath.Join(out, schema.ViolationsFile)},
		{ID: 2, Status: schedule.StatusFailed, WindowEnd: t0.Add(time.Hour), Error: "no ground truth"},
		{ID: 1, Status: schedule.StatusCompleted, WindowEnd: t0, Metrics: map[string]float64{"accuracy": 0.91}},
	}
	mon := fakeMonitor{
		scs: []schedule.Schedule{{Name: "churn-quality", Cron: "0 * * * *", Spec: schedule.Spec{Type: monitor.ModelQuality, Endpoint: "brdg-churn-Production", Baseline: baseline}}},
		ex:  map[string][]schedule.Execution{"churn-quality": ex},
	}
	srv := httptest.NewServer(New(Options{Monitor: mon}))
	defer srv.Close()
	code, body := get(t, srv.Client(), srv.URL+"/ui/monitoring")
	if code != 200 || !strings.Contains(body, "churn-quality") || !strings.Contains(body, "CompletedWithViolations") {
		t.Fatalf("monitoring list: %d\n%s", code, body)
	}
	code, body = get(t, srv.Client(), srv.URL+"/ui/monitoring/churn-quality")
	if code != 200 {
		t.Fatalf("schedule page: %d", code)
	}
	// Two points (the failed execution is left out) and the threshold.
	if !regexp.MustCompile(`&#34;x&#34;:\[1777629600,1777636800\]`).MatchString(body) || !strings.Contains(body, "&#34;threshold&#34;:0.8") {
		t.Errorf("trend chart data wrong:\n%s", body)
	}
	for _, w := range []string{"Metric accuracy with 0.62 was LessThanThreshold 0.8", "&lt;script&gt;", "threshold 0.8", "no ground truth"} {
		if !strings.Contains(body, w) {
			t.Errorf("schedule page lacks %q", w)
		}
	}
	if code, _ := get(t, srv.Client(), srv.URL+"/ui/monitoring/nope"); code != 404 {
		t.Errorf("unknown schedule: %d", code)
	}
}

func TestQualityTrendPoints(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	ex := func(id int64, end time.Time, st string, acc float64) schedule.Execution {
		return schedule.Execution{ID: id, Status: st, WindowEnd: end, Metrics: map[string]float64{"accuracy": acc}}
	}
	tests := []struct {
		name       string
		ex         []schedule.Execution // newest first, as the store lists them
		x          []int64
		y          []float64
		xmin, xmax int64
	}{
		{"one execution", []schedule.Execution{ex(1, t0, schedule.StatusViolations, 0.25)},
			[]int64{t0.Unix()}, []float64{0.25}, t0.Unix() - 3600, t0.Unix() + 3600},
		{"the same window twice: the newest result", []schedule.Execution{ex(2, t0, schedule.StatusViolations, 0.25), ex(1, t0, schedule.StatusCompleted, 1)},
			[]int64{t0.Unix()}, []float64{0.25}, t0.Unix() - 3600, t0.Unix() + 3600},
		{"a backfilled window sorts by time", []schedule.Execution{ex(3, t0.Add(-2*time.Hour), schedule.StatusCompleted, 0.9), ex(2, t0, schedule.StatusCompleted, 0.8), ex(1, t0.Add(-time.Hour), schedule.StatusCompleted, 0.7)},
			[]int64{t0.Add(-2 * time.Hour).Unix(), t0.Add(-time.Hour).Unix(), t0.Unix()}, []float64{0.9, 0.7, 0.8}, 0, 0},
		{"failed executions left out", []schedule.Execution{ex(2, t0, schedule.StatusFailed, 0), ex(1, t0.Add(-time.Hour), schedule.StatusCompleted, 0.9)},
			[]int64{t0.Add(-time.Hour).Unix()}, []float64{0.9}, t0.Add(-time.Hour).Unix() - 3600, t0.Add(-time.Hour).Unix() + 3600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &scheduleData{}
			cs := qualityTrends(schedule.Schedule{Spec: schedule.Spec{Baseline: t.TempDir()}}, tt.ex, d)
			if len(cs) != 1 {
				t.Fatalf("%d charts", len(cs))
			}
			c := cs[0]
			var y []float64
			for _, v := range c.Y[0] {
				y = append(y, *v)
			}
			if fmt.Sprint(c.X) != fmt.Sprint(tt.x) || fmt.Sprint(y) != fmt.Sprint(tt.y) || c.XMin != tt.xmin || c.XMax != tt.xmax {
				t.Errorf("x %v y %v range [%d, %d]; want x %v y %v range [%d, %d]", c.X, y, c.XMin, c.XMax, tt.x, tt.y, tt.xmin, tt.xmax)
			}
		})
	}
}
