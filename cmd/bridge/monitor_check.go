package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/bridgerun"
)

func newMonitorRunCmd(cl *bridgeCLI) *cobra.Command {
	var runMonitorFlags struct {
		monitorJobFlags
		start, end, now string
		format          string
	}

	monitorRunCmd := &cobra.Command{
		Use:   "run",
		Short: "Check one window of captured traffic against a baseline",
		Long: `Evaluate the captured traffic of one endpoint in [--start, --end) (default: all
of it) against a baseline and write statistics.json and
constraint_violations.json (SageMaker Model Monitor's schemas) plus
bridge_report.json to --output.

Data quality profiles the captured requests (CSV inputs have no header: the
features are the baseline's, in order; JSON inputs may be dataframe_split,
dataframe_records, instances or inputs) and checks data types, completeness,
non-negativity, domains, missing/extra columns and distribution drift (the
L-infinity distance SageMaker's baseline_drift_check uses, plus PSI and
Kolmogorov-Smirnov in statistics.json). Model quality merges the captured
responses with ground truth by inference id (or event id) and checks the
baseline's metric thresholds.

A run ends Completed, CompletedWithViolations, or CompletedWithNoData when
the window has no rows to check (no traffic, no ground truth yet, fewer than
--min-records): then it raises no violations and reports no metrics.
--start-offset/--end-offset (ISO 8601, as SageMaker's StartTimeOffset and
EndTimeOffset) set the window relative to --now instead of --start/--end,
e.g. -PT2H/-PT1H to wait an hour for late labels. An endpoint the capture
location has never held is an error that lists the ones it has.

The exit status is 0 whether or not violations were found; it is non-zero
only when the run itself fails. Malformed lines are counted, never fatal.`,
		Example: `  bridge monitor run --type data-quality --endpoint brdg-churn-Production \
      --capture .bridge/datacapture --baseline baseline/ --output report/ \
      --start 2026-05-01T10:00:00Z --end 2026-05-01T11:00:00Z
  bridge monitor run --type model-quality --endpoint brdg-churn-Production \
      --capture s3://my-bucket/datacapture --ground-truth s3://my-bucket/ground-truth \
      --probability-attribute 0 --baseline baseline-mq/ --output report-mq/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f := &runMonitorFlags
			return bridgerun.RunMonitorJob(cmd.Context(), cmd.OutOrStdout(), cl.cfg, f.spec, f.fromPackage, f.start, f.end, f.now, time.Now(), f.format == "json")
		},
	}

	addMonitorJobFlags(monitorRunCmd, &runMonitorFlags.monitorJobFlags)
	monitorRunCmd.Flags().StringVar(&runMonitorFlags.start, "start", "", "window start, RFC 3339 (default: open)")
	monitorRunCmd.Flags().StringVar(&runMonitorFlags.end, "end", "", "window end (exclusive), RFC 3339 (default: open)")
	monitorRunCmd.Flags().StringVar(&runMonitorFlags.now, "now", "", "the time --start-offset/--end-offset are relative to, RFC 3339 (default now)")
	monitorRunCmd.Flags().StringVarP(&runMonitorFlags.format, "output-format", "o", "text", "text or json")
	return monitorRunCmd
}
