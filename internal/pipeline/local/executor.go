// Package local runs SageMaker Pipelines definitions on this machine: each
// step's command runs in a private mount namespace where /opt/ml/... are real
// paths, s3:// URIs resolve to the embedded object store, steps are cached
// by their resolved arguments and input contents, and executions are kept
// in SQLite.
package local

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bridgeops/bridge/internal/objectstore"
	"github.com/bridgeops/bridge/internal/pipeline"
)

// Registrar creates model versions for RegisterModel steps.
type Registrar interface {
	// Register creates the version with its tags and, when Stage is set,
	// moves it there. On error nothing is left in the registry.
	Register(ctx context.Context, v NewVersion) (RegisteredVersion, error)
}

// NewVersion is a version a RegisterModel step creates.
type NewVersion struct {
	Model       string
	Source      string
	Description string
	Tags        map[string]string
	Stage       string // empty: no transition
	// Request is the step's resolved Arguments: the CreateModelPackage
	// request a registry of model package groups sends as it is.
	Request map[string]any
	// Token identifies this registration (execution and step), for
	// registries with idempotent creates.
	Token string
}

// RemoteArtifacts is implemented by registrars whose versions must name
// artifacts the registry itself can read (SageMaker model package
// groups read ModelDataUrl from S3): a run on the embedded object store
// cannot register there.
type RemoteArtifacts interface {
	NeedsRemoteArtifacts() string
}

// RegisteredVersion is what Register created.
type RegisteredVersion struct {
	Model   string
	Version int
	Stage   string
	Arn     string // the model package ARN, when the registry has one
}

// Options configure a local run.
type Options struct {
	Home string // BRIDGE_HOME
	// Python returns the interpreter framework images map to; it is only
	// called when a step needs it.
	Python        func() (string, error)
	DefinitionDir string // relative local paths in the definition resolve here
	PipelineName  string
	Parallelism   int
	NoCache       bool
	ApprovedStage string // stage for Approved RegisterModel versions; "" = none
	Registrar     Registrar
	History       *History
	Objects       Objects
	S3Endpoint    string // the S3 API steps get as AWS_ENDPOINT_URL
	// RemoteS3 says S3Endpoint is a real S3/MinIO endpoint: steps keep the
	// caller's AWS credentials instead of the embedded store's dummy ones.
	RemoteS3 bool
	Region   string   // AWS_DEFAULT_REGION for steps
	BaseEnv  []string // environment every step starts from
	Events   func(Event)
	Log      *slog.Logger
	// ExecutionID, when set, names the execution (otherwise random).
	ExecutionID string
	// Started is called once the execution is recorded.
	Started func(id string)
}

// Objects is where s3:// URIs live: the embedded store (Embedded) or a real
// S3 / MinIO endpoint (*objectstore.Remote). Prefix semantics are
// SageMaker's S3Prefix.
type Objects interface {
	Download(ctx context.Context, uri, dir string) error
	Upload(ctx context.Context, dir, uri string) error
	PutFile(ctx context.Context, src, uri string) error
	Digest(ctx context.Context, uri string) (string, error)
	Read(ctx context.Context, uri string) ([]byte, error)
}

// Embedded is the embedded object store as Objects.
type Embedded struct{ *objectstore.Store }

// Download implements Objects.
func (e Embedded) Download(_ context.Context, uri, dir string) error {
	return e.Store.Download(uri, dir)
}

// Upload implements Objects.
func (e Embedded) Upload(_ context.Context, dir, uri string) error { return e.Store.Upload(dir, uri) }

// PutFile implements Objects.
func (e Embedded) PutFile(_ context.Context, src, uri string) error { return e.Store.PutFile(src, uri) }

// Digest implements Objects.
func (e Embedded) Digest(_ context.Context, uri string) (string, error) { return e.Store.Digest(uri) }

// Read implements Objects.
func (e Embedded) Read(_ context.Context, uri string) ([]byte, error) {
	p, err := e.Store.Path(uri)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such object", uri)
	}
	return b, err
}

// Event is a step's status change.
type Event struct {
	Execution string
	Step      string
	Type      string
	Status    string
	CacheHit  bool
	Outcome   string
	Reason    string
	Time      time.Time
}

// Run executes the definition with typed parameter values (see
// pipeline.Definition.ParamValues) and returns the finished execution. The
// error is non-nil only when the execution could not be run at all; a failed
// or stopped run is an Execution with that status.
func Run(ctx context.Context, def *pipeline.Definition, params map[string]any, o Options) (*Execution, error) {
	if err := def.CheckLocal(); err != nil {
		return nil, err
	}
	g, err := def.Graph()
	if err != nil {
		return nil, err
	}
	if abs, err := filepath.Abs(o.Home); err == nil {
		o.Home = abs
	}
	if o.Parallelism <= 0 {
		o.Parallelism = 1
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Events == nil {
		o.Events = func(Event) {}
	}
	id := o.ExecutionID
	if id == "" {
		id = newID()
	}
	name := o.PipelineName
	if name == "" {
		name = "pipeline"
	}
	// The history names the definition by an absolute path, readable from
	// any directory (the dashboard draws the step graph from it).
	source := def.Source
	if source != "" && !filepath.IsAbs(source) && o.DefinitionDir != "" {
		source = filepath.Join(o.DefinitionDir, filepath.Base(source))
	}
	e := &Execution{ID: id, Pipeline: name, Definition: source, Status: StatusExecuting,
		Parameters: params, Started: time.Now().UTC(), PID: os.Getpid()}
	if err := o.History.createExecution(ctx, e); err != nil {
		return nil, err
	}
	if o.Started != nil {
		o.Started(id)
	}
	r := &run{ctx: ctx, o: o, def: def, graph: g, exec: e, props: map[string]map[string]any{},
		state: map[string]string{}, outcome: map[string]bool{}, seq: map[string]int{}}
	for i, n := range g.Order {
		r.seq[n] = i
	}
	r.env = pipeline.Env{
		Params: params,
		Execution: map[string]any{
			"PipelineExecutionId":  id,
			"PipelineExecutionArn": fmt.Sprintf("arn:aws:sagemaker:%s:000000000000:pipeline/%s/execution/%s", o.Region, strings.ToLower(name), id),
			"PipelineName":         name,
			"PipelineArn":          fmt.Sprintf("arn:aws:sagemaker:%s:000000000000:pipeline/%s", o.Region, strings.ToLower(name)),
			"StartDateTime":        e.Started.Format(time.RFC3339),
			"CurrentDateTime":      e.Started.Format(time.RFC3339),
		},
		Properties:   r.properties,
		PropertyFile: r.propertyFile,
		ReadJSON:     r.readJSON,
	}
	r.schedule(ctx)
	e.Finished = time.Now().UTC()
	// Record the end even when ctx was cancelled (Ctrl-C, stop).
	if err := o.History.finishExecution(context.WithoutCancel(ctx), e); err != nil {
		return e, err
	}
	return e, nil
}

func newID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

type run struct {
	ctx   context.Context // for callbacks without one (property files)
	o     Options
	def   *pipeline.Definition
	graph *pipeline.Graph
	exec  *Execution
	env   pipeline.Env

	mu      sync.Mutex
	props   map[string]map[string]any
	state   map[string]string // step → final status, or "skipped"
	outcome map[string]bool   // condition step → outcome
	seq     map[string]int
}

func (r *run) properties(step string) (map[string]any, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.props[step]
	return p, ok
}

type result struct {
	step   string
	rec    StepRecord
	props  map[string]any
	failed bool
}

const skipped = "skipped"

// schedule runs steps whose dependencies succeeded, at most Parallelism at
// a time; after a failure or a stop it starts nothing new and waits for the
// running steps.
func (r *run) schedule(ctx context.Context) {
	pending := map[string]bool{}
	for _, n := range r.graph.Order {
		pending[n] = true
	}
	results := make(chan result)
	running := 0
	var failure string
	stopped := false
	for {
		if ctx.Err() != nil {
			stopped = true
		}
		if failure == "" && !stopped {
			for _, n := range r.graph.Order {
				if !pending[n] || running >= r.o.Parallelism {
					continue
				}
				switch r.readiness(n) {
				case "ready":
					delete(pending, n)
					running++
					st := r.def.Step(n)
					go func() { results <- r.runStep(ctx, st) }()
				case "skip":
					delete(pending, n)
					r.mu.Lock()
					r.state[n] = skipped
					r.mu.Unlock()
				}
			}
		}
		if running == 0 {
			break
		}
		select {
		case res := <-results:
			running--
			r.mu.Lock()
			r.state[res.step] = res.rec.Status
			if res.props != nil {
				r.props[res.step] = res.props
			}
			r.mu.Unlock()
			switch res.rec.Status {
			case StatusFailed:
				if failure == "" {
					failure = fmt.Sprintf("Step %s failed: %s", res.step, res.rec.FailureReason)
				}
			case StatusStopped:
				stopped = true
			}
		case <-ctx.Done():
			stopped = true
			// Running steps see ctx too and report Stopped.
			res := <-results
			running--
			r.mu.Lock()
			r.state[res.step] = res.rec.Status
			r.mu.Unlock()
		}
	}
	switch {
	case stopped:
		r.exec.Status = StatusStopped
		r.exec.FailureReason = "stopped"
		if failure != "" {
			r.exec.FailureReason = failure
		}
	case failure != "":
		r.exec.Status, r.exec.FailureReason = StatusFailed, failure
	default:
		r.exec.Status = StatusSucceeded
	}
}

// readiness says whether a pending step can start, must be skipped (a
// dependency failed, was skipped, or it sits in a branch not taken), or
// waits.
func (r *run) readiness(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.def.Step(name)
	for _, e := range r.graph.Deps[name] {
		s, done := r.state[e.From]
		if !done {
			return "wait"
		}
		if s != StatusSucceeded {
			return "skip"
		}
		if st.Parent == e.From {
			if r.outcome[e.From] != (st.Branch == "If") {
				return "skip"
			}
		}
	}
	return "ready"
}

func (r *run) emit(rec StepRecord) {
	r.o.Events(Event{Execution: r.exec.ID, Step: rec.Name, Type: rec.Type, Status: rec.Status, CacheHit: rec.CacheHit,
		Outcome: rec.Outcome, Reason: rec.FailureReason, Time: time.Now()})
}

func (r *run) record(ctx context.Context, rec StepRecord) {
	if err := r.o.History.putStep(context.WithoutCancel(ctx), r.exec.ID, r.seq[rec.Name], rec); err != nil {
		r.o.Log.Error("pipeline history", "err", err)
	}
	r.emit(rec)
}

// runStep runs one step and records its status changes.
func (r *run) runStep(ctx context.Context, st *pipeline.Step) result {
	rec := StepRecord{Name: st.Name, Type: st.Type, Status: StatusStarting, Started: time.Now().UTC()}
	r.record(ctx, rec)
	rec.Status = StatusExecuting
	r.record(ctx, rec)
	out, err := r.execute(ctx, st, &rec)
	rec.Finished = time.Now().UTC()
	switch {
	case err == nil:
		rec.Status = StatusSucceeded
		rec.Properties = out
	case ctx.Err() != nil:
		rec.Status = StatusStopped
		rec.FailureReason = "stopped: " + err.Error()
	default:
		rec.Status = StatusFailed
		rec.FailureReason = err.Error()
	}
	r.record(ctx, rec)
	return result{step: st.Name, rec: rec, props: out}
}

// execute dispatches on the step type; it returns the step's properties.
func (r *run) execute(ctx context.Context, st *pipeline.Step, rec *StepRecord) (map[string]any, error) {
	switch st.Type {
	case pipeline.TypeCondition:
		conds, err := r.env.Resolve(st.Arguments["Conditions"], "Arguments.Conditions")
		if err != nil {
			return nil, err
		}
		ok, err := pipeline.Evaluate(conds.([]any))
		if err != nil {
			return nil, fmt.Errorf("Arguments.%w", err)
		}
		r.mu.Lock()
		r.outcome[st.Name] = ok
		r.mu.Unlock()
		rec.Outcome = "False"
		if ok {
			rec.Outcome = "True"
		}
		return map[string]any{"Outcome": rec.Outcome}, nil
	case pipeline.TypeFail:
		msg := "Fail step reached"
		if v, ok := st.Arguments["ErrorMessage"]; ok {
			m, err := r.env.Resolve(v, "Arguments.ErrorMessage")
			if err != nil {
				return nil, err
			}
			msg = pipeline.Stringify(m)
		}
		return nil, errors.New(msg)
	}
	env := r.env
	if st.Type == pipeline.TypeProcessing || st.Type == pipeline.TypeTraining {
		// The job's name is known before it starts, as on SageMaker
		// (ExecutionVariables.PROCESSING_JOB_NAME / TRAINING_JOB_NAME).
		rec.job = r.jobName(st.Name)
		env.Execution = maps.Clone(r.env.Execution)
		env.Execution[st.Type+"JobName"] = rec.job
	}
	args, err := env.Resolve(st.Arguments, "Arguments")
	if err != nil {
		return nil, err
	}
	a := args.(map[string]any)
	switch st.Type {
	case pipeline.TypeProcessing:
		return r.cached(ctx, st, rec, a, r.processing)
	case pipeline.TypeTraining:
		return r.cached(ctx, st, rec, a, r.training)
	case pipeline.TypeModel:
		return r.model(ctx, st, a)
	case pipeline.TypeRegisterModel:
		return r.register(ctx, st, a)
	}
	return nil, fmt.Errorf("step type %s is not supported", st.Type)
}

// logPath is where a step's output goes.
func (r *run) logPath(step string) string {
	return filepath.Join(r.o.Home, "logs", "pipelines", r.exec.ID, step+".log")
}

// workDir is the host directory bound at /opt/ml for a step.
func (r *run) workDir(step string) string {
	return filepath.Join(r.o.Home, "pipelines", "work", r.exec.ID, step)
}
