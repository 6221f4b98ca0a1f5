package sagemaker_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/plan"
	"github.com/bridgeops/bridge/internal/sgname"
	"github.com/bridgeops/bridge/internal/target"
	"github.com/bridgeops/bridge/internal/target/sagemaker"
)

const (
	initPolicy = "init-destroy-policy"
	runPolicy  = "run-policy"
)

func TestRegistered(t *testing.T) {
	found := false
	for _, k := range target.Kinds() {
		found = found || k == sagemaker.Kind
	}
	if !found {
		t.Fatalf("kinds %v lack %s", target.Kinds(), sagemaker.Kind)
	}
}

func TestInitTwice(t *testing.T) {
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		t.Run(region, func(t *testing.T) {
			h := newHarness(t, harnessOpts{env: map[string]string{"AWS_REGION": region}})
			mark := h.fake.Mark()
			if err := h.tgt.Init(h.ctx); err != nil {
				t.Fatal(err)
			}
			wantBucket := "bridge-models-123456789012-" + region
			if b := h.fake.Buckets(); !reflect.DeepEqual(b, []string{wantBucket}) {
				t.Fatalf("buckets %v, want %s", b, wantBucket)
			}
			roles := h.fake.Roles()
			if len(roles) != 1 || roles[0].Name != sagemaker.RoleName ||
				!reflect.DeepEqual(roles[0].Attached, []string{sagemaker.ManagedPolicyARN}) ||
				!strings.Contains(roles[0].TrustPolicy, "sagemaker.amazonaws.com") {
				t.Fatalf("roles %+v", roles)
			}
			if err := h.open().Init(h.ctx); err != nil {
				t.Fatalf("second init: %v", err)
			}
			if !reflect.DeepEqual(h.fake.Roles(), roles) || len(h.fake.Buckets()) != 1 {
				t.Fatalf("second init changed something: %+v %v", h.fake.Roles(), h.fake.Buckets())
			}
			h.assertAllowed(mark, initPolicy, "init")
		})
	}
}

func TestInitBucketOfAnotherAccount(t *testing.T) {
	h := newHarness(t, harnessOpts{fake: awsfake.Options{ForeignBuckets: []string{"bridge-models-123456789012-us-east-1"}}})
	err := h.tgt.Init(h.ctx)
	if err == nil || !strings.Contains(err.Error(), "another AWS account") {
		t.Fatalf("init: %v", err)
	}
}

// TestPromotion drives one model through Latest → Staging → Production with
// updates, two versions sharing Production, an alias and archival, through
// the real reconcile loop and planner, checking the AWS side at each step.
func TestPromotion(t *testing.T) {
	h := newHarness(t, harnessOpts{env: map[string]string{
		"BRDG_DEPLOY_AWS_PRODUCTION_INSTANCE_TYPE":  "ml.m5.large",
		"BRDG_DEPLOY_AWS_PRODUCTION_INSTANCE_COUNT": "2",
		sagemaker.EnvDataCapture:                    "25",
	}})
	if err := h.tgt.Init(h.ctx); err != nil {
		t.Fatal(err)
	}
	mark := h.fake.Mark()
	bucket := h.tgt.Bucket()

	// v1 appears: the Latest endpoint serves it.
	h.register("iris")
	h.converge(20 * time.Second)
	if got := h.endpointModels("brdg-iris-latest"); !reflect.DeepEqual(got, []string{"brdg-iris-1"}) {
		t.Fatalf("latest serves %v", got)
	}
	tags := h.tags("iris", 1)
	if tags[model.TagDeployState] != model.StateDeployed ||
		tags[model.TagDeployURL] != "https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/brdg-iris-latest/invocations" {
		t.Fatalf("tags of v1: %v", tags)
	}
	// The artifact is a model.tar.gz with the model files at its root.
	raw, ok := h.fake.Object(bucket, "iris/1/artifact.tar.gz")
	if !ok {
		t.Fatalf("artifact missing; objects %v", h.fake.Objects(bucket))
	}
	if names := tarNames(t, raw); !reflect.DeepEqual(names, []string{"MLmodel", "code/", "code/source.txt"}) {
		t.Fatalf("artifact entries %v", names)
	}
	container, _ := h.fake.ModelContainer("brdg-iris-1")
	if container["Image"] != testImage || container["ModelDataUrl"] != "s3://"+bucket+"/iris/1/artifact.tar.gz" ||
		container["Environment"].(map[string]any)["MLFLOW_DEPLOYMENT_FLAVOR_NAME"] != "python_function" {
		t.Fatalf("model container %v", container)
	}

	// v2 appears: Latest moves to it (an update), v1 goes away.
	h.register("iris")
	h.converge(20 * time.Second)
	if got := h.endpointModels("brdg-iris-latest"); !reflect.DeepEqual(got, []string{"brdg-iris-2"}) {
		t.Fatalf("latest serves %v", got)
	}
	h.assertNothingOrphaned()
	if _, ok := h.fake.Object(bucket, "iris/1/artifact.tar.gz"); ok {
		t.Fatal("artifact of v1 left behind")
	}

	// v2 → Staging; Latest falls back to v1 (newest version still in None).
	h.stage("iris", 2, model.StageStaging)
	h.converge(20 * time.Second)
	if got := h.endpointModels("brdg-iris-staging"); !reflect.DeepEqual(got, []string{"brdg-iris-2"}) {
		t.Fatalf("staging serves %v", got)
	}
	if got := h.endpointModels("brdg-iris-latest"); !reflect.DeepEqual(got, []string{"brdg-iris-1"}) {
		t.Fatalf("latest serves %v", got)
	}

	// v2 → Production: Staging goes, Production comes with its own capacity
	// and data capture.
	h.stage("iris", 2, model.StageProduction)
	h.converge(20 * time.Second)
	if got := h.endpointModels("brdg-iris-staging"); got != nil {
		t.Fatalf("staging still serves %v", got)
	}
	prod := endpointInfo(t, h, "brdg-iris-production")
	vars, capture, _ := h.fake.ConfigVariants(prod.Config)
	if len(vars) != 1 || vars[0]["InstanceType"] != "ml.m5.large" || vars[0]["InitialInstanceCount"] != 2.0 || vars[0]["VariantName"] != "v2" {
		t.Fatalf("production variants %v", vars)
	}
	if capture == nil || capture["InitialSamplingPercentage"] != 25.0 || capture["DestinationS3Uri"] != "s3://"+bucket+"/datacapture" {
		t.Fatalf("data capture %v", capture)
	}

	// v3 joins Production: two variants with even weights.
	v3 := h.register("iris")
	h.stage("iris", v3, model.StageProduction)
	actual := h.converge(20 * time.Second)
	if got := h.endpointModels("brdg-iris-production"); !reflect.DeepEqual(got, []string{"brdg-iris-2", "brdg-iris-3"}) {
		t.Fatalf("production serves %v", got)
	}
	for _, e := range actual.Endpoints {
		if e.Key.Slot == model.StageProduction {
			want := []model.WeightedVersion{{Version: 2, Weight: 0.5}, {Version: 3, Weight: 0.5}}
			if !reflect.DeepEqual(e.Versions, want) {
				t.Fatalf("observed production %v, want %v", e.Versions, want)
			}
		}
	}

	// An alias gets its own endpoint.
	if err := h.reg.SetAlias(h.ctx, "iris", "champion", 3); err != nil {
		t.Fatal(err)
	}
	h.converge(20 * time.Second)
	if got := h.endpointModels("brdg-iris-champion"); !reflect.DeepEqual(got, []string{"brdg-iris-3"}) {
		t.Fatalf("champion serves %v", got)
	}

	// v2 archived: Production serves v3 alone, v2's model and artifact go.
	h.stage("iris", 2, model.StageArchived)
	h.converge(20 * time.Second)
	if got := h.endpointModels("brdg-iris-production"); !reflect.DeepEqual(got, []string{"brdg-iris-3"}) {
		t.Fatalf("production serves %v", got)
	}
	h.assertNothingOrphaned()
	if tags := h.tags("iris", 2); tags[model.TagDeployState] != "" {
		t.Fatalf("archived v2 keeps deploy tags %v", tags)
	}
	h.assertAllowed(mark, runPolicy, "run")

	mark = h.fake.Mark()
	if err := h.open().Destroy(h.ctx); err != nil {
		t.Fatal(err)
	}
	if left := h.brdgLeft(); len(left) > 0 {
		t.Fatalf("destroy left %v", left)
	}
	h.assertAllowed(mark, initPolicy, "destroy")
}

func endpointInfo(t *testing.T, h *harness, name string) awsfake.EndpointInfo {
	t.Helper()
	for _, e := range h.fake.Endpoints() {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("endpoint %s missing", name)
	return awsfake.EndpointInfo{}
}

func tarNames(t *testing.T, raw []byte) []string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
	}
}

// TestObservePendingReportsOldAndNew checks that during a blue/green update
// Observe reports the endpoint Pending with the versions of both configs,
// so the planner deletes neither. The fake's clock moves only when told.
func TestObservePendingReportsOldAndNew(t *testing.T) {
	clock := awsfake.NewManualClock()
	h := newHarness(t, harnessOpts{fake: awsfake.Options{Clock: clock.Now, CreateDelay: time.Minute, UpdateDelay: 10 * time.Minute}})
	if err := h.tgt.Init(h.ctx); err != nil {
		t.Fatal(err)
	}
	key := model.EndpointKey{Model: "m", Slot: model.StageProduction}
	for v := 1; v <= 2; v++ {
		if err := h.tgt.CreateVersion(h.ctx, target.VersionSpec{Ref: model.VersionRef{Model: "m", Version: v}, Source: "file:///x"}); err != nil {
			t.Fatal(err)
		}
	}
	observe := func() model.ActualEndpoint {
		t.Helper()
		act, err := h.tgt.Observe(h.ctx)
		if err != nil || len(act.Endpoints) != 1 {
			t.Fatalf("observe: %+v %v", act.Endpoints, err)
		}
		return act.Endpoints[0]
	}
	if err := h.tgt.Route(h.ctx, key, []model.WeightedVersion{{Version: 1, Weight: 1}}); err != nil {
		t.Fatal(err)
	}
	if e := observe(); e.Status != model.StatusPending || !reflect.DeepEqual(e.Versions, []model.WeightedVersion{{Version: 1, Weight: 1}}) {
		t.Fatalf("while creating: %+v", e)
	}
	clock.Advance(time.Minute)
	if e := observe(); e.Status != model.StatusReady {
		t.Fatalf("after creation: %+v", e)
	}
	if err := h.tgt.Route(h.ctx, key, []model.WeightedVersion{{Version: 2, Weight: 1}}); err != nil {
		t.Fatal(err)
	}
	if e := observe(); e.Status != model.StatusPending ||
		!reflect.DeepEqual(e.Versions, []model.WeightedVersion{{Version: 1, Weight: 1}, {Version: 2, Weight: 0}}) {
		t.Fatalf("during the update: %+v", e)
	}
	// Routing a busy endpoint elsewhere is an error to retry, not a crash.
	if err := h.tgt.Route(h.ctx, key, []model.WeightedVersion{{Version: 1, Weight: 0.5}, {Version: 2, Weight: 0.5}}); err == nil || !strings.Contains(err.Error(), "Updating") {
		t.Fatalf("route while updating: %v", err)
	}
	// Routing to the config being deployed is a no-op.
	if err := h.tgt.Route(h.ctx, key, []model.WeightedVersion{{Version: 2, Weight: 1}}); err != nil {
		t.Fatalf("route to the pending config: %v", err)
	}
	clock.Advance(10 * time.Minute)
	if e := observe(); e.Status != model.StatusReady || !reflect.DeepEqual(e.Versions, []model.WeightedVersion{{Version: 2, Weight: 1}}) {
		t.Fatalf("after the update: %+v", e)
	}
	// SystemUpdating (AWS maintenance) is Pending too.
	if err := h.fake.SystemUpdate("brdg-m-production", time.Minute); err != nil {
		t.Fatal(err)
	}
	if e := observe(); e.Status != model.StatusPending {
		t.Fatalf("system updating observed as %s", e.Status)
	}
	clock.Advance(time.Minute)
	if e := observe(); e.Status != model.StatusReady {
		t.Fatalf("after maintenance: %+v", e)
	}
}

func waitStatus(t *testing.T, h *harness, key model.EndpointKey, want model.Status) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		act, err := h.tgt.Observe(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range act.Endpoints {
			if e.Key == key && e.Status == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("endpoint %s never %s: %+v", key, want, act.Endpoints)
		}
		select {
		case <-h.ctx.Done():
			t.Fatal(h.ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// failSwitch makes endpoint deployments fail while on.
type failSwitch struct {
	mu sync.Mutex
	on map[string]bool
}

func (f *failSwitch) set(endpoint string, on bool) {
	f.mu.Lock()
	f.on[endpoint] = on
	f.mu.Unlock()
}

func (f *failSwitch) hook(endpoint string, images []string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.on[endpoint] {
		return "The primary container for production variant v1 did not pass the ping health check."
	}
	return ""
}

func TestFailedEndpoint(t *testing.T) {
	fs := &failSwitch{on: map[string]bool{}}
	h := newHarness(t, harnessOpts{fake: awsfake.Options{FailEndpoint: fs.hook}})
	if err := h.tgt.Init(h.ctx); err != nil {
		t.Fatal(err)
	}
	mark := h.fake.Mark()

	// Creation fails: the endpoint is Failed and v1 is tagged FAILED.
	fs.set("brdg-flaky-latest", true)
	h.register("flaky")
	deadline := time.Now().Add(20 * time.Second)
	for h.tags("flaky", 1)[model.TagDeployState] != model.StateFailed {
		if time.Now().After(deadline) {
			t.Fatalf("v1 never FAILED: %v, endpoints %+v", h.tags("flaky", 1), h.fake.Endpoints())
		}
		h.rec.RunOnce(h.ctx)
	}
	if e := endpointInfo(t, h, "brdg-flaky-latest"); e.Status != awsfake.StatusFailed {
		t.Fatalf("endpoint %+v", e)
	}
	if msg := h.tags("flaky", 1)[model.TagDeployError]; !strings.Contains(msg, "ping health check") {
		t.Fatalf("error tag %q", msg)
	}

	// A new version (a changed config): delete and create again.
	fs.set("brdg-flaky-latest", false)
	h.register("flaky")
	h.converge(20 * time.Second)
	if got := h.endpointModels("brdg-flaky-latest"); !reflect.DeepEqual(got, []string{"brdg-flaky-2"}) {
		t.Fatalf("latest serves %v", got)
	}
	h.assertNothingOrphaned()

	// A failed update rolls back: v2 keeps serving, v3 is reported FAILED.
	fs.set("brdg-flaky-latest", true)
	h.register("flaky")
	deadline = time.Now().Add(20 * time.Second)
	for h.tags("flaky", 3)[model.TagDeployState] != model.StateFailed {
		if time.Now().After(deadline) {
			t.Fatalf("v3 never FAILED: %v, endpoints %+v", h.tags("flaky", 3), h.fake.Endpoints())
		}
		h.rec.RunOnce(h.ctx)
	}
	if e := endpointInfo(t, h, "brdg-flaky-latest"); e.Status != awsfake.StatusInService || e.FailureReason == "" {
		t.Fatalf("after failed update: %+v", e)
	}
	if got := h.endpointModels("brdg-flaky-latest"); !reflect.DeepEqual(got, []string{"brdg-flaky-2"}) {
		t.Fatalf("after failed update latest serves %v", got)
	}
	fs.set("brdg-flaky-latest", false)
	h.register("flaky")
	h.converge(20 * time.Second)
	if got := h.endpointModels("brdg-flaky-latest"); !reflect.DeepEqual(got, []string{"brdg-flaky-4"}) {
		t.Fatalf("latest serves %v", got)
	}
	h.assertNothingOrphaned()
	h.assertAllowed(mark, runPolicy, "run")
}

// TestFailedEndpointRecovers: an endpoint that fails with the config it
// should have is recreated (DeleteEndpoint, then CreateEndpoint with the
// same config) under the loop's backoff while the registry stays as it is,
// with FAILED and SageMaker's reason on the version whenever it is Failed;
// once the cause is gone, a retry brings it InService and the version is
// DEPLOYED.
func TestFailedEndpointRecovers(t *testing.T) {
	fs := &failSwitch{on: map[string]bool{}}
	h := newHarness(t, harnessOpts{fake: awsfake.Options{FailEndpoint: fs.hook}})
	if err := h.tgt.Init(h.ctx); err != nil {
		t.Fatal(err)
	}
	mark := h.fake.Mark()
	fs.set("brdg-flaky-latest", true)
	h.register("flaky")
	creates := func() int { return awsfake.Operations(h.fake.CallsSince(mark))["sagemaker:CreateEndpoint"] }

	// Failing for good: FAILED with the reason, and retried (at least two
	// more creates) without any registry change.
	deadline := time.Now().Add(20 * time.Second)
	var config string
	waited := 0
	for creates() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d CreateEndpoint calls; endpoints %+v", creates(), h.fake.Endpoints())
		}
		res, err := h.rec.RunOnce(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		e := endpointInfo(t, h, "brdg-flaky-latest")
		if config == "" {
			config = e.Config
		}
		if e.Config != config {
			t.Fatalf("retry changed the config: %s, then %s", config, e.Config)
		}
		tags := h.tags("flaky", 1)
		if len(res.Deferred) > 0 {
			// Waiting for the backoff: the failure stays visible.
			waited++
			if tags[model.TagDeployState] != model.StateFailed || !strings.Contains(tags[model.TagDeployError], "ping health check") {
				t.Fatalf("retry waiting, tags %v", tags)
			}
		}
		if tags[model.TagDeployState] == model.StateFailed && !strings.Contains(tags[model.TagDeployError], "ping health check") {
			t.Fatalf("FAILED without SageMaker's reason: %v", tags)
		}
	}
	if waited == 0 {
		t.Fatal("no pass waited for the backoff")
	}
	ops := awsfake.Operations(h.fake.CallsSince(mark))
	if ops["sagemaker:DeleteEndpoint"] < 2 {
		t.Fatalf("retries without deleting the failed endpoint: %v", ops)
	}

	// The cause is gone: the next retry succeeds.
	fs.set("brdg-flaky-latest", false)
	h.converge(20 * time.Second)
	if e := endpointInfo(t, h, "brdg-flaky-latest"); e.Status != awsfake.StatusInService || e.Config != config {
		t.Fatalf("after recovery: %+v (config was %s)", e, config)
	}
	if got := h.endpointModels("brdg-flaky-latest"); !reflect.DeepEqual(got, []string{"brdg-flaky-1"}) {
		t.Fatalf("latest serves %v", got)
	}
	if tags := h.tags("flaky", 1); tags[model.TagDeployState] != model.StateDeployed || tags[model.TagDeployError] != "" {
		t.Fatalf("tags after recovery %v", tags)
	}
	h.assertNothingOrphaned()
	h.assertAllowed(mark, runPolicy, "run")
}

// TestManyEndpoints runs 150 endpoints (more than a page of 100), next to
// resources that are not Bridge's, and destroys them.
func TestManyEndpoints(t *testing.T) {
	if testing.Short() {
		t.Skip("150 endpoints")
	}
	h := newHarness(t, harnessOpts{fake: awsfake.Options{CreateDelay: time.Millisecond, DeleteDelay: time.Millisecond}})
	h.fake.Plant("us-east-1", []string{"other-model", "xbrdg-model", "my-brdg-model"}, []string{"prod-api", "other-brdg-api"}, "img")
	if err := h.tgt.Init(h.ctx); err != nil {
		t.Fatal(err)
	}
	mark := h.fake.Mark()
	for i := 0; i < 150; i++ {
		h.register(fmt.Sprintf("m%03d", i))
	}
	actual := h.converge(60 * time.Second)
	if len(actual.Endpoints) != 150 || len(actual.Versions) != 150 {
		t.Fatalf("observed %d endpoints and %d versions, want 150 each", len(actual.Endpoints), len(actual.Versions))
	}
	h.assertAllowed(mark, runPolicy, "run")
	ops := awsfake.Operations(h.fake.CallsSince(mark))
	if ops["sagemaker:ListEndpoints"] < 2 {
		t.Fatalf("ListEndpoints never paginated: %v", ops)
	}

	// A second Observe of an unchanged account describes nothing again.
	mark = h.fake.Mark()
	if _, err := h.tgt.Observe(h.ctx); err != nil {
		t.Fatal(err)
	}
	ops = awsfake.Operations(h.fake.CallsSince(mark))
	if ops["sagemaker:DescribeEndpoint"] != 0 || ops["sagemaker:DescribeEndpointConfig"] != 0 || ops["sagemaker:ListEndpoints"] != 2 {
		t.Fatalf("steady-state observe calls: %v", ops)
	}

	mark = h.fake.Mark()
	if err := h.open().Destroy(h.ctx); err != nil {
		t.Fatal(err)
	}
	if left := h.brdgLeft(); len(left) > 0 {
		t.Fatalf("destroy left %d resources, e.g. %v", len(left), left[0])
	}
	if got := h.fake.Models(); !reflect.DeepEqual(got, []string{"my-brdg-model", "other-model", "xbrdg-model"}) {
		t.Fatalf("models after destroy %v", got)
	}
	if eps := h.fake.Endpoints(); len(eps) != 2 || eps[0].Name != "other-brdg-api" || eps[1].Name != "prod-api" {
		t.Fatalf("endpoints after destroy %+v", eps)
	}
	if got := h.fake.EndpointConfigs(); !reflect.DeepEqual(got, []string{"other-brdg-api-cfg", "prod-api-cfg"}) {
		t.Fatalf("configs after destroy %v", got)
	}
	h.assertAllowed(mark, initPolicy, "destroy")
}

// TestFaults injects throttling, 5xx and lost responses on a share of all
// calls while a model is promoted and another is created and removed; the
// loop converges, nothing is orphaned and every call stays in the policy.
func TestFaults(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) { testFaults(t, seed) })
	}
}

func testFaults(t *testing.T, seed int64) {
	h := newHarness(t, harnessOpts{fake: awsfake.Options{Seed: seed}})
	if err := h.tgt.Init(h.ctx); err != nil {
		t.Fatal(err)
	}
	mark := h.fake.Mark()
	h.fake.SetFaults(awsfake.Faults{Throttle: 0.15, ServerError: 0.1, LostResponse: 0.05})

	for _, m := range []string{"alpha", "beta", "gamma", "Delta_Model"} {
		h.register(m)
	}
	h.converge(30 * time.Second)
	a2 := h.register("alpha")
	h.stage("alpha", 1, model.StageProduction)
	h.stage("alpha", a2, model.StageStaging)
	h.stage("beta", 1, model.StageArchived)
	h.register("gamma")
	if err := h.reg.SetAlias(h.ctx, "Delta_Model", "champion", 1); err != nil {
		t.Fatal(err)
	}
	h.converge(30 * time.Second)
	h.stage("alpha", a2, model.StageProduction)
	h.stage("gamma", 2, model.StageStaging)
	h.converge(30 * time.Second)

	calls := h.fake.CallsSince(mark)
	faults := map[string]int{}
	for _, c := range calls {
		faults[c.Fault]++
	}
	if faults["throttle"] == 0 || faults["server"] == 0 || faults["lost"] == 0 {
		t.Fatalf("fault mix %v: the test injected nothing", faults)
	}
	h.fake.SetFaults(awsfake.Faults{})
	h.converge(30 * time.Second)
	h.assertNothingOrphaned()
	if got := h.endpointModels("brdg-alpha-production"); !reflect.DeepEqual(got, []string{"brdg-alpha-1", "brdg-alpha-2"}) {
		t.Fatalf("production serves %v", got)
	}
	h.assertAllowed(mark, runPolicy, "run")
	t.Logf("%d calls, faults %v", len(calls), faults)
	// The metrics count calls after retries: successes of every kind, and
	// no failure outcome once the loop converged without faults.
	// (A retry after a lost response ends "ValidationException: already
	// existing", which CreateVersion accepts.)
	ok := counterValue(t, h, "bridge_sagemaker_aws_calls_total", map[string]string{"service": "SageMaker", "operation": "CreateModel", "outcome": "ok"})
	all := ok + counterValue(t, h, "bridge_sagemaker_aws_calls_total", map[string]string{"service": "SageMaker", "operation": "CreateModel", "outcome": "ValidationException"})
	if ok < 3 || all < 6 {
		t.Fatalf("CreateModel counted %v ok of %v, want at least 3 of 6 versions", ok, all)
	}

	// Destroy under the same faults, twice.
	h.fake.SetFaults(awsfake.Faults{Throttle: 0.15, ServerError: 0.1, LostResponse: 0.05})
	mark = h.fake.Mark()
	for i := 0; i < 2; i++ {
		if err := h.open().Destroy(h.ctx); err != nil {
			t.Fatalf("destroy %d under faults: %v", i+1, err)
		}
	}
	h.fake.SetFaults(awsfake.Faults{})
	if left := h.brdgLeft(); len(left) > 0 {
		t.Fatalf("destroy under faults left %v", left)
	}
	h.assertAllowed(mark, initPolicy, "destroy")
}

// TestNamesNeedingMapping uses registry names SageMaker does not accept
// as they are, or that differ only in case; a fresh process still maps
// every resource back.
func TestNamesNeedingMapping(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	if err := h.tgt.Init(h.ctx); err != nil {
		t.Fatal(err)
	}
	mark := h.fake.Mark()
	long := strings.Repeat("very-long-model-name-", 4)
	names := []string{"Iris_Classifier", "iris-classifier", "IRIS.classifier", long}
	for _, n := range names {
		h.register(n)
	}
	if err := h.reg.SetAlias(h.ctx, "iris-classifier", "Champion", 1); err != nil {
		t.Fatal(err)
	}
	if err := h.reg.SetAlias(h.ctx, "iris-classifier", "production", 1); err != nil {
		t.Fatal(err)
	}
	h.converge(30 * time.Second)

	seen := map[string]bool{}
	for _, e := range h.fake.Endpoints() {
		if !sgname.Valid(e.Name) || seen[strings.ToLower(e.Name)] {
			t.Fatalf("endpoint name %q invalid or duplicate", e.Name)
		}
		seen[strings.ToLower(e.Name)] = true
	}
	if len(seen) != 6 {
		t.Fatalf("want 6 endpoints (4 Latest, 2 aliases), got %v", h.fake.Endpoints())
	}
	// A new process (empty caches) maps every name back.
	fresh := h.open()
	act, err := fresh.Observe(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range act.Endpoints {
		keys = append(keys, e.Key.String())
	}
	want := []string{"IRIS.classifier/Latest", "Iris_Classifier/Latest", "iris-classifier/Champion", "iris-classifier/Latest", "iris-classifier/production", long + "/Latest"}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("observed keys %v, want %v", keys, want)
	}
	for _, v := range act.Versions {
		if v.Status != model.StatusReady {
			t.Fatalf("version %v: %s", v.Ref, v.Status)
		}
	}
	h.assertAllowed(mark, runPolicy, "run")
	if err := fresh.Destroy(h.ctx); err != nil {
		t.Fatal(err)
	}
	if left := h.brdgLeft(); len(left) > 0 {
		t.Fatalf("destroy left %v", left)
	}
}

func TestDestroyTwiceAndForeignResources(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.fake.Plant("us-east-1", []string{"keep-model", "notbrdg-1"}, []string{"keep-endpoint", "mybrdg-endpoint"}, "img")
	h.fake.PutRole("other-role", `{"Statement":[]}`, sagemaker.ManagedPolicyARN)
	mark := h.fake.Mark()
	// Destroy before init: nothing there, nothing fails.
	if err := h.tgt.Destroy(h.ctx); err != nil {
		t.Fatalf("destroy of nothing: %v", err)
	}
	h.assertAllowed(mark, initPolicy, "destroy before init")
	if err := h.tgt.Init(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.register("iris")
	h.converge(20 * time.Second)
	for i := 0; i < 2; i++ {
		if err := h.open().Destroy(h.ctx); err != nil {
			t.Fatalf("destroy %d: %v", i+1, err)
		}
		if left := h.brdgLeft(); len(left) > 0 {
			t.Fatalf("destroy %d left %v", i+1, left)
		}
	}
	if got := h.fake.Models(); !reflect.DeepEqual(got, []string{"keep-model", "notbrdg-1"}) {
		t.Fatalf("models %v", got)
	}
	if len(h.fake.Endpoints()) != 2 || len(h.fake.Roles()) != 1 {
		t.Fatalf("foreign endpoints or roles touched: %+v %+v", h.fake.Endpoints(), h.fake.Roles())
	}
	// Observe after destroy says what to do.
	if _, err := h.tgt.Observe(h.ctx); err == nil || !strings.Contains(err.Error(), "bridge init sagemaker") {
		t.Fatalf("observe without bucket: %v", err)
	}
}

func TestMultipartArtifact(t *testing.T) {
	h := newHarness(t, harnessOpts{env: map[string]string{sagemaker.EnvUploadPartSize: "5"}})
	h.fetch.bigSize = 12 << 20
	if err := h.tgt.Init(h.ctx); err != nil {
		t.Fatal(err)
	}
	mark := h.fake.Mark()
	ref := model.VersionRef{Model: "big", Version: 1}
	if err := h.tgt.CreateVersion(h.ctx, target.VersionSpec{Ref: ref, Source: "file:///big"}); err != nil {
		t.Fatal(err)
	}
	ops := awsfake.Operations(h.fake.CallsSince(mark))
	// One multipart upload of the artifact; one small PutObject of the name record.
	if ops["s3:UploadPart"] < 3 || ops["s3:CompleteMultipartUpload"] != 1 || ops["s3:PutObject"] != 1 {
		t.Fatalf("want a multipart upload: %v", ops)
	}
	if tags := h.fake.ObjectTags(h.tgt.Bucket(), "big/1/artifact.tar.gz"); tags["SageMaker"] != "true" {
		t.Fatalf("artifact tags %v: the execution role can read only objects tagged SageMaker=true", tags)
	}
	raw, _ := h.fake.Object(h.tgt.Bucket(), "big/1/artifact.tar.gz")
	if names := tarNames(t, raw); !reflect.DeepEqual(names, []string{"MLmodel", "code/", "code/source.txt", "weights.bin"}) {
		t.Fatalf("entries %v", names)
	}
	// Idempotent: the model exists, nothing is fetched or uploaded again.
	mark = h.fake.Mark()
	if err := h.tgt.CreateVersion(h.ctx, target.VersionSpec{Ref: ref, Source: "file:///big"}); err != nil {
		t.Fatal(err)
	}
	if ops := awsfake.Operations(h.fake.CallsSince(mark)); len(ops) != 1 || ops["sagemaker:DescribeModel"] != 1 {
		t.Fatalf("second create called %v", ops)
	}
	h.assertAllowed(mark, runPolicy, "run")
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad capture percentage", map[string]string{sagemaker.EnvDataCapture: "150"}, sagemaker.EnvDataCapture},
		{"bad count", map[string]string{sagemaker.EnvInstanceCount: "zero"}, sagemaker.EnvInstanceCount},
		{"small parts", map[string]string{sagemaker.EnvUploadPartSize: "1"}, "at least 5 MB"},
		{"no region", map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": ""}, "set AWS_REGION"},
		{"no credentials", map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, "set AWS_ACCESS_KEY_ID"},
		{"missing profile", map[string]string{"BRDG_DEPLOY_AWS_PROFILE": "nope"}, "AWS profile \"nope\" not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := awsfake.New(awsfake.Options{})
			defer f.Close()
			for k, v := range f.Env() {
				t.Setenv(k, v)
			}
			t.Setenv("BRIDGE_ENV_FILE", "/nonexistent/.env")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg, err := config.Load()
			if err != nil {
				t.Fatal(err)
			}
			_, err = target.New(t.Context(), sagemaker.Kind, target.Deps{Config: cfg})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestMissingImage(t *testing.T) {
	h := newHarness(t, harnessOpts{env: map[string]string{sagemaker.EnvImage: ""}})
	if err := h.tgt.Init(h.ctx); err != nil {
		t.Fatal(err)
	}
	// A python_function model has no prebuilt image: the error says to set one.
	err := h.tgt.CreateVersion(h.ctx, target.VersionSpec{Ref: model.VersionRef{Model: "m", Version: 1}, Source: "file:///m"})
	if err == nil || !strings.Contains(err.Error(), sagemaker.EnvImage) || !strings.Contains(err.Error(), "python_function") {
		t.Fatalf("create without image: %v", err)
	}
	if len(h.fake.Models()) != 0 {
		t.Fatalf("models created: %v", h.fake.Models())
	}
}

func TestURL(t *testing.T) {
	for _, tc := range []struct {
		region string
		key    model.EndpointKey
		want   string
	}{
		{"eu-west-1", model.EndpointKey{Model: "iris", Slot: model.StageProduction}, "https://runtime.sagemaker.eu-west-1.amazonaws.com/endpoints/brdg-iris-production/invocations"},
		{"cn-north-1", model.EndpointKey{Model: "iris", Slot: model.SlotLatest}, "https://runtime.sagemaker.cn-north-1.amazonaws.com.cn/endpoints/brdg-iris-latest/invocations"},
	} {
		h := newHarness(t, harnessOpts{env: map[string]string{"AWS_REGION": tc.region}})
		if got := h.tgt.URL(tc.key); got != tc.want {
			t.Errorf("URL(%v) in %s = %s, want %s", tc.key, tc.region, got, tc.want)
		}
	}
}

// TestResourceLimit runs into the account's instance quota: the endpoint
// that does not fit is reported FAILED with SageMaker's reason, and is
// created once another endpoint goes away.
func TestResourceLimit(t *testing.T) {
	h := newHarness(t, harnessOpts{fake: awsfake.Options{InstanceQuota: map[string]int{"ml.t2.medium": 2}}})
	if err := h.tgt.Init(h.ctx); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"a", "b", "c"} {
		h.register(m)
	}
	var failed string
	deadline := time.Now().Add(20 * time.Second)
	for failed == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no model reported the quota: endpoints %+v", h.fake.Endpoints())
		}
		h.rec.RunOnce(h.ctx)
		for _, m := range []string{"a", "b", "c"} {
			if tags := h.tags(m, 1); tags[model.TagDeployState] == model.StateFailed && strings.Contains(tags[model.TagDeployError], "ResourceLimitExceeded") {
				failed = m
			}
		}
	}
	if n := len(h.fake.Endpoints()); n != 2 {
		t.Fatalf("%d endpoints within a quota of 2", n)
	}
	// Free one instance: the waiting model gets its endpoint.
	other := map[string]string{"a": "b", "b": "c", "c": "a"}[failed]
	if err := h.reg.DeleteModelVersion(h.ctx, other, 1); err != nil {
		t.Fatal(err)
	}
	h.converge(20 * time.Second)
	if got := h.endpointModels(sgname.Endpoint(model.EndpointKey{Model: failed, Slot: model.SlotLatest})); len(got) != 1 {
		t.Fatalf("%s never got its endpoint: %+v", failed, h.fake.Endpoints())
	}
	if tags := h.tags(failed, 1); tags[model.TagDeployState] != model.StateDeployed {
		t.Fatalf("tags of %s: %v", failed, tags)
	}
	h.assertNothingOrphaned()
}

// TestSettingsChange changes instance and data capture settings with the
// registry unchanged: Observe reports the endpoint Outdated, the plan routes
// it again, and the reconcile loop alone updates it to a config with the new
// settings (blue/green, no recreate); then nothing is left to do.
func TestSettingsChange(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		message string // in the Outdated endpoint's message
		check   func(t *testing.T, vars []map[string]any, capture map[string]any)
	}{
		{
			name: "instance type", env: map[string]string{"BRDG_DEPLOY_AWS_LATEST_INSTANCE_TYPE": "ml.m5.large"}, message: "ml.m5.large",
			check: func(t *testing.T, vars []map[string]any, _ map[string]any) {
				if vars[0]["InstanceType"] != "ml.m5.large" {
					t.Fatalf("variants %v", vars)
				}
			},
		},
		{
			name: "instance count", env: map[string]string{sagemaker.EnvInstanceCount: "2"}, message: "2 × ml.t2.medium",
			check: func(t *testing.T, vars []map[string]any, _ map[string]any) {
				if vars[0]["InitialInstanceCount"] != 2.0 {
					t.Fatalf("variants %v", vars)
				}
			},
		},
		{
			name: "data capture", env: map[string]string{sagemaker.EnvDataCapture: "25"}, message: "25%",
			check: func(t *testing.T, _ []map[string]any, capture map[string]any) {
				if capture["InitialSamplingPercentage"] != 25.0 || capture["EnableCapture"] != true {
					t.Fatalf("data capture %v", capture)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{})
			if err := h.tgt.Init(h.ctx); err != nil {
				t.Fatal(err)
			}
			h.register("iris")
			h.converge(20 * time.Second)
			before := endpointInfo(t, h, "brdg-iris-latest")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			h.reopen() // a restarted Bridge with the new settings
			act, err := h.tgt.Observe(h.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if e := act.Endpoints[0]; e.Status != model.StatusReady || !e.Outdated || !strings.Contains(e.Message, tt.message) {
				t.Fatalf("after the settings change: %+v", e)
			}
			versions, err := h.reg.Versions(h.ctx)
			if err != nil {
				t.Fatal(err)
			}
			p := plan.Plan(model.DesiredFrom(versions), act)
			if len(p) != 1 || p[0].String() != "route iris/Latest -> v1 100% (apply changed settings)" {
				t.Fatalf("plan %v", p)
			}
			mark := h.fake.Mark()
			h.converge(20 * time.Second)
			after := endpointInfo(t, h, "brdg-iris-latest")
			if after.Config == before.Config {
				t.Fatalf("endpoint still on config %s", after.Config)
			}
			vars, capture, ok := h.fake.ConfigVariants(after.Config)
			if !ok {
				t.Fatalf("config %s missing", after.Config)
			}
			tt.check(t, vars, capture)
			var updates, creates int
			for _, c := range h.fake.CallsSince(mark) {
				switch c.Operation {
				case "UpdateEndpoint":
					updates++
				case "CreateEndpoint", "DeleteEndpoint":
					creates++
				}
			}
			if updates != 1 || creates != 0 {
				t.Fatalf("%d UpdateEndpoint, %d Create/DeleteEndpoint calls; want one update", updates, creates)
			}
			act, err = h.tgt.Observe(h.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if e := act.Endpoints[0]; e.Outdated || e.Message != "" {
				t.Fatalf("after the update: %+v", e)
			}
			if got := h.tags("iris", 1)[model.TagDeployState]; got != model.StateDeployed {
				t.Fatalf("v1 state %q", got)
			}
			h.assertNothingOrphaned()
			h.assertAllowed(mark, runPolicy, "run")
		})
	}
}

func counterValue(t *testing.T, h *harness, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := h.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// TestAssumedRole runs the target with AWS_ROLE: every call after the
// assume-role is made by the role's session, tagged as configured.
func TestAssumedRole(t *testing.T) {
	h := newHarness(t, harnessOpts{env: map[string]string{
		"AWS_ROLE":                     "arn:aws:iam::123456789012:role/bridge-deployer",
		"BRDG_DEPLOY_AWS_SESSION_TAGS": "team=ml",
	}})
	mark := h.fake.Mark()
	if err := h.tgt.Init(h.ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range h.fake.CallsSince(mark) {
		if c.Principal != "arn:aws:sts::123456789012:assumed-role/bridge-deployer/bridge" {
			t.Fatalf("%s made by %q, want the assumed role", c, c.Principal)
		}
	}
	s := h.fake.AssumedSessions()
	if len(s) == 0 || s[0].Tags["team"] != "ml" || s[0].Tags["Application"] != "bridge" {
		t.Fatalf("sessions %+v", s)
	}
}
