package reconcile

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/model"
)

// manualClock is a clock tests step by hand.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *manualClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestBackoffDelays(t *testing.T) {
	clock := &manualClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b := &Backoff{Base: time.Second, Max: 8 * time.Second, Clock: clock.Now, Jitter: func(n int64) int64 { return n }}
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second} {
		d, n := b.Failed("m")
		if d != want || n != i+1 {
			t.Fatalf("failure %d: wait %s (attempt %d), want %s", i+1, d, n, want)
		}
		if !b.Waits("m", false) || b.UntilNext() != want {
			t.Fatalf("failure %d: waits %v, until next %s", i+1, b.Waits("m", false), b.UntilNext())
		}
		clock.Add(want)
		if b.Waits("m", false) || b.UntilNext() != 0 {
			t.Fatalf("failure %d: still waiting after %s", i+1, want)
		}
	}
	b.Succeeded("m", false)
	if d, n := b.Failed("m"); d != time.Second || n != 1 {
		t.Fatalf("after a success the count starts over: %s, attempt %d", d, n)
	}
}

// TestTargetFailuresHoldBackRetriesOnly: a failure the target reports holds
// back retries of the endpoint, not other changes of the model.
func TestTargetFailuresHoldBackRetriesOnly(t *testing.T) {
	clock := &manualClock{now: time.Unix(0, 0)}
	b := &Backoff{Base: time.Second, Max: time.Minute, Clock: clock.Now, Jitter: func(n int64) int64 { return 0 }}
	if _, _, ok := b.TargetFailed("m"); !ok {
		t.Fatal("first target failure not counted")
	}
	if _, _, ok := b.TargetFailed("m"); ok {
		t.Fatal("a target failure seen again while waiting counted twice")
	}
	if !b.Waits("m", true) || b.Waits("m", false) {
		t.Fatalf("retry waits %v, other change waits %v; want true, false", b.Waits("m", true), b.Waits("m", false))
	}
	clock.Add(time.Second)
	b.Succeeded("m", true) // the retry was applied; its outcome shows later
	if d, n, ok := b.TargetFailed("m"); !ok || n != 2 || d != time.Second {
		t.Fatalf("failing again after the retry: %s attempt %d counted %v", d, n, ok)
	}
	b.ForgetIdle(func(string) bool { return false }, func(string) bool { return false })
	if b.Waits("m", true) {
		t.Fatal("an idle model still waits")
	}
}

// TestLoopBackoffWithManualClock: a failing model is retried only once the
// (manual) clock passes its wait; other models go ahead meanwhile.
func TestLoopBackoffWithManualClock(t *testing.T) {
	clock := &manualClock{now: time.Unix(1000, 0)}
	reg, tgt := newMemRegistry(), newMemTarget()
	r := newLoop(t, reg, tgt, Options{BackoffBase: 10 * time.Second, BackoffMax: time.Minute, Clock: clock.Now})
	tgt.setFailCreate(ref("bad", 1), errors.New("broken artifact"))
	reg.put(model.ModelVersion{Name: "bad", Version: 1, Stage: model.StageProduction})
	mustOnce(t, r)
	tgt.takeCalls()

	reg.put(model.ModelVersion{Name: "good", Version: 1, Stage: model.StageProduction})
	res := mustOnce(t, r)
	if calls := tgt.takeCalls(); len(calls) != 2 || calls[0] != "create good/1" {
		t.Fatalf("calls while bad waits: %v", calls)
	}
	if len(res.Deferred) != 1 || res.Deferred[0] != "bad" {
		t.Fatalf("deferred %v, want [bad]", res.Deferred)
	}
	clock.Add(4 * time.Second) // less than half the base: still waiting
	mustOnce(t, r)
	if calls := tgt.takeCalls(); len(calls) != 0 {
		t.Fatalf("retried before the wait ended: %v", calls)
	}
	clock.Add(10 * time.Second)
	mustOnce(t, r)
	if calls := tgt.takeCalls(); len(calls) == 0 || calls[0] != "create bad/1" {
		t.Fatalf("not retried after the wait: %v", calls)
	}
}
