package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	_ "modernc.org/sqlite"

	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/monitor/schedule"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// addMonitorRunFlags adds the data-capture and monitoring flags of bridge run.
func addMonitorRunFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Bool("capture", false, "capture every endpoint's requests and responses in SageMaker's data-capture format (env BRIDGE_CAPTURE)")
	f.Float64("capture-sampling", 100, "percentage of invocations captured, 0-100 (env BRIDGE_CAPTURE_SAMPLING)")
	f.String("capture-mode", "both", "which halves to capture: input, output or both (env BRIDGE_CAPTURE_MODE)")
	f.String("capture-dir", "", "capture directory (env BRIDGE_CAPTURE_DIR, default $BRIDGE_HOME/datacapture)")
	f.StringArray("capture-endpoint", nil, "per-endpoint capture override NAME=SPEC, SPEC a comma list of a percentage, on, off, input, output, both; repeatable (env BRIDGE_CAPTURE_ENDPOINTS, overrides separated by ';')")
	f.Int("capture-queue", 8192, "captured invocations buffered before new ones are dropped and counted (env BRIDGE_CAPTURE_QUEUE)")
	f.Bool("monitor-schedules", true, "run the monitoring schedules (bridge monitor schedule create) (env BRIDGE_MONITOR_SCHEDULES)")
	f.String("alert-webhook", "", "URL that receives a JSON POST when a monitoring execution finds violations (env BRIDGE_ALERT_WEBHOOK)")
}

// monitorSetting reads a monitoring setting: the flag when set, else the
// environment (or .env), else the flag's default.
func monitorSetting(c config.Config, cmd *cobra.Command, flag, env string) string {
	if cmd != nil {
		if f := cmd.Flags().Lookup(flag); f != nil {
			if f.Changed {
				if sv, ok := f.Value.(interface{ GetSlice() []string }); ok {
					return strings.Join(sv.GetSlice(), ";")
				}
				return f.Value.String()
			}
			if v := c.Get(env, ""); v != "" {
				return v
			}
			if sv, ok := f.Value.(interface{ GetSlice() []string }); ok {
				return strings.Join(sv.GetSlice(), ";")
			}
			return f.DefValue
		}
	}
	return c.Get(env, "")
}

func monitorHome(c config.Config) string {
	if c.Home != "" {
		return c.Home
	}
	return c.Get("BRIDGE_HOME", ".bridge")
}

// captureConfig builds the capture writer's configuration from flags and
// environment; ok is false when nothing is to be captured.
func captureConfig(c config.Config, cmd *cobra.Command) (wc capture.WriterConfig, ok bool, err error) {
	def := capture.DefaultEndpointConfig()
	on, err := strconv.ParseBool(monitorOrDefault(monitorSetting(c, cmd, "capture", "BRIDGE_CAPTURE"), "false"))
	if err != nil {
		if v := strings.ToLower(monitorSetting(c, cmd, "capture", "BRIDGE_CAPTURE")); v == "on" || v == "off" {
			on, err = v == "on", nil
		} else {
			return wc, false, fmt.Errorf("BRIDGE_CAPTURE=%q: want true or false", v)
		}
	}
	def.Enabled = on
	pct := monitorOrDefault(monitorSetting(c, cmd, "capture-sampling", "BRIDGE_CAPTURE_SAMPLING"), "100")
	if def, err = def.ParseSpec(pct); err != nil {
		return wc, false, fmt.Errorf("--capture-sampling: %w", err)
	}
	def.Enabled = def.Enabled && on
	mode := monitorOrDefault(monitorSetting(c, cmd, "capture-mode", "BRIDGE_CAPTURE_MODE"), "both")
	switch mode {
	case "input", "output", "both":
		def, _ = def.ParseSpec(mode)
	default:
		return wc, false, fmt.Errorf("--capture-mode %q: want input, output or both", mode)
	}
	var items []string
	for _, it := range strings.Split(monitorSetting(c, cmd, "capture-endpoint", "BRIDGE_CAPTURE_ENDPOINTS"), ";") {
		if strings.TrimSpace(it) != "" {
			items = append(items, it)
		}
	}
	overrides, err := capture.ParseOverrides(def, items)
	if err != nil {
		return wc, false, err
	}
	ok = def.Enabled
	for _, o := range overrides {
		ok = ok || o.Enabled
	}
	queue, err := strconv.Atoi(monitorOrDefault(monitorSetting(c, cmd, "capture-queue", "BRIDGE_CAPTURE_QUEUE"), "8192"))
	if err != nil || queue <= 0 {
		return wc, false, fmt.Errorf("--capture-queue: want a positive number of records")
	}
	dir := monitorSetting(c, cmd, "capture-dir", "BRIDGE_CAPTURE_DIR")
	if dir == "" {
		dir = filepath.Join(monitorHome(c), "datacapture")
	}
	return capture.WriterConfig{Root: dir, Default: def, Endpoints: overrides, QueueSize: queue}, ok, nil
}

func monitorOrDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// openMonitorDB opens <home>/registry.db for the monitor's tables when
// bridge run has no embedded store (external registry).
func openMonitorDB(home string) (*sql.DB, error) {
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", home, err)
	}
	path, err := filepath.Abs(filepath.Join(home, store.FileName))
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", store.DSN(path))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// startMonitoring starts data capture and the monitoring schedules inside
// bridge run. db is the embedded store's database (nil with an external
// registry). The returned sink is nil when capture is off; stop flushes and
// stops everything.
func startMonitoring(ctx context.Context, c config.Config, cmd *cobra.Command, db *sql.DB, metrics *prometheus.Registry) (sink capture.Sink, stop func(), err error) {
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

	wc, on, err := captureConfig(c, cmd)
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

	runSchedules, err := strconv.ParseBool(monitorOrDefault(monitorSetting(c, cmd, "monitor-schedules", "BRIDGE_MONITOR_SCHEDULES"), "true"))
	if err != nil {
		return sink, stop, fmt.Errorf("BRIDGE_MONITOR_SCHEDULES: want true or false")
	}
	if !runSchedules {
		return sink, stop, nil
	}
	if db == nil {
		own, err := openMonitorDB(monitorHome(c))
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
	runner := &schedule.Runner{Store: st, Metrics: schedule.NewMetrics(reg), Log: slog.Default()}
	if hook := monitorSetting(c, cmd, "alert-webhook", "BRIDGE_ALERT_WEBHOOK"); hook != "" {
		if u, err := url.Parse(hook); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return sink, stop, fmt.Errorf("BRIDGE_ALERT_WEBHOOK=%q: want an http(s) URL", hook)
		}
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
