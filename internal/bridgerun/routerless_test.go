package bridgerun_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/bridgerun"
	"github.com/bridgeops/bridge/internal/bridgerun/runtest"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/target"
	"github.com/bridgeops/bridge/internal/target/local"
)

// routerless is the localhost target seen through the target.Target
// interface only, like a remote target (sagemaker): bridge run must serve
// its own /metrics, /healthz, /readyz, /status and hook for it, with the
// same meaning as for the localhost target.
type routerless struct{ target.Target }

func (r routerless) Close(ctx context.Context) error { return bridgerun.CloseTarget(ctx, r.Target) }

func init() {
	target.Register("test-routerless", func(ctx context.Context, deps target.Deps) (target.Target, error) {
		t, err := local.New(deps)
		if err != nil {
			return nil, err
		}
		return routerless{t}, nil
	})
}

func TestRouterlessTargetEndpoints(t *testing.T) {
	rs := newRegistryServer(t)
	c := runtest.Config(t)
	c.DeployKind, c.MLflowURI = "test-routerless", rs.url()
	a := runtest.Start(t, c)
	reg := runtest.MLflowREST{T: t, Base: rs.url()}
	get := func(path string) (int, string) {
		resp, err := http.Get(a.RouterURL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	runtest.Eventually(t, 10*time.Second, "first pass", func() bool { _, _, at := a.Loop.Last(); return !at.IsZero() })
	if code, body := get("/healthz"); code != 200 || !strings.Contains(body, `"status":"alive"`) || !strings.Contains(body, `"target":"localhost"`) {
		t.Fatalf("/healthz: %d %s", code, body)
	}
	if code, body := get("/readyz"); code != 200 || !strings.Contains(body, `"status":"ready"`) {
		t.Fatalf("/readyz with nothing to serve: %d %s", code, body)
	}
	reg.CreateModel("rl")
	v := reg.CreateVersion("rl", runtest.LinearModel(t, []float64{1}, 0))
	reg.Transition("rl", v, model.StageProduction, false)
	resp, err := http.Post(a.RouterURL()+"/hooks/registry", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("hook: %d", resp.StatusCode)
	}
	runtest.Eventually(t, 20*time.Second, "deployed", func() bool {
		return reg.Tags("rl", v)[model.TagDeployState] == model.StateDeployed
	})
	runtest.Eventually(t, 10*time.Second, "/readyz 200 once rl/Production is served", func() bool {
		code, _ := get("/readyz")
		return code == 200
	})
	if doc := getStatus(t, a); doc.Target != "localhost" || len(doc.Endpoints) != 1 || doc.Endpoints[0].Slot != model.StageProduction {
		t.Fatalf("/status: %+v", doc)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "bridge_reconcile_passes_total") {
		t.Fatalf("/metrics: %d", code)
	}
	// Invocations are the target's business: this router has none.
	if code, _ := get("/rl/Production/invocations"); code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
		t.Fatalf("invocation path answered %d", code)
	}

	rs.stop()
	a.Loop.Wake()
	runtest.Eventually(t, 10*time.Second, "/readyz 503 while the registry is down", func() bool {
		code, body := get("/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "registry")
	})
	// Alive all the same.
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("/healthz while the registry is down: %d", code)
	}
}
