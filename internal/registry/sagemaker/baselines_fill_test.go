package sagemaker

import (
	"strings"
	"testing"
)

func TestBaselinesFill(t *testing.T) {
	b := Baselines{PackageARN: "arn:aws:sagemaker:eu-west-1:123456789012:model-package/sts/3",
		Statistics: "s3://b/dc/statistics.json", StatisticsFrom: "DriftCheckBaselines.ModelDataQuality.Statistics",
		Constraints: "s3://b/dc/constraints.json", ConstraintsFrom: "DriftCheckBaselines.ModelDataQuality.Constraints"}
	for _, tt := range []struct {
		name                         string
		b                            Baselines
		kind, stats, cons            string
		wantStats, wantCons, wantErr string
		wantNote                     []string
	}{
		{name: "both from the package", b: b, kind: "data-quality",
			wantStats: b.Statistics, wantCons: b.Constraints,
			wantNote: []string{"constraints s3://b/dc/constraints.json (DriftCheckBaselines.ModelDataQuality.Constraints)", "statistics s3://b/dc/statistics.json (DriftCheckBaselines.ModelDataQuality.Statistics)"}},
		{name: "flags win", b: b, kind: "data-quality", stats: "my/statistics.json", cons: "my/constraints.json",
			wantStats: "my/statistics.json", wantCons: "my/constraints.json",
			wantNote: []string{"constraints my/constraints.json,", "statistics my/statistics.json"}},
		{name: "model quality without statistics", b: Baselines{PackageARN: "arn:p", Constraints: "s3://b/mq.json", ConstraintsFrom: "ModelMetrics.ModelQuality.Constraints"}, kind: "model-quality",
			wantCons: "s3://b/mq.json", wantNote: []string{"constraints s3://b/mq.json (ModelMetrics.ModelQuality.Constraints)"}},
		{name: "data quality needs statistics", b: Baselines{PackageARN: "arn:p", Constraints: "s3://b/c.json"}, kind: "data-quality",
			wantErr: "registered no data-quality statistics"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stats, cons := tt.stats, tt.cons
			note, err := tt.b.Fill(tt.kind, &stats, &cons)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Fill: %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || stats != tt.wantStats || cons != tt.wantCons {
				t.Fatalf("Fill: %q %q %v", stats, cons, err)
			}
			for _, w := range tt.wantNote {
				if !strings.Contains(note, w) {
					t.Errorf("note %q lacks %q", note, w)
				}
			}
		})
	}
}
