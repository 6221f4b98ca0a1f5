package schedule

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/monitor"
)

func TestParseAWSExpressions(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		expr, now, next string // next activation after now; "" = refused
	}{
		{"cron(0 * ? * * *)", "2026-05-01T10:20:00Z", "2026-05-01T11:00:00Z"},
		{" cron(0 * ? * * *) ", "2026-05-01T10:20:00Z", "2026-05-01T11:00:00Z"},
		{"cron(15 10 * * ? *)", "2026-05-01T10:20:00Z", "2026-05-02T10:15:00Z"},
		{"cron(0 12 ? * 2-6 *)", "2026-05-01T13:00:00Z", "2026-05-04T12:00:00Z"}, // Friday -> Monday (AWS 2 = Monday)
		{"cron(0 12 ? * 1 *)", "2026-05-01T13:00:00Z", "2026-05-03T12:00:00Z"},   // AWS 1 = Sunday
		{"cron(0 12 ? * 7 *)", "2026-05-01T13:00:00Z", "2026-05-02T12:00:00Z"},   // AWS 7 = Saturday
		{"cron(0 12 ? * MON-FRI *)", "2026-05-01T13:00:00Z", "2026-05-04T12:00:00Z"},
		{"cron(0/15 * ? * * *)", "2026-05-01T10:20:00Z", "2026-05-01T10:30:00Z"},
		{"cron(0 0 1 * ? *)", "2026-05-01T10:20:00Z", "2026-06-01T00:00:00Z"},
		{"rate(1 hour)", "2026-05-01T10:20:00Z", "2026-05-01T11:20:00Z"},
		{"rate(10 minutes)", "2026-05-01T10:20:00Z", "2026-05-01T10:30:00Z"},
		{"rate(2 days)", "2026-05-01T10:20:00Z", "2026-05-03T10:20:00Z"},
		{"0 * * * *", "2026-05-01T10:20:00Z", "2026-05-01T11:00:00Z"},
		{"cron(0 * * * *)", "", ""},      // five fields
		{"cron(0 * ? * * 2027)", "", ""}, // a year
		{"cron(0 * 1 * 1 *)", "", ""},    // neither day field is ?
		{"cron(0 12 L * ? *)", "", ""},   // last day of month
		{"cron(0 12 ? * 2#1 *)", "", ""}, // first Monday
		{"cron(0 12 ? * 8 *)", "", ""},   // no such day
		{"cron(0 25 ? * * *)", "", ""},   // no such hour
		{"rate(1 hours)", "", ""},        // AWS wants the singular for 1
		{"rate(5 minute)", "", ""},       // and the plural otherwise
		{"rate(0 minutes)", "", ""},      //
		{"rate(an hour)", "", ""},        //
		{"rate(1 week)", "", ""},         //
		{"hourly please", "", ""},        //
	}
	for _, tc := range cases {
		s, err := Parse(tc.expr)
		if tc.next == "" {
			if err == nil {
				t.Errorf("%q: accepted", tc.expr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.expr, err)
			continue
		}
		now := at(tc.now)
		if strings.HasPrefix(tc.expr, "rate(") {
			// @every schedules count from now.
			if got := s.Next(now); !got.Equal(at(tc.next)) {
				t.Errorf("%q after %s: %s, want %s", tc.expr, tc.now, got, tc.next)
			}
			continue
		}
		if got := s.Next(now); !got.Equal(at(tc.next)) {
			t.Errorf("%q after %s: %s, want %s", tc.expr, tc.now, got, tc.next)
		}
	}
}

func TestExecuteAppliesOffsets(t *testing.T) {
	st, _ := OpenStore(context.Background(), openDB(t))
	var got [2]time.Time
	r := &Runner{Store: st, Run: func(ctx context.Context, j monitor.Job) (*monitor.Report, error) {
		got = [2]time.Time{j.Start, j.End}
		return &monitor.Report{Status: monitor.StatusNoData}, nil
	}}
	now := time.Date(2026, 5, 1, 10, 0, 3, 0, time.UTC)
	h := func(hh int) time.Time { return time.Date(2026, 5, 1, hh, 0, 0, 0, time.UTC) }
	cases := []struct {
		cron, start, end string
		want             [2]time.Time
	}{
		{"cron(0 * ? * * *)", "", "", [2]time.Time{h(9), h(10)}},
		{"cron(0 * ? * * *)", "-PT1H", "-PT0H", [2]time.Time{h(9), h(10)}},
		{"cron(0 * ? * * *)", "-PT3H", "-PT2H", [2]time.Time{h(7), h(8)}},
		{"0 * * * *", "", "-PT2H", [2]time.Time{h(7), h(8)}},
		{"0 * * * *", "-P1D", "", [2]time.Time{h(10).Add(-24 * time.Hour), h(10)}},
	}
	for _, tc := range cases {
		sc := sched("off", tc.cron)
		sc.Spec.Output, sc.Spec.StartOffset, sc.Spec.EndOffset = t.TempDir(), tc.start, tc.end
		if err := sc.Validate(); err != nil {
			t.Fatal(err)
		}
		e, err := r.Execute(context.Background(), sc, now)
		if err != nil || got != tc.want || e.Status != StatusNoData {
			t.Errorf("%s %s/%s: window %v (%v, %v), want %v", tc.cron, tc.start, tc.end, got, e, err, tc.want)
		}
	}
	bad := sched("bad", "0 * * * *")
	bad.Spec.StartOffset, bad.Spec.EndOffset = "-PT1H", "-PT2H"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("inverted offsets: %v", err)
	}
	bad.Spec.StartOffset = "1 hour ago"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "ISO 8601") {
		t.Errorf("bad offset: %v", err)
	}
}

// A quiet hour of a model-quality schedule, run for real: no violations,
// no alert, no metric values — where it once raised "accuracy 0 was
// LessThanThreshold" every quiet interval.
func TestQuietWindowNoAlertNoMetrics(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var preds strings.Builder
	preds.WriteString("prediction,label\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&preds, "%d,%d\n", i%2, (i/3)%2)
	}
	if err := os.WriteFile(filepath.Join(dir, "preds.csv"), []byte(preds.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, "baseline")
	if _, err := monitor.BaselineModelQuality(ctx, monitor.ModelQualityBaseline{Dataset: filepath.Join(dir, "preds.csv"),
		ProblemType: "BinaryClassification", InferenceAttribute: "prediction", GroundTruthAttribute: "label", Output: base}); err != nil {
		t.Fatal(err)
	}
	// One record at 08:xx: the endpoint exists, the 09:00-10:00 hour is quiet.
	w, err := capture.NewWriter(capture.WriterConfig{Root: filepath.Join(dir, "capture"), Default: capture.DefaultEndpointConfig()})
	if err != nil {
		t.Fatal(err)
	}
	w.Capture(capture.Record{Endpoint: "brdg-m-Production", Variant: "v1", InferenceID: "r1", Time: time.Date(2026, 5, 1, 8, 30, 0, 0, time.UTC),
		InputContentType: "text/csv", Input: []byte("1,2"), OutputContentType: "text/csv", Output: []byte("1")})
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var posts atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { posts.Add(1) }))
	defer hook.Close()
	reg := prometheus.NewRegistry()
	st, _ := OpenStore(ctx, openDB(t))
	al := NewAlerter(hook.URL, reg)
	r := &Runner{Store: st, Metrics: NewMetrics(reg), Alerter: al}
	sc := Schedule{Name: "quality", Cron: "cron(0 * ? * * *)", Spec: Spec{Type: monitor.ModelQuality, Endpoint: "brdg-m-Production",
		Capture: filepath.Join(dir, "capture"), GroundTruth: filepath.Join(dir, "ground-truth"), Baseline: base, Output: filepath.Join(dir, "reports")}}
	if err := st.Create(ctx, sc); err != nil {
		t.Fatal(err)
	}
	// A previous execution left metric values; a quiet window removes them.
	r.Metrics.values.WithLabelValues("quality", "brdg-m-Production", "accuracy").Set(0.9)
	for _, now := range []time.Time{time.Date(2026, 5, 1, 10, 0, 5, 0, time.UTC), time.Date(2026, 5, 1, 9, 0, 5, 0, time.UTC)} {
		// 09:00-10:00 has no capture; 08:00-09:00 has one record but no label.
		e, err := r.Execute(ctx, sc, now)
		if err != nil {
			t.Fatal(err)
		}
		if e.Status != StatusNoData || e.Violations != 0 || len(e.Metrics) != 0 {
			t.Errorf("quiet window at %s: %+v", now, e)
		}
	}
	if err := al.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := posts.Load(); n != 0 {
		t.Errorf("%d alerts for quiet windows", n)
	}
	if v, ok := gauge(t, reg, "bridge_monitor_metric", map[string]string{"schedule": "quality"}); ok {
		t.Errorf("a metric value (%g) exported after a window without data", v)
	}
	if v, ok := gauge(t, reg, "bridge_monitor_executions_total", map[string]string{"status": StatusNoData}); !ok || v != 2 {
		t.Errorf("executions_total{CompletedWithNoData} = %g %v", v, ok)
	}
	if v, _ := gauge(t, reg, "bridge_monitor_last_execution_success", nil); v != 1 {
		t.Errorf("last success = %g", v)
	}
	hist, _ := st.Executions(ctx, "quality", 0)
	if len(hist) != 2 || hist[0].Status != StatusNoData {
		t.Errorf("history %+v", hist)
	}
}
