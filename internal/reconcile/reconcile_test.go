package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/bridgeops/bridge/internal/model"
)

func ref(m string, v int) model.VersionRef { return model.VersionRef{Model: m, Version: v} }
func key(m, s string) model.EndpointKey    { return model.EndpointKey{Model: m, Slot: s} }

func newLoop(t *testing.T, reg *memRegistry, tgt *memTarget, opts Options) *Reconciler {
	t.Helper()
	opts.Registry, opts.Target = reg, tgt
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if len(tgt.violations) > 0 {
			t.Errorf("target contract violated: %v", tgt.violations)
		}
	})
	return r
}

func mustOnce(t *testing.T, r *Reconciler) Result {
	t.Helper()
	res, err := r.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return res
}

func TestDeployPromoteArchive(t *testing.T) {
	reg, tgt := newMemRegistry(), newMemTarget()
	r := newLoop(t, reg, tgt, Options{})
	prod := key("iris", model.StageProduction)

	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageProduction})
	res := mustOnce(t, r)
	if got, want := tgt.takeCalls(), []string{"create iris/1", "route iris/Production"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	if len(res.Failed) != 0 {
		t.Fatalf("failed: %v", res.Failed)
	}
	want := map[string]string{model.TagDeployState: model.StateDeployed, model.TagDeployURL: tgt.URL(prod)}
	if got := reg.tags(ref("iris", 1)); !reflect.DeepEqual(got, want) {
		t.Fatalf("tags %v, want %v", got, want)
	}

	// A pass with nothing to do touches neither the target nor the tags.
	res = mustOnce(t, r)
	if res.Changed() || res.TagWrites != 0 || len(tgt.takeCalls()) != 0 {
		t.Fatalf("no-change pass acted: %+v", res)
	}

	// Promote v2 with archive: v1 is dropped only after the route moved.
	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageArchived})
	reg.put(model.ModelVersion{Name: "iris", Version: 2, Stage: model.StageProduction})
	mustOnce(t, r)
	if got, want := tgt.takeCalls(), []string{"create iris/2", "route iris/Production", "delete version iris/1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	if got := tgt.routes(prod); len(got) != 1 || got[0].Version != 2 {
		t.Fatalf("Production routes %v", got)
	}
	if got := reg.tags(ref("iris", 1)); len(got) != 0 {
		t.Fatalf("archived version keeps tags %v", got)
	}
	if got := reg.tags(ref("iris", 2))[model.TagDeployState]; got != model.StateDeployed {
		t.Fatalf("v2 state %q", got)
	}

	// Archive everything: endpoint and version go, tags removed.
	reg.put(model.ModelVersion{Name: "iris", Version: 2, Stage: model.StageArchived})
	mustOnce(t, r)
	if got, want := tgt.takeCalls(), []string{"delete endpoint iris/Production", "delete version iris/2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	if got := reg.tags(ref("iris", 2)); len(got) != 0 {
		t.Fatalf("archived version keeps tags %v", got)
	}
}

// A deploy that was DEPLOYED, goes UPDATING during a pass and ends DEPLOYED
// again must end DEPLOYED in the registry (the loop tracks what it wrote).
func TestTagsTrackWritesWithinPass(t *testing.T) {
	reg, tgt := newMemRegistry(), newMemTarget()
	r := newLoop(t, reg, tgt, Options{})
	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageProduction})
	mustOnce(t, r)
	// v1 also gets an alias: a route touches v1 (UPDATING), then DEPLOYED.
	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageProduction, Aliases: []string{"champion"}})
	mustOnce(t, r)
	got := reg.tags(ref("iris", 1))
	want := tgt.URL(key("iris", model.StageProduction)) + "," + tgt.URL(key("iris", "champion"))
	if got[model.TagDeployState] != model.StateDeployed || got[model.TagDeployURL] != want {
		t.Fatalf("tags %v, want DEPLOYED at %s", got, want)
	}
}

func TestFailingModelDoesNotBlockOthers(t *testing.T) {
	reg, tgt := newMemRegistry(), newMemTarget()
	r := newLoop(t, reg, tgt, Options{BackoffBase: 200 * time.Millisecond, BackoffMax: time.Second})
	prod := key("iris", model.StageProduction)

	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageProduction})
	mustOnce(t, r)
	tgt.takeCalls()

	// v2 of iris cannot be loaded; wine arrives at the same time.
	tgt.setFailCreate(ref("iris", 2), errors.New("read MLmodel: no such file\n(a model directory must hold an MLmodel file)"))
	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageArchived})
	reg.put(model.ModelVersion{Name: "iris", Version: 2, Stage: model.StageProduction})
	reg.put(model.ModelVersion{Name: "wine", Version: 1, Stage: model.StageStaging})
	res := mustOnce(t, r)

	if _, ok := res.Failed["iris"]; !ok || len(res.Failed) != 1 {
		t.Fatalf("Failed = %v, want iris only", res.Failed)
	}
	// The old route keeps serving, and its version is kept.
	if got := tgt.routes(prod); len(got) != 1 || got[0].Version != 1 {
		t.Fatalf("Production routes %v, want v1 still", got)
	}
	if got := tgt.routes(key("wine", model.StageStaging)); len(got) != 1 {
		t.Fatalf("wine not deployed: %v", got)
	}
	tags := reg.tags(ref("iris", 2))
	if tags[model.TagDeployState] != model.StateFailed || strings.Contains(tags[model.TagDeployError], "\n") ||
		!strings.Contains(tags[model.TagDeployError], "no such file") {
		t.Fatalf("iris v2 tags %v, want FAILED with a one-line reason", tags)
	}
	var skipped []string
	for _, a := range res.Actions {
		if a.Skipped {
			skipped = append(skipped, a.Action.String())
		}
	}
	if want := []string{"route iris/Production -> v2 100%", "delete version iris/1"}; !reflect.DeepEqual(skipped, want) {
		t.Fatalf("skipped %v, want %v", skipped, want)
	}

	// Within the backoff the model waits; its tags stay FAILED.
	tgt.takeCalls()
	res = mustOnce(t, r)
	if !reflect.DeepEqual(res.Deferred, []string{"iris"}) || len(tgt.takeCalls()) != 0 || res.TagWrites != 0 {
		t.Fatalf("pass during backoff: %+v", res)
	}
	if _, ok := res.Failed["iris"]; !ok {
		t.Fatalf("a deferred failed model must still be reported: %+v", res.Failed)
	}

	// Fixed: after the backoff it is retried and deployed.
	tgt.setFailCreate(ref("iris", 2), nil)
	deadline := time.Now().Add(5 * time.Second)
	for {
		res = mustOnce(t, r)
		if len(res.Deferred) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("backoff never expired")
		}
		time.Sleep(20 * time.Millisecond) // polling the backoff deadline, not waiting for state
	}
	if len(res.Failed) != 0 {
		t.Fatalf("still failed: %v", res.Failed)
	}
	tags = reg.tags(ref("iris", 2))
	if _, ok := tags[model.TagDeployError]; ok || tags[model.TagDeployState] != model.StateDeployed {
		t.Fatalf("tags after recovery %v", tags)
	}
}

func TestRouteFailureKeepsOldVersion(t *testing.T) {
	reg, tgt := newMemRegistry(), newMemTarget()
	r := newLoop(t, reg, tgt, Options{})
	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageProduction})
	mustOnce(t, r)
	tgt.takeCalls()
	tgt.failRoute = errors.New("throttled")
	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageArchived})
	reg.put(model.ModelVersion{Name: "iris", Version: 2, Stage: model.StageProduction})
	res := mustOnce(t, r)
	if got, want := tgt.takeCalls(), []string{"create iris/2", "route iris/Production"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("calls %v, want %v (no delete of v1 after a failed route)", got, want)
	}
	if !strings.Contains(res.Failed["iris"], "throttled") {
		t.Fatalf("Failed = %v", res.Failed)
	}
	if got := reg.tags(ref("iris", 2)); got[model.TagDeployState] != model.StateFailed {
		t.Fatalf("v2 tags %v", got)
	}
}

func TestRegistryDown(t *testing.T) {
	reg, tgt := newMemRegistry(), newMemTarget()
	metrics := prometheus.NewRegistry()
	r := newLoop(t, reg, tgt, Options{Metrics: metrics})
	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageProduction})
	mustOnce(t, r)
	tgt.takeCalls()

	reg.setDown(true)
	if _, err := r.RunOnce(context.Background()); err == nil || !errors.Is(err, errDown) {
		t.Fatalf("RunOnce with registry down: err %v", err)
	}
	if calls := tgt.takeCalls(); len(calls) != 0 {
		t.Fatalf("target touched while registry down: %v", calls)
	}
	if len(tgt.routes(key("iris", model.StageProduction))) != 1 {
		t.Fatal("endpoint dropped while registry down")
	}
	if _, err, _ := r.Last(); err == nil {
		t.Fatal("Last does not report the failure")
	}
	if got := counterValue(t, r.metrics.failures.WithLabelValues("registry")); got != 1 {
		t.Fatalf("registry failures metric %v", got)
	}

	reg.setDown(false)
	reg.put(model.ModelVersion{Name: "iris", Version: 2, Stage: model.StageStaging})
	res := mustOnce(t, r)
	if len(res.Failed) != 0 || len(tgt.routes(key("iris", model.StageStaging))) != 1 {
		t.Fatalf("no recovery: %+v", res)
	}
	if _, err, _ := r.Last(); err != nil {
		t.Fatalf("Last still reports %v", err)
	}
	if got := counterValue(t, r.metrics.actions.WithLabelValues("create_version", "ok")); got != 2 {
		t.Fatalf("create_version ok = %v, want 2", got)
	}
	if got := counterValue(t, r.metrics.passes); got != 3 {
		t.Fatalf("passes = %v, want 3", got)
	}
}

func TestRunWakesOnNotifierWakeAndTicker(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		notifier bool
		wake     bool
	}{
		{name: "registry notification", interval: time.Hour, notifier: true},
		{name: "Wake", interval: time.Hour, wake: true},
		{name: "ticker", interval: 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, tgt := newMemRegistry(), newMemTarget()
			r := newLoop(t, reg, tgt, Options{Interval: tt.interval})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- r.Run(ctx) }()
			waitFor(t, "first pass", func() bool { _, _, at := r.Last(); return !at.IsZero() })

			// Change the registry without notifying.
			reg.mu.Lock()
			reg.versions[ref("iris", 1)] = &model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageProduction, Source: "file:///x", Tags: map[string]string{}}
			reg.mu.Unlock()
			if tt.notifier {
				reg.notify()
			}
			if tt.wake {
				r.Wake()
			}
			waitFor(t, "deploy", func() bool { return len(tgt.routes(key("iris", model.StageProduction))) == 1 })
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run returned %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not stop")
			}
		})
	}
}

func TestRunRetriesAfterBackoff(t *testing.T) {
	reg, tgt := newMemRegistry(), newMemTarget()
	r := newLoop(t, reg, tgt, Options{Interval: time.Hour, BackoffBase: 50 * time.Millisecond})
	tgt.setFailCreate(ref("iris", 1), errors.New("boom"))
	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageProduction})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	waitFor(t, "failure", func() bool { return reg.tags(ref("iris", 1))[model.TagDeployState] == model.StateFailed })
	tgt.setFailCreate(ref("iris", 1), nil)
	// No wake-up and an hour-long ticker: only the backoff timer retries.
	waitFor(t, "retry", func() bool { return reg.tags(ref("iris", 1))[model.TagDeployState] == model.StateDeployed })
}

func TestDelay(t *testing.T) {
	r, err := New(Options{Registry: newMemRegistry(), Target: newMemTarget(), BackoffBase: time.Second, BackoffMax: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		n        int
		min, max time.Duration
	}{
		{1, 500 * time.Millisecond, time.Second},
		{2, time.Second, 2 * time.Second},
		{4, 4 * time.Second, 8 * time.Second},
		{5, 5 * time.Second, 10 * time.Second},
		{60, 5 * time.Second, 10 * time.Second},
	}
	for _, tt := range tests {
		for i := 0; i < 50; i++ {
			if d := r.backoff.Delay(tt.n); d < tt.min || d > tt.max {
				t.Fatalf("delay(%d) = %v, want in [%v, %v]", tt.n, d, tt.min, tt.max)
			}
		}
	}
}

func TestNewRequiresParts(t *testing.T) {
	if _, err := New(Options{Registry: newMemRegistry()}); err == nil {
		t.Fatal("New without a target succeeded")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// A model that failed and then has nothing left to do must not keep a
// retry timer (the loop would wake for nothing).
func TestBackoffForgottenWhenNothingToDo(t *testing.T) {
	reg, tgt := newMemRegistry(), newMemTarget()
	r := newLoop(t, reg, tgt, Options{BackoffBase: time.Hour})
	tgt.setFailCreate(ref("iris", 1), errors.New("boom"))
	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageProduction})
	mustOnce(t, r)
	if d := r.backoff.UntilNext(); d <= 0 {
		t.Fatalf("no retry scheduled after a failure (%v)", d)
	}
	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageArchived})
	res := mustOnce(t, r)
	if res.Changed() || len(res.Failed) != 0 {
		t.Fatalf("pass after archiving: %+v", res)
	}
	if d := r.backoff.UntilNext(); d != 0 {
		t.Fatalf("retry still scheduled in %v with nothing to do", d)
	}
	if got := reg.tags(ref("iris", 1)); len(got) != 0 {
		t.Fatalf("archived failed version keeps tags %v", got)
	}
}

// An endpoint the target reports Pending (SageMaker's Creating) is looked
// at again soon, not at the next tick, so DEPLOYED follows soon after the
// endpoint is ready.
func TestRunRechecksPendingEndpoints(t *testing.T) {
	reg, tgt := newMemRegistry(), newMemTarget()
	// No registry notifications reach the loop after the first pass and the
	// ticker is an hour away: only the Pending re-check can finish the job.
	r := newLoop(t, reg, tgt, Options{Interval: time.Hour, PendingRecheck: 5 * time.Millisecond})
	tgt.setEndpointBehaviour(key("iris", model.StageProduction), 3, "")
	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageProduction})
	<-reg.changes // drained: Run must not be woken by this put
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	waitFor(t, "DEPLOYED", func() bool { return reg.tags(ref("iris", 1))[model.TagDeployState] == model.StateDeployed })
	res, err, _ := r.Last()
	if err != nil || res.Pending != 0 {
		t.Fatalf("last pass: pending %d, err %v", res.Pending, err)
	}
	if got := reg.tags(ref("iris", 1))[model.TagDeployURL]; got != tgt.URL(key("iris", model.StageProduction)) {
		t.Fatalf("bridge_deploy_url = %q", got)
	}
	cancel()
	<-done
	if got, want := tgt.takeCalls(), []string{"create iris/1", "route iris/Production"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("calls %v, want %v (re-checks must only look)", got, want)
	}
}

func TestRunOnceCountsPending(t *testing.T) {
	reg, tgt := newMemRegistry(), newMemTarget()
	r := newLoop(t, reg, tgt, Options{})
	// Pending for two looks: the one after applying, and the next pass's.
	tgt.setEndpointBehaviour(key("iris", model.StageProduction), 2, "")
	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageProduction})
	for i, want := range []struct {
		pending int
		state   string
	}{{1, model.StateUpdating}, {1, model.StateUpdating}, {0, model.StateDeployed}, {0, model.StateDeployed}} {
		res := mustOnce(t, r)
		if res.Pending != want.pending {
			t.Fatalf("pass %d: Pending = %d, want %d", i, res.Pending, want.pending)
		}
		if got := reg.tags(ref("iris", 1))[model.TagDeployState]; got != want.state {
			t.Fatalf("pass %d: state %q, want %q", i, got, want.state)
		}
	}
}

func TestNextPendingWait(t *testing.T) {
	r, err := New(Options{Registry: newMemRegistry(), Target: newMemTarget(), Interval: 5 * time.Second, PendingRecheck: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		prev    time.Duration
		pending int
		want    time.Duration
	}{
		{"nothing pending: ticker only", 0, 0, 0},
		{"first pending pass", 0, 3, time.Second},
		{"still pending: doubles", time.Second, 1, 2 * time.Second},
		{"doubling", 2 * time.Second, 1, 4 * time.Second},
		{"at most the interval", 4 * time.Second, 1, 5 * time.Second},
		{"stays at the interval", 5 * time.Second, 1, 5 * time.Second},
		{"settled: reset", 5 * time.Second, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.nextPendingWait(tt.prev, tt.pending); got != tt.want {
				t.Fatalf("nextPendingWait(%v, %d) = %v, want %v", tt.prev, tt.pending, got, tt.want)
			}
		})
	}
}

// expireBackoff makes model m's backoff due now, as if its delay had passed.
func expireBackoff(t *testing.T, r *Reconciler, m string) {
	t.Helper()
	r.backoff.mu.Lock()
	defer r.backoff.mu.Unlock()
	b := r.backoff.models[m]
	if b == nil {
		t.Fatalf("model %s has no backoff", m)
	}
	b.next = r.backoff.Now()
}

func backoffFailures(r *Reconciler, m string) int {
	r.backoff.mu.Lock()
	defer r.backoff.mu.Unlock()
	if b := r.backoff.models[m]; b != nil {
		return b.failures
	}
	return 0
}

// An endpoint that fails with the configuration it should have (SageMaker:
// the image fails its health check) is recreated, but only when the model's
// backoff expires, which grows with every failed retry; FAILED and the
// reason stay on the version meanwhile. Once the cause is gone it recovers.
func TestFailedEndpointRetriedWithBackoff(t *testing.T) {
	reg, tgt := newMemRegistry(), newMemTarget()
	r := newLoop(t, reg, tgt, Options{Interval: time.Hour, BackoffBase: time.Hour, BackoffMax: 4 * time.Hour})
	prod := key("iris", model.StageProduction)
	v1 := ref("iris", 1)
	const reason = "The primary container for production variant v1 did not pass the ping health check."
	tgt.setEndpointBehaviour(prod, 1, reason)
	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageProduction})

	type step struct {
		name      string
		before    func()
		calls     []string
		state     string
		deferred  bool
		failures  int  // of the model's backoff
		retryTime bool // a backoff timer is set
	}
	retry := []string{"delete endpoint iris/Production", "route iris/Production"}
	steps := []step{
		{name: "created, pending", calls: []string{"create iris/1", "route iris/Production"}, state: model.StateUpdating},
		{name: "seen failed: backoff starts, no retry yet", state: model.StateFailed, deferred: true, failures: 1, retryTime: true},
		{name: "backoff not expired: still waiting", state: model.StateFailed, deferred: true, failures: 1, retryTime: true},
		{name: "backoff expired: recreated", before: func() { expireBackoff(t, r, "iris") }, calls: retry, state: model.StateUpdating, failures: 1},
		{name: "failed again: longer backoff", state: model.StateFailed, deferred: true, failures: 2, retryTime: true},
		{name: "cause fixed, backoff expired: recreated", before: func() {
			tgt.setEndpointBehaviour(prod, 1, "")
			expireBackoff(t, r, "iris")
		}, calls: retry, state: model.StateUpdating, failures: 2},
		{name: "ready: deployed, backoff forgotten", state: model.StateDeployed},
		{name: "settled: nothing to do", state: model.StateDeployed},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		res := mustOnce(t, r)
		if got := tgt.takeCalls(); !reflect.DeepEqual(got, s.calls) {
			t.Fatalf("%s: calls %v, want %v", s.name, got, s.calls)
		}
		tags := reg.tags(v1)
		if tags[model.TagDeployState] != s.state {
			t.Fatalf("%s: state %q, want %q (tags %v)", s.name, tags[model.TagDeployState], s.state, tags)
		}
		if s.state == model.StateFailed && tags[model.TagDeployError] != "endpoint iris/Production: "+reason {
			t.Fatalf("%s: error tag %q", s.name, tags[model.TagDeployError])
		}
		if got := len(res.Deferred) == 1; got != s.deferred {
			t.Fatalf("%s: deferred %v", s.name, res.Deferred)
		}
		if got := backoffFailures(r, "iris"); got != s.failures {
			t.Fatalf("%s: backoff failures %d, want %d", s.name, got, s.failures)
		}
		if got := r.backoff.UntilNext() > 0; got != s.retryTime {
			t.Fatalf("%s: retry timer set %v, want %v", s.name, got, s.retryTime)
		}
	}
}

// A registry change is not held back by the backoff of a failing endpoint:
// the backoff paces retries of the same wish only.
func TestFailedEndpointBackoffLetsRegistryChangesThrough(t *testing.T) {
	reg, tgt := newMemRegistry(), newMemTarget()
	r := newLoop(t, reg, tgt, Options{BackoffBase: time.Hour})
	prod := key("iris", model.StageProduction)
	tgt.setEndpointBehaviour(prod, 0, "image crashed")
	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageProduction})
	mustOnce(t, r)
	if res := mustOnce(t, r); len(res.Deferred) != 1 || reg.tags(ref("iris", 1))[model.TagDeployState] != model.StateFailed {
		t.Fatalf("failed endpoint not waiting: %+v, tags %v", res, reg.tags(ref("iris", 1)))
	}
	tgt.takeCalls()
	tgt.setEndpointBehaviour(prod, 0, "")
	reg.put(model.ModelVersion{Name: "iris", Version: 1, Stage: model.StageArchived})
	reg.put(model.ModelVersion{Name: "iris", Version: 2, Stage: model.StageProduction})
	res := mustOnce(t, r)
	want := []string{"create iris/2", "delete endpoint iris/Production", "route iris/Production", "delete version iris/1"}
	if got := tgt.takeCalls(); !reflect.DeepEqual(got, want) || len(res.Deferred) != 0 {
		t.Fatalf("calls %v (deferred %v), want %v", got, res.Deferred, want)
	}
	if got := reg.tags(ref("iris", 2))[model.TagDeployState]; got != model.StateDeployed {
		t.Fatalf("v2 state %q", got)
	}
	if d := r.backoff.UntilNext(); d != 0 {
		t.Fatalf("retry still scheduled in %v", d)
	}
}
