package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/monitor"
	"github.com/bridgeops/bridge/internal/promreg"
)

// Metrics are the Prometheus metrics of schedule executions.
type Metrics struct {
	executions *prometheus.CounterVec
	violations *prometheus.GaugeVec
	values     *prometheus.GaugeVec
	last       *prometheus.GaugeVec
	success    *prometheus.GaugeVec
	duration   *prometheus.GaugeVec
}

// NewMetrics creates the metrics and registers them on reg (nil: not
// registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		executions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bridge_monitor_executions_total",
			Help: "Monitoring executions by schedule and status (Completed, CompletedWithViolations, CompletedWithNoData, Failed)."}, []string{"schedule", "status"}),
		violations: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bridge_monitor_violations",
			Help: "Constraint violations found by the schedule's last execution."}, []string{"schedule", "endpoint"}),
		values: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bridge_monitor_metric",
			Help: "Metric values of the schedule's last execution with data: model-quality metrics, per-feature drift distance, PSI, KS and mean (none after a window without data)."}, []string{"schedule", "endpoint", "metric"}),
		last: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bridge_monitor_last_execution_timestamp_seconds",
			Help: "End of the window of the schedule's last execution."}, []string{"schedule"}),
		success: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bridge_monitor_last_execution_success",
			Help: "1 if the schedule's last execution completed (with or without violations or data), 0 if it failed."}, []string{"schedule"}),
		duration: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bridge_monitor_last_execution_duration_seconds",
			Help: "Duration of the schedule's last execution."}, []string{"schedule"}),
	}
	if reg != nil {
		m.executions = promreg.MustRegister(reg, m.executions)
		m.violations = promreg.MustRegister(reg, m.violations)
		m.values = promreg.MustRegister(reg, m.values)
		m.last = promreg.MustRegister(reg, m.last)
		m.success = promreg.MustRegister(reg, m.success)
		m.duration = promreg.MustRegister(reg, m.duration)
	}
	return m
}

func (m *Metrics) observe(sc Schedule, e *Execution) {
	m.executions.WithLabelValues(sc.Name, e.Status).Inc()
	m.last.WithLabelValues(sc.Name).Set(float64(e.WindowEnd.Unix()))
	m.duration.WithLabelValues(sc.Name).Set(e.FinishedAt.Sub(e.StartedAt).Seconds())
	if e.Status == StatusFailed {
		m.success.WithLabelValues(sc.Name).Set(0)
		return
	}
	m.success.WithLabelValues(sc.Name).Set(1)
	m.violations.WithLabelValues(sc.Name, sc.Spec.Endpoint).Set(float64(e.Violations))
	m.values.DeletePartialMatch(prometheus.Labels{"schedule": sc.Name})
	for k, v := range e.Metrics {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			m.values.WithLabelValues(sc.Name, sc.Spec.Endpoint, k).Set(v)
		}
	}
}

// Runner executes schedules: on their cron activations while started, or
// on demand through Execute.
type Runner struct {
	Store   *Store
	Metrics *Metrics
	Alerter *Alerter // nil: no alerts
	Log     *slog.Logger
	// AWS are the settings for the schedules' s3:// locations.
	AWS config.AWSSettings
	// Run runs one job (default monitor.Run).
	Run func(ctx context.Context, j monitor.Job) (*monitor.Report, error)
	// Reload is how often the schedule table is re-read, so schedules
	// created or deleted with the CLI take effect (default 30s).
	Reload time.Duration

	mu      sync.Mutex
	cron    *cron.Cron
	entries map[string]entry
	running map[string]bool
	wg      sync.WaitGroup
	stopCh  chan struct{}
	stopped sync.Once
}

type entry struct {
	id   cron.EntryID
	cron string
	spec Spec
}

func (r *Runner) log() *slog.Logger {
	if r.Log == nil {
		return slog.Default()
	}
	return r.Log
}

// Execute runs one execution of sc for the window ending at or before now
// and records it. Failures are recorded as Failed executions and returned.
func (r *Runner) Execute(ctx context.Context, sc Schedule, now time.Time) (*Execution, error) {
	cs, err := Parse(sc.Cron)
	if err != nil {
		return nil, err
	}
	start, end := Window(cs, now)
	if off := sc.Spec.Offsets(); !off.IsZero() {
		if start, end, err = off.Window(end, start, end); err != nil {
			return nil, fmt.Errorf("schedule %s: %w", sc.Name, err)
		}
	}
	return r.ExecuteWindow(ctx, sc, start, end)
}

// ExecuteWindow runs sc over [start, end) and records the execution.
func (r *Runner) ExecuteWindow(ctx context.Context, sc Schedule, start, end time.Time) (*Execution, error) {
	run := r.Run
	if run == nil {
		run = monitor.Run
	}
	layout := "2006/01/02/15-04-05"
	if end.Nanosecond() != 0 {
		layout += ".000"
	}
	out := filepath.Join(sc.Spec.Output, end.UTC().Format(layout))
	if strings.HasPrefix(sc.Spec.Output, "s3://") {
		return nil, fmt.Errorf("schedule %s: --output must be a local directory", sc.Name)
	}
	e := &Execution{Schedule: sc.Name, WindowStart: start.UTC(), WindowEnd: end.UTC(), StartedAt: time.Now().UTC(), Output: out}
	job := sc.Spec.Job(start, end, out)
	job.AWS = r.AWS
	rep, runErr := run(ctx, job)
	e.FinishedAt = time.Now().UTC()
	if runErr != nil {
		e.Status, e.Error = StatusFailed, runErr.Error()
	} else {
		e.Records, e.Violations = rep.Records, len(rep.Violations)
		e.Metrics = map[string]float64{}
		for k, v := range rep.Metrics {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				e.Metrics[k] = v
			}
		}
		e.StatisticsPath, e.ViolationsPath = rep.StatisticsPath, rep.ViolationsPath
		e.Status = rep.Status
		if e.Status == "" { // a Run that predates statuses
			e.Status = StatusCompleted
			if e.Violations > 0 {
				e.Status = StatusViolations
			}
		}
	}
	// Record even when the run's context ended, so history shows it.
	recCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.Store.Record(recCtx, e); err != nil {
		r.log().Error("record monitoring execution", "schedule", sc.Name, "err", err)
	}
	if r.Metrics != nil {
		r.Metrics.observe(sc, e)
	}
	if e.Status == StatusViolations && r.Alerter != nil {
		al := Alert{Schedule: sc.Name, Endpoint: sc.Spec.Endpoint, Type: sc.Spec.Type, Status: e.Status, ExecutionID: e.ID,
			WindowStart: e.WindowStart, WindowEnd: e.WindowEnd, Metrics: e.Metrics, ViolationsPath: e.ViolationsPath, StatisticsPath: e.StatisticsPath}
		for _, v := range rep.Violations {
			al.Violations = append(al.Violations, AlertViolation{Feature: v.FeatureName, Metric: v.MetricName, Check: v.ConstraintCheckType, Description: v.Description})
		}
		r.Alerter.Send(al)
	}
	r.log().Info("monitoring execution", "schedule", sc.Name, "status", e.Status, "window_start", e.WindowStart, "window_end", e.WindowEnd,
		"records", e.Records, "violations", e.Violations, "output", out)
	if runErr != nil {
		return e, fmt.Errorf("schedule %s: %w", sc.Name, runErr)
	}
	return e, nil
}

// Start loads the schedules and runs them on their cron expressions until
// ctx ends or Stop is called; the table is re-read every Reload.
func (r *Runner) Start(ctx context.Context) error {
	if r.Reload <= 0 {
		r.Reload = 30 * time.Second
	}
	r.mu.Lock()
	r.cron = cron.New(cron.WithParser(parser), cron.WithLocation(time.UTC))
	r.entries = map[string]entry{}
	r.running = map[string]bool{}
	r.stopCh = make(chan struct{})
	stopCh := r.stopCh
	r.mu.Unlock()
	if err := r.sync(ctx); err != nil {
		return err
	}
	r.cron.Start()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(r.Reload)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-stopCh:
				return
			case <-t.C:
				if err := r.sync(ctx); err != nil {
					r.log().Error("reload monitoring schedules", "err", err)
				}
			}
		}
	}()
	return nil
}

// sync makes the cron entries match the stored schedules.
func (r *Runner) sync(ctx context.Context) error {
	all, err := r.Store.List(ctx)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, sc := range all {
		seen[sc.Name] = true
		if e, ok := r.entries[sc.Name]; ok && e.cron == sc.Cron && e.spec == sc.Spec {
			continue
		} else if ok {
			r.cron.Remove(e.id)
		}
		sc := sc
		cs, err := Parse(sc.Cron)
		if err != nil {
			r.log().Error("monitoring schedule has a bad cron expression; skipped", "schedule", sc.Name, "err", err)
			continue
		}
		id := r.cron.Schedule(cs, cron.FuncJob(func() { r.fire(ctx, sc) }))
		r.entries[sc.Name] = entry{id: id, cron: sc.Cron, spec: sc.Spec}
	}
	for name, e := range r.entries {
		if !seen[name] {
			r.cron.Remove(e.id)
			delete(r.entries, name)
		}
	}
	return nil
}

// fire runs one activation, skipping it if the previous one still runs.
func (r *Runner) fire(ctx context.Context, sc Schedule) {
	r.mu.Lock()
	if r.running[sc.Name] || ctx.Err() != nil {
		r.mu.Unlock()
		r.log().Warn("monitoring execution skipped: the previous one is still running", "schedule", sc.Name)
		return
	}
	r.running[sc.Name] = true
	r.wg.Add(1)
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.running, sc.Name)
		r.mu.Unlock()
		r.wg.Done()
	}()
	if _, err := r.Execute(ctx, sc, time.Now()); err != nil {
		r.log().Error("monitoring execution failed", "schedule", sc.Name, "err", err)
	}
}

// Stop stops scheduling and waits for running executions.
func (r *Runner) Stop() {
	r.mu.Lock()
	c := r.cron
	if r.stopCh != nil {
		r.stopped.Do(func() { close(r.stopCh) })
	}
	r.mu.Unlock()
	if c != nil {
		<-c.Stop().Done()
	}
	r.wg.Wait()
}
