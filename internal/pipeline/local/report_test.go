package local

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestStepLogPath(t *testing.T) {
	e := Execution{ID: "x1", Steps: []StepRecord{
		{Name: "Train", Type: "Training", LogPath: "/logs/train.log"},
		{Name: "Cached", Type: "Processing", CacheHit: true, CachedFrom: "x0"},
		{Name: "Check", Type: "Condition"},
	}}
	tests := []struct {
		step, want, err string
	}{
		{"Train", "/logs/train.log", ""},
		{"Cached", "", "its log is in execution x0 (bridge pipeline logs x0 Cached)"},
		{"Check", "", "step Check (Condition) runs no command and has no log"},
		{"Nope", "", `execution x1 has no step "Nope" (steps: Train, Cached, Check)`},
	}
	for _, tt := range tests {
		got, err := StepLogPath(e, tt.step)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("StepLogPath(%s) = %q, %v; want %q, %q", tt.step, got, err, tt.want, tt.err)
		}
	}
}

func TestWriteExecution(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e := Execution{ID: "x1", Pipeline: "p", Status: StatusFailed, Started: t0, FailureReason: "step Train failed",
		Parameters: map[string]any{"A": "1"},
		Steps: []StepRecord{
			{Name: "Train", Type: "Training", Status: StatusFailed, Started: t0, Finished: t0.Add(1500 * time.Millisecond), FailureReason: "exit 1\nmore"},
			{Name: "Eval", Type: "Processing", Status: StatusExecuting, Started: t0},
		}}
	var b bytes.Buffer
	if err := WriteExecution(&b, e); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"Execution:  x1\n", "Reason:     step Train failed\n", `Parameters: {"A":"1"}`, "1.5s", "exit 1\n", "Eval"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "more") {
		t.Errorf("step reason not cut to its first line:\n%s", out)
	}
}

func TestProgressSkipsStartingAndNotesCacheHits(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, false)
	defer p.Close()
	p.Event(Event{Step: "A", Type: "Training", Status: StatusStarting})
	p.Event(Event{Step: "A", Type: "Training", Status: StatusSucceeded, CacheHit: true})
	out := b.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "Succeeded (cache hit)") {
		t.Fatalf("progress:\n%s", out)
	}
}
