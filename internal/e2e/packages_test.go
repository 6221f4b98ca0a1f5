package e2e

// The seed's flow on localhost, with the real binary and real
// scikit-learn: a SageMaker model package group on the AWS fake is the
// registry; a package is registered with a model.tar.gz in the SageMaker
// scikit-learn layout, approved with bridge models approve, served with
// capture, invoked with inference ids; ground truth is written in the
// seed's format and a model-quality job finds violations only when the
// labels are flipped.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
)

const (
	seedGroup  = "sts-package-group"
	seedBucket = "sagemaker-us-east-1-123456789012"
)

// seedInference is the entry script of the package, as a SageMaker
// scikit-learn user writes it (output_fn is the container's default).
const seedInference = `import io, os
import joblib
import numpy as np

def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))

def input_fn(body, content_type):
    if content_type != "text/csv":
        raise ValueError("only text/csv")
    return np.loadtxt(io.StringIO(body), delimiter=",", ndmin=2)

def predict_fn(data, model):
    return model.predict(data)
`

const seedTrain = `import sys, joblib, numpy as np
from sklearn.linear_model import LogisticRegression
rng = np.random.default_rng(7)
X = rng.random((400, 2))
y = (X[:, 0] > X[:, 1]).astype(int)
joblib.dump(LogisticRegression(C=100).fit(X, y), sys.argv[1])
`

// seedTarball trains the model and packs model.tar.gz: model.joblib, and
// code/inference.py when withScript.
func seedTarball(t *testing.T, py string, withScript bool) []byte {
	t.Helper()
	dir := t.TempDir()
	script := filepath.Join(dir, "train.py")
	os.WriteFile(script, []byte(seedTrain), 0o644)
	if out, err := exec.Command(py, script, filepath.Join(dir, "model.joblib")).CombinedOutput(); err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	joblibBytes, err := os.ReadFile(filepath.Join(dir, "model.joblib"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []struct {
		name string
		data []byte
	}{{"model.joblib", joblibBytes}, {"code/inference.py", []byte(seedInference)}} {
		if !withScript && f.name != "model.joblib" {
			continue
		}
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg})
		tw.Write(f.data)
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func fakeSageMaker(t *testing.T, f *awsfake.Server) *sm.Client {
	t.Helper()
	for k, v := range f.Env() {
		t.Setenv(k, v)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sm.NewFromConfig(cfg)
}

// bridgeCmd runs the binary in dir with the fake's AWS settings.
func bridgeCmd(t *testing.T, dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(runBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BRIDGE_ENV_FILE="+filepath.Join(dir, "none.env"), "BRIDGE_MLFLOW_URI=")
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

func TestSeedFlowOnLocalhost(t *testing.T) {
	py := pythontest.Interpreter(t)
	fake := awsfake.New(awsfake.Options{})
	t.Cleanup(fake.Close)
	admin := fakeSageMaker(t, fake)
	ctx := context.Background()
	var env []string
	for k, v := range fake.Env() {
		env = append(env, k+"="+v)
	}
	env = append(env, "BRIDGE_REGISTRY=sagemaker", "BRIDGE_SAGEMAKER_MODEL_PACKAGE_GROUPS="+seedGroup,
		"BRIDGE_PYTHON="+py, "BRIDGE_SCAN_INTERVAL_S=3600", "LOG_LEVEL=warn")
	home := t.TempDir() // fresh working directory: default settings, ./.bridge

	// A group that does not exist stops bridge run with a clear error.
	out, err := bridgeCmd(t, home, env, "run", "--once").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "model package group "+seedGroup) || !strings.Contains(string(out), "BRIDGE_SAGEMAKER_MODEL_PACKAGE_GROUPS") {
		t.Fatalf("run with a missing group: %v\n%s", err, out)
	}

	// A misspelt registry kind is an error, not the MLflow default.
	for _, args := range [][]string{{"models", "list"}, {"run", "--once"}} {
		out, err := bridgeCmd(t, home, append(append([]string(nil), env...), "BRIDGE_REGISTRY=sagmaker"), args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), `BRIDGE_REGISTRY="sagmaker": want embedded, mlflow or sagemaker`) {
			t.Fatalf("%v with BRIDGE_REGISTRY=sagmaker: %v\n%s", args, err, out)
		}
	}

	// bridge policy run adds the model package group statements.
	out, err = bridgeCmd(t, home, env, "policy", "run", "--account", awsfake.DefaultAccount, "--region", "eu-west-1").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"arn:aws:sagemaker:eu-west-1:123456789012:model-package/sts-package-group/*"`) ||
		!strings.Contains(string(out), `"Sid": "BridgeListModelPackages"`) || !strings.Contains(string(out), `"Sid": "ManageSagemakerResources"`) {
		t.Fatalf("policy run: %v\n%s", err, out)
	}

	// The training pipeline registers a package.
	if _, err := admin.CreateModelPackageGroup(ctx, &sm.CreateModelPackageGroupInput{ModelPackageGroupName: aws.String(seedGroup)}); err != nil {
		t.Fatal(err)
	}
	fake.PlantObject(awsfake.DefaultRegion, seedBucket, "sts/model/model.tar.gz", seedTarball(t, py, true))
	// The pipeline's evaluation registered the model-quality baseline with
	// the package, as a SageMaker ModelQuality baseline job writes it:
	// statistics in ModelMetrics, constraints as the DriftCheckBaselines.
	fake.PlantObject(awsfake.DefaultRegion, seedBucket, "sts/evaluation/statistics.json", []byte(seedMQStatistics))
	fake.PlantObject(awsfake.DefaultRegion, seedBucket, "sts/evaluation/constraints.json", []byte(seedMQConstraints))
	metrics := func(key string) *smtypes.MetricsSource {
		return &smtypes.MetricsSource{ContentType: aws.String("application/json"), S3Uri: aws.String("s3://" + seedBucket + "/sts/evaluation/" + key)}
	}
	pkg, err := admin.CreateModelPackage(ctx, &sm.CreateModelPackageInput{
		ModelPackageGroupName: aws.String(seedGroup),
		ModelMetrics:          &smtypes.ModelMetrics{ModelQuality: &smtypes.ModelQuality{Statistics: metrics("statistics.json"), Constraints: metrics("constraints.json")}},
		DriftCheckBaselines: &smtypes.DriftCheckBaselines{ModelQuality: &smtypes.DriftCheckModelQuality{
			Statistics: metrics("statistics.json"), Constraints: metrics("constraints.json")}},
		InferenceSpecification: &smtypes.InferenceSpecification{
			Containers: []smtypes.ModelPackageContainerDefinition{{
				Image:        aws.String("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"),
				ModelDataUrl: aws.String("s3://" + seedBucket + "/sts/model/model.tar.gz"),
				Environment:  map[string]string{"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"},
			}},
			SupportedContentTypes:      []string{"text/csv"},
			SupportedResponseMIMETypes: []string{"text/csv"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(pkg.ModelPackageArn)

	// bridge run with capture, from the fresh directory.
	addr := runFreeAddr(t)
	run := bridgeCmd(t, home, env, "run", "--addr", addr, "--capture")
	var stderr runLog
	run.Stderr = &stderr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		run.Process.Kill()
		run.Wait()
		if t.Failed() {
			t.Logf("bridge run:\n%s", stderr.String())
		}
	})

	// The first pass serves the pending package on Staging and Latest;
	// after it, only a pass woken by the hook can see the approval.
	pythontest.WaitFor(t, "first pass (readyz)", 90*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	// Approving a version that does not exist fails clearly.
	if out, err := bridgeCmd(t, home, env, "models", "approve", seedGroup, "9").CombinedOutput(); err == nil || !strings.Contains(string(out), "has no version 9") {
		t.Fatalf("approve 9: %v\n%s", err, out)
	}
	if out, err := bridgeCmd(t, home, env, "models", "approve", seedGroup, "1", "--description", "holdout AUC 0.99").CombinedOutput(); err != nil {
		t.Fatalf("approve: %v\n%s", err, out)
	}
	// The scan interval is an hour: the EventBridge event, forwarded to
	// the hook, is what makes bridge run act now.
	postPackageEvent(t, addr, arn, "Approved")
	endpoint := "http://" + addr + "/endpoints/brdg-" + seedGroup + "-production/invocations"
	pythontest.WaitFor(t, "production endpoint", 90*time.Second, func() bool {
		meta, _, _ := fake.PackageMetadata(arn)
		return meta[model.TagDeployState] == model.StateDeployed && strings.Contains(meta[model.TagDeployURL], "/Production/")
	})
	meta, _, _ := fake.PackageMetadata(arn)
	t.Logf("deploy state of %s: %v", arn, meta)
	if out, err := bridgeCmd(t, home, env, "models", "show", seedGroup).CombinedOutput(); err != nil || !strings.Contains(string(out), "Approved") || !strings.Contains(string(out), "Production") {
		t.Fatalf("models show: %v\n%s", err, out)
	}

	// SupportedContentTypes is text/csv: JSON is refused.
	resp, err := http.Post(endpoint, "application/json", strings.NewReader("[[0.9, 0.1]]"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("application/json answered %d, want 415", resp.StatusCode)
	}

	// 200 requests with inference ids, as the seed sends its test rows.
	rng := rand.New(rand.NewSource(3))
	labels := map[string]string{}
	right := 0
	for i := 0; i < 200; i++ {
		x0, x1 := rng.Float64(), rng.Float64()
		label := "0"
		if x0 > x1 {
			label = "1"
		}
		id := fmt.Sprintf("inf-%03d", i)
		req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(fmt.Sprintf("%.4f,%.4f", x0, x1)))
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("X-Amzn-SageMaker-Inference-Id", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv" {
			t.Fatalf("request %d: %d %s %q\n%s", i, resp.StatusCode, resp.Header.Get("Content-Type"), body, stderr.String())
		}
		if strings.TrimSpace(string(body)) == label {
			right++
		}
		labels[id] = label
	}
	if right < 180 {
		t.Fatalf("only %d of 200 predictions right", right)
	}

	// Ground truth in the seed's format, and the seed's hourly
	// model-quality schedule over the captures, with the package's
	// registered baseline; flipped labels make violations.
	capDir := filepath.Join(home, ".bridge", "datacapture")
	pythontest.WaitFor(t, "captures", 30*time.Second, func() bool {
		n := 0
		filepath.Walk(capDir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && strings.HasSuffix(p, ".jsonl") {
				b, _ := os.ReadFile(p)
				n += bytes.Count(b, []byte(`"inferenceId"`))
			}
			return nil
		})
		return n >= 200
	})
	ents, _ := os.ReadDir(capDir)
	if len(ents) != 1 {
		t.Fatalf("capture endpoints %v", ents)
	}
	for _, tc := range []struct {
		name    string
		flip    bool
		violate bool
	}{{"right labels", false, false}, {"flipped labels", true, true}} {
		// The schedule's activation at the end of the hour that holds the
		// captures; -PT1H..-PT0H selects that hour, which the labels go to.
		activation := time.Now().UTC().Truncate(time.Hour).Add(time.Hour)
		gt := filepath.Join(t.TempDir(), "ground-truth")
		hour := filepath.Join(gt, activation.Add(-time.Hour).Format("2006/01/02/15"))
		os.MkdirAll(hour, 0o755)
		var lines bytes.Buffer
		for id, label := range labels {
			if tc.flip {
				label = map[string]string{"0": "1", "1": "0"}[label]
			}
			fmt.Fprintf(&lines, `{"groundTruthData":{"data":%q,"encoding":"CSV"},"eventMetadata":{"eventId":%q},"eventVersion":"0"}`+"\n", label, id)
		}
		os.WriteFile(filepath.Join(hour, "6f1c2a9e-seed.jsonl"), lines.Bytes(), 0o644)
		outDir := filepath.Join(t.TempDir(), "out")
		name := strings.ReplaceAll(tc.name, " ", "-")
		if out, err := bridgeCmd(t, home, env, "monitor", "schedule", "create", name, "--cron", "cron(0 * ? * * *)", "--type", "model-quality",
			"--endpoint", ents[0].Name(), "--ground-truth", gt, "--baseline-from-package", seedGroup+"/1",
			"--start-offset", "-PT1H", "--end-offset", "-PT0H", "--output", outDir,
			"--inference-attribute", "0").CombinedOutput(); err != nil {
			t.Fatalf("%s: schedule create: %v\n%s", tc.name, err, out)
		}
		out, err := bridgeCmd(t, home, env, "monitor", "schedule", "run", name, "--now", activation.Add(5*time.Minute).Format(time.RFC3339)).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: schedule run: %v\n%s", tc.name, err, out)
		}
		// The execution covers the hour the offsets select, and merged every
		// request with its label.
		exOut, err := bridgeCmd(t, home, env, "monitor", "executions", name, "-o", "json").CombinedOutput()
		var ex []struct {
			Status      string
			WindowStart time.Time `json:"window_start"`
			Records     int64
		}
		if err != nil || json.Unmarshal(exOut, &ex) != nil || len(ex) != 1 {
			t.Fatalf("%s: executions: %v\n%s", tc.name, err, exOut)
		}
		if !ex[0].WindowStart.Equal(activation.Add(-time.Hour)) || ex[0].Records != 200 {
			t.Fatalf("%s: execution window start %s records %d, want %s and 200\n%s", tc.name, ex[0].WindowStart, ex[0].Records, activation.Add(-time.Hour), exOut)
		}
		var violations []string
		filepath.Walk(outDir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.Name() == "constraint_violations.json" {
				violations = append(violations, p)
			}
			return nil
		})
		if len(violations) != 1 {
			t.Fatalf("%s: %d constraint_violations.json files\n%s", tc.name, len(violations), out)
		}
		vb, rerr := os.ReadFile(violations[0])
		if rerr != nil {
			t.Fatalf("%s: %v\n%s", tc.name, rerr, out)
		}
		var v struct {
			Violations []map[string]any `json:"violations"`
		}
		if err := json.Unmarshal(vb, &v); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", tc.name, strings.TrimSpace(string(out)))
		if got := len(v.Violations) > 0; got != tc.violate {
			t.Fatalf("%s: violations %v, want some: %v\n%s", tc.name, v.Violations, tc.violate, out)
		}
	}

	// A second package, model.joblib only, waits for approval: Staging
	// serves it with the container's default input and output functions
	// (CSV in, JSON out by default).
	fake.PlantObject(awsfake.DefaultRegion, seedBucket, "sts/model-2/model.tar.gz", seedTarball(t, py, false))
	pkg2, err := admin.CreateModelPackage(ctx, &sm.CreateModelPackageInput{
		ModelPackageGroupName: aws.String(seedGroup),
		InferenceSpecification: &smtypes.InferenceSpecification{
			Containers: []smtypes.ModelPackageContainerDefinition{{
				Image:        aws.String("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"),
				ModelDataUrl: aws.String("s3://" + seedBucket + "/sts/model-2/model.tar.gz"),
			}},
			SupportedContentTypes: []string{"text/csv"}, SupportedResponseMIMETypes: []string{"application/json"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	postPackageEvent(t, addr, aws.ToString(pkg2.ModelPackageArn), "PendingManualApproval")
	// A package baseline that cannot be had is a clear error, and no
	// schedule is stored.
	for _, bad := range []struct{ pkg, want string }{
		{seedGroup + "/9", "has no version 9"},
		{seedGroup, "want GROUP/VERSION"},
		{seedGroup + "/2", "registered no model-quality baseline"},
		{"no-such-group/1", "model package group no-such-group"},
	} {
		out, err := bridgeCmd(t, home, env, "monitor", "schedule", "create", "bad-baseline", "--cron", "cron(0 * ? * * *)", "--type", "model-quality",
			"--endpoint", "brdg-"+seedGroup+"-production", "--ground-truth", home, "--baseline-from-package", bad.pkg, "--output", home).CombinedOutput()
		if err == nil || !strings.Contains(string(out), bad.want) {
			t.Fatalf("--baseline-from-package %s: %v, want an error with %q\n%s", bad.pkg, err, bad.want, out)
		}
	}
	if out, err := bridgeCmd(t, home, env, "monitor", "schedule", "list").CombinedOutput(); err != nil || strings.Contains(string(out), "bad-baseline") {
		t.Fatalf("schedule list after bad creates: %v\n%s", err, out)
	}
	staging := "http://" + addr + "/endpoints/brdg-" + seedGroup + "-staging/invocations"
	var answer string
	pythontest.WaitFor(t, "staging endpoint", 90*time.Second, func() bool {
		resp, err := http.Post(staging, "text/csv", strings.NewReader("0.9,0.1\n0.1,0.9\n"))
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answer = resp.Header.Get("Content-Type") + " " + strings.TrimSpace(string(b))
		return resp.StatusCode == 200
	})
	if answer != "application/json [1, 0]" {
		t.Fatalf("staging answered %q", answer)
	}
	out, err = bridgeCmd(t, home, env, "models", "list", "-o", "json").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"Production": 1`) || !strings.Contains(string(out), `"Staging": 2`) || !strings.Contains(string(out), `"Latest": 2`) {
		t.Fatalf("models list: %v\n%s", err, out)
	}

	// Rejecting the package takes its endpoint down.
	if out, err := bridgeCmd(t, home, env, "models", "reject", seedGroup, "1").CombinedOutput(); err != nil {
		t.Fatalf("reject: %v\n%s", err, out)
	}
	postPackageEvent(t, addr, arn, "Rejected")
	pythontest.WaitFor(t, "production endpoint removed", 30*time.Second, func() bool {
		resp, err := http.Post(endpoint, "text/csv", strings.NewReader("0.5,0.1"))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusNotFound
	})
	if resp, err := http.Post(staging, "text/csv", strings.NewReader("0.9,0.1")); err != nil || resp.StatusCode != 200 {
		t.Fatalf("staging after rejecting version 1: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// The package's registered model-quality baseline, in the files a
// SageMaker ModelQuality baseline job writes.
const (
	seedMQStatistics = `{"version": 0.0, "dataset": {"item_count": 100, "evaluation_time": "2026-11-30T10:00:00.000Z"},
 "binary_classification_metrics": {"confusion_matrix": {"0": {"0": 49, "1": 1}, "1": {"0": 1, "1": 49}},
  "accuracy": {"value": 0.98, "standard_deviation": 0.004}, "precision": {"value": 0.98, "standard_deviation": 0.004},
  "recall": {"value": 0.98, "standard_deviation": 0.004}, "f1": {"value": 0.98, "standard_deviation": 0.004}}}`
	seedMQConstraints = `{"version": 0.0, "binary_classification_constraints": {
  "accuracy": {"threshold": 0.9, "comparison_operator": "LessThanThreshold"},
  "recall": {"threshold": 0.9, "comparison_operator": "LessThanThreshold"},
  "f1": {"threshold": 0.9, "comparison_operator": "LessThanThreshold"}}}`
)

// postPackageEvent posts an EventBridge "SageMaker Model Package State
// Change" event, as an API destination forwards it, to /hooks/registry.
func postPackageEvent(t *testing.T, addr, arn, status string) {
	t.Helper()
	event := map[string]any{
		"version": "0", "id": "3c6a8d6e-2b1f-4d7e-9b0a-5f1e2d3c4b5a", "detail-type": "SageMaker Model Package State Change",
		"source": "aws.sagemaker", "account": awsfake.DefaultAccount, "time": time.Now().UTC().Format(time.RFC3339),
		"region": awsfake.DefaultRegion, "resources": []string{arn},
		"detail": map[string]any{"ModelPackageGroupName": seedGroup, "ModelPackageVersion": 1, "ModelPackageArn": arn,
			"ModelApprovalStatus": status, "ModelPackageStatus": "Completed"},
	}
	b, _ := json.Marshal(event)
	pythontest.WaitFor(t, "hook", 30*time.Second, func() bool {
		resp, err := http.Post("http://"+addr+"/hooks/registry", "application/json", bytes.NewReader(b))
		if err != nil {
			return false
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("hook answered %d", resp.StatusCode)
		}
		return true
	})
}
