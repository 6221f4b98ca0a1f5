package bridgerun_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/bridgerun"
	"github.com/bridgeops/bridge/internal/config"
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
