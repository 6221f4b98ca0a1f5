package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConfigCommand runs bridge config from a fresh directory with a .env
// file: values, sources and a masked secret; bad values are all listed.
func TestConfigCommand(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bridge.env"), []byte("BRIDGE_REGISTRY_TOKEN=hunter2\nBRIDGE_DEPLOY_KIND=sagemaker\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BRIDGE_SCAN_INTERVAL_S": "2", "BRIDGE_ENV_FILE": filepath.Join(dir, "bridge.env")}
	out, errOut, code := runBinary(t, env, 30*time.Second, "--log-level", "warn", "config")
	if code != 0 {
		t.Fatalf("bridge config: exit %d\n%s", code, errOut)
	}
	rows := map[string][]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 3 {
			rows[f[0]] = f[1:3]
		}
	}
	for name, want := range map[string][2]string{
		"BRIDGE_HOME":            {".bridge", "default"},
		"BRIDGE_SCAN_INTERVAL_S": {"2", "env"},
		"BRIDGE_DEPLOY_KIND":     {"sagemaker", ".env"},
		"LOG_LEVEL":              {"warn", "flag"},
		"BRIDGE_REGISTRY_TOKEN":  {"********", ".env"},
		"PORT":                   {"0", "env"}, // runBinary sets PORT=0
	} {
		if got := rows[name]; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("%s: %v, want %v\n%s", name, got, want, out)
		}
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("bridge config shows the token:\n%s", out)
	}
	_, errOut, code = runBinary(t, map[string]string{"BRIDGE_SCAN_INTERVAL_S": "fast", "PORT": "-1", "BRIDGE_ENV_MANAGER": "conda"}, 30*time.Second, "config")
	if code == 0 || !strings.Contains(errOut, "3 configuration errors") {
		t.Errorf("bad values: exit %d\n%s", code, errOut)
	}
}
