package sagemaker_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bridgeops/bridge/internal/awsauth"
	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/iampolicy"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/plan"
	"github.com/bridgeops/bridge/internal/reconcile"
	"github.com/bridgeops/bridge/internal/registry/store"
	"github.com/bridgeops/bridge/internal/sgname"
	"github.com/bridgeops/bridge/internal/target"
	"github.com/bridgeops/bridge/internal/target/sagemaker"
)

const testImage = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc:2.16.2"

// dirFetcher materialises every version as a small model directory with an
// MLmodel file (and an optional large file), like package artifact does.
type dirFetcher struct {
	root    string
	bigSize int // bytes of incompressible data added to each model

	mu      sync.Mutex
	fetched map[model.VersionRef]int
}

func (f *dirFetcher) Fetch(ctx context.Context, ref model.VersionRef, source string) (string, error) {
	f.mu.Lock()
	f.fetched[ref]++
	f.mu.Unlock()
	dir := filepath.Join(f.root, fmt.Sprintf("%x", ref.Model), fmt.Sprint(ref.Version))
	if err := os.MkdirAll(filepath.Join(dir, "code"), 0o755); err != nil {
		return "", err
	}
	mlmodel := fmt.Sprintf("artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n# %s\n", ref)
	if err := os.WriteFile(filepath.Join(dir, "MLmodel"), []byte(mlmodel), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "code", "source.txt"), []byte(source), 0o644); err != nil {
		return "", err
	}
	if f.bigSize > 0 {
		big := make([]byte, f.bigSize)
		x := uint64(ref.Version)*0x9E3779B97F4A7C15 + 1
		for i := range big { // xorshift: incompressible, deterministic
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			big[i] = byte(x)
		}
		if err := os.WriteFile(filepath.Join(dir, "weights.bin"), big, 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// harness is a fake AWS, a SageMaker target pointed at it, an embedded
// registry and the real reconcile loop.
type harness struct {
	t       testing.TB
	ctx     context.Context
	fake    *awsfake.Server
	cfg     config.Config
	fetch   *dirFetcher
	tgt     *sagemaker.Target
	metrics *prometheus.Registry
	reg     *store.Store
	rec     *reconcile.Reconciler
}

type harnessOpts struct {
	fake awsfake.Options
	env  map[string]string
}

func newHarness(t testing.TB, o harnessOpts) *harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	f := awsfake.New(o.fake)
	t.Cleanup(f.Close)
	for k, v := range f.Env() {
		t.Setenv(k, v)
	}
	t.Setenv("BRIDGE_ENV_FILE", filepath.Join(t.TempDir(), "none.env"))
	t.Setenv(sagemaker.EnvImage, testImage)
	t.Setenv(sagemaker.EnvPollInterval, "0.005")
	t.Setenv(sagemaker.EnvWaitTimeout, "20")
	for k, v := range o.env {
		t.Setenv(k, v)
	}
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, ctx: ctx, fake: f, cfg: cfg, metrics: prometheus.NewRegistry(), fetch: &dirFetcher{root: t.TempDir(), fetched: map[model.VersionRef]int{}}}
	h.tgt = h.open()
	reg, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	h.reg = reg
	h.rec = h.loop()
	return h
}

// loop builds a reconcile loop over the registry and the current target.
func (h *harness) loop() *reconcile.Reconciler {
	h.t.Helper()
	rec, err := reconcile.New(reconcile.Options{Registry: h.reg, Target: h.tgt, BackoffBase: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond})
	if err != nil {
		h.t.Fatal(err)
	}
	return rec
}

// reopen replaces the target and the loop with fresh ones, as a restarted
// Bridge process (reading the environment again) would have.
func (h *harness) reopen() {
	h.t.Helper()
	h.tgt = h.open()
	h.rec = h.loop()
}

// open builds a fresh target, as a new Bridge process would.
func (h *harness) open() *sagemaker.Target {
	h.t.Helper()
	return h.openWith(h.fetch)
}

// openWith builds a fresh target with another fetcher.
func (h *harness) openWith(fetch target.Fetcher) *sagemaker.Target {
	h.t.Helper()
	auth, err := awsauth.FromConfig(h.cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	auth.MaxBackoff = 2 * time.Millisecond
	auth.NoRetryQuota = true
	tgt, err := sagemaker.Open(h.ctx, target.Deps{Config: h.cfg, Fetcher: fetch, Metrics: h.metrics}, auth)
	if err != nil {
		h.t.Fatal(err)
	}
	return tgt
}

func (h *harness) register(name string) int {
	h.t.Helper()
	if _, err := h.reg.GetRegisteredModel(h.ctx, name); err != nil {
		if _, err := h.reg.CreateRegisteredModel(h.ctx, name, "", nil); err != nil {
			h.t.Fatal(err)
		}
	}
	v, err := h.reg.CreateModelVersion(h.ctx, store.VersionSpec{Name: name, Source: "file:///models/" + name})
	if err != nil {
		h.t.Fatal(err)
	}
	return v.Version
}

func (h *harness) stage(name string, version int, stage string) {
	h.t.Helper()
	if _, err := h.reg.TransitionStage(h.ctx, name, version, stage, false); err != nil {
		h.t.Fatal(err)
	}
}

// converge runs reconcile passes until the target serves what the
// registry asks (empty plan, every endpoint Ready) and a following pass
// changes nothing (so the deploy tags are written too), or fails the test
// at the deadline.
func (h *harness) converge(within time.Duration) model.Actual {
	h.t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for passes := 1; ; passes++ {
		versions, err := h.reg.Versions(h.ctx)
		if err != nil {
			h.t.Fatal(err)
		}
		actual, err := h.tgt.Observe(h.ctx)
		if err == nil {
			ready := true
			for _, e := range actual.Endpoints {
				ready = ready && e.Status == model.StatusReady
			}
			p := plan.Plan(model.DesiredFrom(versions), actual)
			if ready && len(p) == 0 {
				res, err := h.rec.RunOnce(h.ctx)
				if err == nil && !res.Changed() && len(res.Failed) == 0 {
					return actual
				}
				last = fmt.Sprintf("final pass: %v %v", err, res.Failed)
			} else {
				last = fmt.Sprintf("plan %v, endpoints %+v", p, actual.Endpoints)
			}
		} else {
			last = err.Error()
		}
		if res, err := h.rec.RunOnce(h.ctx); err != nil {
			last += "; pass: " + err.Error()
		} else if len(res.Failed) > 0 {
			last += fmt.Sprintf("; failed: %v", res.Failed)
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("no convergence after %d passes in %s: %s", passes, within, last)
		}
		select {
		case <-h.ctx.Done():
			h.t.Fatal(h.ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// tags returns a version's bridge tags.
func (h *harness) tags(name string, version int) map[string]string {
	h.t.Helper()
	v, err := h.reg.GetModelVersion(h.ctx, name, version)
	if err != nil {
		h.t.Fatal(err)
	}
	return v.Tags
}

func seedDoc(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "..", "docs", "seeds", "000_9ad168cfbf4cc7b3.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// seedPolicy parses a policy from the repository copy of the seed guide
// with the fake's account and the region filled in.
func seedPolicy(t testing.TB, anchor, region string) *iampolicy.Policy {
	t.Helper()
	doc, err := iampolicy.SeedPolicy(seedDoc(t), anchor)
	if err != nil {
		t.Fatal(err)
	}
	doc = strings.ReplaceAll(doc, iampolicy.AccountPlaceholder, awsfake.DefaultAccount)
	doc = strings.ReplaceAll(doc, iampolicy.RegionPlaceholder, region)
	p, err := iampolicy.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// assertAllowed checks every call since mark against a seed policy.
func (h *harness) assertAllowed(mark int, anchor, what string) {
	h.t.Helper()
	calls := h.fake.CallsSince(mark)
	if len(calls) == 0 {
		h.t.Fatalf("%s: no calls recorded", what)
	}
	if v := awsfake.Violations(calls, seedPolicy(h.t, anchor, h.tgt.Region()), "sts:GetCallerIdentity"); len(v) > 0 {
		h.t.Fatalf("%s made calls the %s policy does not allow:\n%s", what, anchor, strings.Join(v, "\n"))
	}
}

// brdgLeft lists every brdg- resource and the bucket, if any are left.
func (h *harness) brdgLeft() []string {
	var left []string
	for _, e := range h.fake.Endpoints() {
		if strings.HasPrefix(e.Name, sgname.Prefix) {
			left = append(left, "endpoint "+e.Name)
		}
	}
	for _, c := range h.fake.EndpointConfigs() {
		if strings.HasPrefix(c, sgname.Prefix) {
			left = append(left, "config "+c)
		}
	}
	for _, m := range h.fake.Models() {
		if strings.HasPrefix(m, sgname.Prefix) {
			left = append(left, "model "+m)
		}
	}
	for _, b := range h.fake.Buckets() {
		if b == h.tgt.Bucket() {
			left = append(left, "bucket "+b)
		}
	}
	for _, r := range h.fake.Roles() {
		if r.Name == sagemaker.RoleName {
			left = append(left, "role "+r.Name)
		}
	}
	return left
}

// assertNothingOrphaned checks that the AWS side holds exactly what the
// registry wants: models and artifacts of desired versions only, endpoints
// of desired endpoints only, and configs only of existing endpoints.
func (h *harness) assertNothingOrphaned() {
	h.t.Helper()
	versions, err := h.reg.Versions(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	d := model.DesiredFrom(versions)
	wantModels := map[string]bool{}
	wantKeys := map[string]bool{}
	for _, v := range d.Versions {
		wantModels[sgname.Model(v.Ref)] = true
		wantKeys[sagemaker.ArtifactKey(v.Ref)] = true
	}
	wantEPs := map[string]bool{}
	for _, e := range d.Endpoints {
		wantEPs[sgname.Endpoint(e.Key)] = true
	}
	var got []string
	for _, m := range h.fake.Models() {
		if strings.HasPrefix(m, sgname.Prefix) && !wantModels[m] {
			got = append(got, "model "+m)
		}
	}
	for _, k := range h.fake.Objects(h.tgt.Bucket()) {
		if strings.HasSuffix(k, "/artifact.tar.gz") && !wantKeys[k] {
			got = append(got, "artifact "+k)
		}
	}
	live := map[string]bool{}
	for _, e := range h.fake.Endpoints() {
		if !strings.HasPrefix(e.Name, sgname.Prefix) {
			continue
		}
		live[e.Name] = true
		if !wantEPs[e.Name] {
			got = append(got, "endpoint "+e.Name)
		}
	}
	for _, c := range h.fake.EndpointConfigs() {
		ep, ok := sgname.ConfigEndpoint(c)
		if strings.HasPrefix(c, sgname.Prefix) && (!ok || !live[ep]) {
			got = append(got, "config "+c)
		}
	}
	if len(wantModels) != countPrefixed(h.fake.Models()) {
		got = append(got, fmt.Sprintf("%d models for %d desired versions", countPrefixed(h.fake.Models()), len(wantModels)))
	}
	if h.fake.PendingUploads(h.tgt.Bucket()) > 0 {
		got = append(got, "unfinished multipart uploads")
	}
	sort.Strings(got)
	if len(got) > 0 {
		h.t.Fatalf("orphaned resources:\n%s", strings.Join(got, "\n"))
	}
}

func countPrefixed(names []string) int {
	n := 0
	for _, s := range names {
		if strings.HasPrefix(s, sgname.Prefix) {
			n++
		}
	}
	return n
}

// endpointVersions returns the models of an endpoint's deployed config.
func (h *harness) endpointModels(name string) []string {
	h.t.Helper()
	for _, e := range h.fake.Endpoints() {
		if e.Name == name {
			vs, _, ok := h.fake.ConfigVariants(e.Config)
			if !ok {
				h.t.Fatalf("endpoint %s: config %s missing", name, e.Config)
			}
			var out []string
			for _, v := range vs {
				out = append(out, v["ModelName"].(string))
			}
			sort.Strings(out)
			return out
		}
	}
	return nil
}
