package ui

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bridgeops/bridge/internal/tsdb"
)

// spark is a server-side sparkline: an SVG polyline's points in a 120×24
// box. N counts the points drawn.
type spark struct {
	Points string
	N      int
}

const sparkW, sparkH = 120.0, 24.0

// sparkline scales values over [from, to] into the sparkline box; NaN
// values leave a gap in the count but not in the line.
func sparkline(ts []time.Time, vals []float64, from, to time.Time, _ bool) spark {
	hi := 0.0
	for _, v := range vals {
		if !math.IsNaN(v) && v > hi {
			hi = v
		}
	}
	span := to.Sub(from).Seconds()
	var sb strings.Builder
	n := 0
	for i, v := range vals {
		if math.IsNaN(v) {
			continue
		}
		x := (ts[i].Sub(from).Seconds()) / span * sparkW
		x = math.Max(0, math.Min(sparkW, x))
		y := sparkH - 2
		if hi > 0 {
			y = sparkH - 2 - v/hi*(sparkH-7)
		}
		if n > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(strconv.FormatFloat(x, 'f', 1, 64))
		sb.WriteByte(',')
		sb.WriteString(strconv.FormatFloat(y, 'f', 1, 64))
		n++
	}
	if n == 1 { // a single point: draw a short flat line
		sb.WriteString(" " + strconv.FormatFloat(sparkW, 'f', 1, 64) + "," + strings.SplitN(sb.String(), ",", 2)[1])
	}
	return spark{Points: sb.String(), N: n}
}

// chart is what app.js hands to uPlot: shared x values (unix seconds),
// one y series per label (null where absent), event marks, a threshold.
type chart struct {
	ID        string       `json:"id"`
	Title     string       `json:"title"`
	Unit      string       `json:"unit"`
	X         []int64      `json:"x"`
	Labels    []string     `json:"labels"`
	Y         [][]*float64 `json:"y"`
	Marks     []mark       `json:"marks,omitempty"`
	Threshold *float64     `json:"threshold,omitempty"`
	// XMin and XMax fix the x range (unix seconds) when set.
	XMin   int64 `json:"xmin,omitempty"`
	XMax   int64 `json:"xmax,omitempty"`
	Points int   `json:"points"` // non-null y values, for tests and empty states
}

type mark struct {
	T    int64  `json:"t"`
	Text string `json:"text"`
}

// endpointCharts builds the traffic, error-rate and latency charts of one
// endpoint, one line per version (latency: p50 and p99 per version).
func endpointCharts(src Series, m, s string, rg tsdb.Range, events []tsdb.Event, now time.Time) []chart {
	versions := src.Versions(m, s)
	var keep []string
	for _, v := range versions {
		if v != "" {
			keep = append(keep, v)
		}
	}
	step := map[tsdb.Range]time.Duration{tsdb.Hour: time.Minute, tsdb.Day: 5 * time.Minute, tsdb.Week: time.Hour}[rg]
	from := now.Add(-map[tsdb.Range]time.Duration{tsdb.Hour: time.Hour, tsdb.Day: 24 * time.Hour, tsdb.Week: 7 * 24 * time.Hour}[rg])
	series := map[string][]tsdb.Point{}
	xs := map[int64]bool{}
	for _, v := range keep {
		pts, _ := src.Series(tsdb.Key{Model: m, Slot: s, Version: v}, rg)
		for _, p := range pts {
			if p.T.Before(from.Add(-step)) {
				continue
			}
			series[v] = append(series[v], p)
			xs[p.T.Unix()] = true
		}
	}
	x := make([]int64, 0, len(xs))
	for t := range xs {
		x = append(x, t)
	}
	sort.Slice(x, func(i, j int) bool { return x[i] < x[j] })
	idx := make(map[int64]int, len(x))
	for i, t := range x {
		idx[t] = i
	}
	var marks []mark
	for _, e := range events {
		if !e.T.Before(from) {
			marks = append(marks, mark{e.T.Unix(), e.Text})
		}
	}
	// The x range is the requested one, or less when the history is
	// shorter (from one step before the first point).
	xmin := from.Unix()
	if len(x) > 0 && x[0]-int64(step.Seconds()) > xmin {
		xmin = x[0] - int64(step.Seconds())
	}
	for _, m := range marks {
		xmin = min(xmin, m.T-int64(step.Seconds()))
	}
	xmin = max(xmin, from.Unix())
	traffic := chart{ID: "traffic", Title: "Requests/s", Unit: "req/s", X: x, Marks: marks, XMin: xmin, XMax: now.Unix()}
	errs := chart{ID: "errors", Title: "Error rate", Unit: "%", X: x, Marks: marks, XMin: xmin, XMax: now.Unix()}
	lat := chart{ID: "latency", Title: "Latency p50 / p99", Unit: "ms", X: x, Marks: marks, XMin: xmin, XMax: now.Unix()}
	for _, v := range keep {
		req, er, p50, p99 := nulls(len(x)), nulls(len(x)), nulls(len(x)), nulls(len(x))
		for _, p := range series[v] {
			i := idx[p.T.Unix()]
			req[i] = fp(rate(p, now, step))
			if p.Requests > 0 {
				er[i] = fp(100 * p.Errors / p.Requests)
			}
			if !math.IsNaN(p.P50) {
				p50[i], p99[i] = fp(p.P50*1000), fp(p.P99*1000)
			}
		}
		traffic.add("v"+v, req)
		errs.add("v"+v, er)
		lat.add("v"+v+" p50", p50)
		lat.add("v"+v+" p99", p99)
	}
	return []chart{traffic, errs, lat}
}

func (c *chart) add(label string, y []*float64) {
	c.Labels = append(c.Labels, label)
	c.Y = append(c.Y, y)
	for _, v := range y {
		if v != nil {
			c.Points++
		}
	}
}

func nulls(n int) []*float64 { return make([]*float64, n) }

func fp(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	r := math.Round(v*1e6) / 1e6
	return &r
}

// bar is one bin of a histogram drawn server-side as SVG.
type bar struct {
	X, W         float64
	BaseY, BaseH float64
	WinY, WinH   float64
	Lo, Hi       float64
	Base, Window float64 // fractions
}

// histBin is a histogram bucket with bounds.
type histBin struct{ Lo, Hi, Count float64 }

// compareHistograms puts two bucketed distributions on one grid of n
// equal-width bins over their joint range (counts spread over the bins a
// bucket overlaps) and returns them as fractions, laid out in a w×h box.
func compareHistograms(base, window []histBin, n int, w, h float64) []bar {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, b := range append(append([]histBin(nil), base...), window...) {
		lo, hi = math.Min(lo, b.Lo), math.Max(hi, b.Hi)
	}
	if math.IsInf(lo, 0) || n <= 0 {
		return nil
	}
	if hi <= lo {
		hi = lo + 1
	}
	rebin := func(bs []histBin) []float64 {
		out := make([]float64, n)
		var total float64
		width := (hi - lo) / float64(n)
		for _, b := range bs {
			total += b.Count
			if b.Hi <= b.Lo { // a point mass
				i := min(int((b.Lo-lo)/width), n-1)
				out[i] += b.Count
				continue
			}
			for i := range out {
				blo, bhi := lo+float64(i)*width, lo+float64(i+1)*width
				ov := math.Min(bhi, b.Hi) - math.Max(blo, b.Lo)
				if ov > 0 {
					out[i] += b.Count * ov / (b.Hi - b.Lo)
				}
			}
		}
		if total > 0 {
			for i := range out {
				out[i] /= total
			}
		}
		return out
	}
	fb, fw := rebin(base), rebin(window)
	top := 0.0
	for i := range fb {
		top = math.Max(top, math.Max(fb[i], fw[i]))
	}
	if top == 0 {
		top = 1
	}
	bw := w / float64(n)
	bars := make([]bar, n)
	width := (hi - lo) / float64(n)
	for i := range bars {
		bh, wh := fb[i]/top*(h-2), fw[i]/top*(h-2)
		bars[i] = bar{X: float64(i) * bw, W: bw, BaseY: h - bh, BaseH: bh, WinY: h - wh, WinH: wh,
			Lo: lo + float64(i)*width, Hi: lo + float64(i+1)*width, Base: fb[i], Window: fw[i]}
	}
	return bars
}
