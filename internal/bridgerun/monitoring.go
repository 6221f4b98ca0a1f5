package bridgerun

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	_ "modernc.org/sqlite"

	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/monitor/schedule"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// MonitorHome is the home whose registry.db holds the monitoring tables.
func MonitorHome(c config.Config) string {
	if c.Home != "" {
		return c.Home
	}
	return c.Get("BRIDGE_HOME", ".bridge")
}

// OpenMonitorDB opens <home>/registry.db for the monitor's tables when
// there is no embedded store (external registry).
func OpenMonitorDB(home string) (*sql.DB, error) { return store.OpenDB(home) }

// startMonitoring starts data capture and the monitoring schedules inside
// bridge run. db is the embedded store's database (nil with an external
// registry). The returned sink is nil when capture is off; stop flushes and
// stops everything.
func startMonitoring(ctx context.Context, c config.Config, db *sql.DB, metrics *prometheus.Registry) (sink capture.Sink, stop func(), err error) {
	var reg prometheus.Registerer
	if metrics != nil {
		reg = metrics
	}
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	defer func() {
		if err != nil {
			stop()
			sink, stop = nil, func() {}
		}
	}()

	wc, on, err := capture.ConfigFromSettings(c.Monitoring)
	if err != nil {
		return nil, stop, err
	}
	if on {
		wc.Metrics = reg
		w, err := capture.NewWriter(wc)
		if err != nil {
			return nil, stop, err
		}
		sink = w
		stops = append(stops, func() {
			cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := w.Close(cctx); err != nil {
				slog.Error("close data capture", "err", err)
			}
		})
		slog.Info("data capture on", "dir", wc.Root, "sampling", wc.Default.SamplingPercent, "overrides", len(wc.Endpoints))
	}

	if !c.Monitoring.Schedules {
		return sink, stop, nil
	}
	if db == nil {
		own, err := OpenMonitorDB(MonitorHome(c))
		if err != nil {
			return sink, stop, fmt.Errorf("monitoring schedules: %w", err)
		}
		db = own
		stops = append(stops, func() { own.Close() })
	}
	st, err := schedule.OpenStore(ctx, db)
	if err != nil {
		return sink, stop, err
	}
	runner := &schedule.Runner{Store: st, AWS: c.AWS, Metrics: schedule.NewMetrics(reg), Log: slog.Default()}
	if hook := c.Monitoring.AlertWebhook; hook != "" {
		runner.Alerter = schedule.NewAlerter(hook, reg)
		stops = append(stops, func() {
			actx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			runner.Alerter.Close(actx)
		})
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if err := runner.Start(rctx); err != nil {
		cancel()
		return sink, stop, fmt.Errorf("monitoring schedules: %w", err)
	}
	stops = append(stops, func() { cancel(); runner.Stop() })
	return sink, stop, nil
}

// OpenSchedules opens the monitoring schedules in the home's registry.db
// (what bridge monitor schedule edits and bridge run executes); close
// releases the database.
func OpenSchedules(ctx context.Context, c config.Config) (_ *schedule.Store, close func(), err error) {
	st, err := store.Open(ctx, MonitorHome(c))
	if err != nil {
		return nil, nil, err
	}
	s, err := schedule.OpenStore(ctx, st.DB())
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return s, func() { st.Close() }, nil
}
