package config

import (
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
)

// MonitoringSettings configure data capture and the monitoring schedules
// inside bridge run (its --capture… flags override them).
type MonitoringSettings struct {
	Capture         bool     // BRIDGE_CAPTURE: capture every endpoint
	CaptureSampling float64  // BRIDGE_CAPTURE_SAMPLING: percentage, 0-100
	CaptureMode     string   // BRIDGE_CAPTURE_MODE: input, output or both
	CaptureDir      string   // BRIDGE_CAPTURE_DIR, default $BRIDGE_HOME/datacapture
	CaptureOverride []string // BRIDGE_CAPTURE_ENDPOINTS: NAME=SPEC items, ';'-separated
	CaptureQueue    int      // BRIDGE_CAPTURE_QUEUE: records buffered before drops
	Schedules       bool     // BRIDGE_MONITOR_SCHEDULES: run the stored schedules
	AlertWebhook    string   // BRIDGE_ALERT_WEBHOOK: http(s) URL for violations
}

func (c *Config) loadMonitoring(errs *errList) {
	m := MonitoringSettings{
		Capture:      c.boolean(errs, "BRIDGE_CAPTURE", false),
		CaptureMode:  c.oneOf(errs, "BRIDGE_CAPTURE_MODE", "both", "input", "output", "both"),
		CaptureDir:   c.Get("BRIDGE_CAPTURE_DIR", ""),
		Schedules:    c.boolean(errs, "BRIDGE_MONITOR_SCHEDULES", true),
		AlertWebhook: c.Get("BRIDGE_ALERT_WEBHOOK", ""),
	}
	if m.CaptureDir == "" {
		m.CaptureDir = filepath.Join(c.Home, "datacapture")
	}
	s := c.Get("BRIDGE_CAPTURE_SAMPLING", "100")
	if v, err := strconv.ParseFloat(s, 64); err != nil || v < 0 || v > 100 {
		errs.add("%s: want a percentage from 0 to 100", c.label("BRIDGE_CAPTURE_SAMPLING", s))
	} else {
		m.CaptureSampling = v
	}
	s = c.Get("BRIDGE_CAPTURE_QUEUE", "8192")
	if v, err := strconv.Atoi(s); err != nil || v <= 0 {
		errs.add("%s: want a positive number of records", c.label("BRIDGE_CAPTURE_QUEUE", s))
	} else {
		m.CaptureQueue = v
	}
	for _, it := range strings.Split(c.Get("BRIDGE_CAPTURE_ENDPOINTS", ""), ";") {
		if strings.TrimSpace(it) != "" {
			m.CaptureOverride = append(m.CaptureOverride, strings.TrimSpace(it))
		}
	}
	if h := m.AlertWebhook; h != "" {
		if u, err := url.Parse(h); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs.add("BRIDGE_ALERT_WEBHOOK: want an http(s) URL")
		}
	}
	c.Monitoring = m
}
