package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/cliflags"
	"github.com/bridgeops/bridge/internal/config"
)

// TestMonitorRunFlagsOverrideSettings checks that bridge run's capture and
// monitoring flags reach the configuration as the variables they override,
// over the environment.
func TestMonitorRunFlagsOverrideSettings(t *testing.T) {
	t.Setenv("BRIDGE_ENV_FILE", filepath.Join(t.TempDir(), "none.env"))
	t.Setenv("BRIDGE_CAPTURE_MODE", "output") // a flag overrides it
	t.Setenv("BRIDGE_CAPTURE_QUEUE", "17")    // no flag: the environment stays
	for _, tt := range []struct {
		args    []string
		check   func(config.MonitoringSettings) bool
		wantErr bool
	}{
		{nil, func(m config.MonitoringSettings) bool { return !m.Capture && m.Schedules && m.CaptureQueue == 17 }, false},
		{[]string{"--capture", "--capture-dir", "/tmp/cap", "--capture-mode", "input"},
			func(m config.MonitoringSettings) bool {
				return m.Capture && m.CaptureDir == "/tmp/cap" && m.CaptureMode == "input"
			}, false},
		{[]string{"--capture-sampling", "12.5", "--capture-queue", "9"},
			func(m config.MonitoringSettings) bool { return m.CaptureSampling == 12.5 && m.CaptureQueue == 9 }, false},
		{[]string{"--capture-endpoint", "brdg-a-Production=off", "--capture-endpoint", "brdg-b-Staging=output"},
			func(m config.MonitoringSettings) bool {
				return strings.Join(m.CaptureOverride, ";") == "brdg-a-Production=off;brdg-b-Staging=output"
			}, false},
		{[]string{"--monitor-schedules=false", "--alert-webhook", "http://127.0.0.1:9/hook"},
			func(m config.MonitoringSettings) bool {
				return !m.Schedules && m.AlertWebhook == "http://127.0.0.1:9/hook"
			}, false},
		{[]string{"--capture", "--capture-mode", "sideways"}, nil, true},
		{[]string{"--capture-sampling", "120"}, nil, true},
	} {
		c := &cobra.Command{Use: "run"}
		addMonitorRunFlags(c)
		if err := c.ParseFlags(tt.args); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.LoadWithFlags(cliflags.Settings(c.Flags()))
		if tt.wantErr {
			if err == nil {
				t.Errorf("%v accepted", tt.args)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if !tt.check(cfg.Monitoring) {
			t.Errorf("%v: monitoring settings %+v", tt.args, cfg.Monitoring)
		}
	}
}
