package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/bridgerun/runtest"
	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/monitor"
	"github.com/bridgeops/bridge/internal/monitor/schedule"
	"github.com/bridgeops/bridge/internal/monitor/schema"
)

// bridgeInDir runs the bridge binary in dir with default settings: no
// --home, no BRIDGE_* variables, so the home is the relative ./.bridge.
func bridgeInDir(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(monitorTestBinary(t), args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BRIDGE_") && !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func mustBridgeInDir(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, errOut, code := bridgeInDir(t, dir, args...)
	if code != 0 {
		t.Fatalf("bridge %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// The README's monitoring path from a fresh working directory: a training
// set that includes the label, a typo in the endpoint, a quiet hour, late
// labels read with offsets, SageMaker's cron spelling.
func TestMonitorCLIFreshDirDefaults(t *testing.T) {
	wd := t.TempDir()
	rng := rand.New(rand.NewPCG(9, 9))
	var train, preds strings.Builder
	train.WriteString("age,income,plan,churned\n")
	preds.WriteString("prediction,label\n")
	for i := 0; i < 2000; i++ {
		income := 50000 + rng.NormFloat64()*8000
		churn := 0
		if income < 50000 {
			churn = 1
		}
		fmt.Fprintf(&train, "%d,%.2f,%s,%d\n", 18+rng.IntN(60), income, []string{"basic", "plus", "gold"}[rng.IntN(3)], churn)
		fmt.Fprintf(&preds, "%d,%d\n", churn, churn^btoi(rng.IntN(10) == 0))
	}
	runtest.WriteFile(t, filepath.Join(wd, "train.csv"), train.String())
	runtest.WriteFile(t, filepath.Join(wd, "preds.csv"), preds.String())

	// One hour of traffic like the training data, captured where bridge
	// run --capture writes by default; labels for it arrive an hour later.
	hour := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	w, err := capture.NewWriter(capture.WriterConfig{Root: filepath.Join(wd, ".bridge", "datacapture"), Default: capture.DefaultEndpointConfig()})
	if err != nil {
		t.Fatal(err)
	}
	var labels strings.Builder
	for i := 0; i < 500; i++ {
		income := 50000 + rng.NormFloat64()*8000
		churn := 0
		if income < 50000 {
			churn = 1
		}
		id := fmt.Sprintf("req-%d", i)
		w.Capture(capture.Record{Endpoint: "brdg-churn-Production", Variant: "v1", InferenceID: id, Time: hour.Add(time.Duration(i) * 7 * time.Second),
			InputContentType: "text/csv", Input: []byte(fmt.Sprintf("%d,%.2f,plus", 18+rng.IntN(60), income)), OutputContentType: "text/csv", Output: []byte(strconv.Itoa(churn))})
		fmt.Fprintf(&labels, "%s,%d\n", id, churn)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	runtest.WriteFile(t, filepath.Join(wd, "labels.csv"), labels.String())

	mustBridgeInDir(t, wd, "monitor", "baseline", "data-quality", "--dataset", "train.csv", "--ground-truth-attribute", "churned", "--output", "baseline-dq")
	mustBridgeInDir(t, wd, "monitor", "baseline", "model-quality", "--dataset", "preds.csv", "--problem-type", "BinaryClassification",
		"--inference-attribute", "prediction", "--ground-truth-attribute", "label", "--output", "baseline-mq")
	mustBridgeInDir(t, wd, "monitor", "ground-truth", "add", "--csv", "labels.csv", "--output", ".bridge/ground-truth", "--time", "2026-05-01T11:20:00Z")

	// A typo in the endpoint is an error that lists what the capture has.
	_, errOut, code := bridgeInDir(t, wd, "monitor", "run", "--type", "data-quality", "--endpoint", "brdg-iris-Production", "--baseline", "baseline-dq", "--output", "r0")
	if code == 0 || !strings.Contains(errOut, "brdg-iris-Production has no captures") || !strings.Contains(errOut, "brdg-churn-Production") {
		t.Errorf("wrong endpoint: exit %d, stderr %q", code, errOut)
	}

	// The label column left out: traffic like the training data is clean.
	var rep monitor.Report
	out := mustBridgeInDir(t, wd, "monitor", "run", "--type", "data-quality", "--endpoint", "brdg-churn-Production", "--baseline", "baseline-dq",
		"--output", "r1", "--start", "2026-05-01T10:00:00Z", "--end", "2026-05-01T11:00:00Z", "-o", "json")
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, v := range rep.Violations {
		if v.FeatureName == "churned" || v.ConstraintCheckType == "missing_column_check" {
			t.Errorf("violation on the excluded label: %+v", v)
		}
	}
	if rep.Records != 500 || rep.Status == monitor.StatusNoData {
		t.Errorf("data-quality report: %+v", rep)
	}

	// A quiet hour: CompletedWithNoData, no metrics, no violations, exit 0.
	out = mustBridgeInDir(t, wd, "monitor", "run", "--type", "model-quality", "--endpoint", "brdg-churn-Production", "--baseline", "baseline-mq",
		"--ground-truth", ".bridge/ground-truth", "--output", "r2", "--start-offset", "-PT1H", "--end-offset", "-PT0H", "--now", "2026-05-01T14:00:00Z")
	if !strings.Contains(out, monitor.StatusNoData) || strings.Contains(out, "LessThanThreshold") || !strings.Contains(out, "window: 2026-05-01T13:00:00Z to 2026-05-01T14:00:00Z") {
		t.Errorf("quiet hour:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(wd, "r2", schema.StatisticsFile)); err == nil {
		t.Error("statistics.json written for a window without data")
	}
	// With offsets for late labels, the traffic hour is checked an hour on.
	out = mustBridgeInDir(t, wd, "monitor", "run", "--type", "model-quality", "--endpoint", "brdg-churn-Production", "--baseline", "baseline-mq",
		"--ground-truth", ".bridge/ground-truth", "--output", "r3", "--start-offset", "-PT2H", "--end-offset", "-PT1H", "--now", "2026-05-01T12:00:00Z", "-o", "json")
	rep = monitor.Report{}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Status != monitor.StatusCompleted || rep.Rows != 500 || rep.Metrics["accuracy"] != 1 {
		t.Errorf("late labels with offsets: %s, %d rows, metrics %v", rep.Status, rep.Rows, rep.Metrics)
	}

	// Labels flipped, written as the seed writes them (its exact JSON,
	// <uri>/YYYY/MM/DD/HH/<uuid>.jsonl): the same window violates.
	var flipped strings.Builder
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&flipped, `{"groundTruthData":{"data":"%d","encoding":"CSV"},"eventMetadata":{"eventId":"req-%d"},"eventVersion":"0"}`+"\n", 1-labelOf(labels.String(), i), i)
	}
	runtest.WriteFile(t, filepath.Join(wd, "flipped", "2026", "05", "01", "11", "5f0c6a5e-3a51-4c1b-9b1e-6e0d2f4c8a10.jsonl"), flipped.String())
	out = mustBridgeInDir(t, wd, "monitor", "run", "--type", "model-quality", "--endpoint", "brdg-churn-Production", "--baseline", "baseline-mq",
		"--ground-truth", "flipped", "--output", "r4", "--start-offset", "-PT2H", "--end-offset", "-PT1H", "--now", "2026-05-01T12:00:00Z")
	if !strings.Contains(out, "500 rows evaluated") || !strings.Contains(out, "accuracy LessThanThreshold") {
		t.Errorf("flipped labels:\n%s", out)
	}

	// Schedules: a typo is refused unless --allow-missing; SageMaker's cron.
	_, errOut, code = bridgeInDir(t, wd, "monitor", "schedule", "create", "typo", "--cron", "cron(0 * ? * * *)", "--type", "data-quality",
		"--endpoint", "brdg-churn-Prodution", "--baseline", "baseline-dq", "--output", "reports")
	if code == 0 || !strings.Contains(errOut, "it has captures of: brdg-churn-Production") {
		t.Errorf("schedule with a typo: exit %d, %q", code, errOut)
	}
	mustBridgeInDir(t, wd, "monitor", "schedule", "create", "future", "--cron", "cron(0 * ? * * *)", "--type", "data-quality",
		"--endpoint", "brdg-new-Production", "--allow-missing", "--baseline", "baseline-dq", "--output", "reports")
	mustBridgeInDir(t, wd, "monitor", "schedule", "create", "quality", "--cron", "cron(0 * ? * * *)", "--type", "model-quality",
		"--endpoint", "brdg-churn-Production", "--ground-truth", ".bridge/ground-truth", "--start-offset", "-PT2H", "--end-offset", "-PT1H",
		"--min-records", "100", "--baseline", "baseline-mq", "--output", "reports")
	mustBridgeInDir(t, wd, "monitor", "schedule", "run", "future", "--now", "2026-05-01T11:00:05Z")
	mustBridgeInDir(t, wd, "monitor", "schedule", "run", "quality", "--now", "2026-05-01T12:00:05Z")
	mustBridgeInDir(t, wd, "monitor", "schedule", "run", "quality", "--now", "2026-05-01T13:00:05Z")
	for name, want := range map[string][]string{"future": {monitor.StatusNoData}, "quality": {monitor.StatusNoData, monitor.StatusCompleted}} {
		var ex []schedule.Execution
		if err := json.Unmarshal([]byte(mustBridgeInDir(t, wd, "monitor", "executions", name, "-o", "json")), &ex); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range ex {
			got = append(got, e.Status)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s executions %v, want %v", name, got, want)
		}
		if name == "quality" && len(ex) == 2 && (!ex[1].WindowStart.Equal(hour) || ex[1].Records != 500) {
			t.Errorf("offset window %+v", ex[1])
		}
	}
	if _, err := os.Stat(filepath.Join(wd, ".bridge", "registry.db")); err != nil {
		t.Errorf("schedules not in the default home: %v", err)
	}

	// Bad input.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"monitor", "run", "--type", "data-quality", "--endpoint", "brdg-churn-Production", "--baseline", "baseline-dq", "--output", "x", "--start-offset", "1h"}, "ISO 8601"},
		{[]string{"monitor", "run", "--type", "data-quality", "--endpoint", "brdg-churn-Production", "--baseline", "baseline-dq", "--output", "x", "--start-offset", "-PT1H", "--start", "2026-05-01T10:00:00Z"}, "exclude each other"},
		{[]string{"monitor", "baseline", "data-quality", "--dataset", "train.csv", "--exclude-columns", "label", "--output", "x"}, `"label" is not in the dataset`},
		{[]string{"monitor", "schedule", "create", "x", "--cron", "cron(0 * * * *)", "--type", "data-quality", "--endpoint", "brdg-churn-Production", "--baseline", "baseline-dq", "--output", "x"}, "six fields"},
		{[]string{"monitor", "run", "--type", "data-quality", "--endpoint", "brdg-churn-Production", "--baseline-statistics", "nope.json", "--output", "x"}, "nope.json"},
	} {
		_, errOut, code := bridgeInDir(t, wd, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want non-zero mentioning %q", tc.args, code, errOut, tc.want)
		}
	}
}

// labelOf returns the label of req-i in an inference_id,label CSV.
func labelOf(csv string, i int) int {
	prefix := fmt.Sprintf("req-%d,", i)
	for _, line := range strings.Split(csv, "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return -1
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// docs/monitoring.md's multiclass example, run as printed (class names in
// CSV responses and labels), from a fresh working directory.
func TestMonitorCLIMulticlassExample(t *testing.T) {
	wd := t.TempDir()
	classes := []string{"setosa", "versicolor", "virginica"}
	rng := rand.New(rand.NewPCG(3, 3))
	var val strings.Builder
	val.WriteString("sepal_length,sepal_width,petal_length,petal_width,predicted,species\n")
	for i := 0; i < 600; i++ {
		y := rng.IntN(3)
		p := y
		if rng.IntN(10) == 0 {
			p = (y + 1) % 3
		}
		fmt.Fprintf(&val, "5.1,3.5,1.4,0.2,%s,%s\n", classes[p], classes[y])
	}
	runtest.WriteFile(t, filepath.Join(wd, "validation.csv"), val.String())
	hour := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	w, err := capture.NewWriter(capture.WriterConfig{Root: filepath.Join(wd, ".bridge", "datacapture"), Default: capture.DefaultEndpointConfig()})
	if err != nil {
		t.Fatal(err)
	}
	var labels strings.Builder
	labels.WriteString("inference_id,species\n")
	for i := 0; i < 300; i++ {
		y := rng.IntN(3)
		p := y
		if rng.IntN(2) == 0 { // the model got worse
			p = (y + 1) % 3
		}
		id := fmt.Sprintf("iris-%d", i)
		w.Capture(capture.Record{Endpoint: "brdg-iris-Production", Variant: "v2", InferenceID: id, Time: hour.Add(time.Duration(i) * 10 * time.Second),
			InputContentType: "text/csv", Input: []byte("5.1,3.5,1.4,0.2"), OutputContentType: "text/csv", Output: []byte(classes[p])})
		fmt.Fprintf(&labels, "%s,%s\n", id, classes[y])
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	runtest.WriteFile(t, filepath.Join(wd, "labels.csv"), labels.String())
	mustBridgeInDir(t, wd, "monitor", "baseline", "model-quality", "--dataset", "validation.csv", "--problem-type", "MulticlassClassification",
		"--inference-attribute", "predicted", "--ground-truth-attribute", "species", "--output", "baselines/iris-quality")
	mustBridgeInDir(t, wd, "monitor", "ground-truth", "add", "--csv", "labels.csv", "--output", ".bridge/ground-truth", "--time", "2026-05-01T11:40:00Z")
	out := mustBridgeInDir(t, wd, "monitor", "run", "--type", "model-quality", "--endpoint", "brdg-iris-Production",
		"--ground-truth", ".bridge/ground-truth", "--baseline", "baselines/iris-quality",
		"--start-offset", "-PT2H", "--end-offset", "-PT1H", "--min-records", "200", "--now", "2026-05-01T12:00:00Z", "--output", "reports/iris")
	if !strings.Contains(out, "300 rows evaluated") || !strings.Contains(out, "weighted_f1 LessThanThreshold") || !strings.Contains(out, "accuracy LessThanThreshold") {
		t.Errorf("multiclass run:\n%s", out)
	}
	var st schema.ModelQualityStatistics
	if err := schema.ReadJSON(filepath.Join(wd, "reports/iris"), schema.StatisticsFile, &st); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(st)
	if !strings.Contains(string(b), "multiclass_classification_metrics") || !strings.Contains(string(b), "virginica") {
		t.Errorf("statistics.json %s", b)
	}
}
