package monitor

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/monitor/schema"
	"github.com/bridgeops/bridge/internal/monitor/source"
)

// An empty window, or one below MinRecords, completes without data: no
// violations, no metric values, no statistics.json.
func TestRunWithoutDataRaisesNothing(t *testing.T) {
	w := newWorld(t, 200)
	later := w.hourB.Add(5 * time.Hour) // no traffic then
	cases := []struct {
		name   string
		typ    string
		hour   time.Time
		edit   func(j *Job)
		status string
	}{
		{"data quality, no traffic", DataQuality, later, nil, StatusNoData},
		{"model quality, no traffic", ModelQuality, later, nil, StatusNoData},
		{"model quality, labels not arrived", ModelQuality, w.hourB, func(j *Job) { j.GroundTruth = filepath.Join(w.dir, "no-labels-yet") }, StatusNoData},
		{"data quality, below min records", DataQuality, w.hourB, func(j *Job) { j.MinRecords = 201 }, StatusNoData},
		{"model quality, below min records", ModelQuality, w.hourB, func(j *Job) { j.MinRecords = 201 }, StatusNoData},
		{"data quality, at min records", DataQuality, w.hourB, func(j *Job) { j.MinRecords = 200 }, StatusViolations},
		{"model quality, enough records", ModelQuality, w.hourB, nil, StatusViolations},
		{"data quality, clean hour", DataQuality, w.hourA, nil, StatusCompleted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			j := w.job(tc.typ, tc.hour, out)
			if tc.edit != nil {
				tc.edit(&j)
			}
			rep, err := Run(context.Background(), j)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Status != tc.status {
				t.Fatalf("status %s (%d rows, %d violations), want %s", rep.Status, rep.Rows, len(rep.Violations), tc.status)
			}
			_, statErr := os.Stat(filepath.Join(out, schema.StatisticsFile))
			var v schema.Violations
			if err := schema.ReadJSON(out, schema.ViolationsFile, &v); err != nil {
				t.Fatal(err)
			}
			if tc.status == StatusNoData {
				if len(rep.Violations) != 0 || len(rep.Metrics) != 0 || len(v.Violations) != 0 || !errors.Is(statErr, fs.ErrNotExist) {
					t.Errorf("no-data window: %d violations (%d in file), metrics %v, statistics.json: %v", len(rep.Violations), len(v.Violations), rep.Metrics, statErr)
				}
				return
			}
			if statErr != nil || len(rep.Metrics) == 0 {
				t.Errorf("window with data: statistics %v, metrics %v", statErr, rep.Metrics)
			}
		})
	}
}

func TestRunUnknownEndpoint(t *testing.T) {
	w := newWorld(t, 10)
	j := w.job(DataQuality, w.hourA, t.TempDir())
	j.Endpoint = "brdg-iris-Production"
	_, err := Run(context.Background(), j)
	if err == nil || !strings.Contains(err.Error(), "brdg-iris-Production has no captures") || !strings.Contains(err.Error(), "it has captures of: "+endpoint) {
		t.Fatalf("err = %v, want it to name the endpoint and list %s", err, endpoint)
	}
	j.Endpoint = strings.ToLower(endpoint)
	if _, err := Run(context.Background(), j); err == nil || !strings.Contains(err.Error(), "did you mean "+endpoint) {
		t.Errorf("case twin: err = %v", err)
	}
	j.Capture = filepath.Join(w.dir, "empty-capture")
	if _, err := Run(context.Background(), j); err == nil || !strings.Contains(err.Error(), "holds no captured endpoint") {
		t.Errorf("empty capture root: err = %v", err)
	}
	// An endpoint not deployed yet, allowed: an empty window, not an error.
	j.AllowMissing = true
	rep, err := Run(context.Background(), j)
	if err != nil || rep.Status != StatusNoData {
		t.Errorf("allowed missing endpoint: %v, %+v", err, rep)
	}
	// A known endpoint with a quiet window is no error either.
	j = w.job(DataQuality, w.hourB.Add(24*time.Hour), t.TempDir())
	if rep, err := Run(context.Background(), j); err != nil || rep.Status != StatusNoData {
		t.Errorf("quiet window of a known endpoint: %v %+v", err, rep)
	}
}

func TestParseOffset(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"-PT1H", -time.Hour, false},
		{"-PT0H", 0, false},
		{"PT0H", 0, false},
		{"-P1D", -24 * time.Hour, false},
		{"-P8D", -8 * 24 * time.Hour, false},
		{"-P1DT12H", -36 * time.Hour, false},
		{"-PT30M", -30 * time.Minute, false},
		{"-PT1H30M15S", -(time.Hour + 30*time.Minute + 15*time.Second), false},
		{"-P1W", -7 * 24 * time.Hour, false},
		{"+PT2H", 2 * time.Hour, false},
		{"-1h", 0, true},
		{"-P1M", 0, true}, // months have no fixed length
		{"-P1Y", 0, true},
		{"-P", 0, true},
		{"-PT", 0, true},
		{"PT1H ", 0, true},
		{"", 0, true},
	}
	for _, tc := range cases {
		got, err := ParseOffset(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseOffset(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestOffsetsWindow(t *testing.T) {
	at := time.Date(2020, 1, 9, 13, 0, 0, 0, time.UTC)
	defStart := at.Add(-time.Hour)
	cases := []struct {
		off        Offsets
		start, end time.Time
		bad        bool
	}{
		{Offsets{}, defStart, at, false},
		// SageMaker's documented example: -P8D / -P1D at 2020-01-09T13:00.
		{Offsets{"-P8D", "-P1D"}, time.Date(2020, 1, 1, 13, 0, 0, 0, time.UTC), time.Date(2020, 1, 8, 13, 0, 0, 0, time.UTC), false},
		{Offsets{"-PT1H", "-PT0H"}, defStart, at, false},
		{Offsets{"-PT2H", ""}, at.Add(-2 * time.Hour), at, false},
		{Offsets{"", "-PT1H"}, defStart.Add(-time.Hour), at.Add(-time.Hour), false},
		{Offsets{"-PT1H", "-PT2H"}, time.Time{}, time.Time{}, true},
		{Offsets{"-PT1H", "-PT1H"}, time.Time{}, time.Time{}, true},
		{Offsets{"yesterday", ""}, time.Time{}, time.Time{}, true},
	}
	for _, tc := range cases {
		s, e, err := tc.off.Window(at, defStart, at)
		if tc.bad {
			if err == nil {
				t.Errorf("%+v: no error", tc.off)
			}
			continue
		}
		if err != nil || !s.Equal(tc.start) || !e.Equal(tc.end) {
			t.Errorf("%+v: [%v, %v) %v; want [%v, %v)", tc.off, s, e, err, tc.start, tc.end)
		}
	}
}

// A training set with the label: excluded, the window of requests without
// it is clean; included, every window fails on the label column.
func TestBaselineExcludeColumns(t *testing.T) {
	w := newWorld(t, 300)
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("age,income,plan,churned\n")
	train, _ := os.ReadFile(filepath.Join(w.dir, "train.csv"))
	for i, line := range strings.Split(strings.TrimSpace(string(train)), "\n")[1:] {
		b.WriteString(line + "," + []string{"0", "1"}[i%2] + "\n")
	}
	labelled := filepath.Join(w.dir, "train-labelled.csv")
	write(t, labelled, b.String())

	with, without := filepath.Join(w.dir, "with-label"), filepath.Join(w.dir, "without-label")
	if _, err := BaselineDataQuality(ctx, labelled, with); err != nil {
		t.Fatal(err)
	}
	if _, err := BaselineDataQuality(ctx, labelled, without, "churned"); err != nil {
		t.Fatal(err)
	}
	var st schema.Statistics
	if err := schema.ReadJSON(without, schema.StatisticsFile, &st); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range st.Features {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "age,income,plan" {
		t.Errorf("features %v", names)
	}
	for _, tc := range []struct {
		base      string
		wantLabel bool
	}{{with, true}, {without, false}} {
		j := w.job(DataQuality, w.hourA, t.TempDir())
		j.Baseline = tc.base
		rep, err := Run(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		onLabel := false
		for _, v := range rep.Violations {
			onLabel = onLabel || v.FeatureName == "churned" || v.ConstraintCheckType == "missing_column_check"
		}
		if onLabel != tc.wantLabel || (!tc.wantLabel && rep.Status != StatusCompleted) {
			t.Errorf("baseline %s: violations %+v", filepath.Base(tc.base), rep.Violations)
		}
	}
	for _, bad := range [][]string{{"label"}, {"age", "income", "plan", "churned"}} {
		if _, err := BaselineDataQuality(ctx, labelled, t.TempDir(), bad...); err == nil {
			t.Errorf("exclude %v: no error", bad)
		}
	}
}

// The baseline's files named one by one, as a model package registers them.
func TestRunFromBaselineFiles(t *testing.T) {
	w := newWorld(t, 200)
	ctx := context.Background()
	files := t.TempDir()
	for _, f := range []struct{ from, to string }{
		{filepath.Join(w.dqBase, schema.StatisticsFile), "drift-statistics.json"},
		{filepath.Join(w.dqBase, schema.ConstraintsFile), "drift-constraints.json"},
		{filepath.Join(w.mqBase, schema.ConstraintsFile), "quality-constraints.json"},
	} {
		b, err := os.ReadFile(f.from)
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(files, f.to), string(b))
	}
	for _, typ := range []string{DataQuality, ModelQuality} {
		want, err := Run(ctx, w.job(typ, w.hourB, t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		j := w.job(typ, w.hourB, t.TempDir())
		j.Baseline = ""
		if typ == DataQuality {
			j.BaselineStatistics, j.BaselineConstraints = filepath.Join(files, "drift-statistics.json"), filepath.Join(files, "drift-constraints.json")
		} else {
			j.BaselineConstraints = filepath.Join(files, "quality-constraints.json")
		}
		got, err := Run(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != want.Status || len(got.Violations) != len(want.Violations) || len(got.Violations) == 0 {
			t.Errorf("%s: %s with %d violations from files, %s with %d from the directory", typ, got.Status, len(got.Violations), want.Status, len(want.Violations))
		}
	}
	j := w.job(DataQuality, w.hourB, t.TempDir())
	j.Baseline, j.BaselineStatistics = "", filepath.Join(files, "missing.json")
	if _, err := Run(ctx, j); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing statistics file: %v", err)
	}
	j.BaselineStatistics = ""
	j.BaselineConstraints = filepath.Join(files, "drift-constraints.json")
	if _, err := Run(ctx, j); err == nil || !strings.Contains(err.Error(), "--baseline-statistics") {
		t.Errorf("data quality without statistics: %v", err)
	}
}

// A model package's registered baseline on S3: statistics.json and
// constraints.json under their own keys, as SageMaker pipelines write them;
// captures and ground truth in the endpoint's S3 capture location.
func TestRunFromS3BaselineFiles(t *testing.T) {
	w := newWorld(t, 200)
	fake := awsfake.New(awsfake.Options{})
	defer fake.Close()
	for k, v := range fake.Env() {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	st, err := source.OpenS3(ctx, "s3://sagemaker-models/churn", config.AWSFromEnv())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("sagemaker-models")}); err != nil {
		t.Fatal(err)
	}
	put := func(from, key string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Put(ctx, key, b); err != nil {
			t.Fatal(err)
		}
	}
	put(filepath.Join(w.dqBase, schema.StatisticsFile), "drift-check/abc123/statistics.json")
	put(filepath.Join(w.dqBase, schema.ConstraintsFile), "drift-check/abc123/constraints.json")
	put(filepath.Join(w.mqBase, schema.ConstraintsFile), "model-quality/abc123/constraints.json")
	for _, c := range []struct{ from, prefix string }{{w.capDir, "datacapture/"}, {w.gtDir, "ground-truth/"}} {
		objs, _ := source.Dir(c.from).List(ctx, "")
		for _, o := range objs {
			put(filepath.Join(c.from, o.Key), c.prefix+o.Key)
		}
	}
	for _, typ := range []string{DataQuality, ModelQuality} {
		want, err := Run(ctx, w.job(typ, w.hourB, t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		j := w.job(typ, w.hourB, t.TempDir())
		j.Baseline, j.Capture, j.GroundTruth = "", "s3://sagemaker-models/churn/datacapture", "s3://sagemaker-models/churn/ground-truth"
		if typ == DataQuality {
			j.BaselineStatistics = "s3://sagemaker-models/churn/drift-check/abc123/statistics.json"
			j.BaselineConstraints = "s3://sagemaker-models/churn/drift-check/abc123/constraints.json"
		} else {
			j.BaselineConstraints = "s3://sagemaker-models/churn/model-quality/abc123/constraints.json"
		}
		got, err := Run(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != want.Status || got.Records != want.Records || got.Rows != want.Rows || len(got.Violations) != len(want.Violations) {
			t.Errorf("%s from S3: %s %d records %d rows %d violations; local %s %d %d %d", typ, got.Status, got.Records, got.Rows, len(got.Violations),
				want.Status, want.Records, want.Rows, len(want.Violations))
		}
	}
	// A wrong endpoint on S3 lists the S3 location's endpoints.
	j := w.job(DataQuality, w.hourB, t.TempDir())
	j.Capture, j.Endpoint = "s3://sagemaker-models/churn/datacapture", "brdg-typo"
	if _, err := Run(ctx, j); err == nil || !strings.Contains(err.Error(), "it has captures of: "+endpoint) {
		t.Errorf("wrong endpoint on S3: %v", err)
	}
	j.Endpoint, j.BaselineStatistics, j.Baseline = endpoint, "s3://sagemaker-models/churn/drift-check/none/statistics.json", ""
	if _, err := Run(ctx, j); err == nil || !strings.Contains(err.Error(), "drift-check/none/statistics.json") {
		t.Errorf("missing S3 baseline file: %v", err)
	}
}

// A feature with no values in a window exports no mean (rather than 0).
func TestEmptyFeatureHasNoMean(t *testing.T) {
	w := newWorld(t, 10)
	capDir := filepath.Join(t.TempDir(), "capture")
	cw, err := capture.NewWriter(capture.WriterConfig{Root: capDir, Default: capture.DefaultEndpointConfig()})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		cw.Capture(capture.Record{Endpoint: endpoint, Variant: "v1", Time: w.hourA.Add(time.Duration(i) * time.Second),
			InputContentType: "text/csv", Input: []byte("30,,gold"), OutputContentType: "text/csv", Output: []byte("0.5")})
	}
	if err := cw.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	j := w.job(DataQuality, w.hourA, t.TempDir())
	j.Capture = capDir
	rep, err := Run(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rep.Metrics["income.mean"]; ok {
		t.Errorf("income.mean = %v for a window without incomes", rep.Metrics["income.mean"])
	}
	if rep.Metrics["age.mean"] != 30 || rep.Status != StatusViolations {
		t.Errorf("age.mean %v, status %s", rep.Metrics["age.mean"], rep.Status)
	}
}
