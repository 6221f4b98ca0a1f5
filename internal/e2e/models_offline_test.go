package e2e

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/registry/store"
)

// bridgeCLI runs the real binary in dir with the default settings (home
// ./.bridge, no BRIDGE_* variables) and returns its stdout, stderr and exit
// code.
func bridgeCLI(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(runBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = defaultEnv()
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return o.String(), e.String(), ee.ExitCode()
		}
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

// defaultEnv is the process environment without Bridge's settings, so a
// command runs with its defaults.
func defaultEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "BRIDGE_") || strings.HasPrefix(k, "BRDG_") || k == "PORT" || k == "MLFLOW_TRACKING_TOKEN" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// skipIfDefaultRegistryTaken skips when something already listens on the
// registry's default address: the test is about no server answering there.
func skipIfDefaultRegistryTaken(t *testing.T) {
	t.Helper()
	if c, err := net.Dial("tcp", "127.0.0.1:5000"); err == nil {
		c.Close()
		t.Skip("127.0.0.1:5000 (the default registry address) is in use on this machine")
	}
}

// TestModelsCommandsWithoutAServer runs bridge models with no registry
// server running: without a registry in the home it says in one line what
// to start; with one it uses the home's embedded registry directly,
// including delete and delete-version.
func TestModelsCommandsWithoutAServer(t *testing.T) {
	skipIfDefaultRegistryTaken(t)
	dir := t.TempDir()

	_, stderr, code := bridgeCLI(t, dir, "models", "list")
	if code == 0 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "bridge run") || strings.Contains(stderr, "connection refused") {
		t.Fatalf("models list without any registry: exit %d, stderr %q; want one line saying to start bridge run", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, ".bridge")); !os.IsNotExist(err) {
		t.Fatalf("models list created a home: %v", err)
	}

	// The home has an embedded registry (as after a bridge run that stopped).
	st, err := store.Open(context.Background(), filepath.Join(dir, ".bridge"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	steps := []struct {
		args     []string
		wantCode int
		want     string // in stdout (exit 0) or stderr
	}{
		{[]string{"models", "list"}, 0, "No registered models"},
		{[]string{"models", "create", "churn"}, 0, "Created model churn"},
		{[]string{"models", "add-version", "churn", runLinearDir(t, 2)}, 0, "1"},
		{[]string{"models", "add-version", "churn", runLinearDir(t, 3)}, 0, "2"},
		{[]string{"models", "transition", "churn", "1", "Production"}, 0, "Production"},
		{[]string{"models", "list"}, 0, "churn"},
		{[]string{"models", "delete-version", "churn", "1"}, 1, "--force"},
		{[]string{"models", "delete-version", "churn", "2"}, 0, "Deleted churn version 2"},
		{[]string{"models", "delete-version", "churn", "2"}, 1, "RESOURCE_DOES_NOT_EXIST"},
		{[]string{"models", "delete", "churn"}, 1, "version 1 (Production)"},
		{[]string{"models", "delete", "churn", "--force"}, 0, "Deleted model churn"},
		{[]string{"models", "show", "churn"}, 1, "RESOURCE_DOES_NOT_EXIST"},
		{[]string{"models", "list"}, 0, "No registered models"},
	}
	for _, s := range steps {
		stdout, stderr, code := bridgeCLI(t, dir, s.args...)
		out := stdout
		if s.wantCode != 0 {
			out = stderr
		}
		if code != s.wantCode || !strings.Contains(out, s.want) {
			t.Fatalf("bridge %s: exit %d (want %d)\nstdout: %s\nstderr: %s\nwant %q", strings.Join(s.args, " "), code, s.wantCode, stdout, stderr, s.want)
		}
	}
	// Uploaded artifacts went to the home's artifact store.
	if m, _ := filepath.Glob(filepath.Join(dir, ".bridge", "artifacts", "churn", "*", "MLmodel")); len(m) != 2 {
		t.Fatalf("%d uploaded model dirs in the home's artifact store, want 2", len(m))
	}
}
