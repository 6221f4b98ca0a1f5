package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/bridgerun/runtest"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
)

// versionTags runs bridge models show NAME -o json against reg and returns
// version -> tag -> value.
func versionTags(t *testing.T, wd, reg, name string) map[string]map[string]string {
	t.Helper()
	out, errOut, code := pipelineCLI(t, wd, "models", "show", name, "-o", "json", "--registry", reg)
	if code != 0 {
		t.Fatalf("models show %s: exit %d: %s", name, code, errOut)
	}
	var doc struct {
		ModelVersions []struct {
			Version string
			Tags    []struct{ Key, Value string }
		} `json:"model_versions"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("models show %s -o json: %v\n%s", name, err, out)
	}
	tags := map[string]map[string]string{}
	for _, v := range doc.ModelVersions {
		tags[v.Version] = map[string]string{}
		for _, tag := range v.Tags {
			tags[v.Version][tag.Key] = tag.Value
		}
	}
	return tags
}

// startServeIn starts bridge run in wd with the default home (./.bridge)
// and default settings; it is stopped with SIGTERM when t ends, and its
// output is logged if t failed.
func startServeIn(t *testing.T, wd string) (routerAddr, registryAddr string) {
	t.Helper()
	routerAddr, registryAddr = freeAddr(t), freeAddr(t)
	serve := exec.Command(monitorTestBinary(t), "run", "--addr", routerAddr, "--registry-addr", registryAddr)
	serve.Dir, serve.Env = wd, pipelineEnv(t)
	var out bytes.Buffer
	serve.Stdout, serve.Stderr = &out, &out
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		serve.Process.Signal(syscall.SIGTERM)
		serve.Wait()
		if t.Failed() {
			t.Logf("bridge run:\n%s", out.String())
		}
	})
	return routerAddr, registryAddr
}

// TestRunServesSecondVersionOfTheSameModelOnAPrestartedServer runs bridge
// run from a fresh directory with the default relative home (./.bridge)
// and pre-started Python servers on (the default): two versions registered
// from the same model directory both serve scikit-learn's answers, the
// second on the pre-started server, and a broken third version that lands
// on the next pre-started server fails with the Python exception in
// bridge_deploy_error while the other two keep serving.
func TestRunServesSecondVersionOfTheSameModelOnAPrestartedServer(t *testing.T) {
	py := pythontest.Interpreter(t)
	wd := t.TempDir()
	sk := pythontest.TrainSklearn(t, py, filepath.Join(wd, "churn-model"), pythontest.SklearnSpec{Seed: 11})
	broken := filepath.Join(wd, "broken-model")
	mlmodel, err := os.ReadFile(filepath.Join(sk.Dir, "MLmodel"))
	if err != nil {
		t.Fatal(err)
	}
	runtest.WriteFile(t, filepath.Join(broken, "MLmodel"), string(mlmodel))
	runtest.WriteFile(t, filepath.Join(broken, "model.pkl"), "not a pickle")

	routerAddr, registryAddr := startServeIn(t, wd)
	reg := "http://" + registryAddr
	defer func() {
		if t.Failed() {
			for _, v := range []string{"1", "2", "3"} {
				b, _ := os.ReadFile(filepath.Join(wd, ".bridge", "logs", "churn-"+v+".log"))
				t.Logf("churn-%s.log:\n%s", v, b)
			}
		}
	}()
	runtest.Eventually(t, 30*time.Second, "the registry to answer", func() bool {
		resp, err := http.Get(reg + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	cli := func(args ...string) string {
		t.Helper()
		out, errOut, code := pipelineCLI(t, wd, append(args, "--registry", reg)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		return strings.TrimSpace(out)
	}
	invoke := func(stage string) (int, []int) {
		resp, err := http.Post("http://"+routerAddr+"/churn/"+stage+"/invocations", "application/json", bytes.NewReader(sk.SplitBody()))
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out struct{ Predictions []int }
		json.Unmarshal(b, &out)
		return resp.StatusCode, out.Predictions
	}
	deployState := func(v string) string { return versionTags(t, wd, reg, "churn")[v]["bridge_deploy_state"] }

	cli("models", "create", "churn")
	if v := cli("models", "add-version", "churn", "./churn-model"); v != "1" {
		t.Fatalf("first version %q", v)
	}
	cli("models", "transition", "churn", "1", "Production")
	runtest.Eventually(t, 90*time.Second, "churn/1 DEPLOYED", func() bool { return deployState("1") == "DEPLOYED" })

	// The same directory again: the second version gets the server that
	// was pre-started once the first loaded.
	if v := cli("models", "add-version", "churn", "./churn-model"); v != "2" {
		t.Fatalf("second version %q", v)
	}
	cli("models", "transition", "churn", "2", "Staging")
	runtest.Eventually(t, 90*time.Second, "churn/2 DEPLOYED", func() bool {
		tags := versionTags(t, wd, reg, "churn")["2"]
		if tags["bridge_deploy_state"] == "FAILED" {
			t.Fatalf("churn/2 FAILED: %s", tags["bridge_deploy_error"])
		}
		return tags["bridge_deploy_state"] == "DEPLOYED"
	})
	for _, stage := range []string{"Production", "Staging"} {
		runtest.Eventually(t, 30*time.Second, "churn/"+stage+" to answer", func() bool { code, _ := invoke(stage); return code == 200 })
		if _, got := invoke(stage); !slices.Equal(got, sk.Predictions) {
			t.Errorf("churn/%s predicts %v, scikit-learn %v", stage, got, sk.Predictions)
		}
	}
	logText, _ := os.ReadFile(filepath.Join(wd, ".bridge", "logs", "churn-2.log"))
	if !strings.Contains(string(logText), "(pre-started)") || !strings.Contains(string(logText), "bridge-scoring-server: serving ") {
		t.Errorf("churn/2 did not start on a pre-started server:\n%s", logText)
	}

	// Bad input: a version that cannot be unpickled, on the next
	// pre-started server, fails with Python's own reason.
	if v := cli("models", "add-version", "churn", "./broken-model"); v != "3" {
		t.Fatalf("third version %q", v)
	}
	cli("models", "transition", "churn", "3", "Staging")
	var msg string
	runtest.Eventually(t, 90*time.Second, "churn/3 FAILED", func() bool {
		tags := versionTags(t, wd, reg, "churn")["3"]
		msg = tags["bridge_deploy_error"]
		return tags["bridge_deploy_state"] == "FAILED"
	})
	if !strings.Contains(msg, "UnpicklingError") || !strings.Contains(msg, "churn-3.log") {
		t.Errorf("bridge_deploy_error of churn/3 = %q: want the Python exception and the log", msg)
	}
	if code, got := invoke("Production"); code != 200 || !slices.Equal(got, sk.Predictions) {
		t.Errorf("churn/Production after the broken version: %d %v", code, got)
	}
}
