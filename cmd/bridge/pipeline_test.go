package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/bridgerun/runtest"
	"github.com/bridgeops/bridge/internal/pipeline/local"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
)

// pipelineCLI runs the real binary in dir with the default home (./.bridge).
func pipelineCLI(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(monitorTestBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = pipelineEnv(t)
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

func pipelineEnv(t *testing.T) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BRIDGE_HOME=") && !strings.HasPrefix(kv, "BRIDGE_MLFLOW_URI=") && !strings.HasPrefix(kv, "BRIDGE_PYTHON=") {
			env = append(env, kv)
		}
	}
	return append(env, "BRIDGE_ENV_FILE=/nonexistent/.env", "BRIDGE_PYTHON="+pythontest.Interpreter(t))
}

func skipWithoutSandbox(t *testing.T) {
	if err := local.Probe(); err != nil {
		t.Skip(err)
	}
}

func TestPipelineCLIRunsTheExampleFromAFreshDirectory(t *testing.T) {
	skipWithoutSandbox(t)
	py := pythontest.Interpreter(t)
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		t.Skip("the example's preprocess step downloads with boto3: install python3-boto3")
	}
	example, _ := filepath.Abs("../../examples/sts/pipeline.json")
	wd := t.TempDir()

	out, errOut, code := pipelineCLI(t, wd, "pipeline", "validate", example)
	if code != 0 || !strings.Contains(out, "valid (7 steps, 8 parameters)") {
		t.Fatalf("validate: %d %s %s", code, out, errOut)
	}
	out, _, code = pipelineCLI(t, wd, "pipeline", "graph", example, "--format", "mermaid")
	if code != 0 || !strings.Contains(out, "flowchart LR") || !strings.Contains(out, "-->|If|") {
		t.Fatalf("graph: %d %s", code, out)
	}

	out, errOut, code = pipelineCLI(t, wd, "pipeline", "run", example, "-p", "Rows=400")
	if code != 0 || !strings.Contains(out, "TrainSTSModel") || !strings.Contains(out, "Succeeded in") {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(wd, ".bridge", "registry.db")); err != nil {
		t.Fatalf("default home: %v", err)
	}
	if _, err := os.Stat(filepath.Join(wd, ".bridge", "s3", "bridge-sts-example", "evaluation", "evaluation.json")); err != nil {
		t.Fatalf("object store layout: %v", err)
	}

	// The baseline dataset feeds the model-quality monitor as it is.
	out, errOut, code = pipelineCLI(t, wd, "monitor", "baseline", "model-quality", "--dataset", ".bridge/s3/bridge-sts-example/baseline/baseline.csv",
		"--problem-type", "Regression", "--inference-attribute", "prediction", "--ground-truth-attribute", "label", "--output", "mq")
	if code != 0 {
		t.Fatalf("model-quality baseline of the example's dataset: %d %s %s", code, out, errOut)
	}

	out, _, code = pipelineCLI(t, wd, "pipeline", "executions", "-o", "json")
	var execs []map[string]any
	if err := json.Unmarshal([]byte(out), &execs); err != nil || code != 0 || len(execs) != 1 || execs[0]["PipelineExecutionStatus"] != "Succeeded" {
		t.Fatalf("executions: %v %s", err, out)
	}
	id := execs[0]["PipelineExecutionId"].(string)
	out, _, code = pipelineCLI(t, wd, "pipeline", "describe", id)
	if code != 0 || !strings.Contains(out, "CheckMSESTSEvaluation") || !strings.Contains(out, "True") {
		t.Fatalf("describe: %s", out)
	}
	out, _, code = pipelineCLI(t, wd, "pipeline", "logs", id, "TrainSTSModel")
	if code != 0 || !strings.Contains(out, "trained on") {
		t.Fatalf("logs: %s", out)
	}
	// A fully cached re-run, as JSON.
	out, errOut, code = pipelineCLI(t, wd, "pipeline", "run", example, "-p", "Rows=400", "-o", "json")
	var again map[string]any
	if err := json.Unmarshal([]byte(out), &again); err != nil || code != 0 {
		t.Fatalf("cached run: %v %d %s %s", err, code, out, errOut)
	}
	hits := 0
	for _, s := range again["Steps"].([]any) {
		if s.(map[string]any)["CacheHit"] == true {
			hits++
		}
	}
	if hits != 4 {
		t.Errorf("%d cache hits, want 4: %s", hits, out)
	}

	// The registered, Approved version is in Production: bridge run serves it.
	// Two versions of the same artifact (the cached re-run registers a
	// second one): the second loads into a pre-started server.
	routerAddr, _ := startServeIn(t, wd)
	var answer string
	defer func() {
		if t.Failed() {
			t.Logf("last answer: %s", answer)
		}
	}()
	runtest.Eventually(t, 60*time.Second, "the pipeline's model to answer on its Production endpoint", func() bool {
		resp, err := http.Post("http://"+routerAddr+"/stsPackageGroup/Production/invocations", "application/json",
			strings.NewReader(`{"instances": [[0.05, 0.05, 0.0, 0.1], [0.95, 0.9, 0.3, 0.9]]}`))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answer = string(b)
		return resp.StatusCode == 200
	})
	var preds struct{ Predictions []float64 }
	if err := json.Unmarshal([]byte(answer), &preds); err != nil || len(preds.Predictions) != 2 || preds.Predictions[0] <= preds.Predictions[1] {
		t.Errorf("predictions %s: want a higher similarity for the nearly identical pair", answer)
	}

	// Bad input: clear errors, exit 1, nothing run.
	runtest.WriteFile(t, filepath.Join(wd, "tune.json"), `{"Version": "2020-12-01", "Steps": [{"Name": "Tune", "Type": "Tuning", "Arguments": {}}]}`)
	runtest.WriteFile(t, filepath.Join(wd, "cycle.json"), `{"Version": "2020-12-01", "Steps": [
		{"Name": "A", "Type": "Fail", "DependsOn": ["B"]}, {"Name": "B", "Type": "Fail", "DependsOn": ["A"]}]}`)
	runtest.WriteFile(t, filepath.Join(wd, "broken.yaml"), "steps:\n  - name: [\n")
	runtest.WriteFile(t, filepath.Join(wd, "broken.json"), "{\"Version\": \"2020-12-01\",\n \"Steps\": [}")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"pipeline", "run", example, "-p", "Nope=1"}, `unknown parameter "Nope"`},
		{[]string{"pipeline", "run", example, "-p", "Rows=many"}, "parameter Rows"},
		{[]string{"pipeline", "run", "missing.json"}, "missing.json"},
		{[]string{"pipeline", "run", "tune.json"}, "tune.json: step Tune: Type: step type Tuning is not supported by the local executor"},
		{[]string{"pipeline", "validate", "cycle.json"}, "cycle.json: step"},
		{[]string{"pipeline", "run", "broken.yaml"}, "broken.yaml: malformed YAML"},
		{[]string{"pipeline", "compile", "broken.json"}, "broken.json: malformed JSON: line 2"},
		{[]string{"pipeline", "graph", example, "--format", "png"}, "--format"},
		{[]string{"pipeline", "logs", id, "NoSuchStep"}, "no step \"NoSuchStep\""},
		{[]string{"pipeline", "describe", "nosuchexec"}, "no such pipeline execution"},
	} {
		_, errOut, code := pipelineCLI(t, wd, tc.args...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errOut, tc.want)
		}
	}
	out, _, _ = pipelineCLI(t, wd, "pipeline", "executions", "-o", "json")
	if err := json.Unmarshal([]byte(out), &execs); err != nil || len(execs) != 2 {
		t.Errorf("bad input started executions: %s", out)
	}
}

func TestPipelineCLIStop(t *testing.T) {
	skipWithoutSandbox(t)
	wd := t.TempDir()
	runtest.WriteFile(t, filepath.Join(wd, "code", "sleep.py"), "import time\nprint('sleeping', flush=True)\ntime.sleep(300)\n")
	runtest.WriteFile(t, filepath.Join(wd, "sleep.yaml"), `
steps:
  - name: Sleep
    type: Processing
    arguments:
      AppSpecification:
        ImageUri: 141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3
        ContainerEntrypoint: [python3, /opt/ml/processing/input/code/sleep.py]
      ProcessingInputs:
        - InputName: code
          S3Input: {S3Uri: code/sleep.py, LocalPath: /opt/ml/processing/input/code}
`)
	run := exec.Command(monitorTestBinary(t), "pipeline", "run", "sleep.yaml")
	run.Dir, run.Env = wd, pipelineEnv(t)
	var runOut bytes.Buffer
	run.Stdout, run.Stderr = &runOut, &runOut
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	defer run.Process.Kill()
	var id string
	runtest.Eventually(t, 20*time.Second, "the step to execute", func() bool {
		out, _, _ := pipelineCLI(t, wd, "pipeline", "executions", "-o", "json")
		var execs []map[string]any
		if json.Unmarshal([]byte(out), &execs) != nil || len(execs) == 0 {
			return false
		}
		id = execs[0]["PipelineExecutionId"].(string)
		d, _, _ := pipelineCLI(t, wd, "pipeline", "logs", id, "Sleep")
		return strings.Contains(d, "sleeping")
	})
	out, errOut, code := pipelineCLI(t, wd, "pipeline", "stop", id)
	if code != 0 || !strings.Contains(out, "Stopped") {
		t.Fatalf("stop: %d %s %s", code, out, errOut)
	}
	err := run.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("run exited with %v, want status 2\n%s", err, runOut.String())
	}
	out, _, _ = pipelineCLI(t, wd, "pipeline", "describe", id, "-o", "json")
	var e map[string]any
	if err := json.Unmarshal([]byte(out), &e); err != nil || e["PipelineExecutionStatus"] != "Stopped" || e["Steps"].([]any)[0].(map[string]any)["StepStatus"] != "Stopped" {
		t.Fatalf("describe after stop: %s", out)
	}
	_, errOut, code = pipelineCLI(t, wd, "pipeline", "stop", id)
	if code != 1 || !strings.Contains(errOut, "is Stopped, not running") {
		t.Errorf("second stop: %d %s", code, errOut)
	}

	// A run killed outright (SIGKILL) cannot record its end: the history
	// closes it when it is next read, and its step's process died with it.
	killed := exec.Command(monitorTestBinary(t), "pipeline", "run", "sleep.yaml")
	killed.Dir, killed.Env = wd, pipelineEnv(t)
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	var second string
	runtest.Eventually(t, 20*time.Second, "the second run's step to execute", func() bool {
		out, _, _ := pipelineCLI(t, wd, "pipeline", "executions", "-o", "json")
		var execs []map[string]any
		if json.Unmarshal([]byte(out), &execs) != nil || len(execs) < 2 {
			return false
		}
		second = execs[0]["PipelineExecutionId"].(string)
		d, _, _ := pipelineCLI(t, wd, "pipeline", "logs", second, "Sleep")
		return strings.Contains(d, "sleeping")
	})
	killed.Process.Kill()
	killed.Wait()
	out, _, _ = pipelineCLI(t, wd, "pipeline", "describe", second, "-o", "json")
	if err := json.Unmarshal([]byte(out), &e); err != nil || e["PipelineExecutionStatus"] != "Stopped" {
		t.Fatalf("describe after SIGKILL: %s", out)
	}
}

// Not as root, steps run in an unprivileged user namespace: the binary runs
// here as nobody (uid 65534) from a directory nobody owns.
func TestPipelineCLIUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("drops from root to nobody; as another user the other tests already take the unprivileged path")
	}
	if b, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err != nil || strings.TrimSpace(string(b)) == "0" {
		t.Skip("user namespaces are disabled on this kernel")
	}
	if b, err := os.ReadFile("/proc/sys/kernel/unprivileged_userns_clone"); err == nil && strings.TrimSpace(string(b)) == "0" {
		t.Skip("unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0)")
	}
	if err := os.MkdirAll("/opt/ml", 0o755); err != nil {
		t.Fatal(err)
	}
	const nobody = 65534
	bin := monitorTestBinary(t)
	wd := t.TempDir()
	runtest.WriteFile(t, filepath.Join(wd, "code", "who.py"), `import os
os.makedirs("/opt/ml/processing/out", exist_ok=True)
open("/opt/ml/processing/out/who.txt", "w").write(str(sorted(os.listdir("/opt/ml/processing/input/code"))))
`)
	runtest.WriteFile(t, filepath.Join(wd, "who.yaml"), `
steps:
  - name: Who
    type: Processing
    arguments:
      AppSpecification:
        ImageUri: 141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3
        ContainerEntrypoint: [python3, /opt/ml/processing/input/code/who.py]
      ProcessingInputs:
        - {InputName: code, S3Input: {S3Uri: code/who.py, LocalPath: /opt/ml/processing/input/code}}
      ProcessingOutputConfig:
        Outputs:
          - {OutputName: out, S3Output: {S3Uri: s3://who-bucket/out, LocalPath: /opt/ml/processing/out}}
`)
	for _, p := range []string{wd, filepath.Join(wd, "code"), filepath.Join(wd, "code", "who.py"), filepath.Join(wd, "who.yaml")} {
		if err := os.Chown(p, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	// nobody must reach the binary and the working directory.
	for _, p := range []string{filepath.Dir(bin), filepath.Dir(filepath.Dir(bin)), filepath.Dir(wd)} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "pipeline", "run", "who.yaml")
	cmd.Dir, cmd.Env = wd, pipelineEnv(t)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("run as nobody: %v\n%s", err, out)
	}
	p := filepath.Join(wd, ".bridge", "s3", "who-bucket", "out", "who.txt")
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "['who.py']" {
		t.Fatalf("who.txt %q, %v", b, err)
	}
	if st, err := os.Stat(p); err != nil || st.Sys().(*syscall.Stat_t).Uid != nobody {
		t.Errorf("output not owned by the caller: %v", err)
	}
}
