package bridgerun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/bridgeops/bridge/internal/cliout"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/monitor"
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

// CreateSchedule is bridge monitor schedule create: it completes and
// checks the job (ResolveMonitorJob), requires a cron expression, stores
// the schedule in the home's database (schedule.Store.CreateChecked) and
// says so on out, with where the package's baseline came from.
func CreateSchedule(ctx context.Context, out io.Writer, cfg config.Config, name, cron string, spec schedule.Spec, fromPackage string) error {
	note, err := ResolveMonitorJob(ctx, cfg, &spec, fromPackage)
	if err != nil {
		return err
	}
	if cron == "" {
		return errors.New(`pass --cron, e.g. --cron "0 * * * *" for hourly`)
	}
	s, closeDB, err := OpenSchedules(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	sc, err := s.CreateChecked(ctx, schedule.Schedule{Name: name, Cron: cron, Spec: spec}, cfg.AWS)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "schedule %s created (%s); bridge run executes it\n", sc.Name, sc.Cron)
	if note != "" {
		fmt.Fprintln(out, note)
	}
	return nil
}

// RunMonitorJob is bridge monitor run: it completes and checks the job
// (ResolveMonitorJob), runs it once over [startFlag, endFlag) or the
// window its offsets give relative to nowFlag (RFC 3339 times; clock when
// nowFlag is empty) and writes the report to out, as JSON with asJSON.
func RunMonitorJob(ctx context.Context, out io.Writer, cfg config.Config, spec schedule.Spec, fromPackage, startFlag, endFlag, nowFlag string, clock time.Time, asJSON bool) error {
	if _, err := ResolveMonitorJob(ctx, cfg, &spec, fromPackage); err != nil {
		return err
	}
	start, end, err := spec.OneOffWindow(startFlag, endFlag, nowFlag, clock)
	if err != nil {
		return err
	}
	job := spec.Job(start, end, spec.Output)
	job.AWS = cfg.AWS
	rep, err := monitor.Run(ctx, job)
	if err != nil {
		return err
	}
	if asJSON {
		return cliout.JSON(out, rep)
	}
	rep.WriteText(out)
	return nil
}
