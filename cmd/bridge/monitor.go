package main

import (
	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/monitor/schedule"
)

func newMonitorCmd(cl *bridgeCLI) *cobra.Command {
	monitorCmd := &cobra.Command{
		Use:   "monitor",
		Short: "Baselines, monitoring runs and schedules over captured traffic",
		Long: `Watch what endpoints serve, with SageMaker Model Monitor's file formats.

bridge run --capture writes every invocation to
$BRIDGE_HOME/datacapture/<endpoint>/<variant>/YYYY/MM/DD/HH/*.jsonl. From a
training dataset, "monitor baseline" writes statistics.json and
constraints.json; "monitor run" checks one window of captured traffic (merged
with ground truth for model quality) against a baseline and writes
statistics.json and constraint_violations.json; "monitor schedule" runs that
on a cron schedule inside bridge run and keeps a history of executions.`,
		Example: `  bridge monitor baseline data-quality --dataset train.csv --output baseline/
  bridge monitor run --type data-quality --endpoint brdg-churn-Production \
      --capture .bridge/datacapture --baseline baseline/ --output report/
  bridge monitor schedule create churn-drift --cron "0 * * * *" --type data-quality \
      --endpoint brdg-churn-Production --capture .bridge/datacapture --baseline baseline/ --output reports/`,
	}
	monitorCmd.AddCommand(newBaselineCmd(), newMonitorRunCmd(cl), newGroundTruthCmd(cl), newScheduleCmd(cl), newExecutionsCmd(cl))
	return monitorCmd
}

// monitorJobFlags are the flags describing a monitoring job, shared by monitor run
// and monitor schedule create.
type monitorJobFlags struct {
	spec        schedule.Spec
	fromPackage string // --baseline-from-package
}

func addMonitorJobFlags(cmd *cobra.Command, f *monitorJobFlags) {
	fl := cmd.Flags()
	fl.StringVar(&f.spec.Type, "type", "", "data-quality or model-quality")
	fl.StringVar(&f.spec.Endpoint, "endpoint", "", "endpoint name, e.g. brdg-churn-Production (its directory under --capture)")
	fl.StringVar(&f.spec.Capture, "capture", "", "capture location: directory or s3://bucket/prefix (default $BRIDGE_HOME/datacapture)")
	fl.StringVar(&f.spec.GroundTruth, "ground-truth", "", "ground-truth location, directory or s3://bucket/prefix (model quality)")
	fl.StringVar(&f.spec.Baseline, "baseline", "", "baseline directory (or s3://bucket/prefix) holding statistics.json and constraints.json")
	fl.StringVar(&f.spec.BaselineStatistics, "baseline-statistics", "", "the baseline's statistics.json as a path or s3://bucket/key (e.g. a model package's DriftCheckBaselines statistics); overrides --baseline's")
	fl.StringVar(&f.spec.BaselineConstraints, "baseline-constraints", "", "the baseline's constraints.json as a path or s3://bucket/key (e.g. a model package's ModelMetrics constraints); overrides --baseline's")
	fl.StringVar(&f.fromPackage, "baseline-from-package", "", "take the baseline a SageMaker model package registered (DriftCheckBaselines, else ModelMetrics): GROUP/VERSION or the package ARN; --baseline-statistics/--baseline-constraints override its files")
	fl.StringVar(&f.spec.StartOffset, "start-offset", "", "window start relative to the run time, ISO 8601 as SageMaker's StartTimeOffset, e.g. -PT1H (for labels that arrive late)")
	fl.StringVar(&f.spec.EndOffset, "end-offset", "", "window end relative to the run time, ISO 8601 as SageMaker's EndTimeOffset, e.g. -PT0H")
	fl.Int64Var(&f.spec.MinRecords, "min-records", 1, "fewest rows (model quality: rows merged with ground truth) a window needs to be checked; fewer end as CompletedWithNoData")
	fl.BoolVar(&f.spec.AllowMissing, "allow-missing", false, "accept an endpoint the capture location has never seen (not deployed yet) instead of failing")
	fl.StringVar(&f.spec.Output, "output", "", "directory for statistics.json and constraint_violations.json")
	fl.StringVar(&f.spec.ProblemType, "problem-type", "", "model quality: Regression, BinaryClassification or MulticlassClassification (default: the baseline's)")
	fl.StringVar(&f.spec.InferenceAttribute, "inference-attribute", "", "model quality: index (CSV, JSON list) or key (JSON object) of the prediction in captured responses")
	fl.StringVar(&f.spec.ProbabilityAttribute, "probability-attribute", "", "binary classification: index or key of the positive class's probability in captured responses")
	fl.StringVar(&f.spec.PositiveLabel, "positive-label", "1", "binary classification: the positive class")
	fl.Float64Var(&f.spec.ProbabilityThreshold, "probability-threshold", 0.5, "binary classification: probability at or above which the prediction is positive")
}
