package capture

import (
	"fmt"
	"strconv"

	"github.com/bridgeops/bridge/internal/config"
)

// ConfigFromSettings builds the writer's configuration from the monitoring
// settings; on is false when nothing is to be captured (capture off and no
// endpoint override turning it on).
func ConfigFromSettings(m config.MonitoringSettings) (wc WriterConfig, on bool, err error) {
	def := DefaultEndpointConfig()
	if def, err = def.ParseSpec(strconv.FormatFloat(m.CaptureSampling, 'f', -1, 64)); err != nil {
		return wc, false, fmt.Errorf("capture sampling: %w", err)
	}
	if def, err = def.ParseSpec(m.CaptureMode); err != nil {
		return wc, false, fmt.Errorf("capture mode: %w", err)
	}
	def.Enabled = def.Enabled && m.Capture
	overrides, err := ParseOverrides(def, m.CaptureOverride)
	if err != nil {
		return wc, false, err
	}
	on = def.Enabled
	for _, o := range overrides {
		on = on || o.Enabled
	}
	return WriterConfig{Root: m.CaptureDir, Default: def, Endpoints: overrides, QueueSize: m.CaptureQueue}, on, nil
}
