package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/bridgeops/bridge/internal/bridgerun"
	"github.com/bridgeops/bridge/internal/config"
	regsm "github.com/bridgeops/bridge/internal/registry/sagemaker"
)

// resolvePackageBaseline fills the job's baseline files from the model
// package --baseline-from-package names: the S3 URIs it registered in
// DriftCheckBaselines or ModelMetrics (DescribeModelPackage), read with
// the SageMaker target's AWS settings. Files given with
// --baseline-statistics/--baseline-constraints win.
func (f *monitorJobFlags) resolvePackageBaseline(ctx context.Context, cfg config.Config) error {
	if f.fromPackage == "" {
		return nil
	}
	if f.spec.Baseline != "" {
		return errors.New("--baseline and --baseline-from-package exclude each other: the package names its own baseline files")
	}
	if _, _, err := regsm.ParsePackageRef(f.fromPackage); err != nil {
		return fmt.Errorf("--baseline-from-package %w", err)
	}
	rs, err := cfg.Registry()
	if err != nil {
		return err
	}
	r, err := bridgerun.NewPackageRegistry(ctx, cfg, rs)
	if err != nil {
		return err
	}
	b, err := r.PackageBaselines(ctx, f.fromPackage, f.spec.Type)
	if err != nil {
		return err
	}
	if f.pkgNote, err = b.Fill(f.spec.Type, &f.spec.BaselineStatistics, &f.spec.BaselineConstraints); err != nil {
		return err
	}
	slog.Debug("baseline from model package", "package", b.PackageARN, "constraints", f.spec.BaselineConstraints, "constraints_from", b.ConstraintsFrom,
		"statistics", f.spec.BaselineStatistics, "statistics_from", b.StatisticsFrom)
	return nil
}
