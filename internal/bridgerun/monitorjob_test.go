package bridgerun_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/bridgerun"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/monitor"
	"github.com/bridgeops/bridge/internal/monitor/schedule"
)

// TestResolveMonitorJob covers what is decided before any AWS call: the
// default capture location and the checks of --baseline-from-package (the
// package lookup itself is tested through bridge monitor run against the
// SageMaker fake in cmd/bridge).
func TestResolveMonitorJob(t *testing.T) {
	cfg := config.Config{Home: t.TempDir()}
	cfg.Monitoring.CaptureDir = "/var/capture"
	tests := []struct {
		name        string
		spec        schedule.Spec
		fromPackage string
		wantCapture string
		wantErr     string
	}{
		{"default capture", schedule.Spec{Type: "data-quality", MinRecords: 1}, "", "/var/capture", ""},
		{"capture kept", schedule.Spec{Type: "data-quality", Capture: "s3://b/cap", MinRecords: 1}, "", "s3://b/cap", ""},
		{"no type", schedule.Spec{}, "", "", "pass --type data-quality or --type model-quality"},
		{"type checked before package", schedule.Spec{}, "churn/1", "", "pass --type"},
		{"baseline and package", schedule.Spec{Type: "data-quality", Baseline: "baseline/", MinRecords: 1}, "churn/1", "",
			"--baseline and --baseline-from-package exclude each other"},
		{"bad package ref", schedule.Spec{Type: "data-quality", MinRecords: 1}, "churn", "", "--baseline-from-package "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			note, err := bridgerun.ResolveMonitorJob(context.Background(), cfg, &spec, tt.fromPackage)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || note != "" || spec.Capture != tt.wantCapture {
				t.Fatalf("got note %q, capture %q, err %v; want capture %q", note, spec.Capture, err, tt.wantCapture)
			}
		})
	}
}

func TestCreateSchedule(t *testing.T) {
	ctx := context.Background()
	cfg, err := monitorConfig(t, map[string]string{"BRIDGE_HOME": t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	spec := schedule.Spec{Type: "data-quality", Endpoint: "brdg-churn-Production", Baseline: base, Output: filepath.Join(base, "reports"), MinRecords: 1}
	missingOK := spec
	missingOK.AllowMissing = true
	tests := []struct {
		name, sched, cron string
		spec              schedule.Spec
		wantOut, wantErr  string
	}{
		{"no cron", "drift", "", missingOK, "", `pass --cron`},
		{"no type", "drift", "0 * * * *", schedule.Spec{}, "", "pass --type"},
		{"endpoint never captured", "drift", "0 * * * *", spec, "", "brdg-churn-Production"},
		{"bad cron", "drift", "every hour", missingOK, "", "every hour"},
		{"created", "drift", "0 * * * *", missingOK, "schedule drift created (0 * * * *); bridge run executes it\n", ""},
		{"exists", "drift", "0 * * * *", missingOK, "", "exists already"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			err := bridgerun.CreateSchedule(ctx, &out, cfg, tt.sched, tt.cron, tt.spec, "")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || out.String() != tt.wantOut {
				t.Fatalf("= %q, %v; want %q", out.String(), err, tt.wantOut)
			}
		})
	}
	s, closeDB, err := bridgerun.OpenSchedules(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	all, err := s.List(ctx)
	if err != nil || len(all) != 1 || all[0].Name != "drift" || all[0].Spec.Capture != cfg.Monitoring.CaptureDir {
		t.Fatalf("stored %+v, %v; want drift capturing from %s", all, err, cfg.Monitoring.CaptureDir)
	}
}

func TestRunMonitorJob(t *testing.T) {
	ctx := context.Background()
	cfg, err := monitorConfig(t, map[string]string{"BRIDGE_HOME": t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	train := filepath.Join(dir, "train.csv")
	if err := os.WriteFile(train, []byte("income,age\n10,30\n20,40\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	baseline := filepath.Join(dir, "baseline")
	if _, err := monitor.BaselineDataQuality(ctx, train, baseline); err != nil {
		t.Fatal(err)
	}
	// Nothing captured yet: the endpoint is allowed to be missing, and the
	// window has no data.
	spec := schedule.Spec{Type: "data-quality", Endpoint: "brdg-churn-Production", Baseline: baseline,
		Output: filepath.Join(dir, "report"), MinRecords: 1, AllowMissing: true}
	clock := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name             string
		spec             schedule.Spec
		start, end, now  string
		json             bool
		wantOut, wantErr string
	}{
		{"text", spec, "2026-05-01T10:00:00Z", "2026-05-01T11:00:00Z", "", false, monitor.StatusNoData, ""},
		{"json", spec, "", "", "", true, `"status": "` + monitor.StatusNoData + `"`, ""},
		{"bad --start", spec, "ten o'clock", "", "", false, "", "start"},
		{"no --type", schedule.Spec{}, "", "", "", false, "", "pass --type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			err := bridgerun.RunMonitorJob(ctx, &out, cfg, tt.spec, "", tt.start, tt.end, tt.now, clock, tt.json)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(out.String(), tt.wantOut) {
				t.Fatalf("= %v:\n%s\nwant it to contain %q", err, out.String(), tt.wantOut)
			}
		})
	}
}
