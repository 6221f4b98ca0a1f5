package bridgerun

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"

	appmgr "github.com/bridgeops/bridge/internal/app"
	"github.com/bridgeops/bridge/internal/pipeline/dashboard"
	"github.com/bridgeops/bridge/internal/pipeline/local"
	"github.com/bridgeops/bridge/internal/ui"
	"github.com/bridgeops/bridge/internal/ui/bridgeapp"
)

// setupUI builds the dashboard of bridge run and starts the sampler that
// feeds its time series from the router's metrics; a.Dashboard stays nil
// when BRIDGE_UI=false. The sampler stops and flushes on shutdown.
func (a *App) setupUI() error {
	s, err := a.Config.UI()
	if err != nil {
		return err
	}
	if !s.Enabled {
		return nil
	}
	db, err := bridgeapp.OpenSeries(s.SeriesPath)
	if err != nil {
		return err
	}
	opts := ui.Options{
		Status:   bridgeapp.InProcessStatus{Target: a.Target, Loop: a.Loop},
		Registry: a.Registry,
		Series:   db,
		Actions:  bridgeapp.ActionsFor(a.Registry, a.RegistryURL, a.Config.RegistryToken, RegistryTimeout),
		Token:    a.Config.RegistryToken,
		Refresh:  s.Refresh,
	}
	opts.Captures = ui.CaptureDir{Root: a.Config.Monitoring.CaptureDir}
	mdb := StoreDB(a.Store)
	if mdb == nil {
		if mdb, err = OpenMonitorDB(a.Config.Home); err != nil {
			return fmt.Errorf("dashboard: %w", err)
		}
		a.parts.Add("dashboard database", appmgr.Closer(func(context.Context) error { return mdb.Close() }))
	}
	if opts.Monitor, err = bridgeapp.OpenScheduleStore(mdb); err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	opts.Pipelines = PipelineSource(mdb)
	a.Dashboard = ui.New(opts)

	a.parts.Add("dashboard sampler", appmgr.Background(func(ctx context.Context) error {
		bridgeapp.RunSampler(ctx, db, a.metrics, a.Target, s.SampleInterval)
		return nil
	}, nil))
	return nil
}

// mountUI mounts the dashboard at /ui/ with handle (a router's or a mux's
// Handle).
func (a *App) mountUI(handle func(pattern string, h http.Handler)) {
	if a.Dashboard != nil {
		handle("/ui/", a.Dashboard)
		handle("/ui", a.Dashboard)
	}
}

// PipelineSource is the dashboard's Pipelines page data: the history of
// bridge pipeline run in registry.db, with executions whose process is
// gone shown Stopped.
func PipelineSource(db *sql.DB) *dashboard.Source {
	s := dashboard.New(db)
	s.Alive = local.ProcessAlive
	return s
}
