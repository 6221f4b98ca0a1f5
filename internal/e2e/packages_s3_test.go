package e2e

// The seed's monitor on the SageMaker side: captures as a SageMaker
// endpoint writes them to its data-capture location on S3, ground truth on
// S3 in the seed's format, the baseline registered with the model package
// — read by the real binary from the AWS fake's S3 with the seed's -PT1H
// offsets.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/target/sagemaker"
)

func TestSeedMonitorOnSageMakerCaptures(t *testing.T) {
	fake := awsfake.New(awsfake.Options{})
	t.Cleanup(fake.Close)
	admin := fakeSageMaker(t, fake)
	ctx := context.Background()
	var env []string
	for k, v := range fake.Env() {
		env = append(env, k+"="+v)
	}
	env = append(env, "LOG_LEVEL=warn")
	home := t.TempDir()

	// The package, with its model-quality baseline registered.
	bucket := sagemaker.BucketName(awsfake.DefaultAccount, awsfake.DefaultRegion)
	fake.PlantObject(awsfake.DefaultRegion, bucket, "sts/evaluation/statistics.json", []byte(seedMQStatistics))
	fake.PlantObject(awsfake.DefaultRegion, bucket, "sts/evaluation/constraints.json", []byte(seedMQConstraints))
	if _, err := admin.CreateModelPackageGroup(ctx, &sm.CreateModelPackageGroupInput{ModelPackageGroupName: aws.String(seedGroup)}); err != nil {
		t.Fatal(err)
	}
	src := func(key string) *smtypes.MetricsSource {
		return &smtypes.MetricsSource{ContentType: aws.String("application/json"), S3Uri: aws.String("s3://" + bucket + "/sts/evaluation/" + key)}
	}
	if _, err := admin.CreateModelPackage(ctx, &sm.CreateModelPackageInput{ModelPackageGroupName: aws.String(seedGroup),
		ModelApprovalStatus: smtypes.ModelApprovalStatusApproved,
		DriftCheckBaselines: &smtypes.DriftCheckBaselines{ModelQuality: &smtypes.DriftCheckModelQuality{
			Statistics: src("statistics.json"), Constraints: src("constraints.json")}}}); err != nil {
		t.Fatal(err)
	}

	// An hour of traffic (10:00-11:00) and the hour before it, captured by
	// the endpoint's variant v1 at s3://<bucket>/datacapture/<endpoint>/<variant>/YYYY/MM/DD/HH/.
	endpoint := "brdg-" + seedGroup + "-production"
	hour := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	type event struct {
		id, pred string
		at       time.Time
	}
	var events []event
	for i := 0; i < 240; i++ {
		at := hour.Add(-time.Hour).Add(time.Duration(i) * 30 * time.Second) // 09:00 .. 10:59:30
		events = append(events, event{fmt.Sprintf("inf-%03d", i), fmt.Sprint(i % 2), at})
	}
	files := map[string]*strings.Builder{}
	for _, e := range events {
		key := fmt.Sprintf("datacapture/%s/v1/%s/%s-1f0e4c1b-5a2b-4a4e-9a59-3c1d1b7d2e0f.jsonl", endpoint, e.at.Format("2006/01/02/15"), e.at.Format("04")[:1]+"0-00-000")
		if files[key] == nil {
			files[key] = &strings.Builder{}
		}
		fmt.Fprintf(files[key], `{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"0.5,0.25","encoding":"CSV"},`+
			`"endpointOutput":{"observedContentType":"text/csv; charset=utf-8","mode":"OUTPUT","data":"%s\n","encoding":"CSV"}},`+
			`"eventMetadata":{"eventId":"%s","inferenceId":"%s","inferenceTime":"%s"},"eventVersion":"0"}`+"\n",
			e.pred, "ev-"+e.id, e.id, e.at.Format("2006-01-02T15:04:05.000Z"))
	}
	for key, b := range files {
		fake.PlantObject(awsfake.DefaultRegion, bucket, key, []byte(b.String()))
	}

	// Ground truth in the seed's format, in each event's hour: right
	// labels (3 of 120 wrong in each hour) under one prefix, flipped ones
	// under another.
	for _, set := range []struct {
		prefix string
		flip   bool
	}{{"ground-truth/right", false}, {"ground-truth/flipped", true}} {
		byHour := map[string]*strings.Builder{}
		for i, e := range events {
			label := e.pred
			if set.flip != (i%40 == 7) {
				label = map[string]string{"0": "1", "1": "0"}[label]
			}
			h := e.at.Format("2006/01/02/15")
			if byHour[h] == nil {
				byHour[h] = &strings.Builder{}
			}
			fmt.Fprintf(byHour[h], `{"groundTruthData":{"data":%q,"encoding":"CSV"},"eventMetadata":{"eventId":%q},"eventVersion":"0"}`+"\n", label, e.id)
		}
		for h, b := range byHour {
			fake.PlantObject(awsfake.DefaultRegion, bucket, set.prefix+"/"+h+"/0b9d3c57-6f0e-4d8a-a1c2-7e5f4b3a2d10.jsonl", []byte(b.String()))
		}
	}

	for _, tc := range []struct {
		name    string
		gt      string
		status  string
		violate bool
	}{
		{"right labels", "ground-truth/right", "Completed", false},
		{"flipped labels", "ground-truth/flipped", "CompletedWithViolations", true},
	} {
		out, err := bridgeCmd(t, home, env, "monitor", "run", "--type", "model-quality", "--endpoint", endpoint,
			"--capture", "s3://"+bucket+"/datacapture", "--ground-truth", "s3://"+bucket+"/"+tc.gt,
			"--baseline-from-package", seedGroup+"/1", "--inference-attribute", "0",
			"--start-offset", "-PT1H", "--end-offset", "-PT0H", "--now", hour.Add(time.Hour).Format(time.RFC3339),
			"--output", t.TempDir(), "-o", "json").Output()
		if err != nil {
			t.Fatalf("%s: monitor run: %v\n%s", tc.name, err, out)
		}
		var rep struct {
			Status     string             `json:"status"`
			Start      time.Time          `json:"start"`
			Rows       int64              `json:"rows"`
			Metrics    map[string]float64 `json:"metrics"`
			Violations []map[string]any   `json:"violations"`
		}
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, out)
		}
		// Only the 10:00 hour's 120 requests are checked.
		if rep.Status != tc.status || rep.Rows != 120 || !rep.Start.Equal(hour) || (len(rep.Violations) > 0) != tc.violate {
			t.Fatalf("%s: status %s, %d rows from %s, violations %v; want %s, 120 rows from %s\n%s", tc.name, rep.Status, rep.Rows, rep.Start, rep.Violations, tc.status, hour, out)
		}
		t.Logf("%s: %s, accuracy %.3f", tc.name, rep.Status, rep.Metrics["accuracy"])
	}

	// The same check as the seed's hourly schedule, stored and executed.
	out, err := bridgeCmd(t, home, env, "monitor", "schedule", "create", "sts-quality", "--cron", "cron(0 * ? * * *)", "--type", "model-quality",
		"--endpoint", endpoint, "--capture", "s3://"+bucket+"/datacapture", "--ground-truth", "s3://"+bucket+"/ground-truth/flipped",
		"--baseline-from-package", seedGroup+"/1", "--inference-attribute", "0", "--start-offset", "-PT1H", "--end-offset", "-PT0H",
		"--output", t.TempDir()).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "constraints s3://"+bucket+"/sts/evaluation/constraints.json (DriftCheckBaselines.ModelQuality.Constraints)") {
		t.Fatalf("schedule create: %v\n%s", err, out)
	}
	out, err = bridgeCmd(t, home, env, "monitor", "schedule", "run", "sts-quality", "--now", hour.Add(time.Hour+20*time.Minute).Format(time.RFC3339)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "CompletedWithViolations") {
		t.Fatalf("schedule run: %v\n%s", err, out)
	}

	// An endpoint the capture location does not hold is named with the
	// ones it does.
	out, err = bridgeCmd(t, home, env, "monitor", "run", "--type", "model-quality", "--endpoint", "brdg-typo",
		"--capture", "s3://"+bucket+"/datacapture", "--ground-truth", "s3://"+bucket+"/ground-truth/right",
		"--baseline-from-package", seedGroup+"/1", "--start-offset", "-PT1H", "--now", hour.Add(time.Hour).Format(time.RFC3339),
		"--output", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), endpoint) {
		t.Fatalf("wrong endpoint: %v\n%s", err, out)
	}
	// A baseline directory and a package's baseline exclude each other.
	out, err = bridgeCmd(t, home, env, "monitor", "run", "--type", "model-quality", "--endpoint", endpoint,
		"--capture", "s3://"+bucket+"/datacapture", "--ground-truth", "s3://"+bucket+"/ground-truth/right",
		"--baseline", home, "--baseline-from-package", seedGroup+"/1", "--output", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--baseline and --baseline-from-package exclude each other") {
		t.Fatalf("--baseline with --baseline-from-package: %v\n%s", err, out)
	}
}
