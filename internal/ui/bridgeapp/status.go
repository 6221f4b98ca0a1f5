package bridgeapp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/monitor/schedule"
	"github.com/bridgeops/bridge/internal/reconcile"
	"github.com/bridgeops/bridge/internal/registry"
	"github.com/bridgeops/bridge/internal/status"
	"github.com/bridgeops/bridge/internal/target"
	"github.com/bridgeops/bridge/internal/target/local"
	"github.com/bridgeops/bridge/internal/ui"
)

// LastPass is the reconcile loop's last pass.
type LastPass interface {
	Last() (reconcile.Result, error, time.Time)
}

// InProcessStatus is the dashboard's view of bridge run's own target and
// loop.
type InProcessStatus struct {
	Target target.Target
	Loop   LastPass
}

// Snapshot observes the target and adds the loop's last pass.
func (s InProcessStatus) Snapshot(ctx context.Context) (ui.Snapshot, error) {
	act, err := s.Target.Observe(ctx)
	snap := ui.Snapshot{Target: s.Target.Name(), Source: "target"}
	res, lastErr, at := s.Loop.Last()
	if !at.IsZero() {
		snap.LastPass = passOf(res, lastErr, at)
	}
	if err != nil {
		return snap, fmt.Errorf("observe %s target: %w", s.Target.Name(), err)
	}
	snap.Endpoints = endpointsOf(act.Endpoints)
	return snap, nil
}

// RemoteStatus reads the serving state from a running bridge run at Addr,
// or, when none answers, from the registry's deploy tags.
type RemoteStatus struct {
	Addr     string
	Registry registry.Registry
	Target   target.Target
}

// Snapshot asks bridge run for GET /status, falling back to deploy tags.
func (r RemoteStatus) Snapshot(ctx context.Context) (ui.Snapshot, error) {
	doc, err := status.Fetch(ctx, r.Addr)
	if err == nil {
		return SnapshotOf(doc), nil
	}
	if !errors.Is(err, status.ErrNotRunning) {
		return ui.Snapshot{}, err
	}
	slog.Debug("bridge run not answering; showing deploy tags", "err", err)
	vs, rerr := r.Registry.Versions(ctx)
	if rerr != nil {
		return ui.Snapshot{}, fmt.Errorf("%v; and the registry: %w", err, rerr)
	}
	return TagStatus(r.Target, vs), nil
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

// TagStatus is the dashboard's view when no bridge run answers: the
// registry's deploy tags.
func TagStatus(t target.Target, versions []model.ModelVersion) ui.Snapshot {
	doc := status.FromTags(t, versions)
	return SnapshotOf(doc)
}

// SnapshotOf is the dashboard's view of a /status document.
func SnapshotOf(doc status.Doc) ui.Snapshot {
	snap := ui.Snapshot{Target: doc.Target, Source: doc.Source, Endpoints: endpointsOf(doc.Actual().Endpoints)}
	if r := doc.Reconcile; r != nil {
		d, _ := time.ParseDuration(r.Duration)
		snap.LastPass = &ui.Pass{At: r.LastPass, Duration: d, Error: r.Error, Failed: r.Failed, Deferred: r.Deferred, Actions: r.Actions}
	}
	return snap
}

// OpenScheduleStore opens the monitoring schedules' store in db for the
// dashboard's Monitoring page.
func OpenScheduleStore(db *sql.DB) (*schedule.Store, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return schedule.OpenStore(ctx, db)
}
