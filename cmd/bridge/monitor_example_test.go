package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/bridgerun/runtest"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
)

// TestExampleSTSMonitorScript runs examples/sts/monitor.sh from a fresh
// directory with the real binary: the pipeline registers the model, bridge
// run serves it with capture, the test rows go out with inference ids, the
// ground truth is written and the seed's hourly schedule
// (cron(0 * ? * * *), -PT1H/-PT0H) checks the hour against the pipeline's
// baseline. The script runs with wrong labels (FLIP=1): violations; the
// same captures with the true labels, as a second schedule: none.
func TestExampleSTSMonitorScript(t *testing.T) {
	skipWithoutSandbox(t)
	py := pythontest.Interpreter(t)
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		t.Skip("the example's preprocess step downloads with boto3: install python3-boto3")
	}
	script, _ := filepath.Abs("../../examples/sts/monitor.sh")
	wd := t.TempDir()
	cmd := exec.Command("bash", script)
	cmd.Dir = wd
	cmd.Env = append(pipelineEnv(t), "BRIDGE="+monitorTestBinary(t), "BRIDGE_PYTHON="+py, "ADDR="+freeAddr(t),
		"FLIP=1", "ROWS=300", "LOG_LEVEL=warn", "BRIDGE_PYTHON_PRESTART=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("monitor.sh: %v\n%s", err, out)
	}
	row := regexp.MustCompile(`(?m)^\d+\s+(\S+)\s+\S+\s+(\S+)\s+(\d+)\s+(\d+)\s`)
	m := row.FindStringSubmatch(string(out))
	if m == nil || m[2] != "CompletedWithViolations" || m[3] == "0" {
		t.Fatalf("execution %q, want CompletedWithViolations with records\n%s", m, out)
	}
	windowStart := m[1]

	// The true labels are 5 - the wrong ones.
	f, err := os.Open(filepath.Join(wd, "labels.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) < 2 {
		t.Fatalf("labels.csv: %v %d rows", err, len(rows))
	}
	var b strings.Builder
	b.WriteString("inference_id,label\n")
	for _, r := range rows[1:] {
		v, _ := strconv.Atoi(r[1])
		fmt.Fprintf(&b, "%s,%d\n", r[0], 5-v)
	}
	runtest.WriteFile(t, filepath.Join(wd, "true.csv"), b.String())
	start, err := time.Parse(time.RFC3339, windowStart)
	if err != nil {
		t.Fatal(err)
	}
	at := start.Add(30 * time.Minute).Format(time.RFC3339)
	for _, args := range [][]string{
		{"monitor", "ground-truth", "add", "--csv", "true.csv", "--output", "gt-true", "--time", at},
		{"monitor", "schedule", "create", "sts-true", "--cron", "cron(0 * ? * * *)", "--type", "model-quality",
			"--endpoint", "brdg-stsPackageGroup-Production", "--ground-truth", "gt-true", "--baseline", "sts-baseline",
			"--start-offset", "-PT1H", "--end-offset", "-PT0H", "--output", "reports/sts-true", "--allow-missing"},
	} {
		if o, e, code := pipelineCLI(t, wd, args...); code != 0 {
			t.Fatalf("%v: %d %s %s", args, code, o, e)
		}
	}
	o, e, code := pipelineCLI(t, wd, "monitor", "schedule", "run", "sts-true", "--now", start.Add(time.Hour).Format(time.RFC3339))
	if m := row.FindStringSubmatch(o); code != 0 || m == nil || m[2] != "Completed" || m[3] == "0" {
		t.Fatalf("true labels: execution %q, want Completed with records\n%s %s", m, o, e)
	}
}
