package config

import (
	"strings"
	"testing"
)

// TestNative: BRIDGE_NATIVE is read once into Config.Native; a bad value
// is a configuration error at load.
func TestNative(t *testing.T) {
	for _, c := range []struct {
		env  string
		want NativeMode
		err  string
	}{
		{"", NativeAuto, ""},
		{"auto", NativeAuto, ""},
		{"OFF", NativeOff, ""},
		{" require ", NativeRequire, ""},
		{"yes", "", `BRIDGE_NATIVE="yes": want off, auto or require`},
	} {
		t.Setenv("BRIDGE_ENV_FILE", "/nonexistent/.env")
		t.Setenv("BRIDGE_NATIVE", c.env)
		cfg, err := Load()
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("BRIDGE_NATIVE=%q: err %v, want %q", c.env, err, c.err)
			}
			continue
		}
		if err != nil || cfg.Native != c.want {
			t.Errorf("BRIDGE_NATIVE=%q: %q, %v; want %q", c.env, cfg.Native, err, c.want)
		}
	}
}
