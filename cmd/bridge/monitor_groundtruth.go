package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/monitor"
)

func newGroundTruthCmd(cl *bridgeCLI) *cobra.Command {
	groundTruthCmd := &cobra.Command{
		Use:   "ground-truth",
		Short: "Add ground-truth labels for captured inferences",
	}

	var gtAddFlags monitor.GroundTruthInput

	gtAddCmd := &cobra.Command{
		Use:   "add",
		Short: "Convert a CSV of inference_id,label into SageMaker ground-truth records",
		Long: `Read a CSV of inference_id,label rows (a header row naming them is optional)
and write them as ground-truth records
{"groundTruthData": {"data": "<label>", "encoding": "CSV"},
 "eventMetadata": {"eventId": "<inference_id>"}, "eventVersion": "0"}
to --output/YYYY/MM/DD/HH/<file>.jsonl, the hour being --time (default now).
Rows that are not two fields are counted and skipped.`,
		Example: `  bridge monitor ground-truth add --csv labels.csv --output .bridge/ground-truth
  bridge monitor ground-truth add --csv labels.csv --output s3://my-bucket/ground-truth`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return monitor.WriteGroundTruth(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), gtAddFlags, time.Now(), cl.cfg.AWS)
		},
	}

	gtAddCmd.Flags().StringVar(&gtAddFlags.CSV, "csv", "", "CSV of inference_id,label rows")
	gtAddCmd.Flags().StringVar(&gtAddFlags.Output, "output", "", "ground-truth location: directory or s3://bucket/prefix")
	gtAddCmd.Flags().StringVar(&gtAddFlags.At, "time", "", "hour directory to write to, RFC 3339 (default now)")
	groundTruthCmd.AddCommand(gtAddCmd)
	return groundTruthCmd
}
