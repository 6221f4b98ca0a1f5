package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/iampolicy"
	"github.com/bridgeops/bridge/internal/pipeline/launch"
	pipesm "github.com/bridgeops/bridge/internal/pipeline/sagemaker"
)

const pipelineRole = "arn:aws:iam::123456789012:role/sts-sagemaker"

// pipelineFake starts the AWS fake and sets the seed's environment for a
// SageMaker pipeline run; it returns the path of a fresh copy of the
// seed-shaped example definition.
func pipelineFake(t *testing.T) (*awsfake.Server, string) {
	t.Helper()
	f := awsfake.New(awsfake.Options{})
	t.Cleanup(f.Close)
	for k, v := range f.Env() {
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	t.Setenv("BRIDGE_ENV_FILE", filepath.Join(dir, "none.env"))
	t.Setenv("AWS_ROLE", pipelineRole)
	t.Setenv("AWS_DEFAULT_REGION", "eu-west-1")
	t.Setenv("BRIDGE_PIPELINE_POLL_INTERVAL_S", "0.001")
	t.Setenv("BRDG_DEPLOY_AWS_MAX_BACKOFF_S", "0.002")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "internal", "pipeline", "sagemaker", "testdata", "sts"))); err != nil {
		t.Fatal(err)
	}
	return f, filepath.Join(dir, "pipeline.json")
}

// seedAssumeRolePolicy is the seed's "Permissions for assuming a role"
// policy for the role.
func seedAssumeRolePolicy(t *testing.T, role string) *iampolicy.Policy {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "seeds", "003_1fd8159abfe7528e.txt"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	i := strings.Index(s, "### Permissions for assuming a role")
	j := strings.Index(s[i:], "```json\n")
	k := strings.Index(s[i+j+8:], "```")
	if i < 0 || j < 0 || k < 0 {
		t.Fatal("no assume-role policy in the seed")
	}
	doc := strings.ReplaceAll(s[i+j+8:i+j+8+k], iampolicy.RolePlaceholder, role)
	p, err := iampolicy.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPipelineOnSageMakerPolicy runs the SageMaker executor as `bridge
// pipeline run --on sagemaker` calls it, against the AWS fake, and checks
// every call it makes against `bridge policy pipeline` (and the role
// assumption against the seed's assume-role policy).
func TestPipelineOnSageMakerPolicy(t *testing.T) {
	f, defn := pipelineFake(t)
	policyDoc, err := cli(t, "policy", "pipeline", "--account", awsfake.DefaultAccount, "--region", "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	policy, err := iampolicy.Parse([]byte(policyDoc))
	if err != nil {
		t.Fatalf("bridge policy pipeline printed an invalid policy: %v\n%s", err, policyDoc)
	}
	c, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	def, _ := os.ReadFile(defn)

	var out bytes.Buffer
	// As bridge pipeline run --on sagemaker does: run, then the exit status.
	runPipeline := func(params map[string]string, jsonOut bool) error {
		end, err := launch.SageMaker(context.Background(), c, defn, def, params, &out, jsonOut)
		if err != nil {
			return err
		}
		return pipelineExit(end, jsonOut)
	}
	if err := runPipeline(map[string]string{"TrainSize": "0.75"}, false); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "created pipeline arn:aws:sagemaker:eu-west-1:123456789012:pipeline/stspipeline") ||
		!regexp.MustCompile(`(?m)^Execution \S+ Succeeded in `).MatchString(out.String()) {
		t.Fatalf("progress:\n%s", out.String())
	}

	// A second run (UpdatePipeline) that fails, in JSON.
	f.SetPipelineBehaviour(awsfake.PipelineBehaviour{Outcome: func(s awsfake.PipelineStep) awsfake.StepOutcome {
		if s.Name == "EvaluateSTSModel" {
			return awsfake.StepOutcome{FailureReason: "AlgorithmError: evaluation.json not written"}
		}
		return awsfake.StepOutcome{}
	}})
	out.Reset()
	err = runPipeline(nil, true)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || ee.err == nil || !strings.Contains(ee.err.Error(), "step EvaluateSTSModel: AlgorithmError: evaluation.json not written") {
		t.Fatalf("failing run: %v", err)
	}
	var res pipesm.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("-o json output: %v\n%s", err, out.String())
	}
	if res.Created || res.Status != "Failed" || len(res.Steps) != 3 || res.Steps[2].FailureReason != "AlgorithmError: evaluation.json not written" {
		t.Errorf("json result %+v", res)
	}

	calls := f.Calls()
	if v := awsfake.Violations(calls, policy, "sts:GetCallerIdentity", "sts:AssumeRole", "sts:TagSession"); len(v) > 0 {
		t.Errorf("calls outside bridge policy pipeline:\n%s", strings.Join(v, "\n"))
	}
	assume := seedAssumeRolePolicy(t, pipelineRole)
	var stsCalls []awsfake.Call
	for _, call := range calls {
		if call.Operation == "AssumeRole" {
			stsCalls = append(stsCalls, call)
		}
	}
	if len(stsCalls) == 0 {
		t.Fatal("AWS_ROLE was not assumed")
	}
	if v := awsfake.Violations(stsCalls, assume); len(v) > 0 {
		t.Errorf("role assumption outside the seed's policy: %v", v)
	}
	for _, s := range f.AssumedSessions() {
		if s.RoleARN != pipelineRole || s.Tags["Application"] != "bridge" || s.Tags["Pipeline"] != "stsPipeline" {
			t.Errorf("assumed session %+v", s)
		}
	}
	// The policy is not a blanket one: other pipelines and buckets are out.
	for _, probe := range []struct{ action, resource string }{
		{"sagemaker:CreatePipeline", "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/otherpipeline"},
		{"sagemaker:DeletePipeline", "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/stspipeline"},
		{"s3:PutObject", "arn:aws:s3:::sagemaker-eu-west-1-123456789012/other/x"},
		{"iam:PassRole", "arn:aws:iam::123456789012:role/admin"},
	} {
		if policy.Allowed(probe.action, probe.resource) {
			t.Errorf("policy allows %s on %s", probe.action, probe.resource)
		}
	}
}

// TestPipelinePolicyCommandErrors: the pipeline policy names the execution
// role, so it needs AWS_ROLE.
func TestPipelinePolicyCommandErrors(t *testing.T) {
	pipelineFake(t)
	for _, tc := range []struct{ role, want string }{
		{"", "AWS_ROLE is not set"},
		{"sts-sagemaker", `AWS_ROLE="sts-sagemaker": want a role ARN`},
	} {
		t.Setenv("AWS_ROLE", tc.role)
		if _, err := cli(t, "policy", "pipeline", "--account", awsfake.DefaultAccount, "--region", "eu-west-1"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("AWS_ROLE=%q: error %v, want %q", tc.role, err, tc.want)
		}
	}
}

// pipelineBinary runs the bridge binary from a fresh working directory.
func pipelineBinary(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(monitorTestBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = os.Environ() // the fake's endpoint and the seed's variables (t.Setenv)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// TestPipelinePolicyBinary prints the pipeline policy with the real binary,
// the seed's settings coming from a .env file.
func TestPipelinePolicyBinary(t *testing.T) {
	_, defn := pipelineFake(t)
	dir := filepath.Dir(defn)
	os.Unsetenv("AWS_ROLE") // from .env only
	t.Setenv("BRIDGE_ENV_FILE", ".env")
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("AWS_ROLE="+pipelineRole+"\nPIPELINE_NAME=My-Pipeline\nBASE_JOB_PREFIX=mlops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := pipelineBinary(t, dir, "policy", "pipeline", "--account", "210987654321", "--region", "eu-central-1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	p, err := iampolicy.Parse([]byte(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []struct{ action, resource string }{
		{"sagemaker:StartPipelineExecution", "arn:aws:sagemaker:eu-central-1:210987654321:pipeline/my-pipeline"},
		{"sagemaker:StopPipelineExecution", "arn:aws:sagemaker:eu-central-1:210987654321:pipeline/my-pipeline/execution/abc123def456"},
		{"s3:PutObject", "arn:aws:s3:::sagemaker-eu-central-1-210987654321/mlops/local/code/x/train.py"},
		{"iam:PassRole", pipelineRole},
	} {
		if !p.Allowed(want.action, want.resource) {
			t.Errorf("policy does not allow %s on %s:\n%s", want.action, want.resource, out)
		}
	}
}

// TestPipelineRunOnSageMakerBinary runs `bridge pipeline run FILE --on
// sagemaker` with the real binary against the AWS fake: a run to
// Succeeded, a run to Failed (exit code 1, the step's reason on stderr) and
// an unknown parameter (no AWS call).
func TestPipelineRunOnSageMakerBinary(t *testing.T) {
	f, defn := pipelineFake(t)
	dir := filepath.Dir(defn)
	out, errOut, code := pipelineBinary(t, dir, "pipeline", "run", "pipeline.json", "--on", "sagemaker", "-p", "TrainSize=0.7")
	if code != 0 || !regexp.MustCompile(`(?m)^Execution \S+ Succeeded in `).MatchString(out) ||
		!regexp.MustCompile(`(?m)^ +[0-9.]+s  RegisterSTSModel +RegisterModel +Succeeded$`).MatchString(out) {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	ex := f.Calls()
	started := false
	for _, c := range ex {
		started = started || c.Operation == "StartPipelineExecution"
	}
	if !started {
		t.Fatal("no StartPipelineExecution")
	}

	f.SetPipelineBehaviour(awsfake.PipelineBehaviour{Outcome: func(s awsfake.PipelineStep) awsfake.StepOutcome {
		if s.Name == "TrainSTSModel" {
			return awsfake.StepOutcome{FailureReason: "AlgorithmError: exit code 1"}
		}
		return awsfake.StepOutcome{}
	}})
	out, errOut, code = pipelineBinary(t, dir, "pipeline", "run", "pipeline.json", "--on", "sagemaker", "-o", "json")
	if code != 1 || !strings.Contains(errOut, "Failed") || !strings.Contains(errOut, "AlgorithmError: exit code 1") {
		t.Fatalf("failing run: exit %d\n%s\n%s", code, out, errOut)
	}
	var res pipesm.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Status != "Failed" {
		t.Errorf("-o json: %v\n%s", err, out)
	}

	mark := f.Mark()
	_, errOut, code = pipelineBinary(t, dir, "pipeline", "run", "pipeline.json", "--on", "sagemaker", "-p", "Nope=1")
	if code == 0 || !strings.Contains(errOut, `unknown parameter "Nope"`) {
		t.Errorf("unknown parameter: exit %d\n%s", code, errOut)
	}
	if calls := f.CallsSince(mark); len(calls) != 0 {
		t.Errorf("bad parameter made AWS calls: %v", calls)
	}

	// Ctrl-C while a step executes: the execution is stopped.
	f.SetPipelineBehaviour(awsfake.PipelineBehaviour{StepPhase: 300 * time.Millisecond})
	cmd := exec.Command(monitorTestBinary(t), "pipeline", "run", "pipeline.json", "--on", "sagemaker")
	cmd.Dir, cmd.Env = dir, os.Environ()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var seen []string
	deadline := time.After(20 * time.Second)
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("run ended before a step executed:\n%s\n%s", strings.Join(seen, "\n"), stderr.String())
			}
			seen = append(seen, l)
			if strings.Contains(l, "PreprocessSTSData") && strings.Contains(l, "Executing") {
				break wait
			}
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("no step executing:\n%s", strings.Join(seen, "\n"))
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	for l := range lines {
		seen = append(seen, l)
	}
	err = cmd.Wait()
	text := strings.Join(seen, "\n")
	if cmd.ProcessState.ExitCode() != 2 || !strings.Contains(text, "interrupted: stopping execution") ||
		!regexp.MustCompile(`(?m)^Execution \S+ Stopped in `).MatchString(text) {
		t.Fatalf("interrupted run: %v\n%s\n%s", err, text, stderr.String())
	}
	last := ""
	for _, c := range f.Calls() {
		if c.Operation == "StartPipelineExecution" {
			last = ""
		}
		if c.Operation == "StopPipelineExecution" {
			last = c.Operation
		}
	}
	if last == "" {
		t.Error("no StopPipelineExecution after the last start")
	}
}
