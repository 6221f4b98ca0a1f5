package tsdb

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The router's metric families the sampler reads.
const (
	metricRequests = "bridge_invocations_total"
	metricErrors   = "bridge_invocation_errors_total"
	metricLatency  = "bridge_invocation_duration_seconds"
)

// Sampler feeds a DB from the router's own Prometheus collectors: on every
// Sample it gathers the invocation counters and latency histograms and adds
// what changed since the previous sample. Counter resets (a version
// unloaded and loaded again) count from zero.
type Sampler struct {
	db   *DB
	src  prometheus.Gatherer
	prev map[Key]cumulative
}

type cumulative struct {
	req, err float64
	hist     []float64 // per bucket, not cumulative
}

// NewSampler returns a sampler reading src into db.
func NewSampler(db *DB, src prometheus.Gatherer) *Sampler {
	return &Sampler{db: db, src: src, prev: map[Key]cumulative{}}
}

// Sample gathers once and records the increments at t, per version and
// per endpoint (the series with an empty Version: all versions together). The router's
// counters start at zero with the process, so a series seen for the first
// time counts from zero.
func (s *Sampler) Sample(t time.Time) error {
	mfs, err := s.src.Gather()
	if err != nil && len(mfs) == 0 {
		return err
	}
	now := map[Key]cumulative{}
	for _, mf := range mfs {
		switch mf.GetName() {
		case metricRequests:
			for _, m := range mf.GetMetric() {
				k := keyOf(m)
				c := now[k]
				c.req += m.GetCounter().GetValue()
				now[k] = c
			}
		case metricErrors:
			for _, m := range mf.GetMetric() {
				k := keyOf(m)
				c := now[k]
				c.err += m.GetCounter().GetValue()
				now[k] = c
			}
		case metricLatency:
			for _, m := range mf.GetMetric() {
				k := keyOf(m)
				c := now[k]
				c.hist = bucketCounts(m.GetHistogram())
				now[k] = c
			}
		}
	}
	total := map[Key]Sample{}
	for k, c := range now {
		p, seen := s.prev[k]
		if !seen {
			p = cumulative{}
		}
		if c.req < p.req || c.err < p.err {
			p = cumulative{} // reset
		}
		smp := Sample{Requests: c.req - p.req, Errors: c.err - p.err}
		if len(c.hist) > 0 {
			smp.Latency = make([]float64, len(c.hist))
			for i, v := range c.hist {
				if i < len(p.hist) && v >= p.hist[i] {
					v -= p.hist[i]
				}
				smp.Latency[i] = v
			}
		}
		s.db.Add(t, k, smp)
		ek := Key{Model: k.Model, Slot: k.Slot}
		tot := total[ek]
		tot.Requests += smp.Requests
		tot.Errors += smp.Errors
		if len(smp.Latency) > 0 {
			if tot.Latency == nil {
				tot.Latency = make([]float64, len(smp.Latency))
			}
			for i, v := range smp.Latency {
				tot.Latency[i] += v
			}
		}
		total[ek] = tot
	}
	for k, smp := range total {
		s.db.Add(t, k, smp)
	}
	s.prev = now
	return nil
}

func keyOf(m *dto.Metric) Key {
	var k Key
	for _, l := range m.GetLabel() {
		switch l.GetName() {
		case "model":
			k.Model = l.GetValue()
		case "slot":
			k.Slot = l.GetValue()
		case "version":
			k.Version = l.GetValue()
		}
	}
	return k
}

// bucketCounts turns a Prometheus histogram (cumulative buckets) into
// counts per bucket of Buckets plus overflow.
func bucketCounts(h *dto.Histogram) []float64 {
	out := make([]float64, len(Buckets)+1)
	var prev float64
	bi := 0
	for _, b := range h.GetBucket() {
		cum := float64(b.GetCumulativeCount())
		for bi < len(Buckets) && Buckets[bi] < b.GetUpperBound() {
			bi++
		}
		if bi < len(Buckets) {
			out[bi] += cum - prev
		} else {
			out[len(Buckets)] += cum - prev
		}
		prev = cum
	}
	out[len(Buckets)] += float64(h.GetSampleCount()) - prev
	return out
}

// Run samples every interval and flushes the DB every flushEvery until ctx
// is done, then samples and flushes once more.
func (s *Sampler) Run(ctx context.Context, interval, flushEvery time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	lastFlush := time.Now()
	for {
		select {
		case <-ctx.Done():
			s.sampleLog(time.Now())
			if err := s.db.Flush(); err != nil {
				slog.Warn("flush time series", "err", err)
			}
			return
		case t := <-tick.C:
			s.sampleLog(t)
			if t.Sub(lastFlush) >= flushEvery {
				lastFlush = t
				if err := s.db.Flush(); err != nil {
					slog.Warn("flush time series", "err", err)
				}
			}
		}
	}
}

func (s *Sampler) sampleLog(t time.Time) {
	if err := s.Sample(t); err != nil {
		slog.Warn("sample router metrics", "err", err)
	}
}
