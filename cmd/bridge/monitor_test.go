package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/bridgerun/runtest"
	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/monitor"
	"github.com/bridgeops/bridge/internal/monitor/schedule"
	"github.com/bridgeops/bridge/internal/monitor/schema"
	"github.com/bridgeops/bridge/internal/monitor/source"
)

// monitorTestBinary builds the bridge command into the test's temporary
// directory (the Go build cache makes the second build cheap).
func monitorTestBinary(t *testing.T) string {
	t.Helper()
	root, _, _ := strings.Cut(t.Name(), "/")
	if p, ok := monitorBins.Load(root); ok {
		if _, err := os.Stat(p.(string)); err == nil { // gone with an earlier run's temp dir under -count
			return p.(string)
		}
	}
	path := filepath.Join(t.TempDir(), "bridge")
	out, err := exec.Command("go", "build", "-o", path, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	monitorBins.Store(root, path)
	return path
}

// monitorBins maps a top-level test's name to its built binary (subtests
// use their parent's, which lives as long as the parent).
var monitorBins sync.Map

// monitorCLI runs the bridge binary with home as BRIDGE_HOME.
func monitorCLI(t *testing.T, home string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(monitorTestBinary(t), append([]string{"--home", home}, args...)...)
	cmd.Env = append(os.Environ(), "BRIDGE_ENV_FILE=/nonexistent/.env")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func mustMonitorCLI(t *testing.T, home string, args ...string) string {
	t.Helper()
	out, errOut, code := monitorCLI(t, home, args...)
	if code != 0 {
		t.Fatalf("bridge %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// monitorChurnData writes a training set and a labelled prediction set.
func monitorChurnData(t *testing.T, dir string) (train, preds string) {
	rng := rand.New(rand.NewPCG(5, 5))
	var tr, pr strings.Builder
	tr.WriteString("age,income,plan\n")
	pr.WriteString("prediction,probability,label\n")
	for i := 0; i < 3000; i++ {
		income := 50000 + rng.NormFloat64()*8000
		fmt.Fprintf(&tr, "%d,%.2f,%s\n", 18+rng.IntN(60), income, []string{"basic", "plus", "gold"}[rng.IntN(3)])
		p := 1 / (1 + math.Exp((income-50000)/4000))
		label := 0
		if rng.Float64() < p {
			label = 1
		}
		pred := 0
		if p >= 0.5 {
			pred = 1
		}
		fmt.Fprintf(&pr, "%d,%.4f,%d\n", pred, p, label)
	}
	train, preds = filepath.Join(dir, "train.csv"), filepath.Join(dir, "preds.csv")
	runtest.WriteFile(t, train, tr.String())
	runtest.WriteFile(t, preds, pr.String())
	return train, preds
}

func TestMonitorCLIWorkflow(t *testing.T) {
	home := t.TempDir()
	train, preds := monitorChurnData(t, home)
	dq, mq := filepath.Join(home, "baseline-dq"), filepath.Join(home, "baseline-mq")
	mustMonitorCLI(t, home, "monitor", "baseline", "data-quality", "--dataset", train, "--output", dq)
	mustMonitorCLI(t, home, "monitor", "baseline", "model-quality", "--dataset", preds, "--problem-type", "BinaryClassification",
		"--inference-attribute", "prediction", "--probability-attribute", "probability", "--ground-truth-attribute", "label", "--output", mq)
	for _, f := range []string{filepath.Join(dq, schema.StatisticsFile), filepath.Join(dq, schema.ConstraintsFile), filepath.Join(mq, schema.ConstraintsFile)} {
		if _, err := os.Stat(f); err != nil {
			t.Fatal(err)
		}
	}

	// One hour of drifted traffic captured by the writer bridge run uses.
	hour := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	w, err := capture.NewWriter(capture.WriterConfig{Root: filepath.Join(home, "datacapture"), Default: capture.DefaultEndpointConfig()})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(6, 6))
	var labels strings.Builder
	labels.WriteString("inference_id,label\n")
	for i := 0; i < 1000; i++ {
		income := 65000 + rng.NormFloat64()*8000
		p := 1 / (1 + math.Exp((income-50000)/4000))
		id := fmt.Sprintf("req-%d", i)
		w.Capture(capture.Record{Endpoint: "brdg-churn-Production", Variant: "v1", InferenceID: id, Time: hour.Add(time.Duration(i) * time.Second),
			InputContentType: "text/csv", Input: []byte(fmt.Sprintf("%d,%.2f,gold", 30, income)), OutputContentType: "text/csv", Output: []byte(strconv.FormatFloat(p, 'f', 4, 64))})
		fmt.Fprintf(&labels, "%s,%d\n", id, rng.IntN(2))
	}
	labels.WriteString("broken-row\n")
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	runtest.WriteFile(t, filepath.Join(home, "labels.csv"), labels.String())
	_, errOut, code := monitorCLI(t, home, "monitor", "ground-truth", "add", "--csv", filepath.Join(home, "labels.csv"),
		"--output", filepath.Join(home, "ground-truth"), "--time", "2026-05-01T11:30:00Z")
	if code != 0 || !strings.Contains(errOut, "1 malformed rows") {
		t.Fatalf("ground-truth add: exit %d, %s", code, errOut)
	}

	// monitor run: exit 0 with violations, JSON report
	out := mustMonitorCLI(t, home, "monitor", "run", "--type", "data-quality", "--endpoint", "brdg-churn-Production", "--baseline", dq,
		"--output", filepath.Join(home, "report"), "--start", "2026-05-01T10:00:00Z", "--end", "2026-05-01T11:00:00Z", "-o", "json")
	var rep monitor.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	found := map[string]bool{}
	for _, v := range rep.Violations {
		found[v.FeatureName+"/"+v.ConstraintCheckType] = true
	}
	if rep.Records != 1000 || !found["income/baseline_drift_check"] || !found["plan/baseline_drift_check"] {
		t.Errorf("report: %d records, violations %v", rep.Records, rep.Violations)
	}
	out = mustMonitorCLI(t, home, "monitor", "run", "--type", "model-quality", "--endpoint", "brdg-churn-Production", "--baseline", mq,
		"--ground-truth", filepath.Join(home, "ground-truth"), "--probability-attribute", "0", "--output", filepath.Join(home, "report-mq"))
	if !strings.Contains(out, "1000 rows evaluated") || !strings.Contains(out, "auc LessThanThreshold") {
		t.Errorf("model-quality run output:\n%s", out)
	}

	// schedules
	mustMonitorCLI(t, home, "monitor", "schedule", "create", "churn-drift", "--cron", "0 * * * *", "--type", "data-quality",
		"--endpoint", "brdg-churn-Production", "--baseline", dq, "--output", filepath.Join(home, "reports"))
	if _, errOut, code := monitorCLI(t, home, "monitor", "schedule", "create", "churn-drift", "--cron", "0 * * * *", "--type", "data-quality",
		"--endpoint", "x", "--baseline", dq, "--output", "o"); code == 0 || !strings.Contains(errOut, "exists") {
		t.Errorf("duplicate schedule: exit %d %s", code, errOut)
	}
	if _, errOut, code := monitorCLI(t, home, "monitor", "schedule", "create", "bad", "--cron", "hourly please", "--type", "data-quality",
		"--endpoint", "x", "--baseline", dq, "--output", "o"); code == 0 || !strings.Contains(errOut, "cron expression") {
		t.Errorf("bad cron: exit %d %s", code, errOut)
	}
	var list []schedule.Schedule
	if err := json.Unmarshal([]byte(mustMonitorCLI(t, home, "monitor", "schedule", "list", "-o", "json")), &list); err != nil || len(list) != 1 || !filepath.IsAbs(list[0].Spec.Capture) || !filepath.IsAbs(list[0].Spec.Output) {
		t.Fatalf("schedule list: %+v %v", list, err)
	}
	out = mustMonitorCLI(t, home, "monitor", "schedule", "run", "churn-drift", "--now", "2026-05-01T11:00:05Z")
	if !strings.Contains(out, schedule.StatusViolations) {
		t.Errorf("schedule run:\n%s", out)
	}
	mustMonitorCLI(t, home, "monitor", "schedule", "run", "churn-drift", "--now", "2026-05-01T12:00:05Z") // an empty window
	var ex []schedule.Execution
	if err := json.Unmarshal([]byte(mustMonitorCLI(t, home, "monitor", "executions", "churn-drift", "-o", "json")), &ex); err != nil {
		t.Fatal(err)
	}
	if len(ex) != 2 || ex[1].Status != schedule.StatusViolations || ex[1].Records != 1000 || ex[0].Records != 0 || ex[0].Status != schedule.StatusNoData ||
		!ex[1].WindowStart.Equal(hour) || ex[1].ViolationsPath == "" {
		t.Errorf("executions %+v", ex)
	}
	mustMonitorCLI(t, home, "monitor", "schedule", "delete", "churn-drift")
	if _, errOut, code := monitorCLI(t, home, "monitor", "executions", "churn-drift"); code == 0 || !strings.Contains(errOut, "no such monitoring schedule") {
		t.Errorf("executions of a deleted schedule: exit %d %s", code, errOut)
	}
}

func TestMonitorCLIErrors(t *testing.T) {
	monitorTestBinary(t) // built once for the subtests
	home := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"monitor", "run", "--endpoint", "e", "--baseline", "b", "--output", "o"}, "--type"},
		{[]string{"monitor", "run", "--type", "data-quality", "--endpoint", "e", "--baseline", filepath.Join(home, "none"), "--output", "o"}, "bridge monitor baseline"},
		{[]string{"monitor", "run", "--type", "data-quality", "--endpoint", "e", "--baseline", "b", "--output", "o", "--start", "yesterday"}, "RFC 3339"},
		{[]string{"monitor", "baseline", "data-quality", "--dataset", filepath.Join(home, "missing.csv"), "--output", "o"}, "missing.csv"},
		{[]string{"monitor", "baseline", "model-quality", "--dataset", "x.csv", "--problem-type", "Ranking", "--inference-attribute", "p", "--ground-truth-attribute", "y", "--output", "o"}, "problem type"},
		{[]string{"monitor", "ground-truth", "add", "--output", "o"}, "--csv"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args[:3], " "), func(t *testing.T) {
			_, errOut, code := monitorCLI(t, home, tc.args...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want non-zero mentioning %q", code, errOut, tc.want)
			}
		})
	}
}

func TestMonitorCLIGroundTruthOnS3(t *testing.T) {
	fake := awsfake.New(awsfake.Options{})
	defer fake.Close()
	for k, v := range fake.Env() {
		t.Setenv(k, v) // the binary inherits the environment
	}
	ctx := context.Background()
	st, err := source.OpenS3(ctx, "s3://bridge-gt/labels", config.AWSFromEnv())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bridge-gt")}); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	runtest.WriteFile(t, filepath.Join(home, "labels.csv"), "inference_id,label\nreq-1,1\nreq-2,0\n")
	out := mustMonitorCLI(t, home, "monitor", "ground-truth", "add", "--csv", filepath.Join(home, "labels.csv"),
		"--output", "s3://bridge-gt/labels", "--time", "2026-05-01T11:30:00Z")
	if !strings.Contains(out, "2 ground-truth records written to s3://bridge-gt/labels/2026/05/01/11/") {
		t.Errorf("output %q", out)
	}
	objs, err := st.List(ctx, "")
	if err != nil || len(objs) != 1 {
		t.Fatalf("objects %v %v", objs, err)
	}
	rc, err := st.Open(ctx, objs[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var ids []string
	sc := bufio.NewScanner(rc)
	for sc.Scan() {
		var g capture.GroundTruth
		if err := capture.ParseGroundTruthLine(sc.Bytes(), &g); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, g.EventID+"="+string(g.Data))
	}
	if strings.Join(ids, ",") != "req-1=1,req-2=0" {
		t.Errorf("ground truth on S3: %v", ids)
	}
}
