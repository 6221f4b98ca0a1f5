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
)

// TestStopAndReportRefuses: only running executions are stopped; the
// stopping of a running one is tested through bridge pipeline stop in
// cmd/bridge.
func TestStopAndReportRefuses(t *testing.T) {
	ctx := context.Background()
	c := config.Config{Home: t.TempDir(), LogLevel: slog.LevelInfo}
	def := filepath.Join(t.TempDir(), "fail.yaml")
	if err := os.WriteFile(def, []byte("steps:\n  - name: TooHigh\n    type: Fail\n    arguments: {ErrorMessage: \"MSE above 4.5\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	end, err := launch.Run(ctx, c, def, &progress, launch.RunOptions{Local: launch.LocalOptions{Parallelism: 1}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := launch.OpenHistory(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, tt := range []struct{ id, wantErr string }{
		{end.ID, "is Failed, not running"},
		{"nope", "nope"},
	} {
		var out bytes.Buffer
		err := h.StopAndReport(ctx, &out, tt.id)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || out.Len() != 0 {
			t.Errorf("stop %s: err %v, out %q; want error %q", tt.id, err, out.String(), tt.wantErr)
		}
	}
}
