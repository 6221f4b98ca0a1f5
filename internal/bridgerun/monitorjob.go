package bridgerun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/monitor/schedule"
	regsm "github.com/bridgeops/bridge/internal/registry/sagemaker"
)

// ResolveMonitorJob completes and checks a monitoring job given on the
// command line (bridge monitor run, bridge monitor schedule create): the
// capture location defaults to the configured one, and with fromPackage
// (--baseline-from-package) the baseline files are those the model package
// registered in DriftCheckBaselines or ModelMetrics (DescribeModelPackage),
// read with the SageMaker target's AWS settings. Files given with
// --baseline-statistics/--baseline-constraints win. note says where the
// package's files were found ("" without a package).
func ResolveMonitorJob(ctx context.Context, cfg config.Config, spec *schedule.Spec, fromPackage string) (note string, err error) {
	if err := spec.Resolve(cfg.Monitoring.CaptureDir); err != nil {
		return "", err
	}
	if fromPackage == "" {
		return "", nil
	}
	if spec.Baseline != "" {
		return "", errors.New("--baseline and --baseline-from-package exclude each other: the package names its own baseline files")
	}
	if _, _, err := regsm.ParsePackageRef(fromPackage); err != nil {
		return "", fmt.Errorf("--baseline-from-package %w", err)
	}
	rs, err := cfg.Registry()
	if err != nil {
		return "", err
	}
	r, err := NewPackageRegistry(ctx, cfg, rs)
	if err != nil {
		return "", err
	}
	b, err := r.PackageBaselines(ctx, fromPackage, spec.Type)
	if err != nil {
		return "", err
	}
	if note, err = b.Fill(spec.Type, &spec.BaselineStatistics, &spec.BaselineConstraints); err != nil {
		return "", err
	}
	slog.Debug("baseline from model package", "package", b.PackageARN, "constraints", spec.BaselineConstraints, "constraints_from", b.ConstraintsFrom,
		"statistics", spec.BaselineStatistics, "statistics_from", b.StatisticsFrom)
	return note, nil
}
