package local

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/sgname"
	"github.com/bridgeops/bridge/internal/target"
)

var (
	prod     = model.EndpointKey{Model: "houses", Slot: model.StageProduction}
	staging  = model.EndpointKey{Model: "churn", Slot: model.StageStaging}
	champion = model.EndpointKey{Model: "iris", Slot: "champion"}
)

func TestInvocations(t *testing.T) {
	e := newEnv(t, nil)
	e.f.add(t, "linear", "bridge_linear", linearJSON)
	e.f.add(t, "binary", "bridge_linear", binaryJSON)
	e.f.add(t, "multi", "bridge_linear", multiJSON)
	e.deploy(t, prod, map[int]string{3: "linear"})
	e.deploy(t, staging, map[int]string{1: "binary"})
	e.deploy(t, champion, map[int]string{7: "multi"})

	tests := []struct {
		name    string
		path    string
		ct      string
		accept  string
		body    string
		version string
		want    string
	}{
		{"linear dataframe_split", "/houses/Production/invocations", "application/json", "",
			`{"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1, 2, 3], [0, 0, 0]]}}`, "3", `{"predictions": [2.5, 1.0]}`},
		{"linear dataframe_records", "/houses/Production/invocations", "application/json", "",
			`{"dataframe_records": [{"a": -1, "b": 4, "c": 2}]}`, "3", `{"predictions": [-4.0]}`},
		{"linear instances", "/endpoints/brdg-houses-Production/invocations", "application/json", "",
			`{"instances": [[1, 2, 3]]}`, "3", `{"predictions": [2.5]}`},
		{"linear inputs", "/houses/Production/invocations", "application/json; charset=utf-8", "",
			`{"inputs": {"a": [1], "b": [2], "c": [3]}}`, "3", `{"predictions": [2.5]}`},
		{"linear csv in and out", "/houses/Production/invocations", "text/csv", "text/csv",
			"1,2,3\n-1,4,2\n", "3", "2.5\n-4.0\n"},
		{"binary", "/churn/Staging/invocations", "application/json", "",
			`{"inputs": [[1, 1], [3, 1], [0, 0.25]]}`, "1", `{"predictions": ["no", "yes", "no"]}`},
		{"binary by endpoint name, csv out", "/endpoints/brdg-churn-Staging/invocations", "text/csv", "text/csv",
			"3,1\n", "1", "yes\n"},
		{"multinomial", "/iris/champion/invocations", "application/json", "",
			`{"dataframe_split": {"data": [[2, 1], [0, 3], [-1, -1], [1, 1]]}}`, "7", `{"predictions": [10, 20, 30, 10]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.post(t, tt.path, tt.ct, tt.accept, tt.body)
			if a.status != 200 {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			if a.version != tt.version {
				t.Errorf("%s = %q, want %q", HeaderVersion, a.version, tt.version)
			}
			if strings.TrimSpace(a.body) != strings.TrimSpace(tt.want) {
				t.Errorf("body = %q, want %q", a.body, tt.want)
			}
		})
	}
}

func TestRouterErrors(t *testing.T) {
	e := newEnv(t, nil)
	e.f.add(t, "linear", "bridge_linear", linearJSON)
	e.deploy(t, prod, map[int]string{1: "linear"})
	big := `{"inputs": [` + strings.Repeat("[1, 2, 3],", 700_000) + `[1, 2, 3]]}` // > 6 MB
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		chunked bool
		status  int
		code    string
		msg     string
		version string
	}{
		{"unknown model", "POST", "/nope/Production/invocations", `{"inputs": [[1, 2, 3]]}`, false, 404, "RESOURCE_DOES_NOT_EXIST", "no endpoint at /nope/Production/invocations", ""},
		{"unknown slot", "POST", "/houses/Staging/invocations", `{"inputs": [[1, 2, 3]]}`, false, 404, "RESOURCE_DOES_NOT_EXIST", "no endpoint", ""},
		{"unknown endpoint name", "POST", "/endpoints/brdg-houses-Staging/invocations", `{}`, false, 404, "RESOURCE_DOES_NOT_EXIST", "no endpoint", ""},
		{"too deep path", "POST", "/houses/Production/x/invocations", `{}`, false, 404, "RESOURCE_DOES_NOT_EXIST", "no endpoint", ""},
		{"unknown path", "GET", "/nothing", "", false, 404, "RESOURCE_DOES_NOT_EXIST", "no such path /nothing", ""},
		{"wrong method", "GET", "/houses/Production/invocations", "", false, 405, "BAD_REQUEST", "invocations take POST", ""},
		{"too large with length", "POST", "/houses/Production/invocations", big, false, 413, "BAD_REQUEST", "over 6291456 bytes", ""},
		{"too large chunked", "POST", "/houses/Production/invocations", big, true, 413, "BAD_REQUEST", "over 6291456 bytes", "1"},
		{"malformed", "POST", "/houses/Production/invocations", `{"inputs": [[1, 2, 3]`, false, 400, "BAD_REQUEST", "malformed JSON", "1"},
		{"wrong feature count", "POST", "/houses/Production/invocations", `{"inputs": [[1, 2]]}`, false, 400, "BAD_REQUEST", "expects 3 features per row, got 2", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			req, _ := http.NewRequest(tt.method, e.srv.URL+tt.path, body)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			a := answer{resp.StatusCode, resp.Header.Get(HeaderVersion), resp.Header.Get("Content-Type"), string(b)}
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %s", a.status, tt.status, a.body)
			}
			code, msg := errorBody(t, a)
			if code != tt.code || !strings.Contains(msg, tt.msg) {
				t.Errorf("error %s %q, want %s containing %q", code, msg, tt.code, tt.msg)
			}
			if a.version != tt.version {
				t.Errorf("%s = %q, want %q", HeaderVersion, a.version, tt.version)
			}
		})
	}
	// The router serves on after all of that.
	if a := e.post(t, "/houses/Production/invocations", "application/json", "", `{"inputs": [[1, 2, 3]]}`); a.status != 200 {
		t.Fatalf("after errors: %d %s", a.status, a.body)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	e := newEnv(t, nil)
	e.f.add(t, "linear", "bridge_linear", linearJSON)
	e.deploy(t, prod, map[int]string{2: "linear"})
	for range 3 {
		e.post(t, "/houses/Production/invocations", "application/json", "", `{"inputs": [[1, 2, 3]]}`)
	}
	e.post(t, "/houses/Production/invocations", "application/json", "", `{"inputs": [[1]]}`)
	get := func(path string) (int, string) {
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/ping"); code != 200 {
		t.Errorf("/ping = %d", code)
	}
	code, body := get("/healthz")
	var h struct {
		Status    string              `json:"status"`
		Endpoints int                 `json:"endpoints"`
		Versions  struct{ Ready int } `json:"versions"`
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil || code != 200 || h.Status != "ok" || h.Endpoints != 1 || h.Versions.Ready != 1 {
		t.Errorf("/healthz = %d %s", code, body)
	}
	_, metrics := get("/metrics")
	for _, want := range []string{
		`bridge_invocations_total{model="houses",slot="Production",version="2"} 4`,
		`bridge_invocation_errors_total{code="400",model="houses",slot="Production",version="2"} 1`,
		`bridge_invocation_duration_seconds_count{model="houses",slot="Production",version="2"} 4`,
		`bridge_model_loads_total{result="ok"} 1`,
		`bridge_models_loaded 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	e.post(t, "/nope/x/invocations", "", "", "")
	if _, metrics = get("/metrics"); !strings.Contains(metrics, `bridge_router_rejected_total{code="404"} 1`) {
		t.Errorf("/metrics lacks the rejected 404")
	}

	// Routes mounted by the run command.
	e.t.Handle("POST /hooks/registry", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	if a := e.post(t, "/hooks/registry", "application/json", "", `{}`); a.status != http.StatusAccepted {
		t.Errorf("mounted route = %d", a.status)
	}
}

func TestFailingModelsAreIsolated(t *testing.T) {
	e := newEnv(t, nil)
	e.f.add(t, "linear", "bridge_linear", linearJSON)
	e.f.add(t, "err", flavorError, "")
	e.f.add(t, "panic", flavorPanic, "")
	e.f.add(t, "late", flavorLate, "")
	good := model.EndpointKey{Model: "good", Slot: "Production"}
	bad := model.EndpointKey{Model: "bad", Slot: "Production"}
	worse := model.EndpointKey{Model: "worse", Slot: "Production"}
	e.deploy(t, good, map[int]string{1: "linear"})
	e.deploy(t, bad, map[int]string{4: "err"})
	e.deploy(t, worse, map[int]string{5: "panic"})
	e.deploy(t, model.EndpointKey{Model: "late", Slot: "Production"}, map[int]string{1: "late"})

	// A model that panics after its answer started: the connection is
	// dropped, so the client sees an incomplete answer, not a wrong one.
	if a, err := postTo(http.DefaultClient, e.srv.URL+"/late/Production/invocations", "application/json", "", `{}`, nil); err == nil {
		t.Fatalf("a half-written answer reached the client as complete: %+v", a)
	}

	var wg sync.WaitGroup
	var goodFailures atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				a, err := postTo(http.DefaultClient, e.srv.URL+"/good/Production/invocations", "application/json", "", `{"inputs": [[1, 2, 3]]}`, nil)
				if err != nil || a.status != 200 || strings.TrimSpace(a.body) != `{"predictions": [2.5]}` {
					goodFailures.Add(1)
				}
			}
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				a, err := postTo(http.DefaultClient, e.srv.URL+"/bad/Production/invocations", "application/json", "", `{}`, nil)
				if err != nil || a.status != 503 || !strings.Contains(a.body, "scorer overloaded") || a.version != "4" {
					t.Errorf("bad model answer: %+v %v", a, err)
					return
				}
				a, err = postTo(http.DefaultClient, e.srv.URL+"/worse/Production/invocations", "application/json", "", `{}`, nil)
				if err != nil || a.status != 500 || a.version != "5" {
					t.Errorf("panicking model answer: %+v %v", a, err)
					return
				}
				if code, msg := errorBody(t, a); code != "INTERNAL_ERROR" || !strings.Contains(msg, "worse/5 failed while answering: weights corrupted") {
					t.Errorf("panic answer %s %q", code, msg)
				}
			}
		}()
	}
	wg.Wait()
	if n := goodFailures.Load(); n != 0 {
		t.Fatalf("%d requests to the healthy endpoint failed", n)
	}
}

// TestZeroDowntimeSwap moves an endpoint from version 1 to version 2 while
// clients send requests without pause: no request fails, answers switch to
// version 2, and each answer is the prediction of the version it names.
func TestZeroDowntimeSwap(t *testing.T) {
	e := newEnv(t, nil)
	e.f.add(t, "v1", "bridge_linear", linearJSON)
	e.f.add(t, "v2", "bridge_linear", linear2JSON)
	e.deploy(t, prod, map[int]string{1: "v1"})

	want := map[string]string{"1": `{"predictions": [2.5]}`, "2": `{"predictions": [42.0]}`}
	var swapped atomic.Bool
	var failures, afterSwapOld, total atomic.Int64
	var seen sync.Map
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			for {
				select {
				case <-stop:
					return
				default:
				}
				wasSwapped := swapped.Load()
				a, err := postTo(client, e.srv.URL+"/houses/Production/invocations", "application/json", "", `{"inputs": [[1, 2, 3]]}`, nil)
				total.Add(1)
				if err != nil || a.status != 200 || strings.TrimSpace(a.body) != want[a.version] {
					failures.Add(1)
					t.Logf("failed request: %+v %v", a, err)
					continue
				}
				seen.Store(a.version, true)
				if wasSwapped && a.version != "2" {
					afterSwapOld.Add(1)
				}
			}
		}()
	}
	waitFor(t, "traffic on version 1", func() bool { return total.Load() > 200 })
	ctx := context.Background()
	if err := e.t.CreateVersion(ctx, target.VersionSpec{Ref: model.VersionRef{Model: "houses", Version: 2}, Source: "v2"}); err != nil {
		t.Fatal(err)
	}
	if err := e.t.Route(ctx, prod, []model.WeightedVersion{{Version: 2, Weight: 1}}); err != nil {
		t.Fatal(err)
	}
	swapped.Store(true)
	if err := e.t.DeleteVersion(ctx, model.VersionRef{Model: "houses", Version: 1}); err != nil {
		t.Fatal(err)
	}
	n := total.Load()
	waitFor(t, "traffic on version 2", func() bool { return total.Load() > n+200 })
	close(stop)
	wg.Wait()
	if f := failures.Load(); f != 0 {
		t.Fatalf("%d of %d requests failed during the swap", f, total.Load())
	}
	if _, ok := seen.Load("1"); !ok {
		t.Error("no answer from version 1")
	}
	if _, ok := seen.Load("2"); !ok {
		t.Error("no answer from version 2")
	}
	if n := afterSwapOld.Load(); n != 0 {
		t.Errorf("%d requests sent after the swap were answered by version 1", n)
	}
	t.Logf("%d requests, 0 failed", total.Load())
}

// TestDrain checks that a request in flight on the old version completes
// there after the route moves, and that the old model is closed only then.
func TestDrain(t *testing.T) {
	e := newEnv(t, nil)
	e.f.add(t, "gate", flavorGate, "")
	e.f.add(t, "v2", "bridge_linear", linearJSON)
	e.deploy(t, prod, map[int]string{1: "gate"})
	gate := testModelAt(t, e.f, "gate")

	inflight := make(chan answer, 1)
	go func() {
		a, err := postTo(http.DefaultClient, e.srv.URL+"/houses/Production/invocations", "application/json", "", `{"inputs": [[1, 2, 3]]}`, nil)
		if err != nil {
			a.body = err.Error()
		}
		inflight <- a
	}()
	<-gate.entered

	ctx := context.Background()
	if err := e.t.CreateVersion(ctx, target.VersionSpec{Ref: model.VersionRef{Model: "houses", Version: 2}, Source: "v2"}); err != nil {
		t.Fatal(err)
	}
	if err := e.t.Route(ctx, prod, []model.WeightedVersion{{Version: 2, Weight: 1}}); err != nil {
		t.Fatal(err)
	}
	if a := e.post(t, "/houses/Production/invocations", "application/json", "", `{"inputs": [[1, 2, 3]]}`); a.version != "2" {
		t.Fatalf("new request answered by %q", a.version)
	}
	deleted := make(chan error, 1)
	go func() { deleted <- e.t.DeleteVersion(ctx, model.VersionRef{Model: "houses", Version: 1}) }()

	// Version 1 is no longer listed, but is not closed while its request runs.
	waitFor(t, "version 1 to leave Observe", func() bool {
		a, _ := e.t.Observe(ctx)
		return len(a.Versions) == 1 && a.Versions[0].Ref.Version == 2
	})
	select {
	case err := <-deleted:
		t.Fatalf("DeleteVersion returned (%v) while a request was in flight", err)
	default:
	}
	if gate.closed.Load() {
		t.Fatal("version 1 closed with a request in flight")
	}
	close(gate.release)
	a := <-inflight
	if a.status != 200 || a.version != "1" || !strings.Contains(a.body, "gated") {
		t.Fatalf("in-flight request: %+v", a)
	}
	if err := <-deleted; err != nil {
		t.Fatal(err)
	}
	if !gate.closed.Load() {
		t.Fatal("version 1 not closed after its last request")
	}
}

func TestWeightedRouting(t *testing.T) {
	e := newEnv(t, nil)
	e.f.add(t, "a", "bridge_linear", linearJSON)
	e.f.add(t, "b", "bridge_linear", linear2JSON)
	e.deploy(t, prod, map[int]string{1: "a", 2: "b"})
	tests := []struct {
		name   string
		w1, w2 float64
		lo, hi int // bounds on version 1's share of 1000 requests (> 5 standard deviations)
	}{
		{"even", 0.5, 0.5, 420, 580},
		{"90/10", 9, 1, 850, 950},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.t.Route(context.Background(), prod, []model.WeightedVersion{{Version: 1, Weight: tt.w1}, {Version: 2, Weight: tt.w2}}); err != nil {
				t.Fatal(err)
			}
			n := 0
			for range 1000 {
				a := e.post(t, "/houses/Production/invocations", "application/json", "", `{"inputs": [[1, 2, 3]]}`)
				if a.status != 200 {
					t.Fatalf("%d %s", a.status, a.body)
				}
				if a.version == "1" {
					n++
				}
			}
			if n < tt.lo || n > tt.hi {
				t.Fatalf("version 1 answered %d of 1000, want %d..%d", n, tt.lo, tt.hi)
			}
			obs, _ := e.t.Observe(context.Background())
			ws := obs.Endpoints[0].Versions
			if len(ws) != 2 || ws[0].Weight != tt.w1/(tt.w1+tt.w2) {
				t.Fatalf("Observe weights %+v", ws)
			}
		})
	}
}

func TestCapture(t *testing.T) {
	s := &sink{want: map[string][2]bool{"brdg-houses-Production": {true, true}, "brdg-churn-Staging": {false, true}}}
	e := newEnv(t, s)
	e.f.add(t, "linear", "bridge_linear", linearJSON)
	e.f.add(t, "binary", "bridge_linear", binaryJSON)
	e.f.add(t, "multi", "bridge_linear", multiJSON)
	e.deploy(t, prod, map[int]string{3: "linear"})
	e.deploy(t, staging, map[int]string{1: "binary"})
	e.deploy(t, champion, map[int]string{1: "multi"})

	in := `{"inputs": [[1, 2, 3]]}`
	a, err := postTo(http.DefaultClient, e.srv.URL+"/houses/Production/invocations", "application/json", "", in,
		map[string]string{"X-Amzn-SageMaker-Inference-Id": "req-17"})
	if err != nil || a.status != 200 {
		t.Fatal(a, err)
	}
	e.post(t, "/houses/Production/invocations", "application/json", "", `{"inputs": [[1]]}`) // 400: not captured
	e.post(t, "/endpoints/brdg-churn-Staging/invocations", "text/csv", "text/csv", "3,1\n")  // output only
	e.post(t, "/iris/champion/invocations", "application/json", "", `{"inputs": [[1, 1]]}`)  // capture off

	recs := s.all()
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2: %+v", len(recs), recs)
	}
	r := recs[0]
	if r.Endpoint != "brdg-houses-Production" || r.Variant != "v3" || r.InferenceID != "req-17" ||
		string(r.Input) != in || strings.TrimSpace(string(r.Output)) != `{"predictions": [2.5]}` ||
		r.InputContentType != "application/json" || r.OutputContentType != "application/json" ||
		r.EventID != "" || r.Time.IsZero() { // the sink assigns event ids, off the request path
		t.Errorf("record = %+v", r)
	}
	r = recs[1]
	if r.Endpoint != "brdg-churn-Staging" || r.Variant != "v1" || r.Input != nil || string(r.Output) != "yes\n" ||
		r.InputContentType != "text/csv" || r.OutputContentType != "text/csv" || r.EventID != "" {
		t.Errorf("record = %+v", r)
	}
}

func TestLifecycleIdempotent(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.f.add(t, "linear", "bridge_linear", linearJSON)
	e.f.add(t, "broken", "bridge_linear", `{"kind": "logistic_regression", "coefficients": [[1, 2]], "intercepts": [0], "classes": [1]}`)
	ref := model.VersionRef{Model: "houses", Version: 1}
	for range 2 {
		if err := e.t.CreateVersion(ctx, target.VersionSpec{Ref: ref, Source: "linear"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.f.calls.Load(); n != 1 {
		t.Errorf("artifact fetched %d times, want 1", n)
	}
	for range 2 {
		if err := e.t.Route(ctx, prod, []model.WeightedVersion{{Version: 1, Weight: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	badRef := model.VersionRef{Model: "houses", Version: 2}
	err := e.t.CreateVersion(ctx, target.VersionSpec{Ref: badRef, Source: "broken"})
	if err == nil || !strings.Contains(err.Error(), `needs exactly 2 "classes"`) {
		t.Fatalf("CreateVersion of a broken model: %v", err)
	}
	err = e.t.CreateVersion(ctx, target.VersionSpec{Ref: model.VersionRef{Model: "houses", Version: 9}, Source: "missing"})
	// The fetcher's error as it is: the caller names the version.
	if err == nil || !strings.HasPrefix(err.Error(), "no artifact at missing") {
		t.Fatalf("CreateVersion of a missing artifact: %v", err)
	}
	obs, err := e.t.Observe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := model.Actual{
		Versions: []model.ActualVersion{
			{Ref: ref, Status: model.StatusReady},
			{Ref: badRef, Status: model.StatusFailed},
			{Ref: model.VersionRef{Model: "houses", Version: 9}, Status: model.StatusFailed},
		},
		Endpoints: []model.ActualEndpoint{{Key: prod, Versions: []model.WeightedVersion{{Version: 1, Weight: 1}}, Status: model.StatusReady, URL: e.srv.URL + "/houses/Production/invocations"}},
	}
	if len(obs.Versions) != 3 || len(obs.Endpoints) != 1 {
		t.Fatalf("Observe = %+v", obs)
	}
	for i, v := range want.Versions {
		if obs.Versions[i].Ref != v.Ref || obs.Versions[i].Status != v.Status {
			t.Errorf("version %d = %+v, want %+v", i, obs.Versions[i], v)
		}
	}
	if !strings.Contains(obs.Versions[1].Message, `needs exactly 2 "classes"`) {
		t.Errorf("failed version message %q", obs.Versions[1].Message)
	}
	ep := obs.Endpoints[0]
	if ep.Key != prod || ep.Status != model.StatusReady || ep.URL != want.Endpoints[0].URL || len(ep.Versions) != 1 || ep.Versions[0] != want.Endpoints[0].Versions[0] {
		t.Errorf("endpoint = %+v, want %+v", ep, want.Endpoints[0])
	}

	// Routing to a failed or unknown version is refused and changes nothing.
	for _, v := range []int{2, 5} {
		if err := e.t.Route(ctx, prod, []model.WeightedVersion{{Version: v, Weight: 1}}); err == nil {
			t.Errorf("Route to version %d succeeded", v)
		}
	}
	if err := e.t.Route(ctx, prod, nil); err == nil {
		t.Error("Route to no versions succeeded")
	}
	if a := e.post(t, "/houses/Production/invocations", "", "", `{"inputs": [[1, 2, 3]]}`); a.status != 200 || a.version != "1" {
		t.Fatalf("after refused routes: %+v", a)
	}

	// A failed version loads on a later try once its artifact is fixed.
	e.f.add(t, "broken", "bridge_linear", linear2JSON)
	if err := e.t.CreateVersion(ctx, target.VersionSpec{Ref: badRef, Source: "broken"}); err != nil {
		t.Fatalf("retry after fix: %v", err)
	}

	// A routed version is not deleted; deletes of missing things succeed.
	if err := e.t.DeleteVersion(ctx, ref); err == nil || !strings.Contains(err.Error(), "still routes to version") {
		t.Fatalf("DeleteVersion of a routed version: %v", err)
	}
	for range 2 {
		if err := e.t.DeleteEndpoint(ctx, prod); err != nil {
			t.Fatal(err)
		}
		for _, r := range []model.VersionRef{ref, badRef, {Model: "houses", Version: 9}} {
			if err := e.t.DeleteVersion(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if a := e.post(t, "/houses/Production/invocations", "", "", `{"inputs": [[1, 2, 3]]}`); a.status != 404 {
		t.Fatalf("deleted endpoint answers %d", a.status)
	}
	obs, _ = e.t.Observe(ctx)
	if len(obs.Versions) != 0 || len(obs.Endpoints) != 0 {
		t.Fatalf("Observe after deleting everything = %+v", obs)
	}
}

func TestConcurrentCreateSharesOneLoad(t *testing.T) {
	e := newEnv(t, nil)
	e.f.add(t, "linear", "bridge_linear", linearJSON)
	e.f.gate = make(chan struct{})
	ref := model.VersionRef{Model: "houses", Version: 1}
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			errs <- e.t.CreateVersion(context.Background(), target.VersionSpec{Ref: ref, Source: "linear"})
		}()
	}
	waitFor(t, "a load to start", func() bool { return e.f.calls.Load() >= 1 })
	obs, _ := e.t.Observe(context.Background())
	if len(obs.Versions) != 1 || obs.Versions[0].Status != model.StatusPending {
		t.Fatalf("Observe while loading = %+v", obs)
	}
	close(e.f.gate)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := e.f.calls.Load(); n != 1 {
		t.Fatalf("fetched %d times, want 1", n)
	}
}

func TestReadyTimeout(t *testing.T) {
	home := t.TempDir()
	f := &fetcher{}
	f.add(t, "slow", flavorSlow, "")
	tgt, err := New(target.Deps{Config: config.Config{Home: home, Local: config.LocalSettings{ReadyTimeout: 200 * time.Millisecond}}, Fetcher: f, Models: newModels(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close(context.Background())
	ref := model.VersionRef{Model: "m", Version: 1}
	err = tgt.CreateVersion(context.Background(), target.VersionSpec{Ref: ref, Source: "slow"})
	if err == nil || !strings.Contains(err.Error(), "did not answer its health check within 200ms") {
		t.Fatalf("err = %v", err)
	}
	if !testModelAt(t, f, "slow").closed.Load() {
		t.Error("a model that never became ready was not closed")
	}
}

func TestStaterStatus(t *testing.T) {
	e := newEnv(t, nil)
	e.f.add(t, "py", flavorState, "")
	e.deploy(t, prod, map[int]string{1: "py"})
	m := testModelAt(t, e.f, "py")
	tests := []struct {
		state  string
		status model.Status
	}{
		{"ready", model.StatusReady},
		{"restarting: exited with status 1", model.StatusPending},
		{"failed: exited 5 times in a row", model.StatusFailed},
		{"running", model.StatusReady},
	}
	for _, tt := range tests {
		m.state.Store(tt.state)
		obs, _ := e.t.Observe(context.Background())
		if obs.Versions[0].Status != tt.status || obs.Endpoints[0].Status != tt.status {
			t.Errorf("state %q: version %+v endpoint %+v, want %s", tt.state, obs.Versions[0], obs.Endpoints[0], tt.status)
		}
		if tt.status != model.StatusReady && !strings.Contains(obs.Endpoints[0].Message, tt.state) {
			t.Errorf("endpoint message %q lacks %q", obs.Endpoints[0].Message, tt.state)
		}
	}
}

func TestEndpointNamesAndURLs(t *testing.T) {
	e := newEnv(t, nil)
	e.f.add(t, "linear", "bridge_linear", linearJSON)
	e.f.add(t, "multi", "bridge_linear", multiJSON)
	k1 := model.EndpointKey{Model: "a-b", Slot: "c"}
	k2 := model.EndpointKey{Model: "a", Slot: "b-c"}
	odd := model.EndpointKey{Model: "team/house prices", Slot: "champion"}
	e.deploy(t, k1, map[int]string{1: "linear"})
	e.deploy(t, k2, map[int]string{1: "multi"})
	e.deploy(t, odd, map[int]string{1: "linear"})
	prod := model.EndpointKey{Model: "lin", Slot: "Production"}
	e.deploy(t, prod, map[int]string{1: "linear"})

	if got, want := e.t.URL(odd), e.srv.URL+"/team%2Fhouse%20prices/champion/invocations"; got != want {
		t.Errorf("URL = %s, want %s", got, want)
	}
	lin, multi := `{"inputs": [[1, 2, 3]]}`, `{"inputs": [[2, 1]]}`
	tests := []struct {
		path, body, want string
	}{
		{"/a-b/c/invocations", lin, "[2.5]"},
		{"/a/b-c/invocations", multi, "[10]"},
		{"/endpoints/brdg-a-b-c/invocations", lin, "[2.5]"}, // the first routed owns the shared name
		{"/team%2Fhouse%20prices/champion/invocations", lin, "[2.5]"},
		{"/endpoints/brdg-team%2Fhouse%20prices-champion/invocations", lin, "[2.5]"},
		// The SageMaker target's spelling of the same endpoints.
		{"/endpoints/brdg-lin-production/invocations", lin, "[2.5]"},
		{"/endpoints/brdg-lin-Production/invocations", lin, "[2.5]"},
		{"/endpoints/" + sgname.Endpoint(odd) + "/invocations", lin, "[2.5]"},
	}
	for _, tt := range tests {
		a := e.post(t, tt.path, "application/json", "", tt.body)
		if a.status != 200 || !strings.Contains(a.body, tt.want) {
			t.Errorf("%s: %d %s, want %s", tt.path, a.status, a.body, tt.want)
		}
	}
	obs, _ := e.t.Observe(context.Background())
	for _, ep := range obs.Endpoints {
		if ep.Key == k2 && !strings.Contains(ep.Message, "endpoint name brdg-a-b-c is used by a-b/c") {
			t.Errorf("shared-name endpoint message %q", ep.Message)
		}
		if ep.URL != e.t.URL(ep.Key) {
			t.Errorf("endpoint %s URL %s", ep.Key, ep.URL)
		}
	}
	// Deleting the owner hands the name to the other endpoint.
	if err := e.t.DeleteEndpoint(context.Background(), k1); err != nil {
		t.Fatal(err)
	}
	if a := e.post(t, "/endpoints/brdg-a-b-c/invocations", "application/json", "", multi); a.status != 200 || !strings.Contains(a.body, "[10]") {
		t.Errorf("after delete: %d %s", a.status, a.body)
	}
}

func TestSetAddr(t *testing.T) {
	tgt, err := New(target.Deps{Config: config.Config{Port: 8080}})
	if err != nil {
		t.Fatal(err)
	}
	key := model.EndpointKey{Model: "m", Slot: "Production"}
	tests := []struct{ addr, want string }{
		{"", "http://127.0.0.1:8080/m/Production/invocations"},
		{":9000", "http://127.0.0.1:9000/m/Production/invocations"},
		{"0.0.0.0:9001", "http://127.0.0.1:9001/m/Production/invocations"},
		{"[::]:9002", "http://127.0.0.1:9002/m/Production/invocations"},
		{"10.1.2.3:9003", "http://10.1.2.3:9003/m/Production/invocations"},
		{"[::1]:9004", "http://[::1]:9004/m/Production/invocations"},
		{"bridge.local:80", "http://bridge.local:80/m/Production/invocations"},
	}
	for _, tt := range tests {
		if tt.addr != "" {
			tgt.SetAddr(tt.addr)
		}
		if got := tgt.URL(key); got != tt.want {
			t.Errorf("SetAddr(%q): URL = %s, want %s", tt.addr, got, tt.want)
		}
	}
}

func TestClose(t *testing.T) {
	e := newEnv(t, nil)
	e.f.add(t, "m", flavorState, "")
	e.deploy(t, prod, map[int]string{1: "m"})
	m := testModelAt(t, e.f, "m")
	if err := e.t.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !m.closed.Load() {
		t.Error("model not closed")
	}
	if a := e.post(t, "/houses/Production/invocations", "", "", `{}`); a.status != 404 {
		t.Errorf("after Close: %d", a.status)
	}
	resp, err := http.Get(e.srv.URL + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("/ping after Close = %d", resp.StatusCode)
	}
	if err := e.t.CreateVersion(context.Background(), target.VersionSpec{Ref: model.VersionRef{Model: "x", Version: 1}, Source: "m"}); err == nil {
		t.Error("CreateVersion after Close succeeded")
	}
}

func TestInitDestroy(t *testing.T) {
	home := t.TempDir()
	cache := filepath.Join(t.TempDir(), "models")
	tgt, err := target.New(context.Background(), Kind, target.Deps{Config: config.Config{Home: home, ModelCache: cache}})
	if err != nil {
		t.Fatal(err)
	}
	in := tgt.(target.Initializer)
	for range 2 {
		if err := in.Init(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{cache, filepath.Join(home, "logs"), filepath.Join(home, "run")} {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			t.Fatalf("Init did not create %s: %v", d, err)
		}
	}
	os.WriteFile(filepath.Join(cache, "artifact.bin"), []byte("weights"), 0o644)
	registry := filepath.Join(home, "registry.db")
	os.WriteFile(registry, []byte("sqlite"), 0o644)

	// A model server in its own process group, with a child of its own,
	// recorded as the Python runtime records it.
	cmd := exec.Command("sh", "-c", "sleep 300 & sleep 300")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	st, err := startTime(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(home, "run")
	os.WriteFile(filepath.Join(run, "m-1.pid"), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"+strconv.FormatUint(st, 10)+"\n"), 0o644)
	// A stale file: a group long gone.
	os.WriteFile(filepath.Join(run, "stale.pid"), []byte("4194000\n"), 0o644)
	// A file whose recorded start time does not match: never signalled.
	other := exec.Command("sleep", "300")
	other.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })
	os.WriteFile(filepath.Join(run, "reused.pid"), []byte(strconv.Itoa(other.Process.Pid)+"\n1\n"), 0o644)

	for range 2 {
		if err := in.Destroy(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("model server still running after Destroy")
	}
	waitFor(t, "the server's child to exit", func() bool { return syscall.Kill(-cmd.Process.Pid, 0) != nil })
	if err := other.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("Destroy signalled a process whose start time did not match: %v", err)
	}
	if _, err := os.Stat(cache); !os.IsNotExist(err) {
		t.Errorf("model cache still there: %v", err)
	}
	if b, err := os.ReadFile(registry); err != nil || string(b) != "sqlite" {
		t.Errorf("registry touched: %q %v", b, err)
	}
	left, _ := filepath.Glob(filepath.Join(run, "*.pid"))
	if len(left) != 0 {
		t.Errorf("pid files left: %v", left)
	}
}

func TestDestroyRefusesDangerousCache(t *testing.T) {
	home := t.TempDir()
	os.WriteFile(filepath.Join(home, "registry.db"), []byte("sqlite"), 0o644)
	for _, cache := range []string{home, filepath.Dir(home), "/"} {
		tgt, err := New(target.Deps{Config: config.Config{Home: home, ModelCache: cache}})
		if err != nil {
			t.Fatal(err)
		}
		err = tgt.Destroy(context.Background())
		if err == nil || !strings.Contains(err.Error(), "refusing to delete model cache") {
			t.Errorf("cache %s: Destroy = %v", cache, err)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "registry.db")); err != nil {
		t.Fatal("registry deleted")
	}
}

func TestParsePIDFile(t *testing.T) {
	tests := []struct {
		in   string
		want PIDFile
		err  bool
	}{
		{"1234\n", PIDFile{PGID: 1234}, false},
		{"1234\n98765\n", PIDFile{PGID: 1234, StartTime: 98765}, false},
		{" 77 ", PIDFile{PGID: 77}, false},
		{"1\n", PIDFile{}, true},
		{"-5\n", PIDFile{}, true},
		{"abc", PIDFile{}, true},
		{"12\nxyz", PIDFile{}, true},
	}
	for _, tt := range tests {
		got, err := ParsePIDFile([]byte(tt.in))
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParsePIDFile(%q) = %+v, %v", tt.in, got, err)
		}
	}
}

var _ capture.Sink = (*sink)(nil)

// TestDocExample runs the requests shown in docs/localhost.md.
func TestDocExample(t *testing.T) {
	e := newEnv(t, nil)
	e.f.add(t, "iris", "bridge_linear", irisJSON)
	e.deploy(t, model.EndpointKey{Model: "iris", Slot: "Production"}, map[int]string{1: "iris"})
	a := e.post(t, "/iris/Production/invocations", "application/json", "",
		`{"dataframe_split": {"columns": ["sepal_length", "sepal_width", "petal_length", "petal_width"], "data": [[5.1, 3.5, 1.4, 0.2]]}}`)
	if strings.TrimSpace(a.body) != `{"predictions": ["setosa"]}` {
		t.Errorf("json example: %d %s", a.status, a.body)
	}
	a = e.post(t, "/endpoints/brdg-iris-Production/invocations", "text/csv", "text/csv", "5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n")
	if a.body != "setosa\nvirginica\n" {
		t.Errorf("csv example: %d %q", a.status, a.body)
	}
}

// TestBodyLimitWhateverTheModelSays checks that a body over the limit is a
// 413 even from a model that reports its read error as something else, and
// that a body just under the limit passes.
func TestBodyLimitWhateverTheModelSays(t *testing.T) {
	e := newEnv(t, nil)
	e.f.add(t, "echo", flavorEcho, "")
	e.deploy(t, prod, map[int]string{1: "echo"})
	tests := []struct {
		name   string
		size   int
		status int
	}{
		{"at the limit", MaxBodyBytes, 200},
		{"one byte over", MaxBodyBytes + 1, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := io.MultiReader(strings.NewReader(strings.Repeat("x", tt.size))) // no Content-Length: chunked
			resp, err := http.Post(e.srv.URL+"/houses/Production/invocations", "application/json", body)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			if tt.status == 200 && string(b) != `{"predictions": [`+strconv.Itoa(tt.size)+`]}` {
				t.Fatalf("body %s", b)
			}
			if tt.status == 413 {
				a := answer{resp.StatusCode, resp.Header.Get(HeaderVersion), resp.Header.Get("Content-Type"), string(b)}
				if code, msg := errorBody(t, a); code != "BAD_REQUEST" || !strings.Contains(msg, "over 6291456 bytes") {
					t.Fatalf("413 body %s %q", code, msg)
				}
			}
		})
	}
}

// TestFailedModelIsReloaded checks that CreateVersion replaces a loaded
// version whose model failed for good, behind its endpoint, and keeps the
// old one when the new load fails.
func TestFailedModelIsReloaded(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.f.add(t, "py", flavorState, "")
	e.deploy(t, prod, map[int]string{1: "py"})
	spec := target.VersionSpec{Ref: model.VersionRef{Model: "houses", Version: 1}, Source: "py"}
	first := testModelAt(t, e.f, "py")
	first.state.Store("failed: exited 5 times in a row")

	// The artifact is unavailable: the reload fails, the old model stays.
	e.f.mu.Lock()
	dir := e.f.dirs["py"]
	delete(e.f.dirs, "py")
	e.f.mu.Unlock()
	if err := e.t.CreateVersion(ctx, spec); err == nil {
		t.Fatal("reload without an artifact succeeded")
	}
	if first.closed.Load() {
		t.Fatal("old model closed after a failed reload")
	}
	obs, _ := e.t.Observe(ctx)
	if len(obs.Versions) != 1 || obs.Versions[0].Status != model.StatusFailed || obs.Endpoints[0].Status != model.StatusFailed {
		t.Fatalf("Observe after failed reload = %+v", obs)
	}

	e.f.mu.Lock()
	e.f.dirs["py"] = dir
	e.f.mu.Unlock()
	if err := e.t.CreateVersion(ctx, spec); err != nil {
		t.Fatal(err)
	}
	second := testModelAt(t, e.f, "py")
	if second == first {
		t.Fatal("no new model loaded")
	}
	waitFor(t, "the failed model to close", first.closed.Load)
	if a := e.post(t, "/houses/Production/invocations", "", "", `{}`); a.status != 200 || a.version != "1" {
		t.Fatalf("after reload: %+v", a)
	}
	obs, _ = e.t.Observe(ctx)
	if obs.Versions[0].Status != model.StatusReady || obs.Endpoints[0].Status != model.StatusReady {
		t.Fatalf("Observe after reload = %+v", obs)
	}
	// Still routed: not deleted.
	if err := e.t.DeleteVersion(ctx, spec.Ref); err == nil {
		t.Fatal("deleted a routed version")
	}
}
