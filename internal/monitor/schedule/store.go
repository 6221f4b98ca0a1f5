// Package schedule keeps monitoring schedules and their execution history in
// the embedded store's SQLite database (tables monitor_*), runs them with
// cron syntax inside bridge run, exports Prometheus metrics per execution,
// and posts alerts to a webhook when an execution finds violations.
package schedule

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bridgeops/bridge/internal/monitor"
	"github.com/bridgeops/bridge/internal/monitor/modelquality"
)

// Schedule is a named, recurring monitoring job.
type Schedule struct {
	Name      string    `json:"name"`
	Cron      string    `json:"cron"`
	Spec      Spec      `json:"spec"`
	CreatedAt time.Time `json:"created_at"`
}

// Spec is what a schedule runs: a monitor.Job without its window.
type Spec struct {
	Type                string `json:"type"`
	Endpoint            string `json:"endpoint"`
	Capture             string `json:"capture"`
	GroundTruth         string `json:"ground_truth,omitempty"`
	Baseline            string `json:"baseline"`
	BaselineStatistics  string `json:"baseline_statistics,omitempty"`
	BaselineConstraints string `json:"baseline_constraints,omitempty"`
	Output              string `json:"output"`
	// StartOffset and EndOffset shift each execution's window (ISO 8601
	// durations, SageMaker's StartTimeOffset / EndTimeOffset).
	StartOffset          string  `json:"start_offset,omitempty"`
	EndOffset            string  `json:"end_offset,omitempty"`
	MinRecords           int64   `json:"min_records,omitempty"`
	AllowMissing         bool    `json:"allow_missing,omitempty"`
	ProblemType          string  `json:"problem_type,omitempty"`
	InferenceAttribute   string  `json:"inference_attribute,omitempty"`
	ProbabilityAttribute string  `json:"probability_attribute,omitempty"`
	PositiveLabel        string  `json:"positive_label,omitempty"`
	ProbabilityThreshold float64 `json:"probability_threshold,omitempty"`
}

// Job returns the monitor job of the spec over [start, end), writing to out.
func (s Spec) Job(start, end time.Time, out string) monitor.Job {
	return monitor.Job{
		Type: s.Type, Endpoint: s.Endpoint, Capture: s.Capture, GroundTruth: s.GroundTruth,
		Baseline: s.Baseline, BaselineStatistics: s.BaselineStatistics, BaselineConstraints: s.BaselineConstraints,
		Output: out, Start: start, End: end, ProblemType: s.ProblemType, MinRecords: s.MinRecords, AllowMissing: s.AllowMissing,
		Attributes:    modelquality.Attributes{Inference: s.InferenceAttribute, Probability: s.ProbabilityAttribute},
		PositiveLabel: s.PositiveLabel, ProbabilityThreshold: s.ProbabilityThreshold,
	}
}

// Offsets returns the spec's window offsets.
func (s Spec) Offsets() monitor.Offsets {
	return monitor.Offsets{Start: s.StartOffset, End: s.EndOffset}
}

// Validate checks a schedule before it is stored.
func (s Schedule) Validate() error {
	if s.Name == "" || strings.ContainsAny(s.Name, "/\\ \t\n") {
		return fmt.Errorf("schedule name %q: want a non-empty name without spaces or slashes", s.Name)
	}
	if _, err := Parse(s.Cron); err != nil {
		return err
	}
	switch s.Spec.Type {
	case monitor.DataQuality:
	case monitor.ModelQuality:
		if s.Spec.GroundTruth == "" {
			return errors.New("a model-quality schedule needs --ground-truth")
		}
	default:
		return fmt.Errorf("monitoring type %q: want data-quality or model-quality", s.Spec.Type)
	}
	if s.Spec.Endpoint == "" || s.Spec.Capture == "" || s.Spec.Output == "" ||
		(s.Spec.Baseline == "" && s.Spec.BaselineStatistics == "" && s.Spec.BaselineConstraints == "") {
		return errors.New("a schedule needs --endpoint, --capture, --output and --baseline (or --baseline-statistics / --baseline-constraints)")
	}
	if err := s.Spec.Offsets().Validate(); err != nil {
		return err
	}
	if s.Spec.MinRecords < 0 {
		return errors.New("--min-records must not be negative")
	}
	if strings.HasPrefix(s.Spec.Output, "s3://") {
		return errors.New("--output must be a local directory (captures and ground truth may be on S3)")
	}
	return nil
}

// Execution statuses (SageMaker's monitoring execution statuses).
const (
	StatusCompleted  = monitor.StatusCompleted
	StatusViolations = monitor.StatusViolations
	StatusNoData     = monitor.StatusNoData
	StatusFailed     = "Failed"
)

// Execution is one run of a schedule.
type Execution struct {
	ID             int64              `json:"id"`
	Schedule       string             `json:"schedule"`
	Status         string             `json:"status"`
	WindowStart    time.Time          `json:"window_start"`
	WindowEnd      time.Time          `json:"window_end"`
	StartedAt      time.Time          `json:"started_at"`
	FinishedAt     time.Time          `json:"finished_at"`
	Records        int64              `json:"records"`
	Violations     int                `json:"violations"`
	Metrics        map[string]float64 `json:"metrics,omitempty"`
	Output         string             `json:"output"`
	StatisticsPath string             `json:"statistics_path,omitempty"`
	ViolationsPath string             `json:"violations_path,omitempty"`
	Error          string             `json:"error,omitempty"`
}

// Store persists schedules and executions.
type Store struct{ db *sql.DB }

// migrations are applied in order, once each, recorded in monitor_schema.
var migrations = []string{
	`CREATE TABLE IF NOT EXISTS monitor_schedules (
		name TEXT PRIMARY KEY,
		cron TEXT NOT NULL,
		spec TEXT NOT NULL,
		created_at_ms INTEGER NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS monitor_executions (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		schedule TEXT NOT NULL,
		status TEXT NOT NULL,
		window_start_ms INTEGER NOT NULL,
		window_end_ms INTEGER NOT NULL,
		started_at_ms INTEGER NOT NULL,
		finished_at_ms INTEGER NOT NULL,
		records INTEGER NOT NULL,
		violations INTEGER NOT NULL,
		metrics TEXT NOT NULL,
		output TEXT NOT NULL,
		statistics_path TEXT NOT NULL,
		violations_path TEXT NOT NULL,
		error TEXT NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS monitor_executions_by_schedule ON monitor_executions (schedule, window_end_ms)`,
}

// OpenStore prepares the monitor tables in db (idempotent) and returns the
// store. db is the embedded registry's database, or any SQLite database.
func OpenStore(ctx context.Context, db *sql.DB) (*Store, error) {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS monitor_schema (version INTEGER NOT NULL)`); err != nil {
		return nil, fmt.Errorf("monitor schema: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("monitor schema: %w", err)
	}
	defer tx.Rollback()
	var version int
	err = tx.QueryRowContext(ctx, `SELECT version FROM monitor_schema`).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO monitor_schema (version) VALUES (0)`); err != nil {
			return nil, fmt.Errorf("monitor schema: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("monitor schema: %w", err)
	}
	if version > len(migrations) {
		return nil, fmt.Errorf("monitor schema version %d is newer than this Bridge (%d): upgrade bridge", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return nil, fmt.Errorf("monitor schema migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE monitor_schema SET version = ?`, len(migrations)); err != nil {
		return nil, fmt.Errorf("monitor schema: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("monitor schema: %w", err)
	}
	return &Store{db: db}, nil
}

// ErrNotFound is returned for a schedule that does not exist.
var ErrNotFound = errors.New("no such monitoring schedule")

// ErrExists is returned when creating a schedule whose name is taken.
var ErrExists = errors.New("monitoring schedule exists")

// Create stores a new schedule.
func (s *Store) Create(ctx context.Context, sc Schedule) error {
	if err := sc.Validate(); err != nil {
		return err
	}
	spec, err := json.Marshal(sc.Spec)
	if err != nil {
		return err
	}
	if sc.CreatedAt.IsZero() {
		sc.CreatedAt = time.Now()
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO monitor_schedules (name, cron, spec, created_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO NOTHING`,
		sc.Name, sc.Cron, string(spec), sc.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("create schedule %s: %w", sc.Name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("create schedule %s: %w (delete it first, or pick another name)", sc.Name, ErrExists)
	}
	return nil
}

// List returns every schedule, by name.
func (s *Store) List(ctx context.Context) ([]Schedule, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, cron, spec, created_at_ms FROM monitor_schedules ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	defer rows.Close()
	var out []Schedule
	for rows.Next() {
		var sc Schedule
		var spec string
		var created int64
		if err := rows.Scan(&sc.Name, &sc.Cron, &spec, &created); err != nil {
			return nil, fmt.Errorf("list schedules: %w", err)
		}
		if err := json.Unmarshal([]byte(spec), &sc.Spec); err != nil {
			return nil, fmt.Errorf("schedule %s: corrupt spec: %w", sc.Name, err)
		}
		sc.CreatedAt = time.UnixMilli(created).UTC()
		out = append(out, sc)
	}
	return out, rows.Err()
}

// Get returns one schedule.
func (s *Store) Get(ctx context.Context, name string) (Schedule, error) {
	all, err := s.List(ctx)
	if err != nil {
		return Schedule{}, err
	}
	for _, sc := range all {
		if sc.Name == name {
			return sc, nil
		}
	}
	return Schedule{}, fmt.Errorf("%w %q (list them with bridge monitor schedule list)", ErrNotFound, name)
}

// Delete removes a schedule and its execution history.
func (s *Store) Delete(ctx context.Context, name string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete schedule %s: %w", name, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM monitor_schedules WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete schedule %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w %q", ErrNotFound, name)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM monitor_executions WHERE schedule = ?`, name); err != nil {
		return fmt.Errorf("delete schedule %s: %w", name, err)
	}
	return tx.Commit()
}

// Record stores an execution and sets its ID.
func (s *Store) Record(ctx context.Context, e *Execution) error {
	metrics, err := json.Marshal(e.Metrics)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO monitor_executions (schedule, status, window_start_ms, window_end_ms, started_at_ms,
		finished_at_ms, records, violations, metrics, output, statistics_path, violations_path, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Schedule, e.Status, e.WindowStart.UnixMilli(), e.WindowEnd.UnixMilli(), e.StartedAt.UnixMilli(), e.FinishedAt.UnixMilli(),
		e.Records, e.Violations, string(metrics), e.Output, e.StatisticsPath, e.ViolationsPath, e.Error)
	if err != nil {
		return fmt.Errorf("record execution of %s: %w", e.Schedule, err)
	}
	e.ID, _ = res.LastInsertId()
	return nil
}

// Executions returns a schedule's executions, newest first (limit <= 0:
// all).
func (s *Store) Executions(ctx context.Context, name string, limit int) ([]Execution, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, schedule, status, window_start_ms, window_end_ms, started_at_ms, finished_at_ms,
		records, violations, metrics, output, statistics_path, violations_path, error
		FROM monitor_executions WHERE schedule = ? ORDER BY window_end_ms DESC, id DESC LIMIT ?`, name, limit)
	if err != nil {
		return nil, fmt.Errorf("list executions of %s: %w", name, err)
	}
	defer rows.Close()
	var out []Execution
	for rows.Next() {
		var e Execution
		var ws, we, sa, fa int64
		var metrics string
		if err := rows.Scan(&e.ID, &e.Schedule, &e.Status, &ws, &we, &sa, &fa, &e.Records, &e.Violations, &metrics, &e.Output,
			&e.StatisticsPath, &e.ViolationsPath, &e.Error); err != nil {
			return nil, fmt.Errorf("list executions of %s: %w", name, err)
		}
		e.WindowStart, e.WindowEnd = time.UnixMilli(ws).UTC(), time.UnixMilli(we).UTC()
		e.StartedAt, e.FinishedAt = time.UnixMilli(sa).UTC(), time.UnixMilli(fa).UTC()
		if err := json.Unmarshal([]byte(metrics), &e.Metrics); err != nil {
			e.Metrics = nil
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
