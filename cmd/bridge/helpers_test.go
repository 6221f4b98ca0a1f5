package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/reconcile"
)

// testConfig is a configuration rooted in a fresh temporary home.
func testConfig(t testing.TB) config.Config {
	t.Helper()
	home := t.TempDir()
	return config.Config{
		Home:         home,
		DeployKind:   "localhost",
		ModelCache:   filepath.Join(home, "cache"),
		ScanInterval: time.Hour, // wake-ups must come from notifications and hooks
		Port:         0,
		LogLevel:     slog.LevelInfo,
	}
}

// startTestApp starts bridge run's parts on loopback ports and stops them
// when the test ends.
func startTestApp(t testing.TB, c config.Config) *app {
	t.Helper()
	a, err := startApp(context.Background(), c, appOptions{
		Addr: "127.0.0.1:0", RegistryAddr: "127.0.0.1:0",
		Reconcile: reconcile.Options{BackoffBase: 100 * time.Millisecond, BackoffMax: 500 * time.Millisecond},
	})
	if err != nil {
		t.Fatalf("start bridge run: %v", err)
	}
	t.Cleanup(func() {
		a.Stop()
		if err := a.Wait(); err != nil {
			t.Errorf("bridge run stopped with %v", err)
		}
	})
	return a
}

// linearModel writes a bridge_linear linear-regression model directory
// predicting intercept + Σ coef·x and returns its file:// URI.
func linearModel(t testing.TB, coef []float64, intercept float64) string {
	t.Helper()
	dir := t.TempDir()
	mj, _ := json.Marshal(map[string]any{"kind": "linear_regression", "coefficients": coef, "intercept": intercept})
	writeTestFile(t, filepath.Join(dir, "model.json"), string(mj))
	writeTestFile(t, filepath.Join(dir, "MLmodel"), "flavors:\n  bridge_linear:\n    data: model.json\n")
	return (&url.URL{Scheme: "file", Path: dir}).String()
}

func writeTestFile(t testing.TB, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// mlflowREST is a test client of the MLflow REST API.
type mlflowREST struct {
	t    testing.TB
	base string
}

func (c mlflowREST) call(method, path string, in any) (int, map[string]any) {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+"/api/2.0/mlflow/"+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, map[string]any{"error": err.Error()}
	}
	defer resp.Body.Close()
	out := map[string]any{}
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func (c mlflowREST) must(method, path string, in any) map[string]any {
	c.t.Helper()
	code, out := c.call(method, path, in)
	if code != http.StatusOK {
		c.t.Fatalf("%s %s: %d %v", method, path, code, out)
	}
	return out
}

func (c mlflowREST) createModel(name string) {
	c.t.Helper()
	c.must("POST", "registered-models/create", map[string]any{"name": name})
}

// createVersion registers a version and returns its number.
func (c mlflowREST) createVersion(name, source string) int {
	c.t.Helper()
	out := c.must("POST", "model-versions/create", map[string]any{"name": name, "source": source})
	mv, _ := out["model_version"].(map[string]any)
	v, err := strconv.Atoi(fmt.Sprint(mv["version"]))
	if err != nil {
		c.t.Fatalf("create version answered %v", out)
	}
	return v
}

func (c mlflowREST) transition(name string, version int, stage string, archive bool) {
	c.t.Helper()
	c.must("POST", "model-versions/transition-stage", map[string]any{
		"name": name, "version": strconv.Itoa(version), "stage": stage, "archive_existing_versions": archive,
	})
}

// tags returns a version's tags.
func (c mlflowREST) tags(name string, version int) map[string]string {
	c.t.Helper()
	out := c.must("GET", "model-versions/get?name="+url.QueryEscape(name)+"&version="+strconv.Itoa(version), nil)
	mv, _ := out["model_version"].(map[string]any)
	tags := map[string]string{}
	list, _ := mv["tags"].([]any)
	for _, x := range list {
		kv, _ := x.(map[string]any)
		tags[fmt.Sprint(kv["key"])] = fmt.Sprint(kv["value"])
	}
	return tags
}

// invoke posts rows to an invocation URL and returns the status, the
// predictions and the version that answered.
func invoke(hc *http.Client, u string, rows [][]float64) (int, []float64, string, error) {
	b, _ := json.Marshal(map[string]any{"inputs": rows})
	resp, err := hc.Post(u, "application/json", bytes.NewReader(b))
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, "", err
	}
	var out struct {
		Predictions []float64 `json:"predictions"`
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &out); err != nil {
			return resp.StatusCode, nil, "", fmt.Errorf("decode %s: %w", body, err)
		}
	}
	return resp.StatusCode, out.Predictions, resp.Header.Get("X-Bridge-Model-Version"), nil
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
