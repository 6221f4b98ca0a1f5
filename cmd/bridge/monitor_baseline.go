package main

import (
	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/monitor"
	"github.com/bridgeops/bridge/internal/monitor/modelquality"
)

func newBaselineCmd() *cobra.Command {
	baselineCmd := &cobra.Command{
		Use:   "baseline",
		Short: "Build a baseline (statistics.json and suggested constraints.json) from a dataset",
	}

	var baselineDQFlags monitor.DataQualityBaseline

	baselineDQCmd := &cobra.Command{
		Use:   "data-quality",
		Short: "Profile a training dataset: per-feature statistics and suggested constraints",
		Long: `Profile a CSV (with a header row) or JSON Lines dataset into SageMaker Model
Monitor's statistics.json (inferred type, completeness, count, mean, sum,
std_dev, min, max, KLL quantile sketch; distinct count and top values for
strings) and suggested constraints.json (type, completeness, non-negativity,
domains of low-cardinality strings, monitoring_config). Edit constraints.json
to tune thresholds.

Profile only what the endpoint receives: a training set that also holds the
label (or ids) must name those columns in --exclude-columns, or pass the
label as --ground-truth-attribute, which is left out the same way. Otherwise
every window of captured requests, which lack the label, fails
missing_column_check and completeness_check on it.`,
		Example: `  bridge monitor baseline data-quality --dataset train.csv --output baseline/
  bridge monitor baseline data-quality --dataset train.csv --ground-truth-attribute churned \
      --exclude-columns customer_id --output baseline/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return monitor.WriteDataQualityBaseline(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), baselineDQFlags)
		},
	}

	var baselineMQFlags monitor.ModelQualityBaseline

	baselineMQCmd := &cobra.Command{
		Use:   "model-quality",
		Short: "Compute a model's quality metrics on a labelled dataset and suggest thresholds",
		Long: `Compute model-quality metrics from a CSV dataset holding predictions and labels
(Regression: mae, mse, rmse, r2; BinaryClassification: accuracy, precision,
recall, f0.5/f1/f2, rates, auc (needs --probability-attribute), confusion
matrix; MulticlassClassification: accuracy and weighted precision, recall and
F-scores) into statistics.json, and constraints.json with a threshold and a
comparison operator per metric (the baseline value moved by --tolerance in
the degrading direction).`,
		Example: `  bridge monitor baseline model-quality --dataset baseline.csv --problem-type BinaryClassification \
      --inference-attribute prediction --probability-attribute probability \
      --ground-truth-attribute label --output baseline-mq/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return monitor.WriteModelQualityBaseline(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), baselineMQFlags)
		},
	}

	baselineDQCmd.Flags().StringVar(&baselineDQFlags.Dataset, "dataset", "", "training dataset: CSV with a header row, or .jsonl")
	baselineDQCmd.Flags().StringVar(&baselineDQFlags.Output, "output", "", "directory for statistics.json and constraints.json")
	baselineDQCmd.Flags().StringSliceVar(&baselineDQFlags.Exclude, "exclude-columns", nil, "columns left out of the baseline (comma-separated or repeated): the label, ids, anything requests do not carry")
	baselineDQCmd.Flags().StringVar(&baselineDQFlags.GroundTruthAttribute, "ground-truth-attribute", "", "the label column; left out of the baseline like --exclude-columns")

	f := baselineMQCmd.Flags()
	f.StringVar(&baselineMQFlags.Dataset, "dataset", "", "CSV with a header row holding predictions and labels")
	f.StringVar(&baselineMQFlags.ProblemType, "problem-type", "", "Regression, BinaryClassification or MulticlassClassification")
	f.StringVar(&baselineMQFlags.InferenceAttribute, "inference-attribute", "", "column of the predicted value or label")
	f.StringVar(&baselineMQFlags.ProbabilityAttribute, "probability-attribute", "", "column of the positive class's probability (binary; needed for auc)")
	f.StringVar(&baselineMQFlags.GroundTruthAttribute, "ground-truth-attribute", "", "column of the true value or label")
	f.StringVar(&baselineMQFlags.PositiveLabel, "positive-label", "1", "binary classification: the positive class")
	f.Float64Var(&baselineMQFlags.ProbabilityThreshold, "probability-threshold", 0.5, "binary classification without --inference-attribute: probability at or above which the prediction is positive")
	f.Float64Var(&baselineMQFlags.Tolerance, "tolerance", modelquality.DefaultTolerance, "relative slack between each baseline metric and its suggested threshold")
	f.StringVar(&baselineMQFlags.Output, "output", "", "directory for statistics.json and constraints.json")
	baselineCmd.AddCommand(baselineDQCmd, baselineMQCmd)
	return baselineCmd
}
