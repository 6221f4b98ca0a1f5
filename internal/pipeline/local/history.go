package local

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Step and execution statuses, as SageMaker Pipelines spells them.
const (
	StatusStarting  = "Starting"
	StatusExecuting = "Executing"
	StatusSucceeded = "Succeeded"
	StatusFailed    = "Failed"
	StatusStopped   = "Stopped"
	StatusStopping  = "Stopping"
)

// Execution is one run of a pipeline.
type Execution struct {
	ID            string         `json:"PipelineExecutionId"`
	Pipeline      string         `json:"PipelineName"`
	Definition    string         `json:"DefinitionPath"`
	Status        string         `json:"PipelineExecutionStatus"`
	Parameters    map[string]any `json:"Parameters"`
	Started       time.Time      `json:"CreationTime"`
	Finished      time.Time      `json:"LastModifiedTime"`
	FailureReason string         `json:"FailureReason,omitempty"`
	PID           int            `json:"-"`
	Steps         []StepRecord   `json:"Steps,omitempty"`
}

// StepRecord is one step of an execution (SageMaker's PipelineExecutionStep).
type StepRecord struct {
	Name          string         `json:"StepName"`
	Type          string         `json:"StepType"`
	Status        string         `json:"StepStatus"`
	Started       time.Time      `json:"StartTime"`
	Finished      time.Time      `json:"EndTime,omitzero"`
	CacheHit      bool           `json:"CacheHit"`
	CachedFrom    string         `json:"SourcePipelineExecutionId,omitempty"`
	Outcome       string         `json:"ConditionOutcome,omitempty"`
	FailureReason string         `json:"FailureReason,omitempty"`
	Properties    map[string]any `json:"Metadata,omitempty"`
	LogPath       string         `json:"LogPath,omitempty"`

	job string // the Processing or Training job's name
}

// History keeps executions, steps and the step cache in SQLite (tables
// pipeline_*, next to the embedded registry's in registry.db).
type History struct{ db *sql.DB }

var historyMigrations = []string{
	`CREATE TABLE IF NOT EXISTS pipeline_executions (
		id TEXT PRIMARY KEY,
		pipeline TEXT NOT NULL,
		definition TEXT NOT NULL,
		status TEXT NOT NULL,
		parameters TEXT NOT NULL,
		started_ms INTEGER NOT NULL,
		finished_ms INTEGER NOT NULL,
		failure_reason TEXT NOT NULL,
		pid INTEGER NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS pipeline_steps (
		execution_id TEXT NOT NULL,
		name TEXT NOT NULL,
		type TEXT NOT NULL,
		status TEXT NOT NULL,
		started_ms INTEGER NOT NULL,
		finished_ms INTEGER NOT NULL,
		cache_hit INTEGER NOT NULL,
		cached_from TEXT NOT NULL,
		outcome TEXT NOT NULL,
		failure_reason TEXT NOT NULL,
		properties TEXT NOT NULL,
		log_path TEXT NOT NULL,
		seq INTEGER NOT NULL,
		PRIMARY KEY (execution_id, name)
	)`,
	`CREATE TABLE IF NOT EXISTS pipeline_cache (
		key TEXT PRIMARY KEY,
		execution_id TEXT NOT NULL,
		step TEXT NOT NULL,
		properties TEXT NOT NULL,
		outputs TEXT NOT NULL,
		created_ms INTEGER NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS pipeline_executions_by_start ON pipeline_executions (started_ms)`,
}

// OpenHistory prepares the pipeline tables in db (idempotent).
func OpenHistory(ctx context.Context, db *sql.DB) (*History, error) {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS pipeline_schema (version INTEGER NOT NULL)`); err != nil {
		return nil, fmt.Errorf("pipeline schema: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("pipeline schema: %w", err)
	}
	defer tx.Rollback()
	var version int
	err = tx.QueryRowContext(ctx, `SELECT version FROM pipeline_schema`).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO pipeline_schema (version) VALUES (0)`); err != nil {
			return nil, fmt.Errorf("pipeline schema: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("pipeline schema: %w", err)
	}
	if version > len(historyMigrations) {
		return nil, fmt.Errorf("pipeline schema version %d is newer than this Bridge (%d): upgrade bridge", version, len(historyMigrations))
	}
	for i := version; i < len(historyMigrations); i++ {
		if _, err := tx.ExecContext(ctx, historyMigrations[i]); err != nil {
			return nil, fmt.Errorf("pipeline schema migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE pipeline_schema SET version = ?`, len(historyMigrations)); err != nil {
		return nil, fmt.Errorf("pipeline schema: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("pipeline schema: %w", err)
	}
	return &History{db: db}, nil
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func (h *History) createExecution(ctx context.Context, e *Execution) error {
	p, _ := json.Marshal(e.Parameters)
	_, err := h.db.ExecContext(ctx, `INSERT INTO pipeline_executions (id, pipeline, definition, status, parameters, started_ms, finished_ms, failure_reason, pid) VALUES (?,?,?,?,?,?,?,?,?)`,
		e.ID, e.Pipeline, e.Definition, e.Status, string(p), ms(e.Started), 0, "", e.PID)
	if err != nil {
		return fmt.Errorf("record execution %s: %w", e.ID, err)
	}
	return nil
}

func (h *History) finishExecution(ctx context.Context, e *Execution) error {
	_, err := h.db.ExecContext(ctx, `UPDATE pipeline_executions SET status = ?, finished_ms = ?, failure_reason = ? WHERE id = ?`,
		e.Status, ms(e.Finished), e.FailureReason, e.ID)
	if err != nil {
		return fmt.Errorf("record execution %s: %w", e.ID, err)
	}
	return nil
}

func (h *History) putStep(ctx context.Context, exec string, seq int, s StepRecord) error {
	props, _ := json.Marshal(s.Properties)
	if s.Properties == nil {
		props = []byte("{}")
	}
	hit := 0
	if s.CacheHit {
		hit = 1
	}
	_, err := h.db.ExecContext(ctx, `INSERT INTO pipeline_steps (execution_id, name, type, status, started_ms, finished_ms, cache_hit, cached_from, outcome, failure_reason, properties, log_path, seq)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (execution_id, name) DO UPDATE SET status = excluded.status, started_ms = excluded.started_ms, finished_ms = excluded.finished_ms,
		cache_hit = excluded.cache_hit, cached_from = excluded.cached_from, outcome = excluded.outcome, failure_reason = excluded.failure_reason,
		properties = excluded.properties, log_path = excluded.log_path`,
		exec, s.Name, s.Type, s.Status, ms(s.Started), ms(s.Finished), hit, s.CachedFrom, s.Outcome, s.FailureReason, string(props), s.LogPath, seq)
	if err != nil {
		return fmt.Errorf("record step %s of %s: %w", s.Name, exec, err)
	}
	return nil
}

// ErrNoExecution is returned for an unknown execution id.
var ErrNoExecution = errors.New("no such pipeline execution")

// Executions lists executions, newest first (limit <= 0: all).
func (h *History) Executions(ctx context.Context, limit int) ([]Execution, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := h.db.QueryContext(ctx, `SELECT id, pipeline, definition, status, parameters, started_ms, finished_ms, failure_reason, pid FROM pipeline_executions ORDER BY started_ms DESC, id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list executions: %w", err)
	}
	defer rows.Close()
	var out []Execution
	for rows.Next() {
		e, err := scanExecution(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func scanExecution(row interface{ Scan(...any) error }) (Execution, error) {
	var e Execution
	var params string
	var s, f int64
	if err := row.Scan(&e.ID, &e.Pipeline, &e.Definition, &e.Status, &params, &s, &f, &e.FailureReason, &e.PID); err != nil {
		return e, err
	}
	e.Started, e.Finished = fromMS(s), fromMS(f)
	_ = json.Unmarshal([]byte(params), &e.Parameters)
	return e, nil
}

// Execution returns one execution with its steps.
func (h *History) Execution(ctx context.Context, id string) (Execution, error) {
	e, err := scanExecution(h.db.QueryRowContext(ctx, `SELECT id, pipeline, definition, status, parameters, started_ms, finished_ms, failure_reason, pid FROM pipeline_executions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("%s: %w (list them with: bridge pipeline executions)", id, ErrNoExecution)
	}
	if err != nil {
		return e, fmt.Errorf("execution %s: %w", id, err)
	}
	rows, err := h.db.QueryContext(ctx, `SELECT name, type, status, started_ms, finished_ms, cache_hit, cached_from, outcome, failure_reason, properties, log_path FROM pipeline_steps WHERE execution_id = ? ORDER BY seq, started_ms, name`, id)
	if err != nil {
		return e, fmt.Errorf("execution %s steps: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var s StepRecord
		var st, fi int64
		var hit int
		var props string
		if err := rows.Scan(&s.Name, &s.Type, &s.Status, &st, &fi, &hit, &s.CachedFrom, &s.Outcome, &s.FailureReason, &props, &s.LogPath); err != nil {
			return e, err
		}
		s.Started, s.Finished, s.CacheHit = fromMS(st), fromMS(fi), hit == 1
		_ = json.Unmarshal([]byte(props), &s.Properties)
		e.Steps = append(e.Steps, s)
	}
	return e, rows.Err()
}

// MarkStopping records that a stop was requested.
func (h *History) MarkStopping(ctx context.Context, id string) error {
	_, err := h.db.ExecContext(ctx, `UPDATE pipeline_executions SET status = ? WHERE id = ? AND status = ?`, StatusStopping, id, StatusExecuting)
	return err
}

// MarkAbandoned closes an execution whose process is gone.
func (h *History) MarkAbandoned(ctx context.Context, id, reason string) error {
	now := time.Now().UnixMilli()
	if _, err := h.db.ExecContext(ctx, `UPDATE pipeline_steps SET status = ?, finished_ms = ?, failure_reason = ? WHERE execution_id = ? AND status IN (?, ?)`,
		StatusStopped, now, reason, id, StatusStarting, StatusExecuting); err != nil {
		return err
	}
	_, err := h.db.ExecContext(ctx, `UPDATE pipeline_executions SET status = ?, finished_ms = ?, failure_reason = ? WHERE id = ? AND status IN (?, ?)`,
		StatusStopped, now, reason, id, StatusExecuting, StatusStopping)
	return err
}

type cacheEntry struct {
	Execution  string
	Step       string
	Properties map[string]any
	Outputs    map[string]string // uri → digest
	Created    time.Time
}

func (h *History) cacheGet(ctx context.Context, key string) (cacheEntry, bool, error) {
	var c cacheEntry
	var props, outs string
	var created int64
	err := h.db.QueryRowContext(ctx, `SELECT execution_id, step, properties, outputs, created_ms FROM pipeline_cache WHERE key = ?`, key).
		Scan(&c.Execution, &c.Step, &props, &outs, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("step cache: %w", err)
	}
	if err := json.Unmarshal([]byte(props), &c.Properties); err != nil {
		return c, false, nil
	}
	_ = json.Unmarshal([]byte(outs), &c.Outputs)
	c.Created = fromMS(created)
	return c, true, nil
}

func (h *History) cachePut(ctx context.Context, key string, c cacheEntry) error {
	props, _ := json.Marshal(c.Properties)
	outs, _ := json.Marshal(c.Outputs)
	_, err := h.db.ExecContext(ctx, `INSERT INTO pipeline_cache (key, execution_id, step, properties, outputs, created_ms) VALUES (?,?,?,?,?,?)
		ON CONFLICT (key) DO UPDATE SET execution_id = excluded.execution_id, step = excluded.step, properties = excluded.properties, outputs = excluded.outputs, created_ms = excluded.created_ms`,
		key, c.Execution, c.Step, string(props), string(outs), ms(c.Created))
	if err != nil {
		return fmt.Errorf("step cache: %w", err)
	}
	return nil
}
