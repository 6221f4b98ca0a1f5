package ui

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/bridgeops/bridge/internal/monitor"
	"github.com/bridgeops/bridge/internal/monitor/schedule"
	"github.com/bridgeops/bridge/internal/monitor/schema"
)

type scheduleRow struct {
	schedule.Schedule
	Last *schedule.Execution
}

func (u *UI) monitoring(w http.ResponseWriter, r *http.Request) {
	b := &banners{}
	var rows []scheduleRow
	if u.o.Monitor != nil {
		ctx, cancel := context.WithTimeout(r.Context(), sourceTimeout)
		defer cancel()
		scs, err := u.o.Monitor.List(ctx)
		if err != nil {
			b.add("Monitoring schedules unavailable: %v", err)
		}
		for _, sc := range scs {
			row := scheduleRow{Schedule: sc}
			if ex, err := u.o.Monitor.Executions(ctx, sc.Name, 1); err == nil && len(ex) > 0 {
				row.Last = &ex[0]
			}
			rows = append(rows, row)
		}
	}
	u.render(w, r, "monitoring", "Monitoring", map[string]any{"Schedules": rows}, b)
}

// scheduleData is one schedule's page.
type scheduleData struct {
	Schedule   schedule.Schedule
	Found      bool
	Executions []schedule.Execution
	Selected   *schedule.Execution
	Violations []schema.Violation
	ReportErr  []string
	Features   []featureView // data quality
	Trends     []chart       // model quality
	DataQ      bool
}

type featureView struct {
	Name      string
	Type      string
	Drift     *schema.Drift
	Violated  bool
	Bars      []bar
	Cats      []catRow
	BaseCount int64
	WinCount  int64
}

type catRow struct {
	Value        string
	Base, Window float64
}

func (u *UI) schedulePage(w http.ResponseWriter, r *http.Request) {
	b := &banners{}
	name := r.PathValue("schedule")
	d := scheduleData{}
	if u.o.Monitor == nil {
		w = withStatus(w, http.StatusNotFound)
		u.render(w, r, "schedule", name, d, b)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), sourceTimeout)
	defer cancel()
	scs, err := u.o.Monitor.List(ctx)
	if err != nil {
		b.add("Monitoring schedules unavailable: %v", err)
	}
	for _, sc := range scs {
		if sc.Name == name {
			d.Schedule, d.Found = sc, true
		}
	}
	if !d.Found {
		d.Schedule.Name = name
		if err == nil {
			w = withStatus(w, http.StatusNotFound)
		}
		u.render(w, r, "schedule", name, d, b)
		return
	}
	d.DataQ = d.Schedule.Spec.Type == monitor.DataQuality
	d.Executions, err = u.o.Monitor.Executions(ctx, name, 100)
	if err != nil {
		b.add("Executions unavailable: %v", err)
	}
	want, _ := strconv.ParseInt(r.URL.Query().Get("execution"), 10, 64)
	for i := range d.Executions {
		e := &d.Executions[i]
		if (want != 0 && e.ID == want) || (want == 0 && d.Selected == nil && e.Status != schedule.StatusFailed) {
			d.Selected = e
		}
	}
	if d.Selected != nil {
		u.loadReport(&d)
	}
	if !d.DataQ {
		d.Trends = qualityTrends(d.Schedule, d.Executions, &d)
	}
	u.render(w, r, "schedule", name, d, b)
}

// reportFile is path itself when it names a file, else path/name.
func reportFile(path, name string) string {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return filepath.Join(path, name)
	}
	return path
}

func readReport(path string, v any) error {
	if path == "" {
		return fmt.Errorf("no report written")
	}
	if strings.HasPrefix(path, "s3://") {
		return fmt.Errorf("%s is on S3: the dashboard shows local reports only", path)
	}
	return schema.ReadJSON(filepath.Dir(path), filepath.Base(path), v)
}

func (u *UI) loadReport(d *scheduleData) {
	e := d.Selected
	if e.ViolationsPath != "" {
		var v schema.Violations
		if err := readReport(reportFile(e.ViolationsPath, schema.ViolationsFile), &v); err != nil {
			d.ReportErr = append(d.ReportErr, err.Error())
		}
		d.Violations = v.Violations
	}
	if !d.DataQ {
		return
	}
	var base, win schema.Statistics
	if err := readReport(reportFile(d.Schedule.Spec.Baseline, schema.StatisticsFile), &base); err != nil {
		d.ReportErr = append(d.ReportErr, "baseline: "+err.Error())
	}
	if err := readReport(reportFile(e.StatisticsPath, schema.StatisticsFile), &win); err != nil {
		d.ReportErr = append(d.ReportErr, "window: "+err.Error())
	}
	violated := map[string]bool{}
	for _, v := range d.Violations {
		violated[v.FeatureName] = true
	}
	baseBy := map[string]schema.Feature{}
	for _, f := range base.Features {
		baseBy[f.Name] = f
	}
	for _, f := range win.Features {
		fv := featureView{Name: f.Name, Type: f.InferredType, Drift: f.Drift, Violated: violated[f.Name]}
		bf := baseBy[f.Name]
		switch {
		case f.Numerical != nil:
			fv.WinCount = f.Numerical.Common.NumPresent
			var bb []histBin
			if bf.Numerical != nil {
				fv.BaseCount = bf.Numerical.Common.NumPresent
				bb = kllBins(bf.Numerical)
			}
			fv.Bars = compareHistograms(bb, kllBins(f.Numerical), 12, 240, 60)
		case f.String != nil:
			fv.WinCount = f.String.Common.NumPresent
			if bf.String != nil {
				fv.BaseCount = bf.String.Common.NumPresent
			}
			fv.Cats = catRows(bf.String, f.String)
		}
		d.Features = append(d.Features, fv)
	}
}

func kllBins(n *schema.NumericalStats) []histBin {
	if n == nil || n.Distribution == nil {
		return nil
	}
	var out []histBin
	for _, b := range n.Distribution.KLL.Buckets {
		out = append(out, histBin{b.LowerBound, b.UpperBound, b.Count})
	}
	return out
}

func catRows(base, win *schema.StringStats) []catRow {
	frac := func(s *schema.StringStats) map[string]float64 {
		m := map[string]float64{}
		if s == nil || s.Distribution == nil {
			return m
		}
		var tot float64
		for _, b := range s.Distribution.Categorical.Buckets {
			tot += float64(b.Count)
		}
		for _, b := range s.Distribution.Categorical.Buckets {
			if tot > 0 {
				m[b.Value] = float64(b.Count) / tot
			}
		}
		return m
	}
	fb, fw := frac(base), frac(win)
	var rows []catRow
	for v, x := range fb {
		rows = append(rows, catRow{v, x, fw[v]})
	}
	for v, x := range fw {
		if _, ok := fb[v]; !ok {
			rows = append(rows, catRow{v, 0, x})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Base+rows[i].Window != rows[j].Base+rows[j].Window {
			return rows[i].Base+rows[i].Window > rows[j].Base+rows[j].Window
		}
		return rows[i].Value < rows[j].Value
	})
	if len(rows) > 12 {
		rows = rows[:12]
	}
	return rows
}

// qualityTrends charts each constrained model-quality metric over the
// executions (oldest first) with its threshold.
func qualityTrends(sc schedule.Schedule, ex []schedule.Execution, d *scheduleData) []chart {
	var cons schema.ModelQualityConstraints
	if err := readReport(reportFile(sc.Spec.Baseline, schema.ConstraintsFile), &cons); err != nil {
		d.ReportErr = append(d.ReportErr, "baseline constraints: "+err.Error())
	}
	_, group := cons.Group()
	names := make([]string, 0, len(group))
	for n := range group {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 { // no constraints: chart the metrics the executions have
		seen := map[string]bool{}
		for _, e := range ex {
			for k := range e.Metrics {
				if !seen[k] {
					seen[k] = true
					names = append(names, k)
				}
			}
		}
		sort.Strings(names)
		if len(names) > 4 {
			names = names[:4]
		}
	}
	var out []chart
	for i, n := range names {
		c := chart{ID: "mq" + strconv.Itoa(i), Title: n, X: []int64{}}
		// One point per window, in time order: a window checked again
		// (ground truth that came late, a re-run) shows its newest result.
		newest := map[int64]schedule.Execution{}
		for _, e := range ex {
			if _, ok := e.Metrics[n]; !ok || e.Status == schedule.StatusFailed {
				continue
			}
			k := e.WindowEnd.Unix()
			if p, seen := newest[k]; !seen || e.ID > p.ID {
				newest[k] = e
			}
		}
		for k := range newest {
			c.X = append(c.X, k)
		}
		sort.Slice(c.X, func(a, b int) bool { return c.X[a] < c.X[b] })
		y := make([]*float64, len(c.X))
		for j, k := range c.X {
			y[j] = fp(newest[k].Metrics[n])
		}
		if len(c.X) == 1 { // a lone point: an hour either side, not uPlot's years
			c.XMin, c.XMax = c.X[0]-3600, c.X[0]+3600
		}
		c.add(n, y)
		if mc, ok := group[n]; ok {
			t := mc.Threshold
			c.Threshold = &t
			c.Unit = mc.ComparisonOperator
		}
		out = append(out, c)
	}
	return out
}
