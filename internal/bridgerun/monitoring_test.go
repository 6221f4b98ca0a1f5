package bridgerun_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bridgeops/bridge/internal/bridgerun"
	"github.com/bridgeops/bridge/internal/bridgerun/runtest"
	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/monitor"
	"github.com/bridgeops/bridge/internal/monitor/schedule"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// monitorConfig is the configuration loaded with these settings given as
// flags would give them (and the test's environment).
func monitorConfig(t *testing.T, settings map[string]string) (config.Config, error) {
	t.Helper()
	t.Setenv("BRIDGE_ENV_FILE", filepath.Join(t.TempDir(), "none.env"))
	return config.LoadWithFlags(settings)
}

func mustMonitorConfig(t *testing.T, settings map[string]string) config.Config {
	t.Helper()
	c, err := monitorConfig(t, settings)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStartMonitoringCapture(t *testing.T) {
	home := t.TempDir()
	capDir := filepath.Join(home, "cap")
	on := map[string]string{"BRIDGE_CAPTURE": "true", "BRIDGE_CAPTURE_DIR": capDir}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{"BRIDGE_CAPTURE_DIR": capDir}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name     string
		settings map[string]string
		env      map[string]string
		wantSink bool
		want     map[string][2]bool // endpoint -> Want()
	}{
		{"off by default", nil, nil, false, nil},
		{"on", on, nil, true, map[string][2]bool{"brdg-a-Production": {true, true}}},
		{"env on, input only", with(nil), map[string]string{"BRIDGE_CAPTURE": "true", "BRIDGE_CAPTURE_MODE": "input"}, true,
			map[string][2]bool{"brdg-a-Production": {true, false}}},
		{"one endpoint only", with(map[string]string{"BRIDGE_CAPTURE_ENDPOINTS": "brdg-a-Production=100"}), nil, true,
			map[string][2]bool{"brdg-a-Production": {true, true}, "brdg-b-Production": {false, false}}},
		{"env overrides", on, map[string]string{"BRIDGE_CAPTURE_ENDPOINTS": "brdg-a-Production=off;brdg-b-Staging=output"}, true,
			map[string][2]bool{"brdg-a-Production": {false, false}, "brdg-b-Staging": {false, true}, "brdg-c-Latest": {true, true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			settings := map[string]string{"BRIDGE_MONITOR_SCHEDULES": "false"}
			for k, v := range tc.settings {
				settings[k] = v
			}
			c := mustMonitorConfig(t, settings)
			sink, stop, err := bridgerun.StartMonitoring(context.Background(), c, nil, prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			if (sink != nil) != tc.wantSink {
				t.Fatalf("sink %v, want one: %v", sink, tc.wantSink)
			}
			for ep, w := range tc.want {
				in, out := sink.Want(ep)
				if in != w[0] || out != w[1] {
					t.Errorf("Want(%s) = %v,%v, want %v,%v", ep, in, out, w[0], w[1])
				}
			}
		})
	}
	for _, bad := range []map[string]string{{"BRIDGE_CAPTURE_MODE": "sideways"}, {"BRIDGE_CAPTURE_ENDPOINTS": "x"}, {"BRIDGE_CAPTURE_SAMPLING": "120"}} {
		// Bad values fail when the configuration loads, or, for an
		// override's spec, when capture starts.
		settings := map[string]string{"BRIDGE_CAPTURE": "true", "BRIDGE_CAPTURE_DIR": capDir, "BRIDGE_MONITOR_SCHEDULES": "false"}
		for k, v := range bad {
			settings[k] = v
		}
		c, err := monitorConfig(t, settings)
		if err == nil {
			_, _, err = bridgerun.StartMonitoring(context.Background(), c, nil, nil)
		}
		if err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestStartMonitoringCaptureFlushesOnStop(t *testing.T) {
	capDir := filepath.Join(t.TempDir(), "cap")
	reg := prometheus.NewRegistry()
	c := mustMonitorConfig(t, map[string]string{"BRIDGE_CAPTURE": "true", "BRIDGE_CAPTURE_DIR": capDir, "BRIDGE_MONITOR_SCHEDULES": "false"})
	sink, stop, err := bridgerun.StartMonitoring(context.Background(), c, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if in, _ := sink.Want("brdg-a-Production"); !in {
			t.Fatal("capture on but input not wanted")
		}
		sink.Capture(capture.Record{Endpoint: "brdg-a-Production", Time: time.Now(), InputContentType: "text/csv", Input: []byte("1,2")})
	}
	stop()
	var n int
	filepath.WalkDir(capDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			n += bytes.Count(b, []byte("\n"))
		}
		return nil
	})
	if n != 10 {
		t.Errorf("%d captured lines on disk after stop, want 10", n)
	}
	mfs, _ := reg.Gather()
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	if !names["bridge_capture_records_total"] || !names["bridge_capture_dropped_total"] {
		t.Errorf("capture metrics not registered: %v", names)
	}
}

func TestStartMonitoringRunsStoredSchedules(t *testing.T) {
	home := t.TempDir()
	st, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ss, err := schedule.OpenStore(context.Background(), st.DB())
	if err != nil {
		t.Fatal(err)
	}
	var train strings.Builder
	train.WriteString("age,income,plan\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&train, "%d,%d,%s\n", 18+i%60, 40000+97*i, []string{"basic", "plus", "gold"}[i%3])
	}
	trainCSV := filepath.Join(home, "train.csv")
	runtest.WriteFile(t, trainCSV, train.String())
	dq := filepath.Join(home, "dq")
	if _, err := monitor.BaselineDataQuality(context.Background(), trainCSV, dq); err != nil {
		t.Fatal(err)
	}
	if err := ss.Create(context.Background(), schedule.Schedule{Name: "fast", Cron: "* * * * * *", Spec: schedule.Spec{
		Type: monitor.DataQuality, Endpoint: "brdg-a-Production", Capture: filepath.Join(home, "cap"), Baseline: dq, Output: filepath.Join(home, "out"), AllowMissing: true}}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	_, stop, err := bridgerun.StartMonitoring(context.Background(), mustMonitorConfig(t, nil), st.DB(), reg)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	var ex []schedule.Execution
	runtest.Eventually(t, 10*time.Second, "the schedule to execute inside bridge run's monitoring", func() bool {
		ex, err = ss.Executions(context.Background(), "fast", 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(ex) > 0
	})
	if ex[0].Status != schedule.StatusNoData || ex[0].WindowEnd.Sub(ex[0].WindowStart) != time.Second {
		t.Errorf("execution %+v", ex[0])
	}
}
