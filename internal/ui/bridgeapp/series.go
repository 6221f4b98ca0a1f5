// Package bridgeapp adapts Bridge's parts to the dashboard (internal/ui):
// the serving state of bridge run's own loop or of a remote one, the
// registry writes behind the dashboard's actions, and the sampler that
// feeds the dashboard's time series from the router's metrics.
package bridgeapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/tsdb"
)

// OpenSeries opens the time-series file; one that cannot be read is moved
// aside (kept, not deleted) and Bridge starts a new one.
func OpenSeries(path string) (*tsdb.DB, error) {
	db, err := tsdb.Open(tsdb.Options{Path: path})
	if err == nil {
		return db, nil
	}
	if errors.Is(err, os.ErrPermission) {
		return nil, err
	}
	aside := path + ".unreadable-" + time.Now().UTC().Format("20060102T150405")
	if rerr := os.Rename(path, aside); rerr != nil {
		return nil, fmt.Errorf("%w; moving it aside failed too: %v", err, rerr)
	}
	slog.Warn("time series file unreadable: moved aside, starting a new one", "err", err, "kept_as", aside)
	return tsdb.Open(tsdb.Options{Path: path})
}

// Observer is what the sampler asks for the routes' state.
type Observer interface {
	Observe(ctx context.Context) (model.Actual, error)
}

// RunSampler samples the router's metrics into db every interval, notes
// promotions (an endpoint's versions changed), and flushes the file every
// minute and on exit.
func RunSampler(ctx context.Context, db *tsdb.DB, g prometheus.Gatherer, obs Observer, every time.Duration) {
	smp := tsdb.NewSampler(db, g)
	routes := &routeTracker{db: db, seen: map[model.EndpointKey]string{}}
	tick := time.NewTicker(every)
	defer tick.Stop()
	lastFlush := time.Now()
	sample := func(t time.Time) {
		if err := smp.Sample(t); err != nil {
			slog.Warn("sample router metrics", "err", err)
		}
		octx, cancel := context.WithTimeout(ctx, every)
		act, err := obs.Observe(octx)
		cancel()
		if err == nil {
			routes.observe(act, t)
		}
	}
	sample(time.Now())
	for {
		select {
		case <-ctx.Done():
			smp.Sample(time.Now())
			if err := db.Flush(); err != nil {
				slog.Warn("write time series", "err", err)
			}
			return
		case t := <-tick.C:
			sample(t)
			if t.Sub(lastFlush) >= time.Minute {
				lastFlush = t
				if err := db.Flush(); err != nil {
					slog.Warn("write time series", "err", err)
				}
			}
		}
	}
}

// routeTracker records an event when a ready endpoint serves other
// versions than the last time it was seen, and when one goes away.
type routeTracker struct {
	db   *tsdb.DB
	seen map[model.EndpointKey]string
}

func (r *routeTracker) observe(a model.Actual, now time.Time) {
	present := make(map[model.EndpointKey]bool, len(a.Endpoints))
	for _, e := range a.Endpoints {
		present[e.Key] = true
	}
	for k, state := range r.seen {
		if !present[k] {
			r.db.AddEvent(k.Model, k.Slot, tsdb.Event{T: now, Text: "removed (was " + state + ")", State: ""})
			delete(r.seen, k)
		}
	}
	for _, e := range a.Endpoints {
		if e.Status != model.StatusReady || len(e.Versions) == 0 {
			continue
		}
		state := routeState(e.Versions)
		prev, ok := r.seen[e.Key]
		if !ok {
			if last, found := r.db.LastEvent(e.Key.Model, e.Key.Slot); found {
				prev, ok = last.State, true
			}
		}
		r.seen[e.Key] = state
		if ok && prev == "" { // removed earlier, served again
			ok = false
		}
		if ok && prev == state {
			continue
		}
		text := "serving " + state
		if ok {
			text = prev + " → " + state
		}
		r.db.AddEvent(e.Key.Model, e.Key.Slot, tsdb.Event{T: now, Text: text, State: state})
	}
}

// routeState is "v2", or "v1 50%, v2 50%" for shared traffic.
func routeState(vs []model.WeightedVersion) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = "v" + strconv.Itoa(v.Version)
		if len(vs) > 1 {
			parts[i] += " " + strconv.FormatFloat(v.Weight*100, 'f', -1, 64) + "%"
		}
	}
	return strings.Join(parts, ", ")
}
