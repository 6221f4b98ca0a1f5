package sagemaker_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/bridgeops/bridge/internal/awsauth"
	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/config"
	regsm "github.com/bridgeops/bridge/internal/registry/sagemaker"
)

func metricsSource(uri string) *smtypes.MetricsSource {
	return &smtypes.MetricsSource{ContentType: aws.String("application/json"), S3Uri: aws.String(uri)}
}

// TestPackageBaselines registers packages with baselines in the places a
// pipeline puts them and checks which files a monitor takes: the
// DriftCheckBaselines first, ModelMetrics for a file they lack.
func TestPackageBaselines(t *testing.T) {
	ctx := context.Background()
	f := awsfake.New(awsfake.Options{})
	t.Cleanup(f.Close)
	for k, v := range f.Env() {
		t.Setenv(k, v)
	}
	cfg, err := awsauth.Load(ctx, awsauth.Options{MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	c := sm.NewFromConfig(cfg)
	if _, err := c.CreateModelPackageGroup(ctx, &sm.CreateModelPackageGroupInput{ModelPackageGroupName: aws.String("sts")}); err != nil {
		t.Fatal(err)
	}
	inputs := []*sm.CreateModelPackageInput{
		// 1: nothing registered.
		{},
		// 2: ModelMetrics only.
		{ModelMetrics: &smtypes.ModelMetrics{ModelQuality: &smtypes.ModelQuality{
			Statistics: metricsSource("s3://b/mm/statistics.json"), Constraints: metricsSource("s3://b/mm/constraints.json")}}},
		// 3: drift-check constraints, statistics only in ModelMetrics; data quality in both.
		{ModelMetrics: &smtypes.ModelMetrics{
			ModelQuality:     &smtypes.ModelQuality{Statistics: metricsSource("s3://b/mm/statistics.json"), Constraints: metricsSource("s3://b/mm/constraints.json")},
			ModelDataQuality: &smtypes.ModelDataQuality{Statistics: metricsSource("s3://b/mm/dq-statistics.json"), Constraints: metricsSource("s3://b/mm/dq-constraints.json")}},
			DriftCheckBaselines: &smtypes.DriftCheckBaselines{
				ModelQuality:     &smtypes.DriftCheckModelQuality{Constraints: metricsSource("s3://b/dc/constraints.json")},
				ModelDataQuality: &smtypes.DriftCheckModelDataQuality{Statistics: metricsSource("s3://b/dc/dq-statistics.json"), Constraints: metricsSource("s3://b/dc/dq-constraints.json")}}},
	}
	var arns []string
	for _, in := range inputs {
		in.ModelPackageGroupName = aws.String("sts")
		out, err := c.CreateModelPackage(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, aws.ToString(out.ModelPackageArn))
	}
	r := regsm.New(c, config.RegistrySettings{Kind: config.RegistrySageMaker}, nil)
	for _, tc := range []struct {
		name, pkg, kind   string
		stats, cons, from string
		err               string
	}{
		{"model metrics only", "sts/2", "model-quality", "s3://b/mm/statistics.json", "s3://b/mm/constraints.json", "ModelMetrics.ModelQuality.Constraints", ""},
		{"drift check first, by ARN", arns[2], "model-quality", "s3://b/mm/statistics.json", "s3://b/dc/constraints.json", "DriftCheckBaselines.ModelQuality.Constraints", ""},
		{"data quality", "sts/3", "data-quality", "s3://b/dc/dq-statistics.json", "s3://b/dc/dq-constraints.json", "DriftCheckBaselines.ModelDataQuality.Constraints", ""},
		{"nothing registered", "sts/1", "model-quality", "", "", "", "registered no model-quality baseline"},
		{"no data-quality baseline", "sts/2", "data-quality", "", "", "", "DriftCheckBaselines.ModelDataQuality.Constraints"},
		{"missing version", "sts/7", "model-quality", "", "", "", "has no version 7 (versions: 3, 2, 1)"},
		{"missing group", "nope/1", "model-quality", "", "", "", "model package group nope"},
		{"missing ARN", strings.Replace(arns[0], "/1", "/42", 1), "model-quality", "", "", "", "does not exist"},
		{"not a reference", "sts", "model-quality", "", "", "", "want GROUP/VERSION"},
		{"version not a number", "sts/x", "model-quality", "", "", "", "positive number"},
		{"not a package ARN", "arn:aws:s3:::bucket", "model-quality", "", "", "", "not a model package ARN"},
		{"unknown kind", "sts/2", "bias", "", "", "", "want model-quality or data-quality"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := r.PackageBaselines(ctx, tc.pkg, tc.kind)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Statistics != tc.stats || b.Constraints != tc.cons || b.ConstraintsFrom != tc.from || !strings.HasPrefix(b.PackageARN, "arn:aws:sagemaker:") {
				t.Fatalf("got %+v, want statistics %s constraints %s from %s", b, tc.stats, tc.cons, tc.from)
			}
		})
	}
}
