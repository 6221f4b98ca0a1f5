package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
)

// TestDeployErrorsRootCauseFirst checks bridge_deploy_error as a user reads
// it: one line that starts with the root cause (not with the steps that only
// name the version the tag is on), no prefix said twice, a Python
// exception's own last line without traceback decoration or truncation, and
// the path of the log that holds the whole output.
func TestDeployErrorsRootCauseFirst(t *testing.T) {
	py := pythontest.Interpreter(t)
	b := startPyBridge(t, py)
	dir := t.TempDir()

	broken := filepath.Join(dir, "broken")
	os.MkdirAll(broken, 0o755)
	os.WriteFile(filepath.Join(broken, "MLmodel"), []byte("flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n  sklearn:\n    pickled_model: model.pkl\n    serialization_format: pickle\n"), 0o644)
	os.WriteFile(filepath.Join(broken, "model.pkl"), []byte("not a pickle at all"), 0o644)

	tests := []struct {
		name, dir, source string
		prefix            string   // the tag starts with it
		want              []string // each in the tag, in this order, after prefix
	}{
		{"bad-path", "", "file:///nonexistent/bridge/model", "fetch bad-path/1 from file:///nonexistent/bridge/model", []string{"does not exist"}},
		{"iris-sk", broken, "", "cannot load the model: UnpicklingError: invalid load key", []string{"exited before it was ready", "log /"}},
	}
	for _, tt := range tests {
		v := b.register(t, tt.name, tt.dir, tt.source)
		b.promote(t, tt.name, v, model.StageProduction)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var msg string
			pythontest.WaitFor(t, tt.name+" FAILED", 60*time.Second, func() bool {
				tags := b.tags(t, tt.name, 1)
				msg = tags[model.TagDeployError]
				return tags[model.TagDeployState] == model.StateFailed
			})
			t.Logf("bridge_deploy_error: %s", msg)
			rest, ok := strings.CutPrefix(msg, tt.prefix)
			if !ok {
				t.Fatalf("bridge_deploy_error %q does not start with the root cause %q", msg, tt.prefix)
			}
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("bridge_deploy_error %q: want %q (in order %q)", msg, w, tt.want)
				}
				rest = rest[i+len(w):]
			}
			for _, op := range []string{"create version ", "fetch ", "load "} {
				if n := strings.Count(msg, op+tt.name+"/"); n > 1 {
					t.Errorf("%q appears %d times in %q", op, n, msg)
				}
			}
			if strings.ContainsAny(msg, "\n^") || strings.Contains(msg, "...") || strings.Contains(msg, "Traceback") {
				t.Errorf("bridge_deploy_error is not one clean line: %q", msg)
			}
			if i := strings.Index(msg, "log /"); i >= 0 {
				path := strings.TrimRight(strings.Fields(msg[i+len("log "):])[0], ");")
				text, err := os.ReadFile(path)
				if err != nil || !strings.Contains(string(text), "Traceback") {
					t.Errorf("the log the tag names (%s) does not hold the traceback: %v", path, err)
				}
			}
		})
	}
}
