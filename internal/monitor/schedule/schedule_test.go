package schedule

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	_ "modernc.org/sqlite"

	"github.com/bridgeops/bridge/internal/monitor"
	"github.com/bridgeops/bridge/internal/monitor/schema"
)

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "registry.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func sched(name, expr string) Schedule {
	return Schedule{Name: name, Cron: expr, Spec: Spec{Type: monitor.DataQuality, Endpoint: "brdg-m-Production",
		Capture: "/capture", Baseline: "/baseline", Output: "/tmp/out"}}
}

func TestStore(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	st, err := OpenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenStore(ctx, db); err != nil { // migrations are idempotent
		t.Fatal(err)
	}
	if err := st.Create(ctx, sched("hourly", "0 * * * *")); err != nil {
		t.Fatal(err)
	}
	if err := st.Create(ctx, sched("hourly", "0 * * * *")); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate create: %v", err)
	}
	bad := []Schedule{sched("x", "every hour"), sched("with space", "0 * * * *"), func() Schedule {
		s := sched("mq", "0 * * * *")
		s.Spec.Type = monitor.ModelQuality
		return s
	}(), func() Schedule {
		s := sched("noendpoint", "0 * * * *")
		s.Spec.Endpoint = ""
		return s
	}(), func() Schedule {
		s := sched("s3out", "0 * * * *")
		s.Spec.Output = "s3://bucket/reports"
		return s
	}()}
	for _, b := range bad {
		if err := st.Create(ctx, b); err == nil {
			t.Errorf("invalid schedule %+v accepted", b)
		}
	}
	if err := st.Create(ctx, sched("fast", "*/10 * * * * *")); err != nil {
		t.Fatal(err)
	}
	all, err := st.List(ctx)
	if err != nil || len(all) != 2 || all[0].Name != "fast" || all[1].Spec.Endpoint != "brdg-m-Production" {
		t.Fatalf("list %+v %v", all, err)
	}
	for i := 0; i < 3; i++ {
		e := &Execution{Schedule: "hourly", Status: StatusCompleted, WindowStart: time.Unix(int64(i)*3600, 0), WindowEnd: time.Unix(int64(i+1)*3600, 0),
			Metrics: map[string]float64{"auc": 0.9}, Violations: i}
		if err := st.Record(ctx, e); err != nil || e.ID == 0 {
			t.Fatal(err)
		}
	}
	ex, err := st.Executions(ctx, "hourly", 2)
	if err != nil || len(ex) != 2 || ex[0].Violations != 2 || ex[0].Metrics["auc"] != 0.9 || !ex[0].WindowEnd.Equal(time.Unix(3*3600, 0)) {
		t.Fatalf("executions %+v %v", ex, err)
	}
	if err := st.Delete(ctx, "hourly"); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, "hourly"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if ex, _ := st.Executions(ctx, "hourly", 0); len(ex) != 0 {
		t.Errorf("history kept after delete: %d", len(ex))
	}
}

func TestWindow(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		expr, now, start, end string
	}{
		{"0 * * * *", "2026-05-01T10:00:00.300Z", "2026-05-01T09:00:00Z", "2026-05-01T10:00:00Z"},
		{"0 * * * *", "2026-05-01T10:59:59Z", "2026-05-01T09:00:00Z", "2026-05-01T10:00:00Z"},
		{"*/5 * * * *", "2026-05-01T10:07:00Z", "2026-05-01T10:00:00Z", "2026-05-01T10:05:00Z"},
		{"*/30 * * * * *", "2026-05-01T10:07:31Z", "2026-05-01T10:07:00Z", "2026-05-01T10:07:30Z"},
		{"@daily", "2026-05-01T00:00:01Z", "2026-04-30T00:00:00Z", "2026-05-01T00:00:00Z"},
		{"0 9,17 * * *", "2026-05-01T17:00:00Z", "2026-05-01T09:00:00Z", "2026-05-01T17:00:00Z"},
	}
	for _, tc := range cases {
		t.Run(tc.expr+" "+tc.now, func(t *testing.T) {
			s, err := Parse(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			start, end := Window(s, at(tc.now))
			if !start.Equal(at(tc.start)) || !end.Equal(at(tc.end)) {
				t.Errorf("window [%s, %s), want [%s, %s)", start, end, tc.start, tc.end)
			}
		})
	}
}

func gauge(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			return value(m), true
		}
	}
	return 0, false
}

func value(m *dto.Metric) float64 {
	if m.Gauge != nil {
		return m.GetGauge().GetValue()
	}
	return m.GetCounter().GetValue()
}

func TestExecuteRecordsMetricsAndAlerts(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	st, _ := OpenStore(ctx, db)
	reg := prometheus.NewRegistry()
	var calls atomic.Int32
	var mu sync.Mutex
	var got []Alert
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 { // the first two attempts fail
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var a Alert
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &a); err != nil {
			t.Errorf("alert body %s: %v", b, err)
		}
		mu.Lock()
		got = append(got, a)
		mu.Unlock()
	}))
	defer hook.Close()
	al := NewAlerter(hook.URL, reg)
	al.Backoff = 10 * time.Millisecond
	violations := []schema.Violation{{FeatureName: "income", ConstraintCheckType: schema.CheckBaselineDrift, Description: "drift"}}
	results := []struct {
		rep *monitor.Report
		err error
	}{
		{&monitor.Report{Records: 10, Metrics: map[string]float64{"income.baseline_drift": 0.02}}, nil},
		{&monitor.Report{Records: 10, Violations: violations, Metrics: map[string]float64{"income.baseline_drift": 0.6}}, nil},
		{nil, errors.New("capture unreadable")},
	}
	var i int
	r := &Runner{Store: st, Metrics: NewMetrics(reg), Alerter: al, Run: func(ctx context.Context, j monitor.Job) (*monitor.Report, error) {
		if j.End.Sub(j.Start) != time.Hour || j.Endpoint != "brdg-m-Production" {
			t.Errorf("job %+v", j)
		}
		res := results[i]
		i++
		return res.rep, res.err
	}}
	sc := sched("hourly", "0 * * * *")
	sc.Spec.Output = t.TempDir()
	now := time.Date(2026, 5, 1, 10, 0, 1, 0, time.UTC)
	wantStatus := []string{StatusCompleted, StatusViolations, StatusFailed}
	for k := range results {
		e, err := r.Execute(ctx, sc, now.Add(time.Duration(k)*time.Hour))
		if (err != nil) != (k == 2) {
			t.Fatalf("execution %d: %v", k, err)
		}
		if e.Status != wantStatus[k] {
			t.Errorf("execution %d status %s, want %s", k, e.Status, wantStatus[k])
		}
	}
	hist, err := st.Executions(ctx, "hourly", 0)
	if err != nil || len(hist) != 3 || hist[0].Status != StatusFailed || hist[0].Error != "capture unreadable" || hist[1].Violations != 1 ||
		!hist[2].WindowStart.Equal(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)) || !strings.HasPrefix(hist[1].Output, sc.Spec.Output) {
		t.Fatalf("history %+v %v", hist, err)
	}
	if v, ok := gauge(t, reg, "bridge_monitor_violations", map[string]string{"schedule": "hourly"}); !ok || v != 1 {
		t.Errorf("bridge_monitor_violations = %g %v", v, ok)
	}
	if v, _ := gauge(t, reg, "bridge_monitor_metric", map[string]string{"metric": "income.baseline_drift"}); v != 0.6 {
		t.Errorf("bridge_monitor_metric = %g", v)
	}
	if v, _ := gauge(t, reg, "bridge_monitor_last_execution_success", nil); v != 0 {
		t.Errorf("last success = %g after a failure", v)
	}
	if v, _ := gauge(t, reg, "bridge_monitor_executions_total", map[string]string{"status": StatusViolations}); v != 1 {
		t.Errorf("executions_total{CompletedWithViolations} = %g", v)
	}
	// The alert arrives after two retries.
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert not delivered (%d webhook calls)", calls.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got[0].Schedule != "hourly" || len(got[0].Violations) != 1 || got[0].Violations[0].Feature != "income" || calls.Load() != 3 {
		t.Errorf("alert %+v after %d calls", got[0], calls.Load())
	}
	if err := al.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSlowWebhookNeverBlocksExecutions(t *testing.T) {
	release := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer hook.Close()
	defer close(release)
	al := NewAlerter(hook.URL, nil)
	st, _ := OpenStore(context.Background(), openDB(t))
	r := &Runner{Store: st, Alerter: al, Run: func(ctx context.Context, j monitor.Job) (*monitor.Report, error) {
		return &monitor.Report{Violations: []schema.Violation{{FeatureName: "x", ConstraintCheckType: schema.CheckCompleteness}}}, nil
	}}
	sc := sched("s", "0 * * * *")
	sc.Spec.Output = t.TempDir()
	start := time.Now()
	for i := 0; i < 150; i++ { // more than the alert queue holds
		if _, err := r.Execute(context.Background(), sc, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("150 executions took %v with a hanging webhook", d)
	}
}

func TestStartRunsAndReloadsSchedules(t *testing.T) {
	st, _ := OpenStore(context.Background(), openDB(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan monitor.Job, 10)
	r := &Runner{Store: st, Reload: 50 * time.Millisecond, Run: func(ctx context.Context, j monitor.Job) (*monitor.Report, error) {
		select {
		case ran <- j:
		default:
		}
		return &monitor.Report{}, nil
	}}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	// Created after Start: picked up by the reload.
	sc := sched("every-second", "* * * * * *")
	sc.Spec.Output = t.TempDir()
	if err := st.Create(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	select {
	case j := <-ran:
		if j.End.Sub(j.Start) != time.Second {
			t.Errorf("window %v..%v, want one second", j.Start, j.End)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("schedule did not run within 5 s")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ex, err := st.Executions(context.Background(), "every-second", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(ex) > 0 && ex[0].Status == StatusCompleted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no execution recorded")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
