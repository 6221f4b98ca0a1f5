package main

import (
	"context"
	"fmt"
	"net/http"

	appmgr "github.com/bridgeops/bridge/internal/app"
	"github.com/bridgeops/bridge/internal/ui"
	"github.com/bridgeops/bridge/internal/ui/bridgeapp"
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
	db, err := bridgeapp.OpenSeries(s.SeriesPath)
	if err != nil {
		return err
	}
	opts := ui.Options{
		Status:   bridgeapp.InProcessStatus{Target: a.target, Loop: a.loop},
		Registry: a.registry,
		Series:   db,
		Actions:  bridgeapp.ActionsFor(a.registry, a.RegistryURL, a.cfg.RegistryToken, registryTimeout),
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
	if opts.Monitor, err = bridgeapp.OpenScheduleStore(mdb); err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	opts.Pipelines = pipelineSource(mdb)
	a.ui = ui.New(opts)

	a.parts.Add("dashboard sampler", appmgr.Background(func(ctx context.Context) error {
		bridgeapp.RunSampler(ctx, db, a.metrics, a.target, s.SampleInterval)
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
