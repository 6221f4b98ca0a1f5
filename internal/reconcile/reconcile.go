// Package reconcile is Bridge's control loop: observe the registry (desired
// state) and the deploy target (actual state), plan, apply the plan model by
// model, and write the outcome back to the registry as version tags.
//
// The loop is level-based, as a Kubernetes controller: every pass acts on
// what it observes, never on the event that woke it, so passes are
// idempotent and a missed wake-up costs nothing but latency. Wake-ups come
// from the registry's change notifications, Wake (the registry webhook), a
// ticker, and sooner while the target reports something Pending. A model
// whose actions fail is retried with exponential backoff and jitter, without
// holding back the other models.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/plan"
	"github.com/bridgeops/bridge/internal/registry"
	"github.com/bridgeops/bridge/internal/target"
)

// Options configure a Reconciler. Registry and Target are required.
type Options struct {
	Registry registry.Registry
	Target   target.Target
	// Interval is how often the loop polls without a wake-up
	// (BRIDGE_SCAN_INTERVAL_S); default 5s.
	Interval time.Duration
	// BackoffBase and BackoffMax bound the delay before a failed model is
	// tried again: BackoffBase doubled per consecutive failure, at most
	// BackoffMax, with jitter. Defaults 1s and 5m.
	BackoffBase, BackoffMax time.Duration
	// PendingRecheck is the first delay before the next pass while the
	// target reports an endpoint or version Pending (SageMaker's Creating
	// or Updating): it doubles on every pass that still sees something
	// Pending, up to Interval, and starts again once nothing is. Default 1s.
	PendingRecheck time.Duration
	// Parallelism is how many models are applied at once; default 4.
	Parallelism int
	// Metrics receives the loop's collectors; nil means none are exported.
	Metrics *prometheus.Registry
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Clock returns the current time for backoffs and results; nil means
	// time.Now. Tests step a manual clock instead of waiting.
	Clock func() time.Time
}

// Reconciler runs reconcile passes. Its methods are safe for concurrent use;
// passes never overlap.
type Reconciler struct {
	reg     registry.Registry
	tgt     target.Target
	opts    Options
	log     *slog.Logger
	metrics *metrics
	wake    chan struct{}

	pass sync.Mutex // held for a whole pass

	backoff *Backoff // pacing of failing models

	mu       sync.Mutex                  // guards the fields below
	failures map[model.VersionRef]string // last failure per version, until it is served or no longer desired
	last     Result
	lastErr  error
	lastAt   time.Time
}

// New returns a Reconciler.
func New(opts Options) (*Reconciler, error) {
	if opts.Registry == nil || opts.Target == nil {
		return nil, errors.New("reconcile: a registry and a target are required")
	}
	if opts.Interval <= 0 {
		opts.Interval = 5 * time.Second
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = time.Second
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = 5 * time.Minute
	}
	if opts.BackoffMax < opts.BackoffBase {
		opts.BackoffMax = opts.BackoffBase
	}
	if opts.PendingRecheck <= 0 {
		opts.PendingRecheck = time.Second
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = 4
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Reconciler{
		reg:      opts.Registry,
		tgt:      opts.Target,
		opts:     opts,
		log:      log.With("component", "reconcile"),
		metrics:  newMetrics(opts.Metrics),
		wake:     make(chan struct{}, 1),
		backoff:  &Backoff{Base: opts.BackoffBase, Max: opts.BackoffMax, Clock: opts.Clock},
		failures: map[model.VersionRef]string{},
	}, nil
}

// Applied is one action of a pass and its outcome.
type Applied struct {
	Action plan.Action
	// Err is why the action failed; nil when it succeeded or was skipped.
	Err error
	// Skipped says the action was not attempted because an earlier action
	// of its model failed (a route to a version that could not be created,
	// a version delete after a failed route).
	Skipped bool
}

// Result describes one pass.
type Result struct {
	Started  time.Time
	Duration time.Duration
	// Actions are the actions attempted or skipped, in plan order.
	Actions []Applied
	// Failed maps each model with a failed action or a FAILED version to a
	// one-line reason.
	Failed map[string]string
	// Deferred lists models whose actions waited for their backoff.
	Deferred []string
	// TagWrites counts tag sets and deletes written to the registry.
	TagWrites int
	// Pending counts the endpoints and versions the target reported
	// Pending at the end of the pass; the loop looks again soon while it is
	// not zero.
	Pending int
	// Unserved lists the desired endpoints the target did not serve at the
	// end of the pass (missing, not Ready, or routing to other versions).
	Unserved []model.EndpointKey
}

// Changed reports whether the pass attempted any action.
func (r Result) Changed() bool { return len(r.Actions) > 0 }

// Wake asks for a pass as soon as possible. Wake-ups that arrive while a
// pass is pending are coalesced. It never blocks.
func (r *Reconciler) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Last returns the result of the last pass, the error that ended it early
// (registry or target unreachable) if any, and when it finished.
func (r *Reconciler) Last() (Result, error, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last, r.lastErr, r.lastAt
}

// Run runs passes until ctx is done: at once, then whenever woken (Wake,
// the registry's change notifications), every Interval, when a failed
// model's backoff expires, and sooner than Interval while the target
// reports something Pending (see Options.PendingRecheck). It returns nil
// when ctx is cancelled.
func (r *Reconciler) Run(ctx context.Context) error {
	var changes <-chan struct{}
	if n, ok := r.reg.(registry.Notifier); ok {
		changes = n.Changes()
	}
	ticker := time.NewTicker(r.opts.Interval)
	defer ticker.Stop()
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()
	downFor := 0                  // consecutive passes that could not observe
	var pendingWait time.Duration // current delay while something is Pending
	for {
		res, err := r.RunOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var next time.Duration
		if err != nil {
			downFor++
			next = min(r.backoff.Delay(downFor), r.opts.Interval)
			r.log.Warn("reconcile pass failed; serving what is deployed and retrying", "err", err, "retry_in", next.Round(time.Millisecond))
		} else {
			downFor = 0
			next = r.backoff.UntilNext()
			pendingWait = r.nextPendingWait(pendingWait, res.Pending)
			if pendingWait > 0 && (next == 0 || pendingWait < next) {
				next = pendingWait
			}
		}
		if !retry.Stop() {
			select {
			case <-retry.C:
			default:
			}
		}
		if next > 0 {
			retry.Reset(next)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		case <-changes:
		case <-ticker.C:
		case <-retry.C:
		}
	}
}

// nextPendingWait is the delay before the next pass given the previous
// one and how many things the last pass saw Pending: PendingRecheck at
// first, doubled on every further pass that sees something Pending, at
// most Interval; 0 (the ticker alone) once nothing is Pending.
func (r *Reconciler) nextPendingWait(prev time.Duration, pending int) time.Duration {
	if pending == 0 {
		return 0
	}
	if prev == 0 {
		return min(r.opts.PendingRecheck, r.opts.Interval)
	}
	return min(2*prev, r.opts.Interval)
}

// RunOnce runs one pass: observe, plan, apply what no backoff holds back,
// write tags. It returns an error only when the pass could not observe the
// registry or the target (nothing was changed then); failed actions are
// reported in the Result.
func (r *Reconciler) RunOnce(ctx context.Context) (Result, error) {
	r.pass.Lock()
	defer r.pass.Unlock()
	res := Result{Started: r.backoff.Now(), Failed: map[string]string{}}
	err := r.runPass(ctx, &res)
	res.Duration = r.backoff.Now().Sub(res.Started)
	r.metrics.passes.Inc()
	r.metrics.duration.Observe(res.Duration.Seconds())
	r.mu.Lock()
	r.last, r.lastErr, r.lastAt = res, err, r.backoff.Now()
	r.mu.Unlock()
	return res, err
}

// Preview is what the next pass would do, computed without changing
// anything: bridge plan shows it, and every pass starts with it.
type Preview struct {
	Desired model.Desired
	Actual  model.Actual
	// Actions are the plan, in the order a pass applies them (before
	// backoffs hold any back).
	Actions []plan.Action
	// Tags are the deploy-tag writes the pass would make; computed only
	// when no action is due (actions change what the tags must say).
	Tags []plan.TagOp
}

// Preview reads the registry and the target and plans, like the first
// half of a pass, and changes nothing.
func (r *Reconciler) Preview(ctx context.Context) (Preview, error) {
	p, err := r.preview(ctx)
	if err != nil || len(p.Actions) > 0 {
		return p, err
	}
	r.mu.Lock()
	failures := maps.Clone(r.failures)
	r.mu.Unlock()
	p.Tags = settled(plan.Tags(p.Desired, p.Actual, failures, r.tgt.URL), p.Desired.Versions, r.reg)
	return p, nil
}

// preview observes the registry (desired state) and the target (actual
// state) and plans.
func (r *Reconciler) preview(ctx context.Context) (Preview, error) {
	versions, err := r.reg.Versions(ctx)
	if err != nil {
		r.metrics.failures.WithLabelValues("registry").Inc()
		return Preview{}, fmt.Errorf("read registry: %w", err)
	}
	desired := model.DesiredFrom(versions)
	actual, err := r.tgt.Observe(ctx)
	if err != nil {
		r.metrics.failures.WithLabelValues("target").Inc()
		return Preview{}, fmt.Errorf("observe %s target: %w", r.tgt.Name(), err)
	}
	return Preview{Desired: desired, Actual: actual, Actions: plan.Plan(desired, actual)}, nil
}

func (r *Reconciler) runPass(ctx context.Context, res *Result) error {
	p, err := r.preview(ctx)
	if err != nil {
		return err
	}
	desired, actual := p.Desired, p.Actual
	r.forgetUndesired(desired)

	byModel, order := groupByModel(p.Actions)
	pending := pendingModels(actual)
	r.backoff.ForgetIdle(func(m string) bool { _, ok := byModel[m]; return ok }, func(m string) bool { return pending[m] })
	var run []string
	var toApply []plan.Action
	for _, m := range order {
		retry := hasRetry(byModel[m])
		if retry {
			if d, n, ok := r.backoff.TargetFailed(m); ok {
				r.log.Warn("endpoint failed on the target; retrying later", "model", m, "attempt", n, "retry_in", d.Round(time.Millisecond))
			}
		}
		if r.backoff.Waits(m, retry) {
			res.Deferred = append(res.Deferred, m)
			continue
		}
		run = append(run, m)
		toApply = append(toApply, byModel[m]...)
	}

	tags := newTagState(desired)
	if len(toApply) > 0 {
		r.writeTags(ctx, plan.Updating(desired, toApply), tags, res)
		outcomes := r.applyAll(ctx, run, byModel)
		for _, m := range run {
			res.Actions = append(res.Actions, outcomes[m].applied...)
			if outcomes[m].err != "" {
				res.Failed[m] = outcomes[m].err
			}
		}
		// Look again: tags must tell what the target serves now.
		if actual, err = r.tgt.Observe(ctx); err != nil {
			r.metrics.failures.WithLabelValues("target").Inc()
			return fmt.Errorf("observe %s target after applying: %w", r.tgt.Name(), err)
		}
	}

	r.mu.Lock()
	failures := make(map[model.VersionRef]string, len(r.failures))
	for k, v := range r.failures {
		failures[k] = v
	}
	r.mu.Unlock()
	res.Pending = countPending(actual)
	res.Unserved = unserved(desired, actual)
	desired.Versions = tags.desiredVersions(desired.Versions)
	r.writeTags(ctx, settled(plan.Tags(desired, actual, failures, r.tgt.URL), desired.Versions, r.reg), tags, res)
	for ref, t := range tags.current {
		if t[model.TagDeployState] == model.StateFailed {
			if _, ok := res.Failed[ref.Model]; !ok {
				res.Failed[ref.Model] = fmt.Sprintf("version %d: %s", ref.Version, t[model.TagDeployError])
			}
		}
	}
	return nil
}

// unserved returns the desired endpoints that actual does not serve as
// desired: Ready and routing to exactly the desired versions.
func unserved(d model.Desired, a model.Actual) []model.EndpointKey {
	have := make(map[model.EndpointKey]model.ActualEndpoint, len(a.Endpoints))
	for _, e := range a.Endpoints {
		have[e.Key] = e
	}
	var out []model.EndpointKey
	for _, de := range d.Endpoints {
		ae, ok := have[de.Key]
		if !ok || ae.Status != model.StatusReady || !sameVersions(de.Versions, ae.Versions) {
			out = append(out, de.Key)
		}
	}
	return out
}

func sameVersions(a, b []model.WeightedVersion) bool {
	if len(a) != len(b) {
		return false
	}
	in := make(map[int]bool, len(a))
	for _, w := range a {
		in[w.Version] = true
	}
	for _, w := range b {
		if !in[w.Version] {
			return false
		}
	}
	return true
}

// Ready reports whether the last pass succeeded and left every desired
// endpoint served (nil), or why not: no pass yet, the registry or target
// could not be observed, a model failed, or an endpoint is not served yet.
// It is what GET /readyz answers.
func (r *Reconciler) Ready() error {
	res, err, at := r.Last()
	switch {
	case at.IsZero():
		return errors.New("no reconcile pass has finished yet")
	case err != nil:
		return fmt.Errorf("last reconcile pass: %w", err)
	case len(res.Failed) > 0:
		models := make([]string, 0, len(res.Failed))
		for m, why := range res.Failed {
			models = append(models, m+": "+why)
		}
		sort.Strings(models)
		return fmt.Errorf("%d model(s) failing: %s", len(models), strings.Join(models, "; "))
	case len(res.Unserved) > 0:
		keys := make([]string, len(res.Unserved))
		for i, k := range res.Unserved {
			keys[i] = k.String()
		}
		return fmt.Errorf("%d endpoint(s) not served yet: %s", len(keys), strings.Join(keys, ", "))
	}
	return nil
}

// countPending counts the endpoints and versions a target reports Pending.
func countPending(a model.Actual) int {
	n := 0
	for _, e := range a.Endpoints {
		if e.Status == model.StatusPending {
			n++
		}
	}
	for _, v := range a.Versions {
		if v.Status == model.StatusPending {
			n++
		}
	}
	return n
}

// forgetUndesired drops failures of versions no longer desired.
func (r *Reconciler) forgetUndesired(d model.Desired) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.failures) == 0 {
		return
	}
	want := make(map[model.VersionRef]bool, len(d.Versions))
	for _, v := range d.Versions {
		want[v.Ref] = true
	}
	for ref := range r.failures {
		if !want[ref] {
			delete(r.failures, ref)
		}
	}
}

// pendingModels returns the models with an endpoint or version the target
// reports Pending.
func pendingModels(a model.Actual) map[string]bool {
	out := map[string]bool{}
	for _, e := range a.Endpoints {
		if e.Status == model.StatusPending {
			out[e.Key.Model] = true
		}
	}
	for _, v := range a.Versions {
		if v.Status == model.StatusPending {
			out[v.Ref.Model] = true
		}
	}
	return out
}

// hasRetry reports whether actions retry an endpoint the target reports
// Failed.
func hasRetry(actions []plan.Action) bool {
	for _, a := range actions {
		if d, ok := a.(plan.DeleteEndpoint); ok && d.Retry {
			return true
		}
	}
	return false
}

func groupByModel(actions []plan.Action) (map[string][]plan.Action, []string) {
	by := map[string][]plan.Action{}
	var order []string
	for _, a := range actions {
		m := a.Model()
		if _, ok := by[m]; !ok {
			order = append(order, m)
		}
		by[m] = append(by[m], a)
	}
	sort.Strings(order)
	return by, order
}

type modelOutcome struct {
	applied []Applied
	err     string // first failure, one line
}

// applyAll applies each model's actions, several models at once.
func (r *Reconciler) applyAll(ctx context.Context, models []string, byModel map[string][]plan.Action) map[string]modelOutcome {
	out := make(map[string]modelOutcome, len(models))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, r.opts.Parallelism)
	for _, m := range models {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			o := r.applyModel(ctx, m, byModel[m])
			mu.Lock()
			out[m] = o
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// applyModel applies one model's actions in plan order. A version that
// cannot be created fails alone: routes that need it are skipped, so the
// endpoint keeps serving what it served. After any failure the model's
// version deletes wait for a later pass.
func (r *Reconciler) applyModel(ctx context.Context, m string, actions []plan.Action) modelOutcome {
	var o modelOutcome
	failedVersions := map[int]bool{}
	newFailures := map[model.VersionRef]string{}
	fail := func(err error) {
		if o.err == "" {
			o.err = plan.OneLine(err.Error())
		}
	}
	record := func(a plan.Action, err error, skipped bool) {
		o.applied = append(o.applied, Applied{Action: a, Err: err, Skipped: skipped})
		result := "ok"
		switch {
		case skipped:
			result = "skipped"
		case err != nil:
			result = "error"
			r.metrics.failures.WithLabelValues("action").Inc()
			r.log.Error("action failed", "action", a.String(), "err", err)
		default:
			r.log.Info("applied", "action", a.String())
		}
		r.metrics.actions.WithLabelValues(a.Kind(), result).Inc()
	}
	retried := false // a retry of a Failed endpoint was applied
	needsFailed := func(vs []model.WeightedVersion) bool {
		for _, w := range vs {
			if failedVersions[w.Version] {
				return true
			}
		}
		return false
	}
	for i, a := range actions {
		if ctx.Err() != nil {
			fail(ctx.Err())
			break
		}
		switch a := a.(type) {
		case plan.CreateVersion:
			err := r.createVersion(ctx, a)
			if err != nil {
				failedVersions[a.Ref.Version] = true
				newFailures[a.Ref] = plan.OneLine(err.Error())
				fail(err)
			}
			record(a, err, false)
		case plan.Route:
			if needsFailed(a.Versions) {
				record(a, nil, true)
				continue
			}
			err := r.tgt.Route(ctx, a.Key, a.Versions)
			if err != nil {
				err = fmt.Errorf("route %s: %w", a.Key, err)
				for _, w := range a.Versions {
					ref := model.VersionRef{Model: m, Version: w.Version}
					if _, ok := newFailures[ref]; !ok {
						newFailures[ref] = plan.OneLine(err.Error())
					}
				}
				fail(err)
			}
			record(a, err, false)
		case plan.DeleteEndpoint:
			// A failed endpoint is deleted to be recreated by the next
			// action; keep it if that route cannot happen.
			if i+1 < len(actions) {
				if next, ok := actions[i+1].(plan.Route); ok && next.Key == a.Key && needsFailed(next.Versions) {
					record(a, nil, true)
					continue
				}
			}
			err := r.tgt.DeleteEndpoint(ctx, a.Key)
			if err != nil {
				err = fmt.Errorf("delete endpoint %s: %w", a.Key, err)
				fail(err)
			}
			retried = retried || (a.Retry && err == nil)
			record(a, err, false)
		case plan.DeleteVersion:
			if o.err != "" {
				record(a, nil, true)
				continue
			}
			err := r.tgt.DeleteVersion(ctx, a.Ref)
			if err != nil {
				err = fmt.Errorf("delete version %s: %w", a.Ref, err)
				fail(err)
			}
			record(a, err, false)
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	for ref := range r.failures {
		if ref.Model == m {
			delete(r.failures, ref)
		}
	}
	for ref, msg := range newFailures {
		r.failures[ref] = msg
	}
	if o.err == "" {
		r.backoff.Succeeded(m, retried)
		return o
	}
	d, n := r.backoff.Failed(m)
	r.log.Warn("model failed; retrying later", "model", m, "attempt", n, "retry_in", d.Round(time.Millisecond), "err", o.err)
	return o
}

// createVersion resolves the version's artifact through the registry and
// creates it on the target.
func (r *Reconciler) createVersion(ctx context.Context, a plan.CreateVersion) error {
	src, err := r.reg.DownloadURI(ctx, a.Ref)
	if err != nil {
		return fmt.Errorf("resolve artifact of %s: %w", a.Ref, err)
	}
	if src == "" {
		src = a.Source
	}
	if err := r.tgt.CreateVersion(ctx, target.VersionSpec{Ref: a.Ref, Source: src}); err != nil {
		return fmt.Errorf("create version %s: %w", a.Ref, err)
	}
	return nil
}

// MarkStopped records in the registry that the target no longer serves
// anything (plan.Stopped): call it once the loop has stopped and the target
// has closed, for targets whose endpoints end with the process.
func (r *Reconciler) MarkStopped(ctx context.Context) (int, error) {
	r.pass.Lock()
	defer r.pass.Unlock()
	versions, err := r.reg.Versions(ctx)
	if err != nil {
		return 0, fmt.Errorf("read registry: %w", err)
	}
	desired := model.DesiredFrom(versions)
	var res Result
	r.writeTags(ctx, plan.Stopped(desired), newTagState(desired), &res)
	return res.TagWrites, nil
}

// tagState tracks the bridge tags of versions as this pass has written
// them, so later diffs start from what the registry now holds.
type tagState struct {
	current map[model.VersionRef]map[string]string
}

func newTagState(d model.Desired) *tagState {
	s := &tagState{current: make(map[model.VersionRef]map[string]string, len(d.Versions))}
	for _, v := range d.Versions {
		s.current[v.Ref] = v.Tags
	}
	return s
}

func (s *tagState) apply(op plan.TagOp) {
	old, tracked := s.current[op.Ref]
	if !tracked {
		return // a Tagged version: not desired, nothing to track
	}
	t := make(map[string]string, len(old)+len(op.Set))
	for k, v := range old {
		t[k] = v
	}
	for k, v := range op.Set {
		t[k] = v
	}
	for _, k := range op.Delete {
		delete(t, k)
	}
	s.current[op.Ref] = t
}

// desiredVersions returns vs with the tags as written so far.
func (s *tagState) desiredVersions(vs []model.DesiredVersion) []model.DesiredVersion {
	out := make([]model.DesiredVersion, len(vs))
	for i, v := range vs {
		v.Tags = s.current[v.Ref]
		out[i] = v
	}
	return out
}

// writeTags writes ops to the registry. A failed write is logged and
// counted: the next pass computes the difference again.
func (r *Reconciler) writeTags(ctx context.Context, ops []plan.TagOp, s *tagState, res *Result) {
	for _, op := range ops {
		ok := true
		keys := make([]string, 0, len(op.Set))
		for k := range op.Set {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := r.reg.SetVersionTag(ctx, op.Ref, k, op.Set[k]); err != nil {
				ok = false
				r.metrics.failures.WithLabelValues("tags").Inc()
				r.log.Warn("write deploy tag", "version", op.Ref.String(), "tag", k, "err", err)
				continue
			}
			res.TagWrites++
		}
		for _, k := range op.Delete {
			if err := r.reg.DeleteVersionTag(ctx, op.Ref, k); err != nil {
				ok = false
				r.metrics.failures.WithLabelValues("tags").Inc()
				r.log.Warn("delete deploy tag", "version", op.Ref.String(), "tag", k, "err", err)
				continue
			}
			res.TagWrites++
		}
		if ok {
			s.apply(op)
		}
	}
}
