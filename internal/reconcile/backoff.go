package reconcile

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Backoff paces failing models: after n consecutive failures a model waits
// Base·2^(n-1), at most Max, jittered to 50–100%, before it is tried
// again. Time comes from Clock, so tests step it instead of waiting.
//
// Failures come in two kinds. Actions that return an error hold back all
// the model's actions (Failed). Failures the target reports (an endpoint
// Failed with the configuration it should have, which the plan retries)
// hold back only those retries (TargetFailed): a registry change that
// gives the endpoint something else goes ahead at once.
type Backoff struct {
	Base, Max time.Duration
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// Jitter returns a number in [0, n]; nil means math/rand/v2.
	Jitter func(n int64) int64

	mu     sync.Mutex
	models map[string]*modelBackoff
}

// modelBackoff is one model's state.
type modelBackoff struct {
	failures int
	next     time.Time
	// target says the failures are the target's: only retries wait.
	target bool
	// retried says a retry was applied and the target has not yet been
	// seen failing again: the next delay starts when it is.
	retried bool
}

// Now is the backoff's clock.
func (b *Backoff) Now() time.Time {
	if b.Clock != nil {
		return b.Clock()
	}
	return time.Now()
}

// Delay is the wait before attempt n+1 after n consecutive failures.
func (b *Backoff) Delay(n int) time.Duration {
	d := b.Base
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	half := int64(d / 2)
	j := rand.Int64N(half + 1)
	if b.Jitter != nil {
		j = b.Jitter(half)
	}
	return d/2 + time.Duration(j)
}

func (b *Backoff) state(m string) *modelBackoff {
	if b.models == nil {
		b.models = map[string]*modelBackoff{}
	}
	s := b.models[m]
	if s == nil {
		s = &modelBackoff{}
		b.models[m] = s
	}
	return s
}

// Failed records a failed action of model m and returns the wait before
// its next attempt and how many failures in a row it has had.
func (b *Backoff) Failed(m string) (time.Duration, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.state(m)
	s.target, s.retried = false, false
	s.failures++
	d := b.Delay(s.failures)
	s.next = b.Now().Add(d)
	return d, s.failures
}

// TargetFailed records that the target reports a failure of model m that
// the plan retries: the first time it is seen, and again after each retry,
// the wait starts over with one more failure (ok is true then). While a
// wait is already counting down nothing changes.
func (b *Backoff) TargetFailed(m string) (d time.Duration, attempt int, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, known := b.models[m]
	switch {
	case !known:
		s = b.state(m)
		s.target = true
	case s.retried:
		s.retried = false
	default:
		return 0, s.failures, false
	}
	s.failures++
	d = b.Delay(s.failures)
	s.next = b.Now().Add(d)
	return d, s.failures, true
}

// Succeeded records that model m's actions all succeeded. When one of them
// retried a failed endpoint (retried), the outcome shows later: the count
// stays until the endpoint is seen Ready (Forget) or Failed again
// (TargetFailed). Otherwise the model's state is dropped.
func (b *Backoff) Succeeded(m string, retried bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.models[m]; retried && s != nil {
		s.retried, s.target = true, true
		return
	}
	delete(b.models, m)
}

// Waits reports whether model m waits now: for its own failures always,
// for failures the target reports only when retry says the actions retry a
// failed endpoint.
func (b *Backoff) Waits(m string, retry bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.models[m]
	if s == nil || !b.Now().Before(s.next) {
		return false
	}
	return !s.target || retry
}

// ForgetIdle drops the state of models for which busy says false: there is
// nothing to retry. A model whose retry is still pending (pending says
// true) keeps it, so a retry that fails again waits longer.
func (b *Backoff) ForgetIdle(busy, pending func(m string) bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for m, s := range b.models {
		if !busy(m) && !(s.retried && pending(m)) {
			delete(b.models, m)
		}
	}
}

// UntilNext is the time until the earliest wait ends, or 0 when no model
// waits.
func (b *Backoff) UntilNext() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.Now()
	var earliest time.Time
	for _, s := range b.models {
		if s.next.After(now) && (earliest.IsZero() || s.next.Before(earliest)) {
			earliest = s.next
		}
	}
	if earliest.IsZero() {
		return 0
	}
	return earliest.Sub(now)
}
