package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/bridgeops/bridge/internal/objectstore"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bridgeops/bridge/internal/pipeline"
	"github.com/bridgeops/bridge/internal/pipeline/local"
	"github.com/bridgeops/bridge/internal/pipeline/registrar"
	"github.com/bridgeops/bridge/internal/proctest"
	"github.com/bridgeops/bridge/internal/registry/store"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
)

const sklearnImage = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"

type fixture struct {
	t      *testing.T
	home   string
	dir    string
	python string
	st     *store.Store
	hist   *local.History
	s3     *objectstore.Server
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	if err := local.Probe(); err != nil {
		t.Skip(err)
	}
	f := &fixture{t: t, home: t.TempDir(), dir: t.TempDir(), python: pythontest.Interpreter(t)}
	var err error
	f.st, err = store.Open(context.Background(), f.home)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.st.Close() })
	f.hist, err = local.OpenHistory(context.Background(), f.st.DB())
	if err != nil {
		t.Fatal(err)
	}
	f.s3, err = objectstore.Serve(f.home, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.s3.Close(context.Background()) })
	return f
}

func (f *fixture) script(name, body string) {
	f.t.Helper()
	p := filepath.Join(f.dir, "code", name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) run(ctx context.Context, defJSON []byte, source string, params map[string]string, events func(local.Event)) *local.Execution {
	f.t.Helper()
	d, err := pipeline.Parse(defJSON, source)
	if err != nil {
		f.t.Fatal(err)
	}
	vals, err := d.ParamValues(params)
	if err != nil {
		f.t.Fatal(err)
	}
	dir := f.dir
	if filepath.IsAbs(source) {
		dir = filepath.Dir(source)
	}
	e, err := local.Run(ctx, d, vals, local.Options{
		Home: f.home, Python: func() (string, error) { return f.python, nil }, DefinitionDir: dir,
		Parallelism: 2, ApprovedStage: "Production", Registrar: registrar.Store{St: f.st}, History: f.hist,
		Objects: local.Embedded{Store: objectstore.New(f.home)}, S3Endpoint: f.s3.URL, Region: "eu-west-1", BaseEnv: os.Environ(), Events: events,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	full, err := f.hist.Execution(context.Background(), e.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return &full
}

func step(e *local.Execution, name string) local.StepRecord {
	for _, s := range e.Steps {
		if s.Name == name {
			return s
		}
	}
	return local.StepRecord{}
}

// processing is a Processing step running code/<script> with the given
// inputs (uri → local path) and outputs (name → uri), as the SDK writes it.
func processing(name, script string, inputs [][2]any, outputs [][2]string, env map[string]any) map[string]any {
	var ins []any
	for i, in := range inputs {
		ins = append(ins, map[string]any{"InputName": fmt.Sprintf("input-%d", i+1), "AppManaged": false,
			"S3Input": map[string]any{"S3Uri": in[0], "LocalPath": in[1], "S3DataType": "S3Prefix", "S3InputMode": "File"}})
	}
	ins = append(ins, map[string]any{"InputName": "code", "S3Input": map[string]any{"S3Uri": "code/" + script, "LocalPath": "/opt/ml/processing/input/code"}})
	var outs []any
	for _, o := range outputs {
		outs = append(outs, map[string]any{"OutputName": o[0], "S3Output": map[string]any{"S3Uri": o[1], "LocalPath": "/opt/ml/processing/" + o[0], "S3UploadMode": "EndOfJob"}})
	}
	args := map[string]any{
		"AppSpecification":       map[string]any{"ImageUri": sklearnImage, "ContainerEntrypoint": []any{"python3", "/opt/ml/processing/input/code/" + script}},
		"ProcessingInputs":       ins,
		"ProcessingOutputConfig": map[string]any{"Outputs": outs},
		"RoleArn":                "arn:aws:iam::000000000000:role/r",
	}
	if env != nil {
		args["Environment"] = env
	}
	return map[string]any{"Name": name, "Type": "Processing", "Arguments": args, "CacheConfig": map[string]any{"Enabled": true, "ExpireAfter": "P1D"}}
}

func definition(t *testing.T, params []any, steps ...any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"Version": "2020-12-01", "Metadata": map[string]any{}, "Parameters": params, "Steps": steps})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExampleRunsBothBranchesAndCaches(t *testing.T) {
	f := newFixture(t)
	if err := exec.Command(f.python, "-c", "import boto3").Run(); err != nil {
		t.Skip("the example's preprocess step downloads with boto3: install python3-boto3")
	}
	example, err := filepath.Abs("../../../examples/sts/pipeline.json")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	first := f.run(ctx, src, example, map[string]string{"Rows": "600"}, nil)
	if first.Status != local.StatusSucceeded {
		t.Fatalf("first run %s: %s", first.Status, first.FailureReason)
	}
	if c := step(first, "CheckMSESTSEvaluation"); c.Outcome != "True" {
		t.Fatalf("condition outcome %q, want True", c.Outcome)
	}
	vs, err := f.st.Versions(ctx)
	if err != nil || len(vs) != 1 {
		t.Fatalf("versions %+v, %v", vs, err)
	}
	v := vs[0]
	if v.Name != "stsPackageGroup" || v.Stage != "Production" || v.Tags["sagemaker_model_approval_status"] != "Approved" {
		t.Fatalf("registered version: %+v", v)
	}
	mse, err := strconv.ParseFloat(v.Tags["model_quality.regression_metrics.mse.value"], 64)
	if err != nil || mse < 0 || mse > 6 {
		t.Fatalf("mse tag %q", v.Tags["model_quality.regression_metrics.mse.value"])
	}
	if !strings.HasPrefix(v.Source, "file://") || !strings.HasSuffix(v.Source, "/output/model.tar.gz") {
		t.Fatalf("source %q", v.Source)
	}
	baseline, err := os.ReadFile(filepath.Join(f.home, "s3", "bridge-sts-example", "baseline", "baseline.csv"))
	if err != nil || !strings.HasPrefix(string(baseline), "prediction,label\n") {
		t.Fatalf("baseline dataset: %.40q, %v", baseline, err)
	}

	// The else branch: same data, a threshold no model meets. Every
	// Processing and Training step is a cache hit.
	second := f.run(ctx, src, example, map[string]string{"Rows": "600", "MseThreshold": "0.0001"}, nil)
	if second.Status != local.StatusFailed || !strings.Contains(second.FailureReason, "Execution failed due to MSE > 0.0001") {
		t.Fatalf("second run %s: %q", second.Status, second.FailureReason)
	}
	if c := step(second, "CheckMSESTSEvaluation"); c.Outcome != "False" {
		t.Fatalf("condition outcome %q, want False", c.Outcome)
	}
	for _, n := range []string{"GenerateSTSData", "PreprocessSTSData", "TrainSTSModel", "EvaluateSTSModel"} {
		if s := step(second, n); !s.CacheHit || s.CachedFrom != first.ID || s.Status != local.StatusSucceeded {
			t.Errorf("%s: %+v, want a cache hit from %s", n, s, first.ID)
		}
	}
	if s := step(second, "RegisterSTSModel-RegisterModel"); s.Name != "" {
		t.Errorf("RegisterModel ran on the else branch: %+v", s)
	}
	if vs, _ := f.st.Versions(ctx); len(vs) != 1 {
		t.Errorf("%d versions after the else branch, want 1", len(vs))
	}
}

const writeScript = `import os, sys
os.makedirs("/opt/ml/processing/data", exist_ok=True)
open("/opt/ml/processing/data/part.txt", "w").write("payload\n")
print("wrote part")
`

const readScript = `import os, sys
data = open("/opt/ml/processing/input/data/part.txt").read()
for i in range(1, 4):
    print(f"boom line {i}", flush=True)
if os.environ.get("FAIL") == "1":
    sys.exit(3)
os.makedirs("/opt/ml/processing/result", exist_ok=True)
open("/opt/ml/processing/result/out.txt", "w").write(data.upper())
`

func TestFailingStepThenResumeFromCache(t *testing.T) {
	f := newFixture(t)
	f.script("write.py", writeScript)
	f.script("read.py", readScript)
	src := definition(t, []any{map[string]any{"Name": "Fail", "Type": "String", "DefaultValue": "0"}},
		processing("Write", "write.py", nil, [][2]string{{"data", "s3://test-bucket/data"}}, nil),
		processing("Read", "read.py", [][2]any{{map[string]any{"Get": "Steps.Write.ProcessingOutputConfig.Outputs['data'].S3Output.S3Uri"}, "/opt/ml/processing/input/data"}},
			[][2]string{{"result", "s3://test-bucket/result"}}, map[string]any{"FAIL": map[string]any{"Get": "Parameters.Fail"}}),
	)
	ctx := context.Background()
	failed := f.run(ctx, src, "p.json", map[string]string{"Fail": "1"}, nil)
	if failed.Status != local.StatusFailed {
		t.Fatalf("status %s", failed.Status)
	}
	r := step(failed, "Read")
	if r.Status != local.StatusFailed || !strings.Contains(r.FailureReason, "read.py exited with code 3") || !strings.Contains(r.FailureReason, "boom line 3") {
		t.Fatalf("Read: %+v", r)
	}
	if !strings.Contains(failed.FailureReason, "Step Read failed") {
		t.Errorf("execution reason %q", failed.FailureReason)
	}

	resumed := f.run(ctx, src, "p.json", map[string]string{"Fail": "0"}, nil)
	if resumed.Status != local.StatusSucceeded {
		t.Fatalf("resumed: %s %s", resumed.Status, resumed.FailureReason)
	}
	if w := step(resumed, "Write"); !w.CacheHit || w.CachedFrom != failed.ID {
		t.Errorf("Write after the failure: %+v, want a cache hit", w)
	}
	if r := step(resumed, "Read"); r.CacheHit || r.Status != local.StatusSucceeded {
		t.Errorf("Read: %+v, want a fresh run", r)
	}
	out, err := os.ReadFile(filepath.Join(f.home, "s3", "test-bucket", "result", "out.txt"))
	if err != nil || string(out) != "PAYLOAD\n" {
		t.Fatalf("result %q, %v", out, err)
	}

	// Changing an input's content invalidates the steps that read it.
	f.script("write.py", strings.Replace(writeScript, "payload", "other", 1))
	again := f.run(ctx, src, "p.json", nil, nil)
	if w := step(again, "Write"); w.CacheHit {
		t.Errorf("Write re-used the cache after its code changed")
	}
	if r := step(again, "Read"); r.CacheHit {
		t.Errorf("Read re-used the cache after its input changed")
	}
}

func TestStopKillsTheStepsProcesses(t *testing.T) {
	f := newFixture(t)
	pidFile := filepath.Join(t.TempDir(), "pids")
	f.script("sleep.py", `import os, subprocess, time
child = subprocess.Popen(["sleep", "300"])
open(os.environ["PIDFILE"] + ".tmp", "w").write(f"{os.getpid()} {child.pid}")
os.rename(os.environ["PIDFILE"] + ".tmp", os.environ["PIDFILE"])
time.sleep(300)
`)
	src := definition(t, nil, processing("Sleep", "sleep.py", nil, nil, map[string]any{"PIDFILE": pidFile}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := os.Stat(pidFile); err == nil {
				cancel()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	start := time.Now()
	e := f.run(ctx, src, "p.json", nil, nil)
	if e.Status != local.StatusStopped || step(e, "Sleep").Status != local.StatusStopped {
		t.Fatalf("execution %s, step %+v", e.Status, step(e, "Sleep"))
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("stopping took %v", time.Since(start))
	}
	b, _ := os.ReadFile(pidFile)
	for _, p := range strings.Fields(string(b)) {
		pid, _ := strconv.Atoi(p)
		deadline := time.Now().Add(5 * time.Second)
		for proctest.Alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if proctest.Alive(pid) {
			t.Errorf("process %d outlived the stopped step", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func TestBadInputsAtRunTime(t *testing.T) {
	f := newFixture(t)
	f.script("ok.py", `import os, json
os.makedirs("/opt/ml/processing/evaluation", exist_ok=True)
open("/opt/ml/processing/evaluation/evaluation.json", "w").write(json.dumps({"metrics": {"mse": {"value": 1.0}}}))
`)
	f.script("nothing.py", "print('wrote nothing')\n")
	f.script("notjson.py", `import os
os.makedirs("/opt/ml/processing/evaluation", exist_ok=True)
open("/opt/ml/processing/evaluation/evaluation.json", "w").write("mse=1.0")
`)
	withReport := func(s map[string]any) map[string]any {
		s["PropertyFiles"] = []any{map[string]any{"PropertyFileName": "Report", "OutputName": "evaluation", "FilePath": "evaluation.json"}}
		return s
	}
	cond := func(path string) map[string]any {
		return map[string]any{"Name": "Check", "Type": "Condition", "Arguments": map[string]any{"Conditions": []any{map[string]any{
			"Type": "LessThanOrEqualTo", "RightValue": 6.0,
			"LeftValue": map[string]any{"Std:JsonGet": map[string]any{"PropertyFile": map[string]any{"Get": "Steps.Eval.PropertyFiles.Report"}, "Path": path}}}}}}
	}
	register := map[string]any{"Name": "Register", "Type": "RegisterModel", "DependsOn": []any{"Eval"}, "Arguments": map[string]any{
		"ModelPackageGroupName":  "half-written",
		"ModelApprovalStatus":    "Approved",
		"InferenceSpecification": map[string]any{"Containers": []any{map[string]any{"Image": sklearnImage, "ModelDataUrl": "s3://test-bucket/evaluation/evaluation.json"}}},
		"ModelMetrics":           map[string]any{"ModelQuality": map[string]any{"Statistics": map[string]any{"ContentType": "application/json", "S3Uri": "s3://test-bucket/evaluation/missing.json"}}},
	}}
	eval := func(script string) map[string]any {
		return withReport(processing("Eval", script, nil, [][2]string{{"evaluation", "s3://test-bucket/evaluation"}}, nil))
	}
	custom := processing("Custom", "ok.py", nil, nil, nil)
	custom["Arguments"].(map[string]any)["AppSpecification"].(map[string]any)["ImageUri"] = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-own-image:latest"
	for _, tc := range []struct {
		name  string
		steps []any
		step  string
		want  []string
	}{
		{"missing input", []any{processing("Read", "ok.py", [][2]any{{"s3://test-bucket/nothing/here", "/opt/ml/processing/input"}}, nil, nil)},
			"Read", []string{"Arguments.ProcessingInputs[0]", "s3://test-bucket/nothing/here", "no such object"}},
		{"property file not JSON", []any{eval("notjson.py")}, "Eval", []string{"PropertyFiles[0] (Report)", "evaluation.json", "not JSON"}},
		{"property file missing", []any{eval("nothing.py")}, "Eval", []string{"PropertyFiles[0] (Report)", "did not write evaluation.json"}},
		{"bad JsonGet path", []any{eval("ok.py"), cond("metrics.rmse.value")}, "Check", []string{"Arguments.Conditions[0].LeftValue", `"metrics.rmse.value"`, `no field "rmse"`}},
		{"image without a local interpreter", []any{custom}, "Custom", []string{"my-own-image", "only SageMaker scikit-learn"}},
		{"metrics file missing: nothing registered", []any{eval("ok.py"), register}, "Register", []string{"ModelMetrics.ModelQuality.Statistics.S3Uri", "missing.json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := f.run(context.Background(), definition(t, nil, tc.steps...), "p.json", nil, nil)
			s := step(e, tc.step)
			if e.Status != local.StatusFailed || s.Status != local.StatusFailed {
				t.Fatalf("execution %s, step %s: %+v", e.Status, tc.step, s)
			}
			for _, w := range tc.want {
				if !strings.Contains(s.FailureReason, w) {
					t.Errorf("reason %q does not mention %q", s.FailureReason, w)
				}
			}
		})
	}
	if vs, err := f.st.Versions(context.Background()); err != nil || len(vs) != 0 {
		t.Errorf("registry after failed runs: %+v, %v", vs, err)
	}
	if m, err := f.st.GetRegisteredModel(context.Background(), "half-written"); err == nil {
		t.Errorf("model %+v created by a failed RegisterModel", m)
	}
}

// Independent steps run at the same time (--parallelism 2); a Model step
// records the model of a training artifact.
func TestIndependentStepsRunInParallel(t *testing.T) {
	f := newFixture(t)
	marks := t.TempDir()
	f.script("span.py", `import os, time
start = time.time()
time.sleep(1.0)
open(os.path.join(os.environ["MARKS"], os.environ["NAME"]), "w").write(f"{start} {time.time()}")
os.makedirs("/opt/ml/processing/out", exist_ok=True)
open("/opt/ml/processing/out/model.tar.gz", "w").write("x")
`)
	a := processing("A", "span.py", nil, [][2]string{{"out", "s3://test-bucket/a"}}, map[string]any{"MARKS": marks, "NAME": "A"})
	b := processing("B", "span.py", nil, nil, map[string]any{"MARKS": marks, "NAME": "B"})
	m := map[string]any{"Name": "M", "Type": "Model", "Arguments": map[string]any{"ExecutionRoleArn": "arn:aws:iam::000000000000:role/r",
		"PrimaryContainer": map[string]any{"Image": sklearnImage, "ModelDataUrl": map[string]any{"Std:Join": map[string]any{"On": "/",
			"Values": []any{map[string]any{"Get": "Steps.A.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"}, "model.tar.gz"}}}}}}
	e := f.run(context.Background(), definition(t, nil, a, b, m), "p.json", nil, nil)
	if e.Status != local.StatusSucceeded {
		t.Fatalf("%s: %s", e.Status, e.FailureReason)
	}
	span := func(n string) (float64, float64) {
		b, err := os.ReadFile(filepath.Join(marks, n))
		if err != nil {
			t.Fatal(err)
		}
		var s, e float64
		fmt.Sscan(string(b), &s, &e)
		return s, e
	}
	as, ae := span("A")
	bs, be := span("B")
	if as >= be || bs >= ae {
		t.Errorf("A ran %v–%v and B %v–%v: want overlapping runs", as, ae, bs, be)
	}
	if name, _ := step(e, "M").Properties["ModelName"].(string); !strings.HasPrefix(name, "pipelines-"+e.ID) {
		t.Errorf("Model step properties: %+v", step(e, "M").Properties)
	}
}

// With a real S3-compatible endpoint configured instead of the embedded
// store (here another Bridge home's S3 server standing in for MinIO), the
// steps' inputs and outputs live there.
func TestRemoteObjectStore(t *testing.T) {
	f := newFixture(t)
	f.script("write.py", writeScript)
	f.script("read.py", readScript)
	remoteHome := t.TempDir()
	remote, err := objectstore.Serve(remoteHome, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer remote.Close(context.Background())
	client := s3.New(s3.Options{Region: "eu-west-1", BaseEndpoint: aws.String(remote.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("minio", "minio-secret", "")})
	src := definition(t, []any{map[string]any{"Name": "Fail", "Type": "String", "DefaultValue": "0"}},
		processing("Write", "write.py", nil, [][2]string{{"data", "s3://remote-bucket/data"}}, nil),
		processing("Read", "read.py", [][2]any{{map[string]any{"Get": "Steps.Write.ProcessingOutputConfig.Outputs['data'].S3Output.S3Uri"}, "/opt/ml/processing/input/data"}},
			[][2]string{{"result", "s3://remote-bucket/result"}}, map[string]any{"FAIL": map[string]any{"Get": "Parameters.Fail"}}),
	)
	d, err := pipeline.Parse(src, "p.json")
	if err != nil {
		t.Fatal(err)
	}
	vals, _ := d.ParamValues(nil)
	e, err := local.Run(context.Background(), d, vals, local.Options{
		Home: f.home, Python: func() (string, error) { return f.python, nil }, DefinitionDir: f.dir, Parallelism: 2,
		History: f.hist, Objects: objectstore.NewRemoteClient(client), S3Endpoint: remote.URL, RemoteS3: true, Region: "eu-west-1",
		BaseEnv: append(os.Environ(), "AWS_ACCESS_KEY_ID=minio", "AWS_SECRET_ACCESS_KEY=minio-secret"),
	})
	if err != nil || e.Status != local.StatusSucceeded {
		t.Fatalf("%v %+v", err, e)
	}
	if b, err := os.ReadFile(filepath.Join(remoteHome, "s3", "remote-bucket", "result", "out.txt")); err != nil || string(b) != "PAYLOAD\n" {
		t.Fatalf("remote result %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(f.home, "s3", "remote-bucket")); err == nil {
		t.Error("objects written to the embedded store although a remote endpoint is configured")
	}
}

// A Training step in script mode as the SDK writes it: the source directory
// is a sourcedir.tar.gz in S3, hyperparameters are JSON-encoded, and the
// script sees SageMaker's paths and SM_* variables; the model directory is
// packed into <S3OutputPath>/<job>/output/model.tar.gz.
func TestTrainingScriptModeContract(t *testing.T) {
	f := newFixture(t)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "entry.py"), []byte(`import json, os, sys
seen = {
    "argv": sys.argv[1:],
    "cwd": os.getcwd(),
    "env": {k: v for k, v in os.environ.items() if k.startswith("SM_")},
    "hps": json.load(open("/opt/ml/input/config/hyperparameters.json")),
    "train": sorted(os.listdir("/opt/ml/input/data/train")),
}
json.dump(seen, open(os.path.join(os.environ["SM_MODEL_DIR"], "seen.json"), "w"))
open("/opt/ml/output/data/extra.txt", "w").write("x")
`), 0o644); err != nil {
		t.Fatal(err)
	}
	tgz := filepath.Join(t.TempDir(), "sourcedir.tar.gz")
	if out, err := exec.Command("tar", "-czf", tgz, "-C", src, "entry.py").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	store := objectstore.New(f.home)
	if err := store.PutFile(tgz, "s3://train-bucket/code/sourcedir.tar.gz"); err != nil {
		t.Fatal(err)
	}
	if err := store.PutFile(tgz, "s3://train-bucket/data/train/part-0.csv"); err != nil {
		t.Fatal(err)
	}
	train := map[string]any{"Name": "Train", "Type": "Training", "Arguments": map[string]any{
		"AlgorithmSpecification": map[string]any{"TrainingImage": "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.0-cpu-py310", "TrainingInputMode": "File"},
		"OutputDataConfig":       map[string]any{"S3OutputPath": "s3://train-bucket/models"},
		"ResourceConfig":         map[string]any{"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30},
		"RoleArn":                "arn:aws:iam::000000000000:role/r",
		"StoppingCondition":      map[string]any{"MaxRuntimeInSeconds": 3600},
		"InputDataConfig": []any{map[string]any{"ChannelName": "train", "ContentType": "text/csv",
			"DataSource": map[string]any{"S3DataSource": map[string]any{"S3DataType": "S3Prefix", "S3Uri": "s3://train-bucket/data/train"}}}},
		"HyperParameters": map[string]any{"epochs": "5", "lr": "0.1", "name": "\"fast\"",
			"sagemaker_program": "\"entry.py\"", "sagemaker_submit_directory": "\"s3://train-bucket/code/sourcedir.tar.gz\""},
	}}
	e := f.run(context.Background(), definition(t, nil, train), "p.json", nil, nil)
	if e.Status != local.StatusSucceeded {
		t.Fatalf("%s: %s", e.Status, e.FailureReason)
	}
	modelURI, _ := step(e, "Train").Properties["ModelArtifacts"].(map[string]any)["S3ModelArtifacts"].(string)
	job, _ := step(e, "Train").Properties["TrainingJobName"].(string)
	if modelURI != "s3://train-bucket/models/"+job+"/output/model.tar.gz" {
		t.Fatalf("model artifact %q (job %q)", modelURI, job)
	}
	p, _ := store.Path(modelURI)
	out := t.TempDir()
	if b, err := exec.Command("tar", "-xzf", p, "-C", out).CombinedOutput(); err != nil {
		t.Fatalf("untar model: %v %s", err, b)
	}
	var seen struct {
		Argv  []string          `json:"argv"`
		Cwd   string            `json:"cwd"`
		Env   map[string]string `json:"env"`
		HPs   map[string]string `json:"hps"`
		Train []string          `json:"train"`
	}
	b, err := os.ReadFile(filepath.Join(out, "seen.json"))
	if err != nil || json.Unmarshal(b, &seen) != nil {
		t.Fatalf("seen.json: %s %v", b, err)
	}
	if strings.Join(seen.Argv, " ") != "--epochs 5 --lr 0.1 --name fast" || seen.Cwd != "/opt/ml/code" {
		t.Errorf("argv %v, cwd %s", seen.Argv, seen.Cwd)
	}
	for k, want := range map[string]string{"SM_MODEL_DIR": "/opt/ml/model", "SM_CHANNEL_TRAIN": "/opt/ml/input/data/train",
		"SM_OUTPUT_DATA_DIR": "/opt/ml/output/data", "SM_HP_EPOCHS": "5", "SM_HP_NAME": "fast", "SM_CHANNELS": `["train"]`} {
		if seen.Env[k] != want {
			t.Errorf("%s = %q, want %q", k, seen.Env[k], want)
		}
	}
	var hps map[string]any
	if err := json.Unmarshal([]byte(seen.Env["SM_HPS"]), &hps); err != nil || hps["epochs"] != 5.0 || hps["name"] != "fast" {
		t.Errorf("SM_HPS %q", seen.Env["SM_HPS"])
	}
	if seen.HPs["sagemaker_program"] != `"entry.py"` || seen.HPs["epochs"] != "5" {
		t.Errorf("hyperparameters.json %v", seen.HPs)
	}
	if len(seen.Train) != 1 || seen.Train[0] != "part-0.csv" {
		t.Errorf("train channel %v", seen.Train)
	}
	if objs, _ := store.List("s3://train-bucket/models/" + job + "/output/output.tar.gz"); len(objs) != 1 {
		t.Error("output.tar.gz missing")
	}
}

// A step whose entrypoint is a shell script calling python by name (as the
// SDK's FrameworkProcessor writes) runs the configured interpreter too.
func TestShellEntrypointFindsTheConfiguredPython(t *testing.T) {
	f := newFixture(t)
	f.script("run.sh", "set -e\npython -c 'import sklearn, sys; print(sys.executable)' > /opt/ml/processing/out/which.txt\n")
	st := processing("Shell", "run.sh", nil, [][2]string{{"out", "s3://test-bucket/shell"}}, nil)
	st["Arguments"].(map[string]any)["AppSpecification"].(map[string]any)["ContainerEntrypoint"] = []any{"/bin/bash", "/opt/ml/processing/input/code/run.sh"}
	e := f.run(context.Background(), definition(t, nil, st), "p.json", nil, nil)
	if e.Status != local.StatusSucceeded {
		t.Fatalf("%s: %s", e.Status, e.FailureReason)
	}
	b, err := os.ReadFile(filepath.Join(f.home, "s3", "test-bucket", "shell", "which.txt"))
	if err != nil || strings.TrimSpace(string(b)) == "" {
		t.Fatalf("which.txt %q, %v", b, err)
	}
}

// A job that runs past StoppingCondition.MaxRuntimeInSeconds is stopped and
// its step fails saying so; the execution is Failed, not Stopped.
func TestMaxRuntimeStopsTheJob(t *testing.T) {
	f := newFixture(t)
	f.script("slow.py", "import time\nprint('working', flush=True)\ntime.sleep(120)\n")
	st := processing("Slow", "slow.py", nil, nil, nil)
	st["Arguments"].(map[string]any)["StoppingCondition"] = map[string]any{"MaxRuntimeInSeconds": 1}
	start := time.Now()
	e := f.run(context.Background(), definition(t, nil, st), "p.json", nil, nil)
	s := step(e, "Slow")
	if e.Status != local.StatusFailed || s.Status != local.StatusFailed || !strings.Contains(s.FailureReason, "MaxRuntimeExceeded") || !strings.Contains(s.FailureReason, "working") {
		t.Fatalf("execution %s, step %+v", e.Status, s)
	}
	if time.Since(start) > 60*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

// The cache key is SageMaker's: AppSpecification, Environment and
// ProcessingInputs of a Processing step (plus input contents). An output
// path built from the execution id (the SDK's default) and a different
// instance type still hit the cache, and the next step reads the earlier
// run's output; a changed environment variable runs the step again.
func TestCacheKeyIsSageMakersAttributes(t *testing.T) {
	f := newFixture(t)
	f.script("write.py", writeScript)
	f.script("read.py", readScript)
	write := processing("Write", "write.py", nil, [][2]string{{"data", "s3://test-bucket/unused"}}, map[string]any{"MODE": map[string]any{"Get": "Parameters.Mode"}})
	wa := write["Arguments"].(map[string]any)
	wa["ProcessingOutputConfig"].(map[string]any)["Outputs"].([]any)[0].(map[string]any)["S3Output"].(map[string]any)["S3Uri"] =
		map[string]any{"Std:Join": map[string]any{"On": "/", "Values": []any{"s3:/", "test-bucket", "p", map[string]any{"Get": "Execution.PipelineExecutionId"}, "Write", "output", "data"}}}
	wa["ProcessingResources"] = map[string]any{"ClusterConfig": map[string]any{"InstanceType": map[string]any{"Get": "Parameters.Instance"}, "InstanceCount": 1, "VolumeSizeInGB": 30}}
	src := definition(t, []any{
		map[string]any{"Name": "Instance", "Type": "String", "DefaultValue": "ml.m5.xlarge"},
		map[string]any{"Name": "Mode", "Type": "String", "DefaultValue": "a"},
	}, write,
		processing("Read", "read.py", [][2]any{{map[string]any{"Get": "Steps.Write.ProcessingOutputConfig.Outputs['data'].S3Output.S3Uri"}, "/opt/ml/processing/input/data"}},
			[][2]string{{"result", "s3://test-bucket/result"}}, nil))
	ctx := context.Background()
	first := f.run(ctx, src, "p.json", nil, nil)
	if first.Status != local.StatusSucceeded {
		t.Fatalf("first: %s %s", first.Status, first.FailureReason)
	}
	second := f.run(ctx, src, "p.json", map[string]string{"Instance": "ml.c5.2xlarge"}, nil)
	if second.Status != local.StatusSucceeded {
		t.Fatalf("second: %s %s", second.Status, second.FailureReason)
	}
	for _, n := range []string{"Write", "Read"} {
		if s := step(second, n); !s.CacheHit || s.CachedFrom != first.ID {
			t.Errorf("%s with another output path and instance type: %+v, want a cache hit from %s", n, s, first.ID)
		}
	}
	if _, err := os.Stat(filepath.Join(f.home, "s3", "test-bucket", "p", second.ID)); !os.IsNotExist(err) {
		t.Errorf("a cache hit wrote the new output path: %v", err)
	}
	third := f.run(ctx, src, "p.json", map[string]string{"Mode": "b"}, nil)
	if s := step(third, "Write"); s.CacheHit || s.Status != local.StatusSucceeded {
		t.Errorf("Write with another Environment: %+v, want a fresh run", s)
	}
	if _, err := os.Stat(filepath.Join(f.home, "s3", "test-bucket", "p", third.ID, "Write", "output", "data", "part.txt")); err != nil {
		t.Errorf("fresh run's output: %v", err)
	}
}

// remoteOnly is a registrar that needs artifacts its registry can read.
type remoteOnly struct{ calls *int }

func (r remoteOnly) Register(context.Context, local.NewVersion) (local.RegisteredVersion, error) {
	*r.calls++
	return local.RegisteredVersion{}, nil
}
func (remoteOnly) NeedsRemoteArtifacts() string { return "set BRIDGE_PIPELINE_S3_ENDPOINT" }

// A package-group registry cannot read the embedded object store: the
// RegisterModel step fails saying so, and the registry is not called.
func TestRegisterNeedsRemoteArtifacts(t *testing.T) {
	f := newFixture(t)
	calls := 0
	d, err := pipeline.Parse(definition(t, nil, map[string]any{"Name": "Register", "Type": "RegisterModel", "Arguments": map[string]any{
		"ModelPackageGroupName":  "g",
		"InferenceSpecification": map[string]any{"Containers": []any{map[string]any{"Image": sklearnImage, "ModelDataUrl": "s3://test-bucket/m.tar.gz"}}},
	}}), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	e, err := local.Run(context.Background(), d, map[string]any{}, local.Options{Home: f.home, DefinitionDir: f.dir, Registrar: remoteOnly{&calls},
		History: f.hist, Objects: local.Embedded{Store: objectstore.New(f.home)}, S3Endpoint: f.s3.URL, Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	full, err := f.hist.Execution(context.Background(), e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s := step(&full, "Register"); s.Status != local.StatusFailed || !strings.Contains(s.FailureReason, "BRIDGE_PIPELINE_S3_ENDPOINT") || calls != 0 {
		t.Fatalf("Register: %+v, %d registry calls", s, calls)
	}
}

// Std:JsonGet on an S3Uri (the SDK's form for @step outputs) reads the JSON
// object the URI names; the Join that builds the URI makes the dependency.
// A path that does not exist fails the condition naming it and the URI.
func TestJsonGetOnS3Uri(t *testing.T) {
	f := newFixture(t)
	f.script("metrics.py", `import os, json
os.makedirs("/opt/ml/processing/data", exist_ok=True)
json.dump({"metrics": {"mse": 2.5}}, open("/opt/ml/processing/data/result.json", "w"))
`)
	cond := func(path string) map[string]any {
		return map[string]any{"Name": "Check", "Type": "Condition", "Arguments": map[string]any{"Conditions": []any{map[string]any{
			"Type": "LessThan", "RightValue": 3.0,
			"LeftValue": map[string]any{"Std:JsonGet": map[string]any{"Path": path, "S3Uri": map[string]any{"Std:Join": map[string]any{"On": "/", "Values": []any{
				map[string]any{"Get": "Steps.Write.ProcessingOutputConfig.Outputs['data'].S3Output.S3Uri"}, "result.json"}}}}}}}}}
	}
	for _, tc := range []struct {
		path, status, want string
	}{
		{"metrics.mse", local.StatusSucceeded, ""},
		{"metrics.rmse", local.StatusFailed, `"metrics.rmse" in s3://test-bucket/data/result.json: no field "rmse"`},
	} {
		src := definition(t, nil, processing("Write", "metrics.py", nil, [][2]string{{"data", "s3://test-bucket/data"}}, nil), cond(tc.path))
		d, err := pipeline.Parse(src, "p.json")
		if err != nil {
			t.Fatal(err)
		}
		if g, _ := d.Graph(); len(g.Deps["Check"]) != 1 || g.Deps["Check"][0].From != "Write" {
			t.Fatalf("Check depends on %+v", g.Deps["Check"])
		}
		e := f.run(context.Background(), src, "p.json", nil, nil)
		c := step(e, "Check")
		if c.Status != tc.status || (tc.want == "" && c.Outcome != "True") || !strings.Contains(c.FailureReason, tc.want) {
			t.Errorf("%s: Check %+v", tc.path, c)
		}
	}
}

// A training job's MetricDefinitions are read from its log as SageMaker
// does (the last value of each regex's group), so a condition on
// FinalMetricDataList['name'].Value works; a regex that does not compile
// fails the step naming it before the job runs.
func TestTrainingFinalMetrics(t *testing.T) {
	f := newFixture(t)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "fit.py"), []byte("for i, v in enumerate([0.9, 0.5]):\n    print(f'[{i}] validation-rmse:{v}', flush=True)\nprint('train-auc: 0.75')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	store := objectstore.New(f.home)
	if err := store.PutFile(filepath.Join(src, "fit.py"), "s3://train-bucket/code/fit.py"); err != nil {
		t.Fatal(err)
	}
	train := func(defs []any) map[string]any {
		return map[string]any{"Name": "Train", "Type": "Training", "Arguments": map[string]any{
			"AlgorithmSpecification": map[string]any{"TrainingImage": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1", "TrainingInputMode": "File", "MetricDefinitions": defs},
			"OutputDataConfig":       map[string]any{"S3OutputPath": "s3://train-bucket/models"},
			"HyperParameters":        map[string]any{"sagemaker_program": "\"fit.py\"", "sagemaker_submit_directory": "\"s3://train-bucket/code/fit.py\""},
		}}
	}
	check := map[string]any{"Name": "Check", "Type": "Condition", "Arguments": map[string]any{"Conditions": []any{
		map[string]any{"Type": "LessThan", "LeftValue": map[string]any{"Get": "Steps.Train.FinalMetricDataList['validation:rmse'].Value"}, "RightValue": 0.6}}}}
	defs := []any{
		map[string]any{"Name": "validation:rmse", "Regex": `validation-rmse:([0-9.]+)`},
		map[string]any{"Name": "train:auc", "Regex": `train-auc: ([0-9.]+)`},
		map[string]any{"Name": "never:seen", "Regex": `nothing-like-this ([0-9.]+)`},
	}
	e := f.run(context.Background(), definition(t, nil, train(defs), check), "p.json", nil, nil)
	if e.Status != local.StatusSucceeded || step(e, "Check").Outcome != "True" {
		t.Fatalf("%s %s: Check %+v", e.Status, e.FailureReason, step(e, "Check"))
	}
	got, _ := json.Marshal(step(e, "Train").Properties["FinalMetricDataList"])
	if !strings.Contains(string(got), `"MetricName":"validation:rmse","Timestamp"`) || !strings.Contains(string(got), `"Value":0.5`) ||
		!strings.Contains(string(got), `"Value":0.75`) || strings.Contains(string(got), "never:seen") {
		t.Errorf("FinalMetricDataList %s", got)
	}
	bad := f.run(context.Background(), definition(t, nil, train([]any{map[string]any{"Name": "x", "Regex": "rmse:(["}})), "p.json", nil, nil)
	if s := step(bad, "Train"); s.Status != local.StatusFailed || !strings.Contains(s.FailureReason, "MetricDefinitions[0].Regex") {
		t.Errorf("bad regex: %+v", s)
	} else if b, _ := os.ReadFile(s.LogPath); strings.Contains(string(b), "validation-rmse") {
		t.Errorf("the job ran although its metric definitions are bad:\n%s", b)
	}
}

// Execution variables are spelled as on SageMaker: the pipeline's ARNs are
// lower case, its name as given.
func TestExecutionVariables(t *testing.T) {
	f := newFixture(t)
	d, err := pipeline.Parse(definition(t, nil, map[string]any{"Name": "Say", "Type": "Fail", "Arguments": map[string]any{"ErrorMessage": map[string]any{
		"Std:Join": map[string]any{"On": " ", "Values": []any{map[string]any{"Get": "Execution.PipelineName"}, map[string]any{"Get": "Execution.PipelineArn"},
			map[string]any{"Get": "Execution.PipelineExecutionArn"}}}}}}), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	e, err := local.Run(context.Background(), d, map[string]any{}, local.Options{Home: f.home, DefinitionDir: f.dir, PipelineName: "stsPipeline",
		History: f.hist, Objects: local.Embedded{Store: objectstore.New(f.home)}, Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	want := "stsPipeline arn:aws:sagemaker:eu-west-1:000000000000:pipeline/stspipeline arn:aws:sagemaker:eu-west-1:000000000000:pipeline/stspipeline/execution/" + e.ID
	if !strings.Contains(e.FailureReason, want) {
		t.Errorf("reason %q, want %q", e.FailureReason, want)
	}
}
