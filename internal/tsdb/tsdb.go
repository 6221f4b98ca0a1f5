// Package tsdb keeps Bridge's own small time series: requests, errors and
// latency quantiles per endpoint and version, at one-minute resolution for
// the last hour, five minutes for the last day and one hour for the last
// week, plus events (promotions) per endpoint. It is bounded (a fixed number
// of points per series, a maximum number of series) and persisted to one
// file under $BRIDGE_HOME, so the dashboard has history without a
// Prometheus server.
package tsdb

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Buckets are the latency histogram's upper bounds in seconds (those of the
// localhost router's bridge_invocation_duration_seconds); observations above
// the last fall in an overflow bucket.
var Buckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Range is a window of history a chart shows.
type Range string

// The three ranges, each kept at its own resolution.
const (
	Hour Range = "hour" // 60 one-minute points
	Day  Range = "day"  // 288 five-minute points
	Week Range = "week" // 168 one-hour points
)

type tier struct {
	step time.Duration
	n    int
}

var tiers = [...]tier{{time.Minute, 60}, {5 * time.Minute, 288}, {time.Hour, 168}}

func tierOf(r Range) (int, error) {
	switch r {
	case Hour, "":
		return 0, nil
	case Day:
		return 1, nil
	case Week:
		return 2, nil
	}
	return 0, fmt.Errorf("range %q: want hour, day or week", r)
}

// Key names a series: one version behind one endpoint.
type Key struct {
	Model, Slot, Version string
}

// Point is one interval of a series. P50 and P99 are in seconds,
// interpolated within the histogram bucket like Prometheus'
// histogram_quantile; they are NaN when the interval had no request.
type Point struct {
	T        time.Time
	Requests float64
	Errors   float64
	P50, P99 float64
}

// Event is something that happened to an endpoint (a promotion: the
// versions it serves changed).
type Event struct {
	T    time.Time
	Text string
	// State is what the endpoint looked like after the event (its
	// versions and weights), so a restarted process can tell whether it
	// changed while it was down.
	State string
}

// Sample is what one observation adds to a series: counts since the
// previous sample and the latency histogram's bucket counts
// (len(Buckets)+1, the last one the overflow).
type Sample struct {
	Requests, Errors float64
	Latency          []float64
}

// Options configure a DB.
type Options struct {
	// Path is the file the DB loads from and Flush writes to; empty keeps
	// it in memory only.
	Path string
	// MaxSeries bounds the number of series (default 4096); when full, the
	// series updated longest ago is dropped.
	MaxSeries int
	// MaxEvents bounds the events kept per endpoint (default 100).
	MaxEvents int
}

// DB is the time-series store. It is safe for concurrent use.
type DB struct {
	opts   Options
	mu     sync.RWMutex
	series map[Key]*series
	events map[endpoint][]Event
}

type endpoint struct{ Model, Slot string }

// series holds a ring of finished points and one open accumulator per tier.
type series struct {
	Tiers   [len(tiers)]ring
	Updated time.Time
}

type ring struct {
	Points []storedPoint // ring buffer, len <= tier.n
	Next   int           // index of the oldest point once full
	Open   acc
}

type storedPoint struct {
	T          int64 // unix seconds of the interval's start
	Req, Err   float32
	P50, P99   float32
	HasLatency bool
}

// acc accumulates the samples of the interval that is still open.
type acc struct {
	T        int64 // interval start, 0 when empty
	Req, Err float64
	Hist     []float64
}

// Open loads the DB from o.Path (a missing file is an empty DB).
func Open(o Options) (*DB, error) {
	if o.MaxSeries <= 0 {
		o.MaxSeries = 4096
	}
	if o.MaxEvents <= 0 {
		o.MaxEvents = 100
	}
	db := &DB{opts: o, series: map[Key]*series{}, events: map[endpoint][]Event{}}
	if o.Path == "" {
		return db, nil
	}
	b, err := os.ReadFile(o.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return db, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read time series: %w", err)
	}
	var f file
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&f); err != nil {
		return nil, fmt.Errorf("read time series %s: %w (move the file away to start afresh)", o.Path, err)
	}
	if f.Format != fileFormat {
		return nil, fmt.Errorf("read time series %s: format %d, want %d (move the file away to start afresh)", o.Path, f.Format, fileFormat)
	}
	for _, s := range f.Series {
		s := s
		db.series[s.Key] = &s.Data
	}
	for _, e := range f.Events {
		db.events[endpoint{e.Model, e.Slot}] = e.Events
	}
	return db, nil
}

const fileFormat = 1

type file struct {
	Format int
	Series []fileSeries
	Events []fileEvents
}

type fileSeries struct {
	Key  Key
	Data series
}

type fileEvents struct {
	Model, Slot string
	Events      []Event
}

// Flush writes the DB to its file atomically (a no-op without a path).
func (db *DB) Flush() error {
	if db.opts.Path == "" {
		return nil
	}
	db.mu.RLock()
	f := file{Format: fileFormat}
	for k, s := range db.series {
		f.Series = append(f.Series, fileSeries{k, *s})
	}
	for k, ev := range db.events {
		f.Events = append(f.Events, fileEvents{k.Model, k.Slot, ev})
	}
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(&f)
	db.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("encode time series: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(db.opts.Path), 0o755); err != nil {
		return fmt.Errorf("write time series: %w", err)
	}
	tmp := db.opts.Path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write time series: %w", err)
	}
	if err := os.Rename(tmp, db.opts.Path); err != nil {
		return fmt.Errorf("write time series: %w", err)
	}
	return nil
}

// Add records a sample of one series taken at t. Samples within one
// interval add up; a sample in a later interval closes the open one.
func (db *DB) Add(t time.Time, k Key, s Sample) {
	db.mu.Lock()
	defer db.mu.Unlock()
	sr := db.series[k]
	if sr == nil {
		if len(db.series) >= db.opts.MaxSeries {
			db.evictLocked()
		}
		sr = &series{}
		db.series[k] = sr
	}
	sr.Updated = t
	for i := range sr.Tiers {
		sr.Tiers[i].add(tiers[i], t, s)
	}
}

func (db *DB) evictLocked() {
	var oldest Key
	var at time.Time
	first := true
	for k, s := range db.series {
		if first || s.Updated.Before(at) {
			oldest, at, first = k, s.Updated, false
		}
	}
	delete(db.series, oldest)
}

func (r *ring) add(tr tier, t time.Time, s Sample) {
	start := t.Truncate(tr.step).Unix()
	if r.Open.T != 0 && r.Open.T != start {
		if start < r.Open.T {
			start = r.Open.T // a clock step back: count it in the open interval
		} else {
			r.push(tr, r.Open.point())
			r.Open = acc{}
		}
	}
	r.Open.T = start
	r.Open.Req += s.Requests
	r.Open.Err += s.Errors
	if len(s.Latency) > 0 {
		if len(r.Open.Hist) < len(s.Latency) {
			h := make([]float64, len(s.Latency))
			copy(h, r.Open.Hist)
			r.Open.Hist = h
		}
		for i, c := range s.Latency {
			r.Open.Hist[i] += c
		}
	}
}

func (r *ring) push(tr tier, p storedPoint) {
	if len(r.Points) < tr.n {
		r.Points = append(r.Points, p)
		return
	}
	r.Points[r.Next] = p
	r.Next = (r.Next + 1) % tr.n
}

func (a acc) point() storedPoint {
	p := storedPoint{T: a.T, Req: float32(a.Req), Err: float32(a.Err)}
	if q50, ok := Quantile(0.5, a.Hist); ok {
		p.P50, p.P99, p.HasLatency = float32(q50), 0, true
		q99, _ := Quantile(0.99, a.Hist)
		p.P99 = float32(q99)
	}
	return p
}

func (p storedPoint) public() Point {
	out := Point{T: time.Unix(p.T, 0), Requests: float64(p.Req), Errors: float64(p.Err), P50: math.NaN(), P99: math.NaN()}
	if p.HasLatency {
		out.P50, out.P99 = float64(p.P50), float64(p.P99)
	}
	return out
}

// Quantile estimates the q-quantile of a histogram with counts per bucket
// of Buckets (plus overflow), interpolating linearly within the bucket;
// ok is false for an empty histogram.
func Quantile(q float64, counts []float64) (v float64, ok bool) {
	var total float64
	for _, c := range counts {
		total += c
	}
	if total <= 0 {
		return 0, false
	}
	rank := q * total
	var cum float64
	for i, c := range counts {
		if c <= 0 {
			continue
		}
		if cum+c >= rank {
			if i >= len(Buckets) {
				return Buckets[len(Buckets)-1], true
			}
			lo := 0.0
			if i > 0 {
				lo = Buckets[i-1]
			}
			return lo + (Buckets[i]-lo)*(rank-cum)/c, true
		}
		cum += c
	}
	return Buckets[len(Buckets)-1], true
}

// Series returns the points of one series over r, oldest first, ending
// with the interval still open. Intervals without a sample are absent.
func (db *DB) Series(k Key, r Range) ([]Point, error) {
	ti, err := tierOf(r)
	if err != nil {
		return nil, err
	}
	db.mu.RLock()
	defer db.mu.RUnlock()
	s := db.series[k]
	if s == nil {
		return nil, nil
	}
	rg := &s.Tiers[ti]
	out := make([]Point, 0, len(rg.Points)+1)
	for i := range rg.Points {
		out = append(out, rg.Points[(rg.Next+i)%len(rg.Points)].public())
	}
	if rg.Open.T != 0 {
		out = append(out, rg.Open.point().public())
	}
	return out, nil
}

// Versions lists the versions with a series behind an endpoint, sorted;
// the endpoint's own series (all versions) is the empty version.
func (db *DB) Versions(model, slot string) []string {
	db.mu.RLock()
	defer db.mu.RUnlock()
	var out []string
	for k := range db.series {
		if k.Model == model && k.Slot == slot {
			out = append(out, k.Version)
		}
	}
	sort.Strings(out)
	return out
}

// AddEvent records an event of an endpoint, keeping the newest MaxEvents.
func (db *DB) AddEvent(model, slot string, e Event) {
	db.mu.Lock()
	defer db.mu.Unlock()
	k := endpoint{model, slot}
	ev := append(db.events[k], e)
	if len(ev) > db.opts.MaxEvents {
		ev = append([]Event(nil), ev[len(ev)-db.opts.MaxEvents:]...)
	}
	db.events[k] = ev
}

// LastEvent returns an endpoint's newest event.
func (db *DB) LastEvent(model, slot string) (Event, bool) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	ev := db.events[endpoint{model, slot}]
	if len(ev) == 0 {
		return Event{}, false
	}
	return ev[len(ev)-1], true
}

// EndpointEvent is an event with the endpoint it happened to.
type EndpointEvent struct {
	Model, Slot string
	Event
}

// Recent returns the newest n events of all endpoints, newest first.
func (db *DB) Recent(n int) []EndpointEvent {
	db.mu.RLock()
	var out []EndpointEvent
	for k, ev := range db.events {
		for i := len(ev) - 1; i >= 0 && i >= len(ev)-n; i-- {
			out = append(out, EndpointEvent{k.Model, k.Slot, ev[i]})
		}
	}
	db.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].T.Equal(out[j].T) {
			return out[i].T.After(out[j].T)
		}
		return out[i].Model+"/"+out[i].Slot < out[j].Model+"/"+out[j].Slot
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// ModelEvents returns the events of every endpoint of a model, oldest
// first, including endpoints that no longer exist.
func (db *DB) ModelEvents(model string) []EndpointEvent {
	db.mu.RLock()
	var out []EndpointEvent
	for k, ev := range db.events {
		if k.Model == model {
			for _, e := range ev {
				out = append(out, EndpointEvent{k.Model, k.Slot, e})
			}
		}
	}
	db.mu.RUnlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].T.Before(out[j].T) })
	return out
}

// Events returns an endpoint's events, oldest first.
func (db *DB) Events(model, slot string) []Event {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return append([]Event(nil), db.events[endpoint{model, slot}]...)
}
