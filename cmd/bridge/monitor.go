package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/monitor"
	"github.com/bridgeops/bridge/internal/monitor/modelquality"
	"github.com/bridgeops/bridge/internal/monitor/schedule"
	"github.com/bridgeops/bridge/internal/monitor/schema"
	"github.com/bridgeops/bridge/internal/monitor/source"
	"github.com/bridgeops/bridge/internal/registry/store"
)

var monitorCmd = &cobra.Command{
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

var baselineCmd = &cobra.Command{
	Use:   "baseline",
	Short: "Build a baseline (statistics.json and suggested constraints.json) from a dataset",
}

var baselineDQFlags struct {
	dataset, output, groundTruth string
	exclude                      []string
}

var baselineDQCmd = &cobra.Command{
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
		if baselineDQFlags.dataset == "" || baselineDQFlags.output == "" {
			return errors.New("pass --dataset FILE and --output DIR")
		}
		exclude := baselineDQFlags.exclude
		if baselineDQFlags.groundTruth != "" {
			exclude = append(exclude, baselineDQFlags.groundTruth)
		}
		res, err := monitor.BaselineDataQuality(cmd.Context(), baselineDQFlags.dataset, baselineDQFlags.output, exclude...)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "baseline of %d rows written to %s (%s, %s)\n", res.Rows, res.Dir, schema.StatisticsFile, schema.ConstraintsFile)
		if res.Malformed > 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "warning: %d malformed rows skipped\n", res.Malformed)
		}
		return nil
	},
}

var baselineMQFlags monitor.ModelQualityBaseline

var baselineMQCmd = &cobra.Command{
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
		b := baselineMQFlags
		if b.Dataset == "" || b.Output == "" {
			return errors.New("pass --dataset FILE and --output DIR")
		}
		res, err := monitor.BaselineModelQuality(cmd.Context(), b)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "model-quality baseline of %d rows written to %s\n", res.Rows, res.Dir)
		if res.Malformed+res.Skipped > 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "warning: %d malformed rows and %d rows with unparseable values skipped\n", res.Malformed, res.Skipped)
		}
		return nil
	},
}

// monitorJobFlags are the flags describing a monitoring job, shared by monitor run
// and monitor schedule create.
type monitorJobFlags struct {
	spec        schedule.Spec
	output      string // -o
	fromPackage string // --baseline-from-package
	pkgNote     string // where the package's baseline files were found
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

func (f *monitorJobFlags) resolve(ctx context.Context) error {
	if f.spec.Capture == "" {
		f.spec.Capture = cfg.Monitoring.CaptureDir
	}
	if f.spec.Type == "" {
		return errors.New("pass --type data-quality or --type model-quality")
	}
	if err := f.resolvePackageBaseline(ctx); err != nil {
		return err
	}
	if f.spec.MinRecords < 0 {
		return errors.New("--min-records must not be negative")
	}
	return f.spec.Offsets().Validate()
}

var runMonitorFlags struct {
	monitorJobFlags
	start, end, now string
	format          string
}

func parseMonitorTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s %q: want an RFC 3339 time such as 2026-05-01T10:00:00Z", name, v)
	}
	return t, nil
}

var monitorRunCmd = &cobra.Command{
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
		if err := f.resolve(cmd.Context()); err != nil {
			return err
		}
		start, err := parseMonitorTime("start", f.start)
		if err != nil {
			return err
		}
		end, err := parseMonitorTime("end", f.end)
		if err != nil {
			return err
		}
		if off := f.spec.Offsets(); !off.IsZero() {
			if f.start != "" || f.end != "" {
				return errors.New("--start/--end and --start-offset/--end-offset exclude each other: offsets are relative to --now")
			}
			now := time.Now()
			if f.now != "" {
				if now, err = parseMonitorTime("now", f.now); err != nil {
					return err
				}
			}
			// The default window is everything before now.
			if start, end, err = off.Window(now, time.Time{}, now); err != nil {
				return err
			}
		} else if f.now != "" {
			return errors.New("--now only applies with --start-offset/--end-offset")
		}
		rep, err := monitor.Run(cmd.Context(), f.spec.Job(start, end, f.spec.Output))
		if err != nil {
			return err
		}
		if f.format == "json" {
			return emitJSON(cmd.OutOrStdout(), rep)
		}
		printMonitorReport(cmd.OutOrStdout(), rep)
		return nil
	},
}

// writeMonitorList writes list as indented JSON, an empty list as [] rather
// than null.
func writeMonitorList[T any](w io.Writer, list []T) error {
	if list == nil {
		list = []T{}
	}
	return emitJSON(w, list)
}

func printMonitorReport(w io.Writer, rep *monitor.Report) {
	fmt.Fprintf(w, "%s of %s: %d capture records in %d files, %d rows evaluated\n", rep.Type, rep.Endpoint, rep.Records, rep.Files, rep.Rows)
	if rep.Start != nil || rep.End != nil {
		fmt.Fprintf(w, "window: %s to %s\n", fmtWindowEnd(rep.Start), fmtWindowEnd(rep.End))
	}
	if rep.Malformed+rep.BadPayload > 0 {
		fmt.Fprintf(w, "skipped: %d malformed lines, %d unparseable payloads\n", rep.Malformed, rep.BadPayload)
	}
	if rep.Type == monitor.ModelQuality {
		fmt.Fprintf(w, "ground truth: %d records (%d malformed lines); %d captured records without ground truth\n",
			rep.GroundTruthRecords, rep.MalformedGroundTruth, rep.Unmatched)
	}
	if rep.Status == monitor.StatusNoData {
		fmt.Fprintf(w, "%s: nothing to check in this window (no violations, no metrics)\n", rep.Status)
	} else if len(rep.Violations) == 0 {
		fmt.Fprintln(w, "no violations")
	} else {
		fmt.Fprintf(w, "%d violations:\n", len(rep.Violations))
		for _, v := range rep.Violations {
			name := v.FeatureName
			if name == "" {
				name = v.MetricName
			}
			fmt.Fprintf(w, "  %s %s: %s\n", name, v.ConstraintCheckType, v.Description)
		}
	}
	if rep.StatisticsPath != "" {
		fmt.Fprintf(w, "written: %s, %s\n", rep.StatisticsPath, rep.ViolationsPath)
	} else {
		fmt.Fprintf(w, "written: %s\n", rep.ViolationsPath)
	}
}

func fmtWindowEnd(t *time.Time) string {
	if t == nil {
		return "(open)"
	}
	return t.Format(time.RFC3339)
}

var groundTruthCmd = &cobra.Command{
	Use:   "ground-truth",
	Short: "Add ground-truth labels for captured inferences",
}

var gtAddFlags struct {
	csv, output, at string
}

var gtAddCmd = &cobra.Command{
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
			t, err := parseMonitorTime("time", f.at)
			if err != nil {
				return err
			}
			at = t
		}
		in, err := os.Open(f.csv)
		if err != nil {
			return fmt.Errorf("open %s: %w", f.csv, err)
		}
		defer in.Close()
		r := csv.NewReader(in)
		r.FieldsPerRecord = -1
		var out []byte
		var n, bad int
		for first := true; ; first = false {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) {
					bad++
					continue
				}
				return fmt.Errorf("read %s: %w", f.csv, err)
			}
			if first && len(rec) == 2 && strings.EqualFold(strings.TrimSpace(rec[0]), "inference_id") {
				continue
			}
			if len(rec) != 2 || strings.TrimSpace(rec[0]) == "" {
				bad++
				continue
			}
			out = capture.AppendGroundTruthLine(out, &capture.GroundTruth{EventID: strings.TrimSpace(rec[0]), Data: []byte(strings.TrimSpace(rec[1]))})
			n++
		}
		if n == 0 {
			return fmt.Errorf("%s holds no inference_id,label rows", f.csv)
		}
		st, err := source.Open(cmd.Context(), f.output)
		if err != nil {
			return err
		}
		key := source.HourPath(at) + "/" + at.UTC().Format("04-05-000") + "-" + capture.NewID() + ".jsonl"
		if err := st.Put(cmd.Context(), key, out); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%d ground-truth records written to %s/%s\n", n, strings.TrimSuffix(f.output, "/"), key)
		if bad > 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "warning: %d malformed rows skipped\n", bad)
		}
		return nil
	},
}

// openSchedules opens the schedule store in $BRIDGE_HOME's registry
// database.
func openSchedules(cmd *cobra.Command) (*schedule.Store, func(), error) {
	st, err := store.Open(cmd.Context(), monitorHome(cfg))
	if err != nil {
		return nil, nil, err
	}
	s, err := schedule.OpenStore(cmd.Context(), st.DB())
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return s, func() { st.Close() }, nil
}

// withSchedules returns a command's RunE that calls run with the schedule
// store open, and closes it after.
func withSchedules(run func(cmd *cobra.Command, args []string, s *schedule.Store) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		s, closeDB, err := openSchedules(cmd)
		if err != nil {
			return err
		}
		defer closeDB()
		return run(cmd, args, s)
	}
}

var scheduleCmd = &cobra.Command{
	Use:   "schedule",
	Short: "Create, list and delete monitoring schedules (run by bridge run)",
}

var schedCreateFlags struct {
	monitorJobFlags
	cron string
}

var scheduleCreateCmd = &cobra.Command{
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
		if err := f.resolve(cmd.Context()); err != nil {
			return err
		}
		if f.cron == "" {
			return errors.New(`pass --cron, e.g. --cron "0 * * * *" for hourly`)
		}
		// bridge run may start elsewhere: store local paths absolute.
		for _, p := range []*string{&f.spec.Capture, &f.spec.GroundTruth, &f.spec.Baseline, &f.spec.BaselineStatistics, &f.spec.BaselineConstraints, &f.spec.Output} {
			if *p != "" && !strings.HasPrefix(*p, "s3://") {
				abs, err := filepath.Abs(*p)
				if err != nil {
					return err
				}
				*p = abs
			}
		}
		sc := schedule.Schedule{Name: args[0], Cron: f.cron, Spec: f.spec}
		if err := sc.Validate(); err != nil {
			return err
		}
		s, closeDB, err := openSchedules(cmd)
		if err != nil {
			return err
		}
		defer closeDB()
		if _, err := s.Get(cmd.Context(), sc.Name); err == nil {
			return fmt.Errorf("monitoring schedule %s exists already: delete it first (bridge monitor schedule delete %s)", sc.Name, sc.Name)
		}
		if !f.spec.AllowMissing {
			capStore, err := source.Open(cmd.Context(), f.spec.Capture)
			if err != nil {
				return err
			}
			if err := monitor.CheckEndpoint(cmd.Context(), capStore, f.spec.Endpoint); err != nil {
				return err
			}
		}
		if err := s.Create(cmd.Context(), sc); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "schedule %s created (%s); bridge run executes it\n", sc.Name, sc.Cron)
		if f.pkgNote != "" {
			fmt.Fprintln(cmd.OutOrStdout(), f.pkgNote)
		}
		return nil
	},
}

var scheduleListFormat string

var scheduleListCmd = &cobra.Command{
	Use:     "list",
	Short:   "List monitoring schedules",
	Example: "  bridge monitor schedule list\n  bridge monitor schedule list -o json",
	Args:    cobra.NoArgs,
	RunE: withSchedules(func(cmd *cobra.Command, args []string, s *schedule.Store) error {
		all, err := s.List(cmd.Context())
		if err != nil {
			return err
		}
		if scheduleListFormat == "json" {
			return writeMonitorList(cmd.OutOrStdout(), all)
		}
		tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tCRON\tTYPE\tENDPOINT\tBASELINE\tOUTPUT")
		for _, sc := range all {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", sc.Name, sc.Cron, sc.Spec.Type, sc.Spec.Endpoint, sc.Spec.Baseline, sc.Spec.Output)
		}
		return tw.Flush()
	}),
}

var scheduleDeleteCmd = &cobra.Command{
	Use:     "delete NAME",
	Short:   "Delete a monitoring schedule and its execution history",
	Example: "  bridge monitor schedule delete churn-drift",
	Args:    cobra.ExactArgs(1),
	RunE: withSchedules(func(cmd *cobra.Command, args []string, s *schedule.Store) error {
		if err := s.Delete(cmd.Context(), args[0]); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "schedule %s deleted\n", args[0])
		return nil
	}),
}

var scheduleRunNow string

var scheduleRunCmd = &cobra.Command{
	Use:   "run NAME",
	Short: "Execute a schedule once now, over the interval that just ended",
	Long: `Execute a schedule once, as bridge run would at its latest activation (or the
latest activation at or before --now), record the execution and print it.
The exit status is 0 with or without violations, 1 if the execution failed.`,
	Example: "  bridge monitor schedule run churn-drift\n  bridge monitor schedule run churn-drift --now 2026-05-01T11:00:00Z",
	Args:    cobra.ExactArgs(1),
	RunE: withSchedules(func(cmd *cobra.Command, args []string, s *schedule.Store) error {
		sc, err := s.Get(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		now := time.Now()
		if scheduleRunNow != "" {
			if now, err = parseMonitorTime("now", scheduleRunNow); err != nil {
				return err
			}
		}
		r := &schedule.Runner{Store: s}
		e, err := r.Execute(cmd.Context(), sc, now)
		if e != nil {
			printMonitorExecutions(cmd.OutOrStdout(), []schedule.Execution{*e})
		}
		return err
	}),
}

var executionsFlags struct {
	format string
	limit  int
}

var executionsCmd = &cobra.Command{
	Use:     "executions NAME",
	Short:   "Show a schedule's executions, newest first",
	Example: "  bridge monitor executions churn-drift\n  bridge monitor executions churn-drift -o json --limit 5",
	Args:    cobra.ExactArgs(1),
	RunE: withSchedules(func(cmd *cobra.Command, args []string, s *schedule.Store) error {
		if _, err := s.Get(cmd.Context(), args[0]); err != nil {
			return err
		}
		ex, err := s.Executions(cmd.Context(), args[0], executionsFlags.limit)
		if err != nil {
			return err
		}
		if executionsFlags.format == "json" {
			return writeMonitorList(cmd.OutOrStdout(), ex)
		}
		printMonitorExecutions(cmd.OutOrStdout(), ex)
		return nil
	}),
}

func printMonitorExecutions(w io.Writer, ex []schedule.Execution) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tWINDOW START\tWINDOW END\tSTATUS\tRECORDS\tVIOLATIONS\tOUTPUT")
	for _, e := range ex {
		out := e.Output
		if e.Error != "" {
			out = "error: " + e.Error
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%s\n", e.ID, e.WindowStart.Format(time.RFC3339), e.WindowEnd.Format(time.RFC3339), e.Status, e.Records, e.Violations, out)
	}
	tw.Flush()
}

func init() {
	baselineDQCmd.Flags().StringVar(&baselineDQFlags.dataset, "dataset", "", "training dataset: CSV with a header row, or .jsonl")
	baselineDQCmd.Flags().StringVar(&baselineDQFlags.output, "output", "", "directory for statistics.json and constraints.json")
	baselineDQCmd.Flags().StringSliceVar(&baselineDQFlags.exclude, "exclude-columns", nil, "columns left out of the baseline (comma-separated or repeated): the label, ids, anything requests do not carry")
	baselineDQCmd.Flags().StringVar(&baselineDQFlags.groundTruth, "ground-truth-attribute", "", "the label column; left out of the baseline like --exclude-columns")

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

	addMonitorJobFlags(monitorRunCmd, &runMonitorFlags.monitorJobFlags)
	monitorRunCmd.Flags().StringVar(&runMonitorFlags.start, "start", "", "window start, RFC 3339 (default: open)")
	monitorRunCmd.Flags().StringVar(&runMonitorFlags.end, "end", "", "window end (exclusive), RFC 3339 (default: open)")
	monitorRunCmd.Flags().StringVar(&runMonitorFlags.now, "now", "", "the time --start-offset/--end-offset are relative to, RFC 3339 (default now)")
	monitorRunCmd.Flags().StringVarP(&runMonitorFlags.format, "output-format", "o", "text", "text or json")

	gtAddCmd.Flags().StringVar(&gtAddFlags.csv, "csv", "", "CSV of inference_id,label rows")
	gtAddCmd.Flags().StringVar(&gtAddFlags.output, "output", "", "ground-truth location: directory or s3://bucket/prefix")
	gtAddCmd.Flags().StringVar(&gtAddFlags.at, "time", "", "hour directory to write to, RFC 3339 (default now)")
	groundTruthCmd.AddCommand(gtAddCmd)

	addMonitorJobFlags(scheduleCreateCmd, &schedCreateFlags.monitorJobFlags)
	scheduleCreateCmd.Flags().StringVar(&schedCreateFlags.cron, "cron", "", `cron expression, e.g. "0 * * * *" or SageMaker's "cron(0 * ? * * *)" (hourly), "rate(10 minutes)", "*/30 * * * * *" (every 30 s)`)
	scheduleListCmd.Flags().StringVarP(&scheduleListFormat, "output-format", "o", "text", "text or json")
	scheduleRunCmd.Flags().StringVar(&scheduleRunNow, "now", "", "run as if at this RFC 3339 time")
	scheduleCmd.AddCommand(scheduleCreateCmd, scheduleListCmd, scheduleDeleteCmd, scheduleRunCmd)

	executionsCmd.Flags().StringVarP(&executionsFlags.format, "output-format", "o", "text", "text or json")
	executionsCmd.Flags().IntVar(&executionsFlags.limit, "limit", 0, "show at most this many (default all)")

	monitorCmd.AddCommand(baselineCmd, monitorRunCmd, groundTruthCmd, scheduleCmd, executionsCmd)
	rootCmd.AddCommand(monitorCmd)
}
