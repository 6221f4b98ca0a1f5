package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/bridgerun"
	"github.com/bridgeops/bridge/internal/cliout"
	"github.com/bridgeops/bridge/internal/monitor/schedule"
)

// withSchedules returns a command's RunE that calls run with the schedule
// store open, and closes it after.
func withSchedules(cl *bridgeCLI, run func(cmd *cobra.Command, args []string, s *schedule.Store) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		s, closeDB, err := bridgerun.OpenSchedules(cmd.Context(), cl.cfg)
		if err != nil {
			return err
		}
		defer closeDB()
		return run(cmd, args, s)
	}
}

func newScheduleCmd(cl *bridgeCLI) *cobra.Command {
	scheduleCmd := &cobra.Command{
		Use:   "schedule",
		Short: "Create, list and delete monitoring schedules (run by bridge run)",
	}

	var schedCreateFlags struct {
		monitorJobFlags
		cron string
	}

	scheduleCreateCmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a monitoring schedule",
		Long: `Store a schedule in $BRIDGE_HOME's registry database. bridge run executes it on
its cron expression (five fields; a sixth leading field gives seconds for
schedules finer than a minute; descriptors such as @hourly work too; AWS's
cron(0 * ? * * *) and rate(1 hour) as SageMaker schedules spell them), each
time over the interval that just ended — or, with --start-offset and
--end-offset, over [activation + start offset, activation + end offset) —
writing to --output/YYYY/MM/DD/HH-MM-SS/ and recording the execution.

The endpoint must have captures already (a typo would monitor nothing);
--allow-missing accepts an endpoint that is not deployed yet.`,
		Example: `  bridge monitor schedule create churn-drift --cron "0 * * * *" --type data-quality \
      --endpoint brdg-churn-Production --baseline baseline/ --output reports/drift
  bridge monitor schedule create churn-quality --cron "*/10 * * * *" --type model-quality \
      --endpoint brdg-churn-Production --ground-truth .bridge/ground-truth \
      --probability-attribute 0 --baseline baseline-mq/ --output reports/quality
  bridge monitor schedule create churn-labels --cron "cron(0 * ? * * *)" --type model-quality \
      --endpoint brdg-churn-production --capture s3://my-bucket/datacapture \
      --ground-truth s3://my-bucket/ground-truth --start-offset -PT2H --end-offset -PT1H \
      --baseline-constraints s3://my-bucket/baselines/constraints.json --output reports/quality`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := &schedCreateFlags
			return bridgerun.CreateSchedule(cmd.Context(), cmd.OutOrStdout(), cl.cfg, args[0], f.cron, f.spec, f.fromPackage)
		},
	}

	var scheduleListFormat string

	scheduleListCmd := &cobra.Command{
		Use:     "list",
		Short:   "List monitoring schedules",
		Example: "  bridge monitor schedule list\n  bridge monitor schedule list -o json",
		Args:    cobra.NoArgs,
		RunE: withSchedules(cl, func(cmd *cobra.Command, args []string, s *schedule.Store) error {
			all, err := s.List(cmd.Context())
			if err != nil {
				return err
			}
			return cliout.PrintList(cmd.OutOrStdout(), scheduleListFormat == "json", all, schedule.WriteSchedules)
		}),
	}

	scheduleDeleteCmd := &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a monitoring schedule and its execution history",
		Example: "  bridge monitor schedule delete churn-drift",
		Args:    cobra.ExactArgs(1),
		RunE: withSchedules(cl, func(cmd *cobra.Command, args []string, s *schedule.Store) error {
			if err := s.Delete(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "schedule %s deleted\n", args[0])
			return nil
		}),
	}

	var scheduleRunNow string

	scheduleRunCmd := &cobra.Command{
		Use:   "run NAME",
		Short: "Execute a schedule once now, over the interval that just ended",
		Long: `Execute a schedule once, as bridge run would at its latest activation (or the
latest activation at or before --now), record the execution and print it.
The exit status is 0 with or without violations, 1 if the execution failed.`,
		Example: "  bridge monitor schedule run churn-drift\n  bridge monitor schedule run churn-drift --now 2026-05-01T11:00:00Z",
		Args:    cobra.ExactArgs(1),
		RunE: withSchedules(cl, func(cmd *cobra.Command, args []string, s *schedule.Store) error {
			r := &schedule.Runner{Store: s, AWS: cl.cfg.AWS}
			return r.RunOnce(cmd.Context(), cmd.OutOrStdout(), args[0], scheduleRunNow, time.Now())
		}),
	}

	addMonitorJobFlags(scheduleCreateCmd, &schedCreateFlags.monitorJobFlags)
	scheduleCreateCmd.Flags().StringVar(&schedCreateFlags.cron, "cron", "", `cron expression, e.g. "0 * * * *" or SageMaker's "cron(0 * ? * * *)" (hourly), "rate(10 minutes)", "*/30 * * * * *" (every 30 s)`)
	scheduleListCmd.Flags().StringVarP(&scheduleListFormat, "output-format", "o", "text", "text or json")
	scheduleRunCmd.Flags().StringVar(&scheduleRunNow, "now", "", "run as if at this RFC 3339 time")
	scheduleCmd.AddCommand(scheduleCreateCmd, scheduleListCmd, scheduleDeleteCmd, scheduleRunCmd)
	return scheduleCmd
}

func newExecutionsCmd(cl *bridgeCLI) *cobra.Command {
	var executionsFlags struct {
		format string
		limit  int
	}

	executionsCmd := &cobra.Command{
		Use:     "executions NAME",
		Short:   "Show a schedule's executions, newest first",
		Example: "  bridge monitor executions churn-drift\n  bridge monitor executions churn-drift -o json --limit 5",
		Args:    cobra.ExactArgs(1),
		RunE: withSchedules(cl, func(cmd *cobra.Command, args []string, s *schedule.Store) error {
			return s.PrintExecutions(cmd.Context(), cmd.OutOrStdout(), args[0], executionsFlags.limit, executionsFlags.format == "json")
		}),
	}

	executionsCmd.Flags().StringVarP(&executionsFlags.format, "output-format", "o", "text", "text or json")
	executionsCmd.Flags().IntVar(&executionsFlags.limit, "limit", 0, "show at most this many (default all)")
	return executionsCmd
}
