package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/registry/mlflowapi"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// TestBadModelsFailAlone registers one good model and one model per kind of
// bad input: each bad version ends FAILED with its reason, the good model
// deploys and answers, and a fixed version of a bad model deploys later.
func TestBadModelsFailAlone(t *testing.T) {
	a := startTestApp(t, testConfig(t))
	reg := mlflowREST{t, a.RegistryURL()}
	hc := &http.Client{Timeout: 10 * time.Second}

	dirURI := func(files map[string]string) string {
		dir := t.TempDir()
		for n, body := range files {
			writeTestFile(t, filepath.Join(dir, n), body)
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
		reg.createModel(b.name)
		v := reg.createVersion(b.name, b.source)
		reg.transition(b.name, v, model.StageProduction, false)
	}
	reg.createModel("good")
	gv := reg.createVersion("good", linearModel(t, []float64{2}, 1))
	reg.transition("good", gv, model.StageProduction, false)

	eventually(t, 20*time.Second, "good DEPLOYED on Production", func() bool {
		tags := reg.tags("good", gv)
		return tags[model.TagDeployState] == model.StateDeployed && contains(tags[model.TagDeployURL], "/good/Production/")
	})
	if code, preds, _, err := invoke(hc, a.RouterURL()+"/good/Production/invocations", [][]float64{{3}}); err != nil || code != 200 || !reflect.DeepEqual(preds, []float64{7}) {
		t.Fatalf("good model answered %d %v %v", code, preds, err)
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			var tags map[string]string
			eventually(t, 20*time.Second, b.name+" FAILED", func() bool {
				tags = reg.tags(b.name, 1)
				return tags[model.TagDeployState] == model.StateFailed
			})
			if reason := tags[model.TagDeployError]; !contains(reason, b.reason) || contains(reason, "\n") {
				t.Fatalf("bridge_deploy_error = %q, want one line mentioning %q", reason, b.reason)
			}
			code, _, _, err := invoke(hc, a.RouterURL()+"/"+b.name+"/Production/invocations", [][]float64{{1}})
			if err != nil || code != http.StatusNotFound {
				t.Fatalf("failed model's endpoint answered %d %v, want 404", code, err)
			}
		})
	}

	// A good version of a failed model deploys (after the model's backoff).
	fixed := reg.createVersion("no-mlmodel", linearModel(t, []float64{1}, 0))
	reg.transition("no-mlmodel", fixed, model.StageProduction, true)
	eventually(t, 20*time.Second, "fixed version DEPLOYED on Production", func() bool {
		tags := reg.tags("no-mlmodel", fixed)
		return tags[model.TagDeployState] == model.StateDeployed && contains(tags[model.TagDeployURL], "/no-mlmodel/Production/")
	})
	eventually(t, 10*time.Second, "failed version untagged", func() bool { return len(reg.tags("no-mlmodel", 1)) == 0 })
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
func getStatus(t *testing.T, a *app) statusDoc {
	t.Helper()
	resp, err := http.Get(a.RouterURL() + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc statusDoc
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
	c := testConfig(t)
	c.MLflowURI = rs.url()
	a := startTestApp(t, c)
	if a.registryLn != nil {
		t.Fatal("bridge run served an embedded registry although BRIDGE_MLFLOW_URI is set")
	}
	reg := mlflowREST{t, rs.url()}
	hc := &http.Client{Timeout: 10 * time.Second}
	eventually(t, 10*time.Second, "first pass", func() bool { _, _, at := a.loop.Last(); return !at.IsZero() })

	reg.createModel("ext")
	v1 := reg.createVersion("ext", linearModel(t, []float64{1}, 0))
	reg.transition("ext", v1, model.StageProduction, false)
	// The interval is an hour and an external registry sends no
	// notifications: the change waits for the hook.
	if p, err := computePlan(context.Background(), c, a.RouterAddr(), &discard{}); err != nil || !p.Changes() {
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
	eventually(t, 20*time.Second, "deployed after the hook", func() bool {
		tags := reg.tags("ext", v1)
		return tags[model.TagDeployState] == model.StateDeployed && contains(tags[model.TagDeployURL], "/ext/Production/")
	})

	// Registry down: the endpoint keeps serving, the failure is reported.
	rs.stop()
	a.loop.Wake()
	eventually(t, 10*time.Second, "outage reported", func() bool {
		doc := getStatus(t, a)
		return doc.Reconcile != nil && doc.Reconcile.Error != ""
	})
	if code, preds, _, err := invoke(hc, a.RouterURL()+"/ext/Production/invocations", [][]float64{{5}}); err != nil || code != 200 || !reflect.DeepEqual(preds, []float64{5}) {
		t.Fatalf("endpoint during the outage answered %d %v %v", code, preds, err)
	}
	// A change made while the API is down (straight into its database)...
	ctx := context.Background()
	if _, err := rs.st.CreateModelVersion(ctx, store.VersionSpec{Name: "ext", Source: linearModel(t, []float64{3}, 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := rs.st.TransitionStage(ctx, "ext", 2, model.StageStaging, false); err != nil {
		t.Fatal(err)
	}
	// ...is deployed once it is back, without a wake-up: the loop retries.
	rs.start()
	eventually(t, 20*time.Second, "recovery", func() bool {
		code, preds, _, err := invoke(hc, a.RouterURL()+"/ext/Staging/invocations", [][]float64{{5}})
		return err == nil && code == 200 && reflect.DeepEqual(preds, []float64{15})
	})
	eventually(t, 10*time.Second, "error cleared", func() bool {
		_, err, _ := a.loop.Last()
		return err == nil
	})
}

type discard struct{}

func (*discard) Write(p []byte) (int, error) { return len(p), nil }
