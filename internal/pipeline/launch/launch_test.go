package launch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/pipeline"
	"github.com/bridgeops/bridge/internal/pipeline/launch"
	"github.com/bridgeops/bridge/internal/pipeline/local"
)

// TestLocalRunAndHistory runs a one-step definition that fails on purpose
// the way bridge pipeline run does, then reads it back the way executions,
// describe, logs and stop do.
func TestLocalRunAndHistory(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	c := config.Config{Home: home, LogLevel: slog.LevelInfo}
	def := filepath.Join(t.TempDir(), "stop.yaml")
	if err := os.WriteFile(def, []byte("steps:\n  - name: TooHigh\n    type: Fail\n    arguments: {ErrorMessage: \"MSE above 4.5\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, _, err := pipeline.Load(def)
	if err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	end, err := launch.Local(ctx, c, d, def, nil, &out, launch.LocalOptions{Parallelism: 1, ApprovedStage: "Production"})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if end.Status != local.StatusFailed || !strings.Contains(end.Reason, "MSE above 4.5") || pipeline.ExitCode(end.Status) != 1 {
		t.Fatalf("outcome %+v", end)
	}
	if !strings.Contains(out.String(), "Execution "+end.ID+" of "+def) {
		t.Errorf("progress:\n%s", out.String())
	}

	// -o json: the execution as JSON and no progress lines.
	out.Reset()
	end2, err := launch.Local(ctx, c, d, def, nil, &out, launch.LocalOptions{Parallelism: 1, JSON: true})
	var e local.Execution
	if err != nil || json.Unmarshal(out.Bytes(), &e) != nil || e.ID != end2.ID || e.Status != local.StatusFailed {
		t.Fatalf("json run: %v %+v\n%s", err, e, out.String())
	}

	h, err := launch.OpenHistory(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	list, err := h.List(ctx, 0)
	if err != nil || len(list) != 2 || list[0].ID != end2.ID || list[1].ID != end.ID {
		t.Fatalf("list: %v %+v", err, list)
	}
	got, err := h.Describe(ctx, end.ID)
	if err != nil || got.Status != local.StatusFailed || len(got.Steps) != 1 || got.Steps[0].Name != "TooHigh" {
		t.Fatalf("describe: %v %+v", err, got)
	}
	if _, err := h.Describe(ctx, "nope"); err == nil {
		t.Error("describe of an unknown execution succeeded")
	}
	if err := h.CopyLog(ctx, &out, end.ID, "Nope"); err == nil {
		t.Error("log of an unknown step succeeded")
	}
	if _, _, err := h.Stop(ctx, end.ID); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("stop of a finished execution: %v", err)
	}
}

func TestOpenHistoryInAnUnwritableHome(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := launch.OpenHistory(context.Background(), config.Config{Home: file}); err == nil || !strings.Contains(err.Error(), "--home") {
		t.Fatalf("OpenHistory on a file: %v", err)
	}
}
