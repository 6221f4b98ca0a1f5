package capture

import (
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/config"
)

func TestConfigFromSettings(t *testing.T) {
	base := config.MonitoringSettings{CaptureSampling: 100, CaptureMode: "both", CaptureDir: "dc", CaptureQueue: 10}
	cases := []struct {
		name    string
		edit    func(*config.MonitoringSettings)
		on      bool
		wantErr string
	}{
		{"off", func(*config.MonitoringSettings) {}, false, ""},
		{"on", func(m *config.MonitoringSettings) { m.Capture = true }, true, ""},
		{"one endpoint on", func(m *config.MonitoringSettings) { m.CaptureOverride = []string{"brdg-churn-Production=on,50"} }, true, ""},
		{"bad sampling", func(m *config.MonitoringSettings) { m.Capture, m.CaptureSampling = true, 150 }, false, "capture sampling"},
		{"bad override", func(m *config.MonitoringSettings) { m.CaptureOverride = []string{"brdg-churn-Production=sometimes"} }, false, "sometimes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := base
			c.edit(&m)
			wc, on, err := ConfigFromSettings(m)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || on != c.on || wc.Root != "dc" || wc.QueueSize != 10 {
				t.Fatalf("= %+v, %v, %v; want on=%v", wc, on, err, c.on)
			}
		})
	}
}
