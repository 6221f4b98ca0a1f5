package sagemaker

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/bridgeops/bridge/internal/model"
)

// Baselines are the S3 URIs of a package's registered statistics.json and
// constraints.json for one kind of monitoring, and where each came from
// (e.g. "DriftCheckBaselines.ModelQuality.Constraints").
type Baselines struct {
	PackageARN                      string
	Statistics, Constraints         string
	StatisticsFrom, ConstraintsFrom string
}

// ParsePackageRef splits GROUP/VERSION; an ARN (arn:...) is returned as
// is in arn.
func ParsePackageRef(s string) (ref model.VersionRef, arn string, err error) {
	if strings.HasPrefix(s, "arn:") {
		if !strings.Contains(s, ":model-package/") {
			return ref, "", fmt.Errorf("%q is not a model package ARN (arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION)", s)
		}
		return ref, s, nil
	}
	i := strings.LastIndex(s, "/")
	if i <= 0 || i == len(s)-1 {
		return ref, "", fmt.Errorf("%q: want GROUP/VERSION (e.g. sts-package-group/3) or a model package ARN", s)
	}
	v, err := strconv.Atoi(s[i+1:])
	if err != nil || v < 1 {
		return ref, "", fmt.Errorf("%q: the version after / must be a positive number", s)
	}
	return model.VersionRef{Model: s[:i], Version: v}, "", nil
}

// PackageBaselines reads the baseline files a package registered for
// kind ("model-quality" or "data-quality"): DriftCheckBaselines (the
// baseline a pipeline's QualityCheck step set for drift checks) first,
// else ModelMetrics, file by file. pkg is GROUP/VERSION or an ARN. A
// package that registered neither file is an error naming the fields
// looked at.
func (r *Registry) PackageBaselines(ctx context.Context, pkg, kind string) (Baselines, error) {
	ref, arn, err := ParsePackageRef(pkg)
	if err != nil {
		return Baselines{}, err
	}
	if arn == "" {
		if arn, err = r.ARN(ctx, ref); err != nil {
			return Baselines{}, err
		}
	}
	d, err := r.Describe(ctx, arn)
	if err != nil {
		return Baselines{}, err
	}
	type source struct {
		from        string
		stats, cons *smtypes.MetricsSource
	}
	var sources []source
	switch kind {
	case "model-quality":
		if b := d.DriftCheckBaselines; b != nil && b.ModelQuality != nil {
			sources = append(sources, source{"DriftCheckBaselines.ModelQuality", b.ModelQuality.Statistics, b.ModelQuality.Constraints})
		}
		if m := d.ModelMetrics; m != nil && m.ModelQuality != nil {
			sources = append(sources, source{"ModelMetrics.ModelQuality", m.ModelQuality.Statistics, m.ModelQuality.Constraints})
		}
	case "data-quality":
		if b := d.DriftCheckBaselines; b != nil && b.ModelDataQuality != nil {
			sources = append(sources, source{"DriftCheckBaselines.ModelDataQuality", b.ModelDataQuality.Statistics, b.ModelDataQuality.Constraints})
		}
		if m := d.ModelMetrics; m != nil && m.ModelDataQuality != nil {
			sources = append(sources, source{"ModelMetrics.ModelDataQuality", m.ModelDataQuality.Statistics, m.ModelDataQuality.Constraints})
		}
	default:
		return Baselines{}, fmt.Errorf("baselines of kind %q: want model-quality or data-quality", kind)
	}
	out := Baselines{PackageARN: arn}
	for _, s := range sources {
		if out.Statistics == "" && s.stats != nil && aws.ToString(s.stats.S3Uri) != "" {
			out.Statistics, out.StatisticsFrom = aws.ToString(s.stats.S3Uri), s.from+".Statistics"
		}
		if out.Constraints == "" && s.cons != nil && aws.ToString(s.cons.S3Uri) != "" {
			out.Constraints, out.ConstraintsFrom = aws.ToString(s.cons.S3Uri), s.from+".Constraints"
		}
	}
	if out.Constraints == "" {
		section := "ModelQuality"
		if kind == "data-quality" {
			section = "ModelDataQuality"
		}
		return Baselines{}, fmt.Errorf("model package %s registered no %s baseline: neither DriftCheckBaselines.%s.Constraints nor ModelMetrics.%s.Constraints has an S3Uri", arn, kind, section, section)
	}
	return out, nil
}
