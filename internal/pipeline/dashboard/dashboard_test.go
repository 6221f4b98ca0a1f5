package dashboard

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/bridgeops/bridge/internal/pipeline/local"
	"github.com/bridgeops/bridge/internal/ui"
)

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func insert(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestSource reads history rows as the executor writes them, including
// bad ones: a log that is gone, a definition that is gone, a long log, a
// running execution whose process has died.
func TestSource(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	s := New(db)
	s.LogTail = 64
	got, err := s.PipelineExecutions(ctx, 20)
	if err != nil || len(got) != 0 {
		t.Fatalf("empty home: %v %v", got, err)
	}

	dir := t.TempDir()
	longLog := filepath.Join(dir, "long.log")
	var b strings.Builder
	for i := range 20 {
		b.WriteString(strings.Repeat("x", 10) + " line " + string(rune('a'+i)) + "\n")
	}
	if err := os.WriteFile(longLog, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixMilli()
	const ex = `INSERT INTO pipeline_executions (id, pipeline, definition, status, parameters, started_ms, finished_ms, failure_reason, pid) VALUES (?, 'p', ?, ?, '{}', ?, ?, '', ?)`
	const st = `INSERT INTO pipeline_steps (execution_id, name, type, status, started_ms, finished_ms, cache_hit, cached_from, outcome, failure_reason, properties, log_path, seq) VALUES (?, ?, 'Processing', ?, ?, ?, 0, '', '', ?, '{}', ?, ?)`
	insert(t, db, ex, "old", filepath.Join(dir, "gone.yaml"), "Failed", t0, t0+2500, 0)
	insert(t, db, st, "old", "A", "Succeeded", t0, t0+1000, "", longLog, 0)
	insert(t, db, st, "old", "B", "Failed", t0+1000, t0+2500, "AlgorithmError: boom", filepath.Join(dir, "missing.log"), 1)
	insert(t, db, ex, "new", "", "Executing", t0+10000, 0, 424242)

	s.Alive = func(pid int) bool { return pid != 424242 }
	got, err = s.PipelineExecutions(ctx, 20)
	if err != nil || len(got) != 2 {
		t.Fatalf("%v %v", got, err)
	}
	if got[0].ID != "new" || got[0].Status != "Stopped" || got[0].Duration() != 0 {
		t.Errorf("dead running execution %+v", got[0])
	}
	old := got[1]
	if old.Status != "Failed" || old.Duration() != 2500*time.Millisecond || len(old.Steps) != 2 {
		t.Fatalf("old %+v", old)
	}
	a, bStep := old.Steps[0], old.Steps[1]
	if a.Duration() != time.Second || !strings.HasPrefix(a.Log, "… (last 64 of ") || !strings.HasSuffix(a.Log, "line t\n") || strings.Contains(a.Log, "line a") {
		t.Errorf("long log %q", a.Log)
	}
	if bStep.Error != "AlgorithmError: boom" || !strings.Contains(bStep.Log, "log unavailable") || len(bStep.DependsOn) != 0 {
		t.Errorf("step B %+v", bStep)
	}
	if got, _ := s.PipelineExecutions(ctx, 1); len(got) != 1 {
		t.Errorf("limit 1: %d executions", len(got))
	}
}

// The dashboard's Approve sets, and its model page reads, the approval tag
// a pipeline's RegisterModel step writes.
func TestApprovalTagIsThePipelines(t *testing.T) {
	if ui.ApprovalTag != local.TagApprovalStatus {
		t.Fatalf("dashboard approval tag %q, pipeline's %q", ui.ApprovalTag, local.TagApprovalStatus)
	}
}
