package sagemaker_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/smithy-go"

	"github.com/bridgeops/bridge/internal/awsauth"
	"github.com/bridgeops/bridge/internal/awsfake"
	pipesm "github.com/bridgeops/bridge/internal/pipeline/sagemaker"
)

const (
	region = "eu-west-1"
	role   = "arn:aws:iam::123456789012:role/sts-sagemaker"
)

var bucket = pipesm.DefaultBucket(region, awsfake.DefaultAccount)

type harness struct {
	t    *testing.T
	f    *awsfake.Server
	sm   *sm.Client
	s3   *s3.Client
	out  bytes.Buffer
	defn string // path of the definition
}

// newHarness starts the fake and points real SDK clients at it over
// loopback HTTP, with the definition of testdata/sts copied to a fresh
// directory.
func newHarness(t *testing.T) *harness {
	t.Helper()
	f := awsfake.New(awsfake.Options{})
	t.Cleanup(f.Close)
	for k, v := range f.Env() {
		t.Setenv(k, v)
	}
	cfg, err := awsauth.Load(context.Background(), awsauth.Options{Region: region, MaxAttempts: 20, MaxBackoff: 2 * time.Millisecond, NoRetryQuota: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "sts"))); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, f: f, sm: sm.NewFromConfig(cfg),
		s3:   s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		defn: filepath.Join(dir, "pipeline.json")}
}

func (h *harness) runner() *pipesm.Runner {
	return &pipesm.Runner{SM: h.sm, S3: h.s3, Progress: pipesm.TextProgress(&h.out, "pipeline.json"), Set: pipesm.Settings{
		Account: awsfake.DefaultAccount, Region: region, Role: role, PipelineName: "stsPipeline",
		ModelPackageGroup: "stsPackageGroup", BaseJobPrefix: "sts", PollInterval: time.Millisecond, StopTimeout: 10 * time.Second}}
}

func (h *harness) definition() []byte {
	b, err := os.ReadFile(h.defn)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

func (h *harness) run(ctx context.Context, r *pipesm.Runner, params map[string]string) (*pipesm.Result, error) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return r.Run(ctx, h.defn, h.definition(), params)
}

func stepStatuses(res *pipesm.Result) map[string]string {
	out := map[string]string{}
	for _, s := range res.Steps {
		out[s.Name] = s.Status
	}
	return out
}

// TestRunCreatesUploadsAndSucceeds submits the seed-shaped definition
// twice: the first run creates the bucket and the pipeline and uploads the
// local data, scripts and source directory; the second updates the
// pipeline and finds the uploads already there.
func TestRunCreatesUploadsAndSucceeds(t *testing.T) {
	h := newHarness(t)
	res, err := h.run(context.Background(), h.runner(), map[string]string{"TrainSize": "0.7", "UseSpot": "TRUE"})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, h.out.String())
	}
	if !res.Created || res.Status != "Succeeded" || res.ExecutionArn == "" {
		t.Fatalf("result %+v", res)
	}
	want := map[string]string{"PreprocessSTSData": "Succeeded", "TrainSTSModel": "Succeeded", "EvaluateSTSModel": "Succeeded",
		"CheckMSESTSEvaluation": "Succeeded", "RegisterSTSModel": "Succeeded"}
	if got := stepStatuses(res); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("steps %v, want %v", got, want)
	}
	for _, s := range res.Steps {
		switch s.Type {
		case "Processing", "Training", "RegisterModel":
			kind := map[string]string{"Processing": ":processing-job/", "Training": ":training-job/", "RegisterModel": ":model-package/"}[s.Type]
			if !strings.HasPrefix(s.Job, "arn:aws:sagemaker:") || !strings.Contains(s.Job, kind) {
				t.Errorf("step %s: job ARN %q from Metadata, want a %s ARN", s.Name, s.Job, kind)
			}
		case "Condition":
			if s.Condition != "True" {
				t.Errorf("condition outcome %q", s.Condition)
			}
		}
	}
	ex, _ := h.f.Execution(res.ExecutionArn)
	wantParams := map[string]string{"TrainSize": "0.7", "UseSpot": "true", "ModelPackageGroupName": "stsPackageGroup",
		"ProcessingInstanceCount": "1", "ModelApprovalStatus": "PendingManualApproval", "MseThreshold": "6"}
	if fmt.Sprint(ex.Parameters) != fmt.Sprint(wantParams) {
		t.Errorf("execution parameters %v, want %v", ex.Parameters, wantParams)
	}

	// The definition SageMaker got names the uploaded copies.
	pl, ok := h.f.Pipeline("STSPIPELINE") // names are case-insensitive
	if !ok || pl.Role != role {
		t.Fatalf("pipeline %+v", pl)
	}
	var def struct {
		Steps []struct {
			Name      string
			Arguments map[string]any
		}
	}
	if err := json.Unmarshal([]byte(pl.Definition), &def); err != nil {
		t.Fatal(err)
	}
	pre := def.Steps[0].Arguments
	ins := pre["ProcessingInputs"].([]any)
	if len(ins) != 2 {
		t.Fatalf("preprocess inputs %v", ins)
	}
	dataURI := ins[0].(map[string]any)["S3Input"].(map[string]any)["S3Uri"].(string)
	code := ins[1].(map[string]any)
	codeURI := code["S3Input"].(map[string]any)["S3Uri"].(string)
	if code["InputName"] != "code" || code["S3Input"].(map[string]any)["LocalPath"] != pipesm.CodeDir {
		t.Errorf("code input %v", code)
	}
	entry := pre["AppSpecification"].(map[string]any)["ContainerEntrypoint"].([]any)
	if fmt.Sprint(entry) != "[python3 /opt/ml/processing/input/code/preprocess.py]" {
		t.Errorf("entrypoint %v", entry)
	}
	prefix := "s3://" + bucket + "/sts/local/"
	for _, u := range []string{dataURI, codeURI} {
		if !strings.HasPrefix(u, prefix) {
			t.Errorf("uploaded to %s, want under %s", u, prefix)
		}
	}
	key := strings.TrimPrefix(dataURI, "s3://"+bucket+"/") + "pairs.csv"
	if b, ok := h.f.S3Object(bucket, key); !ok || !strings.Contains(string(b), "sentence1") {
		t.Errorf("data object %s: %q %v", key, b, ok)
	}
	if b, ok := h.f.S3Object(bucket, strings.TrimPrefix(codeURI, "s3://"+bucket+"/")+"preprocess.py"); !ok || !strings.Contains(string(b), "argparse") {
		t.Errorf("script not uploaded: %v", ok)
	}
	hp := def.Steps[1].Arguments["HyperParameters"].(map[string]any)
	var src string
	if err := json.Unmarshal([]byte(hp["sagemaker_submit_directory"].(string)), &src); err != nil || !strings.HasSuffix(src, "/sourcedir.tar.gz") {
		t.Fatalf("sagemaker_submit_directory %q (%v)", hp["sagemaker_submit_directory"], err)
	}
	tgz, ok := h.f.S3Object(bucket, strings.TrimPrefix(src, "s3://"+bucket+"/"))
	if !ok {
		t.Fatalf("%s not uploaded", src)
	}
	if names := tarNames(t, tgz); fmt.Sprint(names) != "[requirements.txt train.py]" {
		t.Errorf("sourcedir.tar.gz holds %v", names)
	}
	eval := def.Steps[2].Arguments["AppSpecification"].(map[string]any)["ContainerEntrypoint"].([]any)
	if eval[1] != pipesm.CodeDir+"/evaluate.py" {
		t.Errorf("file:// script not rewritten: %v", eval)
	}
	text := h.out.String()
	for _, want := range []string{"created bucket s3://" + bucket, "created pipeline arn:aws:sagemaker:eu-west-1:123456789012:pipeline/stspipeline",
		"Execution ", "PreprocessSTSData                  Processing     Executing", "TrainSTSModel                      Training       Executing",
		"CheckMSESTSEvaluation              Condition      Succeeded (outcome True)", " Succeeded in "} {
		if !strings.Contains(text, want) {
			t.Errorf("progress lacks %q:\n%s", want, text)
		}
	}

	t.Logf("first run:\n%s", text)

	// Second run: UpdatePipeline, same content-addressed uploads.
	h.out.Reset()
	mark := h.f.Mark()
	res2, err := h.run(context.Background(), h.runner(), nil)
	if err != nil || res2.Created || res2.Status != "Succeeded" {
		t.Fatalf("second run: %+v %v", res2, err)
	}
	for _, u := range res2.Uploads {
		if !u.Skipped {
			t.Errorf("upload %+v done again", u)
		}
	}
	ops := awsfake.Operations(h.f.CallsSince(mark))
	if ops["s3:PutObject"] != 0 || ops["s3:CreateBucket"] != 0 || ops["sagemaker:UpdatePipeline"] != 1 {
		t.Errorf("second run calls %v", ops)
	}
	if pl2, _ := h.f.Pipeline("stsPipeline"); pl2.Version != 2 || pl2.Definition != pl.Definition {
		t.Errorf("updated pipeline version %d, definition changed: %v", pl2.Version, pl2.Definition != pl.Definition)
	}
	if !strings.Contains(h.out.String(), "updated pipeline") || !strings.Contains(h.out.String(), "unchanged ") {
		t.Errorf("second run progress:\n%s", h.out.String())
	}
}

func tarNames(t *testing.T, b []byte) []string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
}

// TestRunEndsFailed follows executions that fail: a failing job, and the
// condition's else branch reaching a Fail step.
func TestRunEndsFailed(t *testing.T) {
	for _, tc := range []struct {
		name       string
		outcome    func(awsfake.PipelineStep) awsfake.StepOutcome
		want       map[string]string
		reason     string
		progressed string
	}{
		{
			name: "training job fails",
			outcome: func(s awsfake.PipelineStep) awsfake.StepOutcome {
				if s.Name == "TrainSTSModel" {
					return awsfake.StepOutcome{FailureReason: "AlgorithmError: ExecuteUserScriptError: exit code 1"}
				}
				return awsfake.StepOutcome{}
			},
			want:       map[string]string{"PreprocessSTSData": "Succeeded", "TrainSTSModel": "Failed"},
			reason:     "step TrainSTSModel: AlgorithmError: ExecuteUserScriptError: exit code 1",
			progressed: "TrainSTSModel                      Training       Failed\n          AlgorithmError",
		},
		{
			name: "condition false reaches the Fail step",
			outcome: func(s awsfake.PipelineStep) awsfake.StepOutcome {
				return awsfake.StepOutcome{ConditionFalse: s.Type == "Condition"}
			},
			want: map[string]string{"PreprocessSTSData": "Succeeded", "TrainSTSModel": "Succeeded", "EvaluateSTSModel": "Succeeded",
				"CheckMSESTSEvaluation": "Succeeded", "MSETooHigh": "Failed"},
			reason:     "step MSETooHigh: MSE above threshold 6",
			progressed: "CheckMSESTSEvaluation              Condition      Succeeded (outcome False)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.f.SetPipelineBehaviour(awsfake.PipelineBehaviour{Outcome: tc.outcome})
			res, err := h.run(context.Background(), h.runner(), nil)
			var ee *pipesm.ExecutionError
			if !errors.As(err, &ee) || ee.Status != "Failed" || !strings.Contains(ee.Reason, tc.reason) {
				t.Fatalf("error %v, want Failed with %q", err, tc.reason)
			}
			if res.Status != "Failed" || res.FailureReason != awsfake.ExecutionStepFailure {
				t.Errorf("result status %s reason %q", res.Status, res.FailureReason)
			}
			if got := stepStatuses(res); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("steps %v, want %v", got, tc.want)
			}
			if !strings.Contains(h.out.String(), tc.progressed) || !strings.Contains(h.out.String(), " Failed in ") {
				t.Errorf("progress:\n%s", h.out.String())
			}
		})
	}
}

// TestInterruptStopsExecution cancels the run while a step executes: the
// runner calls StopPipelineExecution and follows the run to Stopped.
func TestInterruptStopsExecution(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := h.runner()
	text := pipesm.TextProgress(&h.out, "pipeline.json")
	r.Progress = func(e pipesm.Event) {
		text(e)
		if e.Kind == pipesm.EventStep && e.Step.Name == "TrainSTSModel" && e.Step.Status == "Executing" {
			cancel() // Ctrl-C
		}
	}
	res, err := h.run(ctx, r, nil)
	var ee *pipesm.ExecutionError
	if !errors.As(err, &ee) || ee.Status != "Stopped" {
		t.Fatalf("error %v, want Stopped\n%s", err, h.out.String())
	}
	if !res.Interrupted || stepStatuses(res)["TrainSTSModel"] != "Stopped" {
		t.Errorf("result %+v", res)
	}
	if ex, _ := h.f.Execution(res.ExecutionArn); ex.Status != awsfake.ExecutionStopped || ex.Steps["EvaluateSTSModel"] != "" {
		t.Errorf("fake execution %+v", ex)
	}
	if ops := awsfake.Operations(h.f.Calls()); ops["sagemaker:StopPipelineExecution"] != 1 {
		t.Errorf("calls %v", ops)
	}
	if !strings.Contains(h.out.String(), "interrupted: stopping execution") || !strings.Contains(h.out.String(), "TrainSTSModel                      Training       Stopped") {
		t.Errorf("progress:\n%s", h.out.String())
	}
}

// TestBadInputMakesNoCalls: parameter and definition errors are reported
// before any AWS call.
func TestBadInputMakesNoCalls(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]string
		edit   func(def string, dir string) string
		want   string
	}{
		{name: "unknown parameter", params: map[string]string{"Treshold": "1"}, want: `unknown parameter "Treshold": the definition declares ProcessingInstanceCount (Integer), TrainSize (Float)`},
		{name: "integer", params: map[string]string{"ProcessingInstanceCount": "two"}, want: `parameter ProcessingInstanceCount is an Integer: "two" is not a whole number`},
		{name: "float", params: map[string]string{"MseThreshold": "6,0"}, want: `parameter MseThreshold is a Float: "6,0" is not a number`},
		{name: "boolean", params: map[string]string{"UseSpot": "maybe"}, want: `parameter UseSpot is a Boolean: "maybe" is not true or false`},
		{name: "malformed JSON", edit: func(def, _ string) string { return def[:len(def)/2] }, want: "parse definition: unexpected EOF"},
		{name: "wrong version", edit: func(def, _ string) string { return strings.Replace(def, "2020-12-01", "2019-01-01", 1) }, want: `definition Version "2019-01-01": want "2020-12-01"`},
		{name: "missing local input", edit: func(def, dir string) string { os.RemoveAll(filepath.Join(dir, "data")); return def },
			want: "step PreprocessSTSData Arguments.ProcessingInputs[0].S3Input.S3Uri: local path data: stat "},
		{name: "missing file:// script", edit: func(def, dir string) string { os.Remove(filepath.Join(dir, "code", "evaluate.py")); return def },
			want: "step EvaluateSTSModel Arguments.AppSpecification.ContainerEntrypoint[1]: script file://code/evaluate.py"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if tc.edit != nil {
				def := tc.edit(string(h.definition()), filepath.Dir(h.defn))
				if err := os.WriteFile(h.defn, []byte(def), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := h.run(context.Background(), h.runner(), tc.params)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if calls := h.f.Calls(); len(calls) != 0 {
				t.Errorf("bad input made AWS calls: %v", calls)
			}
		})
	}
}

// TestBucketAndThrottling: an existing default bucket is used as is, a
// name taken by another account is a clear error, and throttled calls are
// retried.
func TestBucketAndThrottling(t *testing.T) {
	t.Run("existing bucket", func(t *testing.T) {
		h := newHarness(t)
		if _, err := h.s3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket,
			CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: region}}); err != nil {
			t.Fatal(err)
		}
		mark := h.f.Mark()
		if _, err := h.run(context.Background(), h.runner(), nil); err != nil {
			t.Fatal(err)
		}
		if ops := awsfake.Operations(h.f.CallsSince(mark)); ops["s3:CreateBucket"] != 0 || ops["s3:HeadBucket"] != 1 {
			t.Errorf("calls %v", ops)
		}
	})
	t.Run("bucket of another account", func(t *testing.T) {
		f := awsfake.New(awsfake.Options{ForeignBuckets: []string{bucket}})
		defer f.Close()
		h := newHarness(t)
		h.f.Close()
		h.f = f
		for k, v := range f.Env() {
			t.Setenv(k, v)
		}
		cfg, err := awsauth.Load(context.Background(), awsauth.Options{Region: region})
		if err != nil {
			t.Fatal(err)
		}
		h.sm, h.s3 = sm.NewFromConfig(cfg), s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
		_, err = h.run(context.Background(), h.runner(), nil)
		if err == nil || !strings.Contains(err.Error(), "create default bucket "+bucket+": the name belongs to another AWS account") {
			t.Fatalf("error %v", err)
		}
		if _, ok := f.Pipeline("stsPipeline"); ok {
			t.Error("pipeline created although the upload failed")
		}
	})
	t.Run("throttling and lost responses", func(t *testing.T) {
		h := newHarness(t)
		h.f.SetFaults(awsfake.Faults{Throttle: 0.3, LostResponse: 0.1})
		res, err := h.run(context.Background(), h.runner(), nil)
		if err != nil || res.Status != "Succeeded" {
			t.Fatalf("run under throttling: %v", err)
		}
		faults := map[string]int{}
		for _, c := range h.f.Calls() {
			faults[c.Fault]++
		}
		if faults["throttle"] == 0 || faults["lost"] == 0 {
			t.Errorf("faults injected: %v", faults)
		}
		// Retried creates and starts are idempotent (ClientRequestToken):
		// one pipeline, one execution.
		ex, ok := h.f.Execution(res.ExecutionArn)
		if !ok || ex.Status != awsfake.ExecutionSucceeded {
			t.Errorf("execution %+v", ex)
		}
		out, err := h.sm.ListPipelineExecutions(context.Background(), &sm.ListPipelineExecutionsInput{PipelineName: aws.String("stsPipeline")})
		if err != nil || len(out.PipelineExecutionSummaries) != 1 {
			t.Errorf("executions after retries: %v %v", out, err)
		}
	})
}

// TestManyStepsArePaginated: an execution with more steps than one page of
// ListPipelineExecutionSteps is followed completely.
func TestManyStepsArePaginated(t *testing.T) {
	h := newHarness(t)
	var steps []string
	for i := 0; i < 130; i++ {
		steps = append(steps, fmt.Sprintf(`{"Name":"Fail%03d","Type":"Fail","Arguments":{"ErrorMessage":"never"},"DependsOn":[]}`, i))
	}
	// Fail steps that are never reached would not be listed: use
	// Condition steps, which succeed, instead.
	def := `{"Version":"2020-12-01","Parameters":[],"Steps":[` + strings.ReplaceAll(strings.Join(steps, ","), `"Type":"Fail","Arguments":{"ErrorMessage":"never"}`, `"Type":"Condition","Arguments":{"Conditions":[]}`) + `]}`
	if err := os.WriteFile(h.defn, []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := h.run(context.Background(), h.runner(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Steps) != 130 {
		t.Fatalf("%d steps followed, want 130", len(res.Steps))
	}
	for _, s := range res.Steps {
		if s.Status != "Succeeded" {
			t.Fatalf("step %+v", s)
		}
	}
	ops := awsfake.Operations(h.f.Calls())
	if ops["sagemaker:ListPipelineExecutionSteps"] < 2*ops["sagemaker:DescribePipelineExecution"]-2 {
		t.Errorf("steps not paginated: %v", ops)
	}
}

// A step with CacheConfig that SageMaker reuses is reported as a cache hit,
// with the execution it came from, as a local run reports it.
func TestRunReportsCacheHits(t *testing.T) {
	h := newHarness(t)
	var def map[string]any
	if err := json.Unmarshal(h.definition(), &def); err != nil {
		t.Fatal(err)
	}
	for _, s := range def["Steps"].([]any) {
		if m := s.(map[string]any); m["Name"] == "PreprocessSTSData" {
			m["CacheConfig"] = map[string]any{"Enabled": true, "ExpireAfter": "P30D"}
		}
	}
	b, _ := json.Marshal(def)
	if err := os.WriteFile(h.defn, b, 0o644); err != nil {
		t.Fatal(err)
	}
	first, err := h.run(context.Background(), h.runner(), nil)
	if err != nil {
		t.Fatalf("first run: %v\n%s", err, h.out.String())
	}
	h.out.Reset()
	second, err := h.run(context.Background(), h.runner(), nil)
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, h.out.String())
	}
	for _, s := range second.Steps {
		want := ""
		if s.Name == "PreprocessSTSData" {
			want = first.ExecutionArn
		}
		if !strings.EqualFold(s.CachedFrom, want) {
			t.Errorf("step %s cached from %q, want %q", s.Name, s.CachedFrom, want)
		}
	}
	if !regexp.MustCompile(`PreprocessSTSData +Processing +Succeeded \(cache hit\)`).MatchString(h.out.String()) {
		t.Errorf("progress does not show the cache hit:\n%s", h.out.String())
	}
}

// existsAs answers CreatePipeline of an existing pipeline with another
// wording or code an implementation of the API may use.
type existsAs struct {
	pipesm.SageMakerAPI
	code, msg string
}

func (e existsAs) CreatePipeline(ctx context.Context, in *sm.CreatePipelineInput, opts ...func(*sm.Options)) (*sm.CreatePipelineOutput, error) {
	if _, err := e.SageMakerAPI.(*sm.Client).DescribePipeline(ctx, &sm.DescribePipelineInput{PipelineName: in.PipelineName}); err == nil {
		return nil, &smithy.GenericAPIError{Code: e.code, Message: e.msg}
	}
	return e.SageMakerAPI.CreatePipeline(ctx, in, opts...)
}

// The upsert updates an existing pipeline whichever way the API says the
// name is taken, and reports any other CreatePipeline error as it is.
func TestUpsertRecognisesAnExistingPipeline(t *testing.T) {
	for _, tc := range []struct {
		code, msg string
		update    bool
	}{
		{"ValidationException", "Pipeline names must be unique within an AWS account and region", true},
		{"ValidationException", "Pipeline stsPipeline already exists", true},
		{"ConflictException", "Pipeline stsPipeline exists", true},
		{"ValidationException", "Role is not authorized", false},
	} {
		t.Run(tc.msg, func(t *testing.T) {
			h := newHarness(t)
			if _, err := h.run(context.Background(), h.runner(), nil); err != nil {
				t.Fatal(err)
			}
			r := h.runner()
			r.SM = existsAs{SageMakerAPI: h.sm, code: tc.code, msg: tc.msg}
			res, err := h.run(context.Background(), r, nil)
			if tc.update {
				if err != nil || res.Created || res.Status != "Succeeded" {
					t.Fatalf("second run: %+v, %v", res, err)
				}
				if pl, _ := h.f.Pipeline("stsPipeline"); pl.Version != 2 {
					t.Errorf("pipeline version %d, want 2 (updated)", pl.Version)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("want the CreatePipeline error, got %v", err)
			}
		})
	}
}
