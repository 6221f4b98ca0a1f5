package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
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

const endpoint = "brdg-churn-Production"

// world is a baseline plus two windows of captured traffic with ground
// truth: hour A like the training data, hour B drifted (income shifted,
// labels unrelated to the model's scores).
type world struct {
	dir            string
	dqBase, mqBase string
	capDir, gtDir  string
	hourA, hourB   time.Time
	rowsPerHour    int
}

func row(rng *rand.Rand, shift float64) (age int, income float64, plan string) {
	plans := []string{"basic", "plus", "gold"}
	return 18 + rng.IntN(60), 50000 + shift + rng.NormFloat64()*8000, plans[rng.IntN(3)]
}

// score is the model: churn probability from income.
func score(income float64) float64 {
	return 1 / (1 + math.Exp((income-50000)/4000))
}

func newWorld(t testing.TB, rowsPerHour int) *world {
	t.Helper()
	w := &world{dir: t.TempDir(), rowsPerHour: rowsPerHour,
		hourA: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	w.hourB = w.hourA.Add(time.Hour)
	w.dqBase, w.mqBase = filepath.Join(w.dir, "baseline-dq"), filepath.Join(w.dir, "baseline-mq")
	w.capDir, w.gtDir = filepath.Join(w.dir, "capture"), filepath.Join(w.dir, "ground-truth")
	rng := rand.New(rand.NewPCG(42, 43))

	// training data and its predictions
	var train, preds strings.Builder
	train.WriteString("age,income,plan\n")
	preds.WriteString("prediction,probability,label\n")
	for i := 0; i < 5000; i++ {
		age, income, plan := row(rng, 0)
		fmt.Fprintf(&train, "%d,%.2f,%s\n", age, income, plan)
		p := score(income)
		label := 0
		if rng.Float64() < p {
			label = 1
		}
		pred := 0
		if p >= 0.5 {
			pred = 1
		}
		fmt.Fprintf(&preds, "%d,%.4f,%d\n", pred, p, label)
	}
	write(t, filepath.Join(w.dir, "train.csv"), train.String())
	write(t, filepath.Join(w.dir, "preds.csv"), preds.String())
	if _, err := BaselineDataQuality(context.Background(), filepath.Join(w.dir, "train.csv"), w.dqBase); err != nil {
		t.Fatal(err)
	}
	if _, err := BaselineModelQuality(context.Background(), ModelQualityBaseline{
		Dataset: filepath.Join(w.dir, "preds.csv"), ProblemType: schema.BinaryClassification,
		InferenceAttribute: "prediction", ProbabilityAttribute: "probability", GroundTruthAttribute: "label", Output: w.mqBase,
	}); err != nil {
		t.Fatal(err)
	}

	// captured traffic through the real writer
	cw, err := capture.NewWriter(capture.WriterConfig{Root: w.capDir, Default: capture.DefaultEndpointConfig(), QueueSize: 2 * rowsPerHour})
	if err != nil {
		t.Fatal(err)
	}
	var gt []byte
	for h, hour := range []time.Time{w.hourA, w.hourB} {
		shift := 0.0
		if h == 1 {
			shift = 15000
		}
		for i := 0; i < rowsPerHour; i++ {
			age, income, plan := row(rng, shift)
			p := score(income)
			id := fmt.Sprintf("inf-%d-%d", h, i)
			cw.Capture(capture.Record{Endpoint: endpoint, Variant: "v1", InferenceID: id,
				Time: hour.Add(time.Duration(i) * time.Hour / time.Duration(rowsPerHour)), InputContentType: "text/csv",
				Input: []byte(fmt.Sprintf("%d,%.2f,%s", age, income, plan)), OutputContentType: "text/csv", Output: []byte(strconv.FormatFloat(p, 'f', 4, 64))})
			label := 0
			if (h == 0 && rng.Float64() < p) || (h == 1 && rng.IntN(2) == 0) {
				label = 1
			}
			gt = capture.AppendGroundTruthLine(gt, &capture.GroundTruth{EventID: id, Data: []byte(strconv.Itoa(label))})
		}
	}
	if err := cw.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := source.Dir(w.gtDir).Put(context.Background(), source.HourPath(w.hourB.Add(time.Hour))+"/labels.jsonl", gt); err != nil {
		t.Fatal(err)
	}
	return w
}

func write(t testing.TB, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (w *world) job(typ string, hour time.Time, out string) Job {
	j := Job{AWS: config.AWSFromEnv(), Type: typ, Endpoint: endpoint, Capture: w.capDir, Output: out, Start: hour, End: hour.Add(time.Hour)}
	if typ == DataQuality {
		j.Baseline = w.dqBase
	} else {
		j.Baseline, j.GroundTruth = w.mqBase, w.gtDir
		j.Attributes.Probability = "0"
	}
	return j
}

func kinds(r *Report) map[string]bool {
	out := map[string]bool{}
	for _, v := range r.Violations {
		out[v.FeatureName+v.MetricName+"/"+v.ConstraintCheckType] = true
	}
	return out
}

func TestRunWindows(t *testing.T) {
	w := newWorld(t, 2000)
	cases := []struct {
		name      string
		typ       string
		hour      time.Time
		want      []string // violations that must be there
		none      bool
		joinLimit int64
	}{
		{"data quality undrifted", DataQuality, w.hourA, nil, true, 0},
		{"data quality drifted", DataQuality, w.hourB, []string{"income/baseline_drift_check"}, false, 0},
		{"model quality undrifted", ModelQuality, w.hourA, nil, true, 0},
		{"model quality degraded", ModelQuality, w.hourB, []string{"auc/LessThanThreshold", "accuracy/LessThanThreshold"}, false, 0},
		{"model quality degraded, spilled join", ModelQuality, w.hourB, []string{"auc/LessThanThreshold", "accuracy/LessThanThreshold"}, false, 10 << 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			j := w.job(tc.typ, tc.hour, out)
			j.JoinMemory = tc.joinLimit
			rep, err := Run(context.Background(), j)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Records != int64(w.rowsPerHour) || rep.Rows != int64(w.rowsPerHour) || rep.Malformed != 0 {
				t.Errorf("report %+v: want %d records and rows", rep, w.rowsPerHour)
			}
			if tc.typ == ModelQuality && (rep.Unmatched != 0 || rep.Spilled != (tc.joinLimit > 0)) {
				t.Errorf("join: %d unmatched, spilled %v", rep.Unmatched, rep.Spilled)
			}
			got := kinds(rep)
			for _, k := range tc.want {
				if !got[k] {
					t.Errorf("violation %s missing; got %v", k, rep.Violations)
				}
			}
			if tc.none && len(rep.Violations) > 0 {
				t.Errorf("violations on an undrifted window: %+v", rep.Violations)
			}
			// The files exist in SageMaker's shapes.
			var v schema.Violations
			if err := schema.ReadJSON(out, schema.ViolationsFile, &v); err != nil || len(v.Violations) != len(rep.Violations) {
				t.Errorf("constraint_violations.json: %v, %d violations", err, len(v.Violations))
			}
			raw, err := os.ReadFile(filepath.Join(out, schema.StatisticsFile))
			if err != nil {
				t.Fatal(err)
			}
			var st map[string]any
			if err := json.Unmarshal(raw, &st); err != nil {
				t.Fatal(err)
			}
			if tc.typ == DataQuality {
				if st["dataset"].(map[string]any)["item_count"].(float64) != float64(w.rowsPerHour) || len(st["features"].([]any)) != 3 {
					t.Errorf("statistics.json %s", raw[:200])
				}
			} else if _, ok := st["binary_classification_metrics"].(map[string]any)["auc"]; !ok {
				t.Errorf("statistics.json has no auc: %s", raw[:200])
			}
		})
	}
}

func TestSpilledJoinMatchesInMemory(t *testing.T) {
	w := newWorld(t, 1500)
	cases := []struct {
		name    string
		limit   int64
		ratio   int64
		spilled bool
	}{
		{"in memory", 0, 3, false},
		{"spilled", 4 << 10, 3, true},
		// Tried in memory, over the limit half way: the spill takes over.
		{"table full", 40 << 10, 1000, true},
	}
	var metrics []map[string]float64
	for _, tc := range cases {
		tableFileRatio = tc.ratio
		j := w.job(ModelQuality, w.hourA, filepath.Join(t.TempDir(), "out"))
		j.JoinMemory = tc.limit
		rep, err := Run(context.Background(), j)
		tableFileRatio = 3
		if err != nil {
			t.Fatal(err)
		}
		if rep.Spilled != tc.spilled || rep.Rows != 1500 || rep.GroundTruthRecords != 3000 {
			t.Errorf("%s: spilled %v, %d rows, %d labels", tc.name, rep.Spilled, rep.Rows, rep.GroundTruthRecords)
		}
		metrics = append(metrics, rep.Metrics)
	}
	for i := 1; i < len(metrics); i++ {
		for k, v := range metrics[0] {
			if math.Abs(metrics[i][k]-v) > 1e-12 {
				t.Errorf("%s %s: %g, in memory %g", cases[i].name, k, metrics[i][k], v)
			}
		}
	}
}

func TestMalformedLinesAreCounted(t *testing.T) {
	w := newWorld(t, 300)
	// garbage in a capture file of hour A and in the ground truth
	dir := filepath.Join(w.capDir, endpoint, "v1", source.HourPath(w.hourA))
	ents, _ := os.ReadDir(dir)
	f, err := os.OpenFile(filepath.Join(dir, ents[0].Name()), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("not json\n{\"captureData\": 5}\n{\"truncated\": \n")
	f.Close()
	gtDir := filepath.Join(w.gtDir, source.HourPath(w.hourB.Add(time.Hour)))
	f, _ = os.OpenFile(filepath.Join(gtDir, "labels.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("{\"groundTruthData\": {\"data\": \"1\"}}\n[]\n")
	f.Close()
	for _, typ := range []string{DataQuality, ModelQuality} {
		rep, err := Run(context.Background(), w.job(typ, w.hourA, filepath.Join(t.TempDir(), typ)))
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if rep.Malformed != 3 || rep.Records != 300 {
			t.Errorf("%s: %d malformed, %d records; want 3 and 300", typ, rep.Malformed, rep.Records)
		}
		if typ == ModelQuality && rep.MalformedGroundTruth != 2 {
			t.Errorf("malformed ground truth %d, want 2", rep.MalformedGroundTruth)
		}
	}
}

func TestRunErrors(t *testing.T) {
	w := newWorld(t, 10)
	cases := []struct {
		name string
		edit func(j *Job)
		want string
	}{
		{"no endpoint", func(j *Job) { j.Endpoint = "" }, "--endpoint"},
		{"bad type", func(j *Job) { j.Type = "latency" }, "data-quality or model-quality"},
		{"missing baseline", func(j *Job) { j.Baseline = filepath.Join(w.dir, "nope") }, "bridge monitor baseline"},
		{"wrong baseline kind", func(j *Job) { j.Baseline = w.mqBase }, "model-quality"},
		{"inverted window", func(j *Job) { j.End = j.Start.Add(-time.Hour) }, "not after"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := w.job(DataQuality, w.hourA, t.TempDir())
			tc.edit(&j)
			_, err := Run(context.Background(), j)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestRunFromS3(t *testing.T) {
	w := newWorld(t, 500)
	fake := awsfake.New(awsfake.Options{})
	defer fake.Close()
	for k, v := range fake.Env() {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	st, err := source.OpenS3(ctx, "s3://bridge-capture/datacapture", config.AWSFromEnv())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bridge-capture")}); err != nil {
		t.Fatal(err)
	}
	gtStore, _ := source.OpenS3(ctx, "s3://bridge-capture/ground-truth", config.AWSFromEnv())
	for _, c := range []struct {
		from string
		to   source.Store
	}{{w.capDir, st}, {w.gtDir, gtStore}} {
		objs, err := source.Dir(c.from).List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			b, _ := os.ReadFile(filepath.Join(c.from, o.Key))
			if err := c.to.Put(ctx, o.Key, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, typ := range []string{DataQuality, ModelQuality} {
		local, err := Run(ctx, w.job(typ, w.hourB, filepath.Join(t.TempDir(), "local")))
		if err != nil {
			t.Fatal(err)
		}
		j := w.job(typ, w.hourB, filepath.Join(t.TempDir(), "s3"))
		j.Capture, j.GroundTruth = "s3://bridge-capture/datacapture", "s3://bridge-capture/ground-truth"
		remote, err := Run(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		if remote.Records != local.Records || len(remote.Violations) != len(local.Violations) || remote.Files != local.Files {
			t.Errorf("%s: s3 %d records %d violations, local %d %d", typ, remote.Records, len(remote.Violations), local.Records, len(local.Violations))
		}
		for k, v := range local.Metrics {
			if math.Abs(remote.Metrics[k]-v) > 1e-12 {
				t.Errorf("%s %s: s3 %g, local %g", typ, k, remote.Metrics[k], v)
			}
		}
	}
}
