package bridgerun_test

import (
	"context"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/bridgerun/runtest"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/target/local"
)

// TestRunEndToEnd drives the real bridge run parts over loopback: embedded
// registry and its MLflow API, reconcile loop, localhost target and native
// runtime.
func TestRunEndToEnd(t *testing.T) {
	a := runtest.Start(t, runtest.Config(t))
	reg := runtest.MLflowREST{T: t, Base: a.RegistryURL()}
	hc := &http.Client{Timeout: 10 * time.Second}
	prodURL := a.RouterURL() + "/reg/Production/invocations"
	rows := [][]float64{{1, 1}, {2, 0}}

	// v1: y = x1 + 2·x2.
	reg.CreateModel("reg")
	v1 := reg.CreateVersion("reg", runtest.LinearModel(t, []float64{1, 2}, 0))
	reg.Transition("reg", v1, model.StageProduction, false)
	// Registered, the version first serves Latest; moved, it serves
	// Production only.
	runtest.Eventually(t, 20*time.Second, "v1 DEPLOYED on Production", func() bool {
		tags := reg.Tags("reg", v1)
		return tags[model.TagDeployState] == model.StateDeployed && tags[model.TagDeployURL] == prodURL
	})
	code, preds, ver, err := runtest.Invoke(hc, prodURL, rows)
	if err != nil || code != 200 || !reflect.DeepEqual(preds, []float64{3, 2}) || ver != "1" {
		t.Fatalf("v1 answered %d %v version %q err %v; want 200 [3 2] version 1", code, preds, ver, err)
	}
	// The SageMaker-style URL reaches the same endpoint.
	sgURL := a.RouterURL() + "/endpoints/" + local.EndpointName(model.EndpointKey{Model: "reg", Slot: model.StageProduction}) + "/invocations"
	if code, preds, _, err := runtest.Invoke(hc, sgURL, rows); err != nil || code != 200 || !reflect.DeepEqual(preds, []float64{3, 2}) {
		t.Fatalf("SageMaker-style URL answered %d %v %v", code, preds, err)
	}

	// v2 (y = 10·x1 + 20·x2 + 1) goes to Production with archive while
	// clients call the endpoint continuously.
	var (
		stop               atomic.Bool
		total, failed, v2s atomic.Int64
		wg                 sync.WaitGroup
		errMu              sync.Mutex
		firstErr           string
	)
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sawV2 := false
			for i := 0; !stop.Load() && i < 200000; i++ {
				code, preds, ver, err := runtest.Invoke(hc, prodURL, rows)
				total.Add(1)
				ok := err == nil && code == 200
				switch {
				case ok && ver == "1" && !sawV2 && reflect.DeepEqual(preds, []float64{3, 2}):
				case ok && ver == "2" && reflect.DeepEqual(preds, []float64{31, 21}):
					sawV2 = true
					v2s.Add(1)
				default:
					failed.Add(1)
					errMu.Lock()
					if firstErr == "" {
						firstErr = strconv.Itoa(code) + " version " + ver + " " + errString(err)
					}
					errMu.Unlock()
				}
			}
		}()
	}
	runtest.Eventually(t, 10*time.Second, "clients running", func() bool { return total.Load() > 50 })
	v2 := reg.CreateVersion("reg", runtest.LinearModel(t, []float64{10, 20}, 1))
	swapStart := time.Now()
	reg.Transition("reg", v2, model.StageProduction, true)
	runtest.Eventually(t, 20*time.Second, "answers from v2", func() bool { return v2s.Load() > 50 })
	t.Logf("registry change to v2 answering: %s", time.Since(swapStart))
	stop.Store(true)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed during the swap; first: %s", failed.Load(), total.Load(), firstErr)
	}
	t.Logf("%d requests during the swap, none failed", total.Load())
	runtest.Eventually(t, 10*time.Second, "v2 DEPLOYED and v1 untagged", func() bool {
		return reg.Tags("reg", v2)[model.TagDeployState] == model.StateDeployed && len(reg.Tags("reg", v1)) == 0
	})

	// The loop's metrics are on the router's /metrics, next to the router's.
	resp, err := hc.Get(a.RouterURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, name := range []string{"bridge_reconcile_passes_total", "bridge_reconcile_pass_duration_seconds_bucket",
		`bridge_reconcile_actions_total{kind="create_version",result="ok"}`, "bridge_invocations_total"} {
		if !strings.Contains(string(metrics), name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}

	// Archive everything: the endpoint goes, tags go, no model stays loaded.
	reg.Transition("reg", v2, model.StageArchived, false)
	runtest.Eventually(t, 10*time.Second, "endpoint gone", func() bool {
		code, _, _, err := runtest.Invoke(hc, prodURL, rows)
		return err == nil && code == http.StatusNotFound
	})
	runtest.Eventually(t, 10*time.Second, "tags removed", func() bool { return len(reg.Tags("reg", v2)) == 0 })
	runtest.Eventually(t, 10*time.Second, "no model loaded", func() bool {
		act, err := a.Target.Observe(context.Background())
		return err == nil && len(act.Versions) == 0 && len(act.Endpoints) == 0
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
