// Package runtest helps tests drive bridge run in-process: a configuration
// in a fresh home, a started App on loopback ports, small model
// directories, an MLflow REST client and polling with a deadline.
package runtest

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
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/bridgerun"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/reconcile"
)

// Config is a configuration rooted in a fresh temporary home.
func Config(t testing.TB) config.Config {
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

// Start starts bridge run's parts on loopback ports and stops them
// when the test ends.
func Start(t testing.TB, c config.Config) *bridgerun.App {
	t.Helper()
	a, err := bridgerun.Start(context.Background(), c, bridgerun.Options{
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

// LinearModel writes a bridge_linear linear-regression model directory
// predicting intercept + Σ coef·x and returns its file:// URI.
func LinearModel(t testing.TB, coef []float64, intercept float64) string {
	t.Helper()
	dir := t.TempDir()
	mj, _ := json.Marshal(map[string]any{"kind": "linear_regression", "coefficients": coef, "intercept": intercept})
	WriteFile(t, filepath.Join(dir, "model.json"), string(mj))
	WriteFile(t, filepath.Join(dir, "MLmodel"), "flavors:\n  bridge_linear:\n    data: model.json\n")
	return (&url.URL{Scheme: "file", Path: dir}).String()
}

func WriteFile(t testing.TB, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// MLflowREST is a test client of the MLflow REST API.
type MLflowREST struct {
	T    testing.TB
	Base string
}

// Call sends one request and returns the status and the decoded answer.
func (c MLflowREST) Call(method, path string, in any) (int, map[string]any) {
	c.T.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.Base+"/api/2.0/mlflow/"+path, body)
	if err != nil {
		c.T.Fatal(err)
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

// Must is Call that fails the test unless the answer is 200.
func (c MLflowREST) Must(method, path string, in any) map[string]any {
	c.T.Helper()
	code, out := c.Call(method, path, in)
	if code != http.StatusOK {
		c.T.Fatalf("%s %s: %d %v", method, path, code, out)
	}
	return out
}

// CreateModel registers a model.
func (c MLflowREST) CreateModel(name string) {
	c.T.Helper()
	c.Must("POST", "registered-models/create", map[string]any{"name": name})
}

// CreateVersion registers a version and returns its number.
func (c MLflowREST) CreateVersion(name, source string) int {
	c.T.Helper()
	out := c.Must("POST", "model-versions/create", map[string]any{"name": name, "source": source})
	mv, _ := out["model_version"].(map[string]any)
	v, err := strconv.Atoi(fmt.Sprint(mv["version"]))
	if err != nil {
		c.T.Fatalf("create version answered %v", out)
	}
	return v
}

// Transition moves a version to a stage.
func (c MLflowREST) Transition(name string, version int, stage string, archive bool) {
	c.T.Helper()
	c.Must("POST", "model-versions/transition-stage", map[string]any{
		"name": name, "version": strconv.Itoa(version), "stage": stage, "archive_existing_versions": archive,
	})
}

// Tags returns a version's tags.
func (c MLflowREST) Tags(name string, version int) map[string]string {
	c.T.Helper()
	out := c.Must("GET", "model-versions/get?name="+url.QueryEscape(name)+"&version="+strconv.Itoa(version), nil)
	mv, _ := out["model_version"].(map[string]any)
	tags := map[string]string{}
	list, _ := mv["tags"].([]any)
	for _, x := range list {
		kv, _ := x.(map[string]any)
		tags[fmt.Sprint(kv["key"])] = fmt.Sprint(kv["value"])
	}
	return tags
}

// Invoke posts rows to an invocation URL and returns the status, the
// predictions and the version that answered.
func Invoke(hc *http.Client, u string, rows [][]float64) (int, []float64, string, error) {
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

// Eventually polls cond until it holds or the deadline passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
