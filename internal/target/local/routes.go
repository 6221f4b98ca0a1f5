package local

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/sgname"
)

// table is an immutable snapshot of every route, read by the hot path
// without locks and replaced as a whole on every change.
type table struct {
	byKey  map[model.EndpointKey]*route
	byName map[string]*route // SageMaker-style names, brdg-<model>-<slot>
}

// route is one endpoint: its versions and their cumulative weights.
type route struct {
	key      model.EndpointKey
	name     string
	backends []*backend
	cum      []float64 // cum[i] = weight of backends[0..i]; the last is 1
}

// backend is one version behind one endpoint, with its metrics bound.
type backend struct {
	v        *version
	weight   float64
	requests prometheus.Counter
	latency  prometheus.Observer
}

// pick chooses a backend at random by weight.
func (rt *route) pick(x float64) *backend {
	for i, c := range rt.cum {
		if x < c {
			return rt.backends[i]
		}
	}
	return rt.backends[len(rt.backends)-1]
}

// pingTimeout bounds one health check before a route swap.
const pingTimeout = 10 * time.Second

// Route implements target.Target. Every version must have been created
// (CreateVersion) and must answer its health check; only then does the
// endpoint switch to the new set, in one atomic step. Requests already
// running on the old versions finish there. Weights are relative: they are
// normalised to sum to 1.
func (t *Target) Route(ctx context.Context, key model.EndpointKey, versions []model.WeightedVersion) error {
	ws, err := normalize(key, versions)
	if err != nil {
		return err
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return errClosed
	}
	cur := t.routes[key]
	if cur != nil && sameBackends(cur, ws) {
		t.mu.Unlock()
		return nil
	}
	vs, err := t.lookupVersions(key, ws)
	t.mu.Unlock()
	if err != nil {
		return err
	}

	// Health-check the versions the endpoint does not serve yet, outside
	// the lock: a subprocess model answers over HTTP.
	for _, v := range vs {
		if cur != nil && cur.serves(v) {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, pingTimeout)
		err := v.model.Ping(pctx)
		cancel()
		if err != nil {
			return fmt.Errorf("version %s does not answer its health check: %w", v.ref, err)
		}
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return errClosed
	}
	for i, w := range ws {
		if t.versions[model.VersionRef{Model: key.Model, Version: w.Version}] != vs[i] {
			return fmt.Errorf("version %d was deleted or reloaded meanwhile; try again", w.Version)
		}
	}
	old := t.routes[key]
	rt := &route{key: key, name: EndpointName(key)}
	sum := 0.0
	for i, w := range ws {
		sum += w.Weight
		rt.backends = append(rt.backends, &backend{
			v:        vs[i],
			weight:   w.Weight,
			requests: t.metrics.requests.WithLabelValues(key.Model, key.Slot, vs[i].label),
			latency:  t.metrics.latency.WithLabelValues(key.Model, key.Slot, vs[i].label),
		})
		rt.cum = append(rt.cum, sum)
	}
	rt.cum[len(rt.cum)-1] = 1
	t.routes[key] = rt
	if _, taken := t.names[rt.name]; !taken {
		t.names[rt.name] = key
	}
	t.publish()
	if old != nil {
		for _, b := range old.backends {
			if !rt.serves(b.v) {
				t.metrics.forget(key, b.v.label)
			}
		}
	}
	t.log.Info("endpoint routed", "endpoint", key.String(), "versions", describe(ws))
	return nil
}

// lookupVersions finds the loaded versions for ws; t.mu is held.
func (t *Target) lookupVersions(key model.EndpointKey, ws []model.WeightedVersion) ([]*version, error) {
	vs := make([]*version, len(ws))
	for i, w := range ws {
		ref := model.VersionRef{Model: key.Model, Version: w.Version}
		v := t.versions[ref]
		switch {
		case v == nil:
			return nil, fmt.Errorf("version %s is not loaded; create it first", ref)
		case v.state == stateLoading:
			return nil, fmt.Errorf("version %s is still loading; try again when it is ready", ref)
		case v.state == stateFailed:
			return nil, fmt.Errorf("version %s failed to load: %s", ref, v.err)
		}
		vs[i] = v
	}
	return vs, nil
}

// normalize checks and sorts weighted versions and scales weights to sum 1.
func normalize(key model.EndpointKey, versions []model.WeightedVersion) ([]model.WeightedVersion, error) {
	if key.Model == "" || key.Slot == "" {
		return nil, fmt.Errorf("endpoint %q: an endpoint needs a model name and a stage or alias", key.String())
	}
	if len(versions) == 0 {
		return nil, errors.New("no versions to route to: delete the endpoint instead")
	}
	ws := append([]model.WeightedVersion(nil), versions...)
	sort.Slice(ws, func(i, j int) bool { return ws[i].Version < ws[j].Version })
	sum := 0.0
	for i, w := range ws {
		if i > 0 && ws[i-1].Version == w.Version {
			return nil, fmt.Errorf("version %d is listed twice", w.Version)
		}
		if !(w.Weight > 0) || math.IsInf(w.Weight, 0) {
			return nil, fmt.Errorf("version %d has weight %v; weights must be positive numbers", w.Version, w.Weight)
		}
		sum += w.Weight
	}
	for i := range ws {
		ws[i].Weight /= sum
	}
	return ws, nil
}

func sameBackends(rt *route, ws []model.WeightedVersion) bool {
	if len(rt.backends) != len(ws) {
		return false
	}
	for i, b := range rt.backends {
		if b.v.ref.Version != ws[i].Version || math.Abs(b.weight-ws[i].Weight) > 1e-9 {
			return false
		}
	}
	return true
}

func (rt *route) serves(v *version) bool {
	for _, b := range rt.backends {
		if b.v == v {
			return true
		}
	}
	return false
}

func describe(ws []model.WeightedVersion) string {
	s := ""
	for i, w := range ws {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("v%d=%.3g", w.Version, w.Weight)
	}
	return s
}

// publish swaps in a new route table built from t.routes; t.mu is held.
func (t *Target) publish() {
	tb := &table{
		byKey:  make(map[model.EndpointKey]*route, len(t.routes)),
		byName: make(map[string]*route, len(t.names)),
	}
	for k, rt := range t.routes {
		tb.byKey[k] = rt
	}
	for name, k := range t.names {
		if rt := t.routes[k]; rt != nil {
			tb.byName[name] = rt
		}
	}
	// The SageMaker target's name of each endpoint (brdg-iris-production)
	// answers too, so one client works against both targets; Bridge's own
	// names win where the two spellings meet.
	for k, rt := range t.routes {
		if n := sgname.Endpoint(k); tb.byName[n] == nil {
			tb.byName[n] = rt
		}
	}
	t.table.Store(tb)
}

// DeleteEndpoint implements target.Target. Requests already running on the
// endpoint finish; its versions stay loaded until DeleteVersion.
func (t *Target) DeleteEndpoint(ctx context.Context, key model.EndpointKey) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	rt := t.routes[key]
	if rt == nil {
		return nil
	}
	delete(t.routes, key)
	if t.names[rt.name] == key {
		delete(t.names, rt.name)
		// Hand the name to another endpoint that shares it, if any.
		var next *model.EndpointKey
		for k, o := range t.routes {
			if o.name == rt.name && (next == nil || k.Less(*next)) {
				k := k
				next = &k
			}
		}
		if next != nil {
			t.names[rt.name] = *next
		}
	}
	t.publish()
	for _, b := range rt.backends {
		t.metrics.forget(key, b.v.label)
	}
	t.log.Info("endpoint deleted", "endpoint", key.String())
	return nil
}

// Observe implements target.Target: the loaded versions (Ready, Pending
// while loading or while a subprocess model restarts, Failed with the
// reason) and the endpoints with their weights and URL. An endpoint is
// Ready when all its versions are.
func (t *Target) Observe(ctx context.Context) (model.Actual, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var a model.Actual
	type st struct {
		s   model.Status
		msg string
	}
	status := make(map[*version]st, len(t.versions))
	for _, v := range t.versions {
		s, msg := v.status()
		status[v] = st{s, msg}
		a.Versions = append(a.Versions, model.ActualVersion{Ref: v.ref, Status: s, Message: msg, Runtime: v.runtime()})
	}
	for k, rt := range t.routes {
		ep := model.ActualEndpoint{Key: k, Status: model.StatusReady, URL: t.URL(k)}
		for _, b := range rt.backends {
			ep.Versions = append(ep.Versions, model.WeightedVersion{Version: b.v.ref.Version, Weight: b.weight})
			s := status[b.v]
			switch {
			case s.s == model.StatusFailed:
				ep.Status, ep.Message = model.StatusFailed, fmt.Sprintf("version %d: %s", b.v.ref.Version, s.msg)
			case s.s == model.StatusPending && ep.Status == model.StatusReady:
				ep.Status, ep.Message = model.StatusPending, fmt.Sprintf("version %d: %s", b.v.ref.Version, s.msg)
			}
		}
		if owner := t.names[rt.name]; owner != k && ep.Status == model.StatusReady {
			ep.Message = fmt.Sprintf("endpoint name %s is used by %s; call this endpoint by its URL", rt.name, owner)
		}
		a.Endpoints = append(a.Endpoints, ep)
	}
	sort.Slice(a.Versions, func(i, j int) bool { return a.Versions[i].Ref.Less(a.Versions[j].Ref) })
	sort.Slice(a.Endpoints, func(i, j int) bool { return a.Endpoints[i].Key.Less(a.Endpoints[j].Key) })
	return a, nil
}
