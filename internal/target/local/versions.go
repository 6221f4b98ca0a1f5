package local

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/serving"
	"github.com/bridgeops/bridge/internal/target"
)

// versionState is where a version is in its life.
type versionState int

const (
	stateLoading versionState = iota
	stateReady
	stateFailed
)

// version is one loaded (or loading, or failed) model version. Requests
// hold a reference while they run; a retired version is closed once the
// last one finishes.
type version struct {
	ref   model.VersionRef
	vhdr  []string // X-Bridge-Model-Version header value
	label string   // version number, for metrics
	vname string   // "v<version>", the capture variant

	// Set under Target.mu.
	state versionState
	err   string
	model serving.Model
	done  chan struct{} // closed when loading ends

	// replaces is the version this one is being loaded to replace (one
	// whose model failed for good); set under Target.mu while loading.
	replaces *version

	refs    atomic.Int64
	closing atomic.Bool
	drained chan struct{}
	once    sync.Once
}

func newVersion(ref model.VersionRef) *version {
	n := strconv.Itoa(ref.Version)
	return &version{
		ref:     ref,
		vhdr:    []string{n},
		label:   n,
		vname:   "v" + n,
		done:    make(chan struct{}),
		drained: make(chan struct{}),
	}
}

// acquire takes a reference for one request; it fails once the version is
// retiring (the caller then looks the route up again).
func (v *version) acquire() bool {
	v.refs.Add(1)
	if v.closing.Load() {
		v.release()
		return false
	}
	return true
}

// release drops a request's reference.
func (v *version) release() {
	if v.refs.Add(-1) == 0 && v.closing.Load() {
		v.once.Do(func() { close(v.drained) })
	}
}

// startDrain stops new requests from taking references; drained is closed
// when the in-flight ones have finished. A request that took its reference
// before closing was set is counted; one that takes it after sees closing
// and backs off, so no request runs on a closed model.
func (v *version) startDrain() {
	v.closing.Store(true)
	if v.refs.Load() == 0 {
		v.once.Do(func() { close(v.drained) })
	}
}

// status reports the version as Observe does.
func (v *version) status() (model.Status, string) {
	switch v.state {
	case stateLoading:
		return model.StatusPending, "loading"
	case stateFailed:
		return model.StatusFailed, v.err
	}
	if s, ok := v.model.(serving.Stater); ok {
		return stateStatus(s.State())
	}
	return model.StatusReady, ""
}

// runtime names what serves a ready version ("native", "python"); t.mu
// is held.
func (v *version) runtime() string {
	if r, ok := v.model.(serving.RuntimeNamer); ok && v.state == stateReady {
		return r.Runtime()
	}
	return ""
}

// stateStatus maps a runtime's State() text to a status. Runtimes report
// "ready"/"running" when serving, "starting"/"restarting"/"loading" while
// not yet (or not again) answering, and "failed..."/"crashed..."/"stopped..."
// otherwise; any text after the first word (": reason") becomes the message.
func stateStatus(s string) (model.Status, string) {
	word := strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(word, " :;,("); i >= 0 {
		word = word[:i]
	}
	switch word {
	case "", "ready", "running", "ok", "serving", "healthy":
		return model.StatusReady, ""
	case "starting", "restarting", "loading", "pending", "installing", "backoff":
		return model.StatusPending, s
	default:
		return model.StatusFailed, s
	}
}

// CreateVersion implements target.Target: it fetches the version's
// artifact, loads it with the runtime its flavors call for and waits until
// it answers its health check. A version already loaded is left as is; one
// whose load failed is tried again; one whose model has failed for good (a
// Python server that no longer restarts) is loaded afresh and, once ready,
// takes its place behind every endpoint. Concurrent calls for one version
// share a single load.
func (t *Target) CreateVersion(ctx context.Context, spec target.VersionSpec) error {
	ref := spec.Ref
	for {
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			return errClosed
		}
		v := t.versions[ref]
		if v == nil || v.state == stateFailed {
			v = newVersion(ref)
			t.versions[ref] = v
			t.mu.Unlock()
			return t.load(ctx, v, spec)
		}
		if v.state == stateReady {
			if s, _ := v.status(); s != model.StatusFailed {
				t.mu.Unlock()
				return nil
			}
			nv := newVersion(ref)
			nv.replaces = v
			t.versions[ref] = nv
			t.mu.Unlock()
			return t.load(ctx, nv, spec)
		}
		done := v.done
		t.mu.Unlock()
		select {
		case <-done:
			// Look again: ready, failed (try again) or deleted meanwhile.
		case <-ctx.Done():
			return ctx.Err() // the caller names the version
		}
	}
}

// load runs one load of v and records its outcome.
func (t *Target) load(ctx context.Context, v *version, spec target.VersionSpec) error {
	start := time.Now()
	m, err := t.open(ctx, spec)
	t.mu.Lock()
	current := t.versions[v.ref] == v && !t.closed
	old := v.replaces
	v.replaces = nil
	if err == nil && !current {
		err = fmt.Errorf("version %s was deleted while it was loading", v.ref)
	}
	if err != nil {
		v.state, v.err = stateFailed, err.Error()
		close(v.done)
		var retireOld bool
		if old != nil {
			if current {
				t.versions[v.ref] = old // keep what there was; the next pass tries again
			} else {
				retireOld = !t.routed(old)
			}
		}
		t.mu.Unlock()
		if m != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			m.Close(cctx)
			cancel()
		}
		if retireOld {
			t.retire(old)
		}
		t.metrics.loads.WithLabelValues("error").Inc()
		t.log.Warn("model version failed to load", "version", v.ref.String(), "err", err)
		return err // the caller (the reconciler) names the version
	}
	v.model, v.state = m, stateReady
	close(v.done)
	t.metrics.loaded.Inc()
	var olds []*version
	if old != nil {
		olds = t.replaceBackends(v)
		if !slices.Contains(olds, old) {
			olds = append(olds, old)
		}
	}
	t.mu.Unlock()
	for _, o := range olds {
		t.retire(o)
	}
	t.metrics.loads.WithLabelValues("ok").Inc()
	t.log.Info("model version loaded", "version", v.ref.String(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// routed reports whether any endpoint routes to v; t.mu is held.
func (t *Target) routed(v *version) bool {
	for _, rt := range t.routes {
		if rt.serves(v) {
			return true
		}
	}
	return false
}

// replaceBackends points every endpoint that serves another instance of
// v's version at v instead, and returns the instances replaced; t.mu is
// held.
func (t *Target) replaceBackends(v *version) []*version {
	var olds []*version
	for k, rt := range t.routes {
		var nrt *route
		for i, b := range rt.backends {
			if b.v.ref != v.ref || b.v == v {
				continue
			}
			if nrt == nil {
				nrt = &route{key: rt.key, name: rt.name, backends: slices.Clone(rt.backends), cum: rt.cum}
			}
			nb := *b
			nb.v = v
			nrt.backends[i] = &nb
			if !slices.Contains(olds, b.v) {
				olds = append(olds, b.v)
			}
		}
		if nrt != nil {
			t.routes[k] = nrt
		}
	}
	if olds != nil {
		t.publish()
	}
	return olds
}

// open fetches, loads and health-checks one version.
func (t *Target) open(ctx context.Context, spec target.VersionSpec) (serving.Model, error) {
	if t.fetcher == nil {
		return nil, errors.New("no artifact fetcher configured")
	}
	if t.models == nil {
		return nil, errors.New("no model runtimes configured")
	}
	dir, err := t.fetcher.Fetch(ctx, spec.Ref, spec.Source)
	if err != nil {
		return nil, err // the fetcher names the version and the source
	}
	m, err := t.models.Load(ctx, serving.LoadSpec{
		Name:    spec.Ref.Model,
		Version: spec.Ref.Version,
		Dir:     dir,
		LogDir:  t.logDir(),
	})
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, m, t.readyTimeout); err != nil {
		return m, err
	}
	return m, nil
}

// waitReady polls m's health check with backoff until it passes or timeout
// elapses.
func waitReady(ctx context.Context, m serving.Model, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	wait := 5 * time.Millisecond
	for {
		err := m.Ping(ctx)
		if err == nil {
			return nil
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("model did not answer its health check within %s (last error: %v); see its log under the logs directory", timeout, err)
		case <-timer.C:
		}
		wait = min(wait*2, 500*time.Millisecond)
	}
}

// DeleteVersion implements target.Target. The version stops being listed
// at once; its model is closed once its in-flight requests have finished
// (DeleteVersion waits for that until ctx ends, and the close completes in
// the background after). A version some endpoint still routes to is not
// deleted: route the endpoint elsewhere (or delete it) first.
func (t *Target) DeleteVersion(ctx context.Context, ref model.VersionRef) error {
	t.mu.Lock()
	v := t.versions[ref]
	if v == nil {
		t.mu.Unlock()
		return nil
	}
	for _, rt := range t.routes {
		for _, b := range rt.backends {
			if b.v.ref == ref {
				t.mu.Unlock()
				return fmt.Errorf("endpoint %s still routes to version %s; route the endpoint to other versions or delete it first", rt.key, ref)
			}
		}
	}
	delete(t.versions, ref)
	t.mu.Unlock()
	done := t.retire(v)
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return nil // the version is gone from the target; its close finishes in the background
	}
}

// drainTimeout bounds how long a retiring version waits for its in-flight
// requests before its model is closed anyway.
const drainTimeout = 2 * time.Minute

// retire drains v and closes its model in the background; the returned
// channel is closed when that is done. v must no longer be routed to.
func (t *Target) retire(v *version) <-chan struct{} {
	done := make(chan struct{})
	t.retiring.Add(1)
	go func() {
		defer t.retiring.Done()
		defer close(done)
		<-v.done // a version still loading is closed by its loader
		t.mu.Lock()
		m, ready := v.model, v.state == stateReady
		t.mu.Unlock()
		if !ready {
			return
		}
		v.startDrain()
		drainTimer := time.NewTimer(drainTimeout)
		select {
		case <-v.drained:
		case <-drainTimer.C:
			t.log.Warn("closing model version with requests still in flight", "version", v.ref.String(), "in_flight", v.refs.Load(), "waited", drainTimeout)
		}
		drainTimer.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.log.Warn("closing model version", "version", v.ref.String(), "err", err)
		}
		t.metrics.loaded.Dec()
		t.metrics.unloads.Inc()
		t.log.Info("model version unloaded", "version", v.ref.String())
	}()
	return done
}
