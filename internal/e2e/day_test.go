package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
)

// TestDayWithBridge runs the README's "A day with Bridge"
// (scripts/day-with-bridge.sh) with the real binary from a fresh temporary
// working directory and the default settings (relative home ./.bridge, the
// interpreter Bridge picks itself): a scikit-learn model registered, put in
// Production, a second version registered and promoted. The router and
// registry get free ports so that the test never meets another server.
func TestDayWithBridge(t *testing.T) {
	py := pythontest.Interpreter(t)
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "day-with-bridge.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the README's day calls the endpoints with curl: install it (apt-get install curl)")
	}
	bin := runBinary(t)
	for _, tt := range []struct {
		name string
		env  []string
	}{
		{"pre-started servers", nil},
		{"BRIDGE_PYTHON_PRESTART=0", []string{"BRIDGE_PYTHON_PRESTART=0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command("bash", script)
			cmd.Dir = dir
			cmd.Env = append(defaultEnv(), "BRIDGE="+bin, "PYTHON="+py,
				"PORT="+portOf(t, runFreeAddr(t)), "REGISTRY_ADDR="+runFreeAddr(t), "DAY_TIMEOUT_S=90")
			if !defaultPythonHasSklearn() {
				// This machine's sklearn is only where BRIDGE_PYTHON says.
				cmd.Env = append(cmd.Env, "BRIDGE_PYTHON="+py)
			}
			cmd.Env = append(cmd.Env, tt.env...)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			if err != nil {
				logs, _ := os.ReadFile(filepath.Join(dir, "bridge-run.log"))
				t.Fatalf("day-with-bridge.sh: %v\n%s\n--- bridge run's log:\n%s", err, out, logs)
			}
			if !strings.Contains(string(out), "A day with Bridge: done") {
				t.Fatalf("script did not finish:\n%s", out)
			}
			t.Logf("a day with Bridge took %s", time.Since(start).Round(time.Millisecond))
			// Everything lives in the relative default home.
			if _, err := os.Stat(filepath.Join(dir, ".bridge", "registry.db")); err != nil {
				t.Fatalf("no registry in ./.bridge: %v", err)
			}
		})
	}
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	i := strings.LastIndexByte(addr, ':')
	return addr[i+1:]
}

// defaultPythonHasSklearn reports whether one of the interpreters Bridge
// tries by default imports scikit-learn.
func defaultPythonHasSklearn() bool {
	for _, c := range config.PythonCandidates {
		if p, err := exec.LookPath(c); err == nil && exec.Command(p, "-c", "import sklearn").Run() == nil {
			return true
		}
	}
	return false
}
