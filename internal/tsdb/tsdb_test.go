package tsdb

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestQuantile(t *testing.T) {
	tests := []struct {
		name   string
		counts []float64
		q      float64
		want   float64
		ok     bool
	}{
		{"empty", nil, 0.5, 0, false},
		{"one bucket", hist(map[int]float64{3: 10}), 0.5, 0.0005 + (0.001-0.0005)*0.5, true},
		{"first bucket from zero", hist(map[int]float64{0: 4}), 0.5, 0.00005, true},
		{"p99 in the tail", hist(map[int]float64{0: 99, 10: 1}), 0.99, 0.0001, true},
		{"overflow", hist(map[int]float64{16: 5}), 0.5, 10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Quantile(tt.q, tt.counts)
			if ok != tt.ok || math.Abs(got-tt.want) > 1e-12 {
				t.Fatalf("Quantile(%v) = %v, %v; want %v, %v", tt.q, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func hist(m map[int]float64) []float64 {
	h := make([]float64, len(Buckets)+1)
	for i, c := range m {
		h[i] = c
	}
	return h
}

func TestTiersDownsampleAndPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ts.gob")
	db, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	k := Key{"iris", "Production", "1"}
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	// 90 minutes, 10 requests and 1 error a minute, two samples a minute.
	for m := 0; m < 90; m++ {
		for _, s := range []int{0, 30} {
			db.Add(t0.Add(time.Duration(m)*time.Minute+time.Duration(s)*time.Second), k, Sample{Requests: 5, Errors: 0.5, Latency: hist(map[int]float64{4: 5})})
		}
	}
	hour, _ := db.Series(k, Hour)
	if len(hour) != 61 { // 60 closed minutes + the open one
		t.Fatalf("hour: %d points, want 61", len(hour))
	}
	if p := hour[0]; p.Requests != 10 || p.Errors != 1 || !p.T.Equal(t0.Add(29*time.Minute)) {
		t.Fatalf("oldest minute = %+v", p)
	}
	day, _ := db.Series(k, Day)
	if len(day) != 18 || day[0].Requests != 50 {
		t.Fatalf("day: %d points, first %+v; want 18 of 50 requests", len(day), day[0])
	}
	week, _ := db.Series(k, Week)
	if len(week) != 2 || week[0].Requests != 600 || week[1].Requests != 300 {
		t.Fatalf("week: %+v", week)
	}
	if p := week[0]; p.P50 <= 0.001 || p.P50 > 0.0025 {
		t.Fatalf("p50 %v outside its bucket (0.001, 0.0025]", p.P50)
	}
	db.AddEvent("iris", "Production", Event{T: t0, Text: "v1 → v2"})
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	week2, _ := db2.Series(k, Week)
	if len(week2) != 2 || week2[0] != week[0] && !math.IsNaN(week[0].P50) {
		t.Fatalf("after reload: %+v, want %+v", week2, week)
	}
	if ev := db2.Events("iris", "Production"); len(ev) != 1 || ev[0].Text != "v1 → v2" {
		t.Fatalf("events after reload: %+v", ev)
	}
	if _, err := db.Series(k, "month"); err == nil {
		t.Fatal("range month: no error")
	}
}

func TestBoundedSeriesAndBadFile(t *testing.T) {
	db, _ := Open(Options{MaxSeries: 3})
	t0 := time.Now()
	for i := 0; i < 5; i++ {
		db.Add(t0.Add(time.Duration(i)*time.Second), Key{"m", "Latest", string(rune('1' + i))}, Sample{Requests: 1})
	}
	if v := db.Versions("m", "Latest"); len(v) != 3 || v[0] != "3" {
		t.Fatalf("versions kept = %v, want the newest three", v)
	}
	bad := filepath.Join(t.TempDir(), "ts.gob")
	os.WriteFile(bad, []byte("not a gob"), 0o644)
	if _, err := Open(Options{Path: bad}); err == nil {
		t.Fatal("corrupt file: no error")
	}
}

func TestSamplerReadsRouterMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	labels := []string{"model", "slot", "version"}
	req := prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricRequests}, labels)
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricErrors}, append(labels, "code"))
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: metricLatency, Buckets: Buckets}, labels)
	reg.MustRegister(req, errs, lat)
	db, _ := Open(Options{})
	s := NewSampler(db, reg)
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	for i := 0; i < 7; i++ {
		req.WithLabelValues("iris", "Production", "2").Inc()
		lat.WithLabelValues("iris", "Production", "2").Observe(0.003)
	}
	errs.WithLabelValues("iris", "Production", "2", "400").Add(2)
	if err := s.Sample(t0); err != nil {
		t.Fatal(err)
	}
	req.WithLabelValues("iris", "Production", "2").Add(3)
	if err := s.Sample(t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	pts, _ := db.Series(Key{"iris", "Production", "2"}, Hour)
	if len(pts) != 2 || pts[0].Requests != 7 || pts[0].Errors != 2 || pts[1].Requests != 3 || pts[1].Errors != 0 {
		t.Fatalf("points = %+v", pts)
	}
	all, _ := db.Series(Key{"iris", "Production", ""}, Hour)
	if len(all) != 2 || all[0].Requests != 7 || all[1].Requests != 3 {
		t.Fatalf("endpoint series = %+v", all)
	}
	if pts[0].P50 <= 0.0025 || pts[0].P50 > 0.005 {
		t.Fatalf("p50 = %v, want within (0.0025, 0.005]", pts[0].P50)
	}
}

func TestRecentEvents(t *testing.T) {
	db, _ := Open(Options{MaxEvents: 3})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		db.AddEvent("a", "Production", Event{T: t0.Add(time.Duration(2*i) * time.Minute), Text: "a" + string(rune('0'+i))})
		db.AddEvent("b", "Staging", Event{T: t0.Add(time.Duration(2*i+1) * time.Minute), Text: "b" + string(rune('0'+i))})
	}
	got := db.Recent(4)
	var texts []string
	for _, e := range got {
		texts = append(texts, e.Model+":"+e.Text)
	}
	if want := "b:b4 a:a4 b:b3 a:a3"; strings.Join(texts, " ") != want {
		t.Fatalf("Recent(4) = %v, want %s", texts, want)
	}
	if me := db.ModelEvents("b"); len(me) != 3 || me[0].Text != "b2" || me[2].Slot != "Staging" {
		t.Fatalf("ModelEvents(b) = %+v", me)
	}
	if n := len(db.Events("a", "Production")); n != 3 {
		t.Fatalf("kept %d events, want MaxEvents 3", n)
	}
}

func TestFollowerReloadsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ts.gob")
	f := &Follower{Path: path, Every: 0}
	k := Key{"iris", "Production", ""}
	if pts, _ := f.Series(k, Hour); len(pts) != 0 || f.Err() == nil {
		t.Fatalf("missing file: %v points, err %v", len(pts), f.Err())
	}
	db, _ := Open(Options{Path: path})
	t0 := time.Now().Add(-time.Hour)
	db.Add(t0, k, Sample{Requests: 3})
	db.AddEvent("iris", "Production", Event{T: t0, Text: "serving v1"})
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if pts, _ := f.Series(k, Hour); len(pts) != 1 || pts[0].Requests != 3 {
		t.Fatalf("after the first write: %+v", pts)
	}
	db.Add(t0.Add(time.Minute), k, Sample{Requests: 4})
	db.Flush()
	// A file written within the same clock tick keeps its mtime on some
	// file systems: move it forward so the change is seen.
	later := time.Now().Add(time.Second)
	os.Chtimes(path, later, later)
	if pts, _ := f.Series(k, Hour); len(pts) != 2 || len(f.Recent(5)) != 1 || len(f.ModelEvents("iris")) != 1 || len(f.Events("iris", "Production")) != 1 || len(f.Versions("iris", "Production")) != 1 {
		t.Fatalf("after the second write: %+v", pts)
	}
	os.WriteFile(path, []byte("torn"), 0o644)
	os.Chtimes(path, later.Add(time.Second), later.Add(time.Second))
	if pts, _ := f.Series(k, Hour); len(pts) != 2 || f.Err() == nil {
		t.Fatalf("unreadable file: keeps the last good contents; got %d points, err %v", len(pts), f.Err())
	}
}
