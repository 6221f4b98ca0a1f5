package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/target"
)

// memRegistry is an in-memory registry.Registry and registry.Notifier that
// counts its reads and can be taken down.
type memRegistry struct {
	mu       sync.Mutex
	versions map[model.VersionRef]*model.ModelVersion
	down     bool
	reads    int
	writes   int
	changes  chan struct{}
}

func newMemRegistry() *memRegistry {
	return &memRegistry{versions: map[model.VersionRef]*model.ModelVersion{}, changes: make(chan struct{}, 1)}
}

var errDown = errors.New("connection refused")

func (r *memRegistry) put(v model.ModelVersion) {
	r.mu.Lock()
	if old, ok := r.versions[v.Ref()]; ok && v.Tags == nil {
		v.Tags = old.Tags
	}
	if v.Tags == nil {
		v.Tags = map[string]string{}
	}
	if v.Source == "" {
		v.Source = fmt.Sprintf("file:///models/%s/%d", v.Name, v.Version)
	}
	r.versions[v.Ref()] = &v
	r.mu.Unlock()
	r.notify()
}

func (r *memRegistry) notify() {
	select {
	case r.changes <- struct{}{}:
	default:
	}
}

func (r *memRegistry) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

func (r *memRegistry) tags(ref model.VersionRef) map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]string{}
	for k, v := range r.versions[ref].Tags {
		out[k] = v
	}
	return out
}

func (r *memRegistry) Versions(ctx context.Context) ([]model.ModelVersion, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads++
	if r.down {
		return nil, errDown
	}
	out := make([]model.ModelVersion, 0, len(r.versions))
	for _, v := range r.versions {
		c := *v
		c.Tags = map[string]string{}
		for k, x := range v.Tags {
			c.Tags[k] = x
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref().Less(out[j].Ref()) })
	return out, nil
}

func (r *memRegistry) DownloadURI(ctx context.Context, ref model.VersionRef) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads++
	if r.down {
		return "", errDown
	}
	v, ok := r.versions[ref]
	if !ok {
		return "", fmt.Errorf("version %s not found", ref)
	}
	return v.Source, nil
}

func (r *memRegistry) SetVersionTag(ctx context.Context, ref model.VersionRef, key, value string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		return errDown
	}
	r.writes++
	if v, ok := r.versions[ref]; ok {
		v.Tags[key] = value
	}
	return nil
}

func (r *memRegistry) DeleteVersionTag(ctx context.Context, ref model.VersionRef, key string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		return errDown
	}
	r.writes++
	if v, ok := r.versions[ref]; ok {
		delete(v.Tags, key)
	}
	return nil
}

func (r *memRegistry) Changes() <-chan struct{} { return r.changes }

// memTarget is an in-memory target.Target that checks the contract the loop
// relies on (never delete a routed version, never route to a missing one)
// and fails on demand. Like SageMaker, a routed endpoint can stay Pending for
// a while (pendingFor Observe calls) and then end Ready, or Failed when
// failEndpoint names a reason for it at the time of the route.
type memTarget struct {
	mu           sync.Mutex
	versions     map[model.VersionRef]string // ref -> source
	endpoints    map[model.EndpointKey][]model.WeightedVersion
	failCreate   map[model.VersionRef]error
	failRoute    error
	pendingFor   int                          // Observe calls a routed endpoint stays Pending
	pending      map[model.EndpointKey]int    // Observe calls left Pending
	failEndpoint map[model.EndpointKey]string // routes of these endpoints end Failed
	failed       map[model.EndpointKey]string // endpoints that ended Failed, and why
	calls        []string
	violations   []string
}

func newMemTarget() *memTarget {
	return &memTarget{
		versions:     map[model.VersionRef]string{},
		endpoints:    map[model.EndpointKey][]model.WeightedVersion{},
		failCreate:   map[model.VersionRef]error{},
		pending:      map[model.EndpointKey]int{},
		failEndpoint: map[model.EndpointKey]string{},
		failed:       map[model.EndpointKey]string{},
	}
}

func (t *memTarget) Name() string { return "mem" }

func (t *memTarget) Observe(ctx context.Context) (model.Actual, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var a model.Actual
	for ref := range t.versions {
		a.Versions = append(a.Versions, model.ActualVersion{Ref: ref, Status: model.StatusReady})
	}
	for k, vs := range t.endpoints {
		e := model.ActualEndpoint{Key: k, Versions: vs, Status: model.StatusReady, URL: t.URL(k)}
		switch {
		case t.pending[k] > 0:
			t.pending[k]--
			e.Status = model.StatusPending
		case t.failed[k] != "":
			e.Status, e.Message = model.StatusFailed, t.failed[k]
		}
		a.Endpoints = append(a.Endpoints, e)
	}
	sort.Slice(a.Versions, func(i, j int) bool { return a.Versions[i].Ref.Less(a.Versions[j].Ref) })
	sort.Slice(a.Endpoints, func(i, j int) bool { return a.Endpoints[i].Key.Less(a.Endpoints[j].Key) })
	return a, nil
}

func (t *memTarget) CreateVersion(ctx context.Context, v target.VersionSpec) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls = append(t.calls, "create "+v.Ref.String())
	if err := t.failCreate[v.Ref]; err != nil {
		return err
	}
	t.versions[v.Ref] = v.Source
	return nil
}

func (t *memTarget) Route(ctx context.Context, key model.EndpointKey, vs []model.WeightedVersion) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls = append(t.calls, "route "+key.String())
	if t.failRoute != nil {
		return t.failRoute
	}
	for _, w := range vs {
		if _, ok := t.versions[model.VersionRef{Model: key.Model, Version: w.Version}]; !ok {
			t.violations = append(t.violations, fmt.Sprintf("route %s to missing version %d", key, w.Version))
			return fmt.Errorf("version %d not loaded", w.Version)
		}
	}
	if t.pending[key] > 0 {
		t.violations = append(t.violations, "route of pending endpoint "+key.String())
	}
	t.endpoints[key] = append([]model.WeightedVersion(nil), vs...)
	t.pending[key] = t.pendingFor
	if msg := t.failEndpoint[key]; msg != "" {
		t.failed[key] = msg
	} else {
		delete(t.failed, key)
	}
	return nil
}

func (t *memTarget) DeleteEndpoint(ctx context.Context, key model.EndpointKey) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls = append(t.calls, "delete endpoint "+key.String())
	delete(t.endpoints, key)
	delete(t.pending, key)
	delete(t.failed, key)
	return nil
}

func (t *memTarget) DeleteVersion(ctx context.Context, ref model.VersionRef) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls = append(t.calls, "delete version "+ref.String())
	for k, vs := range t.endpoints {
		for _, w := range vs {
			if k.Model == ref.Model && w.Version == ref.Version {
				t.violations = append(t.violations, "deleted version "+ref.String()+" routed by "+k.String())
			}
		}
	}
	delete(t.versions, ref)
	return nil
}

func (t *memTarget) URL(k model.EndpointKey) string {
	return "http://127.0.0.1:3000/" + k.Model + "/" + k.Slot + "/invocations"
}

func (t *memTarget) routes(k model.EndpointKey) []model.WeightedVersion {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.endpoints[k]
}

func (t *memTarget) setFailCreate(ref model.VersionRef, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil {
		delete(t.failCreate, ref)
	} else {
		t.failCreate[ref] = err
	}
}

func (t *memTarget) takeCalls() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.calls
	t.calls = nil
	return c
}

// setEndpointBehaviour sets how later routes of an endpoint end: Pending
// for pendingFor Observe calls (for every endpoint), then Failed with
// failReason, or Ready when it is empty.
func (t *memTarget) setEndpointBehaviour(k model.EndpointKey, pendingFor int, failReason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pendingFor = pendingFor
	if failReason == "" {
		delete(t.failEndpoint, k)
	} else {
		t.failEndpoint[k] = failReason
	}
}
