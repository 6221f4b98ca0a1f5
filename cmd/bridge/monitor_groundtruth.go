package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/monitor"
)

func newGroundTruthCmd(cl *bridgeCLI) *cobra.Command {
	groundTruthCmd := &cobra.Command{
		Use:   "ground-truth",
		Short: "Add ground-truth labels for captured inferences",
	}

	var gtAddFlags struct {
		csv, output, at string
	}

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
			f := gtAddFlags
			if f.csv == "" || f.output == "" {
				return errors.New("pass --csv FILE and --output DIR|s3://bucket/prefix")
			}
			at := time.Now()
			if f.at != "" {
				t, err := monitor.ParseTime("time", f.at)
				if err != nil {
					return err
				}
				at = t
			}
			res, err := monitor.AddGroundTruth(cmd.Context(), f.csv, f.output, at, cl.cfg.AWS)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d ground-truth records written to %s\n", res.Records, res.Location)
			if res.Malformed > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %d malformed rows skipped\n", res.Malformed)
			}
			return nil
		},
	}

	gtAddCmd.Flags().StringVar(&gtAddFlags.csv, "csv", "", "CSV of inference_id,label rows")
	gtAddCmd.Flags().StringVar(&gtAddFlags.output, "output", "", "ground-truth location: directory or s3://bucket/prefix")
	gtAddCmd.Flags().StringVar(&gtAddFlags.at, "time", "", "hour directory to write to, RFC 3339 (default now)")
	groundTruthCmd.AddCommand(gtAddCmd)
	return groundTruthCmd
}
