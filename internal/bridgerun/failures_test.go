package bridgerun_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/bridgerun"
	"github.com/bridgeops/bridge/internal/bridgerun/runtest"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/registry/mlflowapi"
	"github.com/bridgeops/bridge/internal/registry/store"
	"github.com/bridgeops/bridge/internal/status"
)

// TestBadModelsFailAlone registers one good model and one model per kind of
// bad input: each bad version ends FAILED with its reason, the good model
// deploys and answers, and a fixed version of a bad model deploys later.
func TestBadModelsFailAlone(t *testing.T) {
	a := runtest.Start(t, runtest.Config(t))
	reg := runtest.MLflowREST{T: t, Base: a.RegistryURL()}
	hc := &http.Client{Timeout: 10 * time.Second}

	dirURI := func(files map[string]string) string {
		dir := t.TempDir()
		for n, body := range files {
			runtest.WriteFile(t, filepath.Join(dir, n), body)
		}
		return (&url.URL{Scheme: "file", Path: dir}).String()
	}
	flavor := "flavors:\n  bridge_linear:\n    data: model.json\n"
	bad := []struct {
		name, source, reason string
	}{
		{"no-mlmodel", dirURI(map[string]string{"model.json": `{"kind": "linear_regression", "coefficients": [1]}`}), "MLmodel"},
		{"missing-artifact", "file:///nonexistent/bridge/model", "nonexistent"},
		{"unknown-flavor", dirURI(map[string]string{"MLmodel": "flavors:\n  tensorflow_saved_model: {}\n"}), "no runtime"},
		{"bad-model-json", dirURI(map[string]string{"MLmodel": flavor, "model.json": `{"kind": "random_forest", "coefficients": [1]}`}), "random_forest"},
		{"bad-yaml", dirURI(map[string]string{"MLmodel": "flavors: [unclosed\n"}), "MLmodel"},
	}
	for _, b := range bad {
		reg.CreateModel(b.name)
		v := reg.CreateVersion(b.name, b.source)
		reg.Transition(b.name, v, model.StageProduction, false)
	}
	reg.CreateModel("good")
	gv := reg.CreateVersion("good", runtest.LinearModel(t, []float64{2}, 1))
	reg.Transition("good", gv, model.StageProduction, false)

	runtest.Eventually(t, 20*time.Second, "good DEPLOYED on Production", func() bool {
		tags := reg.Tags("good", gv)
		return tags[model.TagDeployState] == model.StateDeployed && strings.Contains(tags[model.TagDeployURL], "/good/Production/")
	})
	if code, preds, _, err := runtest.Invoke(hc, a.RouterURL()+"/good/Production/invocations", [][]float64{{3}}); err != nil || code != 200 || !reflect.DeepEqual(preds, []float64{7}) {
		t.Fatalf("good model answered %d %v %v", code, preds, err)
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			var tags map[string]string
			runtest.Eventually(t, 20*time.Second, b.name+" FAILED", func() bool {
				tags = reg.Tags(b.name, 1)
				return tags[model.TagDeployState] == model.StateFailed
			})
			if reason := tags[model.TagDeployError]; !strings.Contains(reason, b.reason) || strings.Contains(reason, "\n") {
				t.Fatalf("bridge_deploy_error = %q, want one line mentioning %q", reason, b.reason)
			}
			code, _, _, err := runtest.Invoke(hc, a.RouterURL()+"/"+b.name+"/Production/invocations", [][]float64{{1}})
			if err != nil || code != http.StatusNotFound {
				t.Fatalf("failed model's endpoint answered %d %v, want 404", code, err)
			}
		})
	}

	// A good version of a failed model deploys (after the model's backoff).
	fixed := reg.CreateVersion("no-mlmodel", runtest.LinearModel(t, []float64{1}, 0))
	reg.Transition("no-mlmodel", fixed, model.StageProduction, true)
	runtest.Eventually(t, 20*time.Second, "fixed version DEPLOYED on Production", func() bool {
		tags := reg.Tags("no-mlmodel", fixed)
		return tags[model.TagDeployState] == model.StateDeployed && strings.Contains(tags[model.TagDeployURL], "/no-mlmodel/Production/")
	})
	runtest.Eventually(t, 10*time.Second, "failed version untagged", func() bool { return len(reg.Tags("no-mlmodel", 1)) == 0 })
}

// registryServer serves an embedded store's MLflow API as an external
// registry that a test can take down and bring back on the same address.
type registryServer struct {
	t    *testing.T
	st   *store.Store
	addr string
	srv  *http.Server
}

func newRegistryServer(t *testing.T) *registryServer {
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &registryServer{t: t, st: st, addr: "127.0.0.1:0"}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *registryServer) url() string { return "http://" + r.addr }

func (r *registryServer) start() {
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatalf("registry listen: %v", err)
	}
	r.addr = ln.Addr().String()
	r.srv = &http.Server{Handler: mlflowapi.New(r.st, mlflowapi.Options{})}
	go r.srv.Serve(ln)
}

func (r *registryServer) stop() {
	if r.srv != nil {
		r.srv.Close()
		r.srv = nil
	}
}

// status reads GET /status of a running bridge run.
func getStatus(t *testing.T, a *bridgerun.App) status.Doc {
	t.Helper()
	resp, err := http.Get(a.RouterURL() + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc status.Doc
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestExternalRegistryHookAndOutage runs against an external MLflow API:
// without change notifications only the hook wakes the loop; while the
// registry is down the endpoints keep serving and the failure is reported;
// when it returns the loop catches up by itself.
func TestExternalRegistryHookAndOutage(t *testing.T) {
	rs := newRegistryServer(t)
	c := runtest.Config(t)
	c.MLflowURI = rs.url()
	a := runtest.Start(t, c)
	if a.ServesRegistryAPI() {
		t.Fatal("bridge run served an embedded registry although BRIDGE_MLFLOW_URI is set")
	}
	reg := runtest.MLflowREST{T: t, Base: rs.url()}
	hc := &http.Client{Timeout: 10 * time.Second}
	runtest.Eventually(t, 10*time.Second, "first pass", func() bool { _, _, at := a.Loop.Last(); return !at.IsZero() })

	reg.CreateModel("ext")
	v1 := reg.CreateVersion("ext", runtest.LinearModel(t, []float64{1}, 0))
	reg.Transition("ext", v1, model.StageProduction, false)
	// The interval is an hour and an external registry sends no
	// notifications: the change waits for the hook.
	if p, err := bridgerun.Plan(context.Background(), c, a.RouterAddr(), &discard{}); err != nil || !p.Changes() {
		t.Fatalf("plan before the hook: %+v, %v; want pending changes", p, err)
	}
	resp, err := http.Post(a.RouterURL()+"/hooks/registry", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("hook answered %d, want 202", resp.StatusCode)
	}
	runtest.Eventually(t, 20*time.Second, "deployed after the hook", func() bool {
		tags := reg.Tags("ext", v1)
		return tags[model.TagDeployState] == model.StateDeployed && strings.Contains(tags[model.TagDeployURL], "/ext/Production/")
	})

	// Registry down: the endpoint keeps serving, the failure is reported.
	rs.stop()
	a.Loop.Wake()
	runtest.Eventually(t, 10*time.Second, "outage reported", func() bool {
		doc := getStatus(t, a)
		return doc.Reconcile != nil && doc.Reconcile.Error != ""
	})
	if code, preds, _, err := runtest.Invoke(hc, a.RouterURL()+"/ext/Production/invocations", [][]float64{{5}}); err != nil || code != 200 || !reflect.DeepEqual(preds, []float64{5}) {
		t.Fatalf("endpoint during the outage answered %d %v %v", code, preds, err)
	}
	// A change made while the API is down (straight into its database)...
	ctx := context.Background()
	if _, err := rs.st.CreateModelVersion(ctx, store.VersionSpec{Name: "ext", Source: runtest.LinearModel(t, []float64{3}, 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := rs.st.TransitionStage(ctx, "ext", 2, model.StageStaging, false); err != nil {
		t.Fatal(err)
	}
	// ...is deployed once it is back, without a wake-up: the loop retries.
	rs.start()
	runtest.Eventually(t, 20*time.Second, "recovery", func() bool {
		code, preds, _, err := runtest.Invoke(hc, a.RouterURL()+"/ext/Staging/invocations", [][]float64{{5}})
		return err == nil && code == 200 && reflect.DeepEqual(preds, []float64{15})
	})
	runtest.Eventually(t, 10*time.Second, "error cleared", func() bool {
		_, err, _ := a.Loop.Last()
		return err == nil
	})
}

type discard struct{}

func (*discard) Write(p []byte) (int, error) { return len(p), nil }
