package monitor

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/monitor/schema"
)

func TestWriteBaselines(t *testing.T) {
	dir := t.TempDir()
	dataset := filepath.Join(dir, "train.csv")
	csv := "id,income,prediction,label\n1,10.5,1,1\n2,20,0,0\n3,30,1,0\n4,x,1,1\n5,\"unterminated,1,1\n"
	if err := os.WriteFile(dataset, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		name              string
		run               func(out, warn *bytes.Buffer) error
		wantOut, wantWarn string
		wantErr           string
		excluded          []string
	}{
		{"data quality, label and id left out", func(out, warn *bytes.Buffer) error {
			return WriteDataQualityBaseline(ctx, out, warn, DataQualityBaseline{Dataset: dataset, Output: filepath.Join(dir, "dq"),
				Exclude: []string{"id"}, GroundTruthAttribute: "label"})
		}, "baseline of 4 rows written to", "warning: 1 malformed rows skipped", "", []string{`"id"`, `"label"`}},
		{"data quality needs --dataset", func(out, warn *bytes.Buffer) error {
			return WriteDataQualityBaseline(ctx, out, warn, DataQualityBaseline{Output: dir})
		}, "", "", "pass --dataset FILE and --output DIR", nil},
		{"model quality", func(out, warn *bytes.Buffer) error {
			return WriteModelQualityBaseline(ctx, out, warn, ModelQualityBaseline{Dataset: dataset, Output: filepath.Join(dir, "mq"),
				ProblemType: "BinaryClassification", InferenceAttribute: "prediction", GroundTruthAttribute: "label", PositiveLabel: "1", ProbabilityThreshold: 0.5})
		}, "model-quality baseline of ", "warning: 1 malformed rows and ", "", nil},
		{"model quality needs --output", func(out, warn *bytes.Buffer) error {
			return WriteModelQualityBaseline(ctx, out, warn, ModelQualityBaseline{Dataset: dataset})
		}, "", "", "pass --dataset FILE and --output DIR", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, warn bytes.Buffer
			err := tt.run(&out, &warn)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.wantOut) || !strings.Contains(warn.String(), tt.wantWarn) {
				t.Fatalf("out %q, warn %q", out.String(), warn.String())
			}
			if tt.excluded != nil {
				b, err := os.ReadFile(filepath.Join(dir, "dq", schema.StatisticsFile))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(b), `"income"`) {
					t.Errorf("statistics lack income:\n%s", b)
				}
				for _, col := range tt.excluded {
					if strings.Contains(string(b), col) {
						t.Errorf("statistics profile excluded column %s", col)
					}
				}
			}
		})
	}
}

func TestWriteGroundTruth(t *testing.T) {
	dir := t.TempDir()
	labels := filepath.Join(dir, "labels.csv")
	if err := os.WriteFile(labels, []byte("inference_id,label\na,1\nb\nc,0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 5, 1, 10, 30, 0, 0, time.UTC)
	gt := filepath.Join(dir, "gt")
	tests := []struct {
		name              string
		in                GroundTruthInput
		wantOut, wantWarn string
		wantErr           string
	}{
		{"clock hour", GroundTruthInput{CSV: labels, Output: gt}, "2 ground-truth records written to " + gt + "/2026/05/01/10/", "warning: 1 malformed rows skipped", ""},
		{"--time", GroundTruthInput{CSV: labels, Output: gt, At: "2026-04-30T23:59:00Z"}, "written to " + gt + "/2026/04/30/23/", "", ""},
		{"no --csv", GroundTruthInput{Output: gt}, "", "", "pass --csv FILE and --output DIR|s3://bucket/prefix"},
		{"bad --time", GroundTruthInput{CSV: labels, Output: gt, At: "tuesday"}, "", "", "time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, warn bytes.Buffer
			err := WriteGroundTruth(context.Background(), &out, &warn, tt.in, clock, config.AWSSettings{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || out.Len() != 0 {
					t.Fatalf("err = %v, out %q; want error %q", err, out.String(), tt.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(out.String(), tt.wantOut) || !strings.Contains(warn.String(), tt.wantWarn) {
				t.Fatalf("err %v, out %q, warn %q", err, out.String(), warn.String())
			}
		})
	}
}
