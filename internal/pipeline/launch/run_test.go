package launch_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/pipeline/launch"
	"github.com/bridgeops/bridge/internal/pipeline/local"
)

// TestRunChecksInputFirst: bad input is reported before anything runs, so
// no execution is recorded; good input runs locally by default.
func TestRunChecksInputFirst(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	c := config.Config{Home: home, LogLevel: slog.LevelInfo}
	def := filepath.Join(t.TempDir(), "gate.yaml")
	if err := os.WriteFile(def, []byte("parameters:\n  Threshold: {type: Float, default: 4.5}\nsteps:\n  - name: TooHigh\n    type: Fail\n    arguments: {ErrorMessage: \"MSE above threshold\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name    string
		path    string
		o       launch.RunOptions
		wantErr string
	}{
		{"missing file", filepath.Join(home, "nope.yaml"), launch.RunOptions{}, "nope.yaml"},
		{"malformed param", def, launch.RunOptions{Params: []string{"Threshold"}}, `-p "Threshold": want Name=Value`},
		{"unknown param", def, launch.RunOptions{Params: []string{"Nope=1"}}, "Nope"},
		{"bad type", def, launch.RunOptions{Params: []string{"Threshold=high"}}, "Threshold"},
		{"unknown target", def, launch.RunOptions{On: "lambda"}, `--on "lambda": want local or sagemaker`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := launch.Run(ctx, c, tt.path, &out, tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(home, "registry.db")); err == nil {
		h, err := launch.OpenHistory(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		list, err := h.List(ctx, 0)
		h.Close()
		if err != nil || len(list) != 0 {
			t.Fatalf("bad input recorded executions: %v, %v", list, err)
		}
	}

	var out bytes.Buffer
	end, err := launch.Run(ctx, c, def, &out, launch.RunOptions{Params: []string{"Threshold=3"}, Local: launch.LocalOptions{Parallelism: 1}})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if end.Status != local.StatusFailed || end.ID == "" {
		t.Fatalf("outcome %+v\n%s", end, out.String())
	}
	if err := end.Err(); err == nil || err.Error() != "execution "+end.ID+" Failed: "+strings.SplitN(end.Reason, "\n", 2)[0] {
		t.Fatalf("Err() = %v for %+v", err, end)
	}
}

func TestOutcomeErr(t *testing.T) {
	tests := []struct {
		end  launch.Outcome
		want string
	}{
		{launch.Outcome{ID: "a1", Status: "Succeeded"}, ""},
		{launch.Outcome{ID: "a1", Status: "Stopped"}, "execution a1 Stopped"},
		{launch.Outcome{ID: "a1", Status: "Failed", Reason: "step Eval: AlgorithmError\ntraceback..."}, "execution a1 Failed: step Eval: AlgorithmError"},
		{launch.Outcome{ID: "a1", Status: "Failed"}, "execution a1 Failed"},
	}
	for _, tt := range tests {
		err := tt.end.Err()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%+v.Err() = %q, want %q", tt.end, got, tt.want)
		}
	}
}
