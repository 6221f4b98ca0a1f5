package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	appmgr "github.com/bridgeops/bridge/internal/app"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/monitor/schedule"
	"github.com/bridgeops/bridge/internal/reconcile"
	"github.com/bridgeops/bridge/internal/registry/mlflow"
	"github.com/bridgeops/bridge/internal/status"
	"github.com/bridgeops/bridge/internal/target"
	"github.com/bridgeops/bridge/internal/target/local"
	"github.com/bridgeops/bridge/internal/tsdb"
	"github.com/bridgeops/bridge/internal/ui"
)

// setupUI builds the dashboard of bridge run and starts the sampler that
// feeds its time series from the router's metrics; a.ui stays nil when
// BRIDGE_UI=false. The sampler stops and flushes on shutdown.
func (a *app) setupUI() error {
	s, err := a.cfg.UI()
	if err != nil {
		return err
	}
	if !s.Enabled {
		return nil
	}
	db, err := openSeries(s.SeriesPath)
	if err != nil {
		return err
	}
	opts := ui.Options{
		Status:   inProcessStatus{a},
		Registry: a.registry,
		Series:   db,
		Actions:  registryActions{url: a.RegistryURL, token: a.cfg.RegistryToken},
		Token:    a.cfg.RegistryToken,
		Refresh:  s.Refresh,
	}
	opts.Captures = ui.CaptureDir{Root: a.cfg.Monitoring.CaptureDir}
	mdb := storeDB(a.store)
	if mdb == nil {
		if mdb, err = openMonitorDB(a.cfg.Home); err != nil {
			return fmt.Errorf("dashboard: %w", err)
		}
		a.parts.Add("dashboard database", appmgr.Closer(func(context.Context) error { return mdb.Close() }))
	}
	if opts.Monitor, err = openScheduleStore(mdb); err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	opts.Pipelines = pipelineSource(mdb)
	a.ui = ui.New(opts)

	a.parts.Add("dashboard sampler", appmgr.Background(func(ctx context.Context) error {
		runSampler(ctx, db, a.metrics, a.target, s.SampleInterval)
		return nil
	}, nil))
	return nil
}

// mountUI mounts the dashboard at /ui/ with handle (a router's or a mux's
// Handle).
func (a *app) mountUI(handle func(pattern string, h http.Handler)) {
	if a.ui != nil {
		handle("/ui/", a.ui)
		handle("/ui", a.ui)
	}
}

func openScheduleStore(db *sql.DB) (*schedule.Store, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return schedule.OpenStore(ctx, db)
}

// openSeries opens the time-series file; one that cannot be read is moved
// aside (kept, not deleted) and Bridge starts a new one.
func openSeries(path string) (*tsdb.DB, error) {
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

// observer is what the sampler asks for the routes' state.
type observer interface {
	Observe(ctx context.Context) (model.Actual, error)
}

// runSampler samples the router's metrics into db every interval, notes
// promotions (an endpoint's versions changed), and flushes the file every
// minute and on exit.
func runSampler(ctx context.Context, db *tsdb.DB, g prometheus.Gatherer, obs observer, every time.Duration) {
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

// inProcessStatus is the dashboard's view of bridge run's own target and
// loop.
type inProcessStatus struct{ a *app }

func (s inProcessStatus) Snapshot(ctx context.Context) (ui.Snapshot, error) {
	act, err := s.a.target.Observe(ctx)
	snap := ui.Snapshot{Target: s.a.target.Name(), Source: "target"}
	res, lastErr, at := s.a.loop.Last()
	if !at.IsZero() {
		snap.LastPass = passOf(res, lastErr, at)
	}
	if err != nil {
		return snap, fmt.Errorf("observe %s target: %w", s.a.target.Name(), err)
	}
	snap.Endpoints = endpointsOf(act.Endpoints)
	return snap, nil
}

func endpointsOf(eps []model.ActualEndpoint) []ui.Endpoint {
	out := make([]ui.Endpoint, 0, len(eps))
	for _, e := range eps {
		out = append(out, ui.Endpoint{Model: e.Key.Model, Slot: e.Key.Slot, Name: local.EndpointName(e.Key), Versions: e.Versions, State: string(e.Status), Message: e.Message, URL: e.URL})
	}
	return out
}

func passOf(res reconcile.Result, lastErr error, at time.Time) *ui.Pass {
	p := &ui.Pass{At: at, Duration: res.Duration.Round(time.Microsecond), Failed: res.Failed, Deferred: res.Deferred, Actions: status.Actions(res)}
	if lastErr != nil {
		p.Error = lastErr.Error()
	}
	return p
}

// registryActions are the dashboard's writes, through the registry's
// MLflow REST API with the registry token, as bridge models does.
type registryActions struct {
	url   func() string
	token string
}

var actionClients sync.Map // base URL → *mlflow.Client

func (r registryActions) client() *mlflow.Client {
	u := r.url()
	if c, ok := actionClients.Load(u); ok {
		return c.(*mlflow.Client)
	}
	c := mlflow.NewClient(u, r.token, &http.Client{Timeout: registryTimeout})
	actionClients.Store(u, c)
	return c
}

func (r registryActions) TransitionStage(ctx context.Context, name string, version int, stage string, archive bool) error {
	_, err := r.client().TransitionStage(ctx, name, version, stage, archive)
	return err
}

func (r registryActions) SetAlias(ctx context.Context, name, alias string, version int) error {
	return r.client().SetAlias(ctx, name, alias, version)
}

func (r registryActions) SetVersionTag(ctx context.Context, name string, version int, key, value string) error {
	return r.client().SetModelVersionTag(ctx, name, version, key, value)
}

// tagStatus is the dashboard's view when no bridge run answers: the
// registry's deploy tags.
func tagStatus(t target.Target, versions []model.ModelVersion) ui.Snapshot {
	doc := status.FromTags(t, versions)
	return snapshotOf(doc)
}

func snapshotOf(doc statusDoc) ui.Snapshot {
	snap := ui.Snapshot{Target: doc.Target, Source: doc.Source, Endpoints: endpointsOf(doc.Actual().Endpoints)}
	if r := doc.Reconcile; r != nil {
		d, _ := time.ParseDuration(r.Duration)
		snap.LastPass = &ui.Pass{At: r.LastPass, Duration: d, Error: r.Error, Failed: r.Failed, Deferred: r.Deferred, Actions: r.Actions}
	}
	return snap
}
