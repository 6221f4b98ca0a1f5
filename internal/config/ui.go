package config

import (
	"fmt"
	"path/filepath"
	"strconv"
	"time"
)

// UISettings configure the dashboard and the time series it draws.
type UISettings struct {
	// Enabled serves the dashboard at /ui/ of bridge run (BRIDGE_UI,
	// default true).
	Enabled bool
	// SeriesPath is the time-series file (BRIDGE_UI_SERIES_PATH, default
	// $BRIDGE_HOME/timeseries.gob).
	SeriesPath string
	// SampleInterval is how often the router's metrics are sampled into it
	// (BRIDGE_UI_SAMPLE_INTERVAL_S, default 10).
	SampleInterval time.Duration
	// Refresh is how often open pages refresh themselves
	// (BRIDGE_UI_REFRESH_S, default 5).
	Refresh time.Duration
}

// UI reads the dashboard's settings.
func (c Config) UI() (UISettings, error) {
	s := UISettings{SeriesPath: c.Get("BRIDGE_UI_SERIES_PATH", filepath.Join(c.Home, "timeseries.gob"))}
	var err error
	if s.Enabled, err = strconv.ParseBool(c.Get("BRIDGE_UI", "true")); err != nil {
		return s, fmt.Errorf("BRIDGE_UI=%q: want true or false", c.Get("BRIDGE_UI", ""))
	}
	secs, err := strconv.ParseFloat(c.Get("BRIDGE_UI_SAMPLE_INTERVAL_S", "10"), 64)
	if err != nil || secs <= 0 || secs > 60 {
		return s, fmt.Errorf("BRIDGE_UI_SAMPLE_INTERVAL_S=%q: want seconds between 0 and 60", c.Get("BRIDGE_UI_SAMPLE_INTERVAL_S", ""))
	}
	s.SampleInterval = time.Duration(secs * float64(time.Second))
	secs, err = strconv.ParseFloat(c.Get("BRIDGE_UI_REFRESH_S", "5"), 64)
	if err != nil || secs < 0.5 {
		return s, fmt.Errorf("BRIDGE_UI_REFRESH_S=%q: want at least 0.5 seconds", c.Get("BRIDGE_UI_REFRESH_S", ""))
	}
	s.Refresh = time.Duration(secs * float64(time.Second))
	return s, nil
}
