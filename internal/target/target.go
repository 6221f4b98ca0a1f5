// Package target defines deploy targets (localhost, sagemaker) and a registry
// of them by name, so the CLI can pick one from BRIDGE_DEPLOY_KIND.
package target

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/serving"
)

// VersionSpec is everything a target needs to create a version's resources.
type VersionSpec struct {
	Ref model.VersionRef
	// Source is the artifact URI resolved through the registry
	// (registry.Registry.DownloadURI); Fetch turns it into a local model dir.
	Source string
}

// Fetcher materialises a version's artifact as a local directory holding an
// MLmodel file (the model root). Implemented by package artifact.
// Fetcher errors name the version and the source; callers add no prefix.
type Fetcher interface {
	Fetch(ctx context.Context, ref model.VersionRef, source string) (dir string, err error)
}

// Target is a place endpoints are served from. Every method is idempotent.
type Target interface {
	// Name is the target's kind ("localhost", "sagemaker").
	Name() string
	// Observe reports what the target serves now.
	Observe(ctx context.Context) (model.Actual, error)
	// CreateVersion creates the resources of one version (loads the model,
	// uploads its artifact, ...). It returns when the version is ready to be
	// routed to, or with an error.
	CreateVersion(ctx context.Context, v VersionSpec) error
	// Route points an endpoint at exactly these versions with these weights,
	// creating the endpoint if needed. Targets swap without downtime: the old
	// versions keep serving until the new ones answer.
	Route(ctx context.Context, key model.EndpointKey, versions []model.WeightedVersion) error
	// DeleteEndpoint removes an endpoint; a missing endpoint is not an error.
	DeleteEndpoint(ctx context.Context, key model.EndpointKey) error
	// DeleteVersion removes a version's resources once no endpoint uses it;
	// missing resources are not an error.
	DeleteVersion(ctx context.Context, ref model.VersionRef) error
	// URL is the invocation URL of an endpoint (written to bridge_deploy_url).
	URL(key model.EndpointKey) string
}

// Initializer is implemented by targets with account-level resources that
// `bridge init KIND` creates and `bridge destroy KIND` removes.
type Initializer interface {
	Init(ctx context.Context) error
	Destroy(ctx context.Context) error
}

// ProcessBound is implemented by targets whose endpoints live only as long
// as the bridge run process that serves them (localhost). When such a
// target stops cleanly its versions are tagged STOPPED; endpoints of other
// targets (SageMaker) outlive Bridge and keep their tags.
type ProcessBound interface {
	ProcessBound() bool
}

// Deps are the shared parts a target factory may use.
type Deps struct {
	Config  config.Config
	Fetcher Fetcher
	// Metrics is where targets register their Prometheus collectors; nil
	// means a private registry (tests).
	Metrics *prometheus.Registry
	// Capture receives captured invocations; nil means capture is off.
	Capture capture.Sink
	// Models loads model versions into this process (the process's
	// serving/runtimes.Set); targets that serve in-process (localhost)
	// need it to create versions. The caller owns it and stops it after
	// the target.
	Models ModelLoader
}

// ModelLoader loads a model version into this process with the runtime
// of its flavor (implemented by serving.Runtimes).
type ModelLoader interface {
	Load(ctx context.Context, spec serving.LoadSpec) (serving.Model, error)
}

// Factory builds a target from configuration.
type Factory func(ctx context.Context, deps Deps) (Target, error)

var (
	mu        sync.Mutex
	factories = map[string]Factory{}
)

// Register makes a target kind available by name. It panics on duplicates,
// like database/sql.Register.
func Register(kind string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := factories[kind]; dup {
		panic("target: Register called twice for " + kind)
	}
	factories[kind] = f
}

// Kinds lists registered target kinds, sorted.
func Kinds() []string {
	mu.Lock()
	defer mu.Unlock()
	out := make([]string, 0, len(factories))
	for k := range factories {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// New builds the target of the given kind.
func New(ctx context.Context, kind string, deps Deps) (Target, error) {
	mu.Lock()
	f, ok := factories[kind]
	mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("unknown deploy target kind %q: set BRIDGE_DEPLOY_KIND to one of %v", kind, Kinds())
	}
	return f(ctx, deps)
}
