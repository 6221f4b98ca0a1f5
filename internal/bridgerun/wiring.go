// Package bridgerun assembles Bridge's parts from the configuration:
// bridge run itself (registry, monitoring, Python runtime, deploy target,
// reconcile loop, registry API, front door, dashboard, run by an
// app.Manager), and the wiring other commands share: the registry and the
// target the configuration names, what the target serves, and the plan.
package bridgerun

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/bridgeops/bridge/internal/artifact"
	"github.com/bridgeops/bridge/internal/awsauth"
	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/registry"
	"github.com/bridgeops/bridge/internal/registry/mlflow"
	regsm "github.com/bridgeops/bridge/internal/registry/sagemaker"
	"github.com/bridgeops/bridge/internal/registry/store"
	"github.com/bridgeops/bridge/internal/target"

	// Deploy targets, registered by name for BRIDGE_DEPLOY_KIND.
	_ "github.com/bridgeops/bridge/internal/target/local"
	_ "github.com/bridgeops/bridge/internal/target/sagemaker"
)

// RegistryTimeout bounds one call to an external MLflow registry.
const RegistryTimeout = 30 * time.Second

// OpenRegistry returns the registry the configuration names: the MLflow
// server at BRIDGE_MLFLOW_URI, or, when it is unset, the embedded store in
// BRIDGE_HOME (returned as st too, so callers can serve its API; nil
// otherwise). close releases it.
func OpenRegistry(ctx context.Context, c config.Config) (reg registry.Registry, st *store.Store, close func(), err error) {
	if rs, err := c.Registry(); err != nil {
		return nil, nil, nil, err
	} else if rs.Kind == config.RegistrySageMaker {
		return openPackageRegistry(ctx, c, rs)
	}
	if c.MLflowURI != "" {
		return mlflow.NewClient(c.MLflowURI, c.RegistryToken, &http.Client{Timeout: RegistryTimeout}), nil, func() {}, nil
	}
	st, err = store.Open(ctx, c.Home)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w (set BRIDGE_HOME or --home to a writable directory, or BRIDGE_MLFLOW_URI to use an MLflow server)", err)
	}
	return st, st, func() { st.Close() }, nil
}

// openPackageRegistry opens SageMaker model package groups as the registry
// (BRIDGE_REGISTRY=sagemaker), with the AWS settings of the SageMaker
// target (profile, region, role, retries). Named groups must exist.
func openPackageRegistry(ctx context.Context, c config.Config, rs config.RegistrySettings) (registry.Registry, *store.Store, func(), error) {
	r, err := NewPackageRegistry(ctx, c, rs)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := r.Check(ctx); err != nil {
		return nil, nil, nil, err
	}
	return r, nil, func() {}, nil
}

// NewPackageRegistry builds the SageMaker registry client without checking
// the groups.
func NewPackageRegistry(ctx context.Context, c config.Config, rs config.RegistrySettings) (*regsm.Registry, error) {
	opts, err := awsauth.FromConfig(c)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsauth.Load(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("BRIDGE_REGISTRY=sagemaker: %w", err)
	}
	return regsm.New(sm.NewFromConfig(awsCfg), rs, slog.Default()), nil
}

// newFetcher returns the artifact fetcher for the configuration: the model
// cache in BRIDGE_MODEL_CACHE_PATH, mlflow-artifacts:/ served by the
// embedded store's artifact directory or the MLflow server.
func newFetcher(c config.Config, st *store.Store, reg registry.Registry) *artifact.Fetcher {
	o := artifact.Options{CacheDir: c.ModelCache, TrackingURI: c.MLflowURI, Token: c.RegistryToken}
	if pr, ok := reg.(artifact.PackageResolver); ok {
		o.Packages = pr // SageMaker model packages (BRIDGE_REGISTRY=sagemaker)
	}
	o.S3.Region, o.S3.EndpointURL = c.AWS.Region, c.AWS.ArtifactS3EndpointURL
	if o.S3.EndpointURL == "" {
		o.S3.EndpointURL = c.AWS.S3Endpoint()
	}
	if st != nil {
		o.LocalArtifactRoot = st.ArtifactRoot()
	}
	return artifact.New(o)
}

// newMetrics returns the Prometheus registry every part of bridge run
// registers on, with the Go runtime and process collectors.
func newMetrics() *prometheus.Registry {
	m := prometheus.NewRegistry()
	m.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// NewTarget builds the deploy target of BRIDGE_DEPLOY_KIND; fetcher,
// metrics, sink and models (the process's model runtimes) may be nil for a
// target that is only observed.
func NewTarget(ctx context.Context, c config.Config, fetcher target.Fetcher, metrics *prometheus.Registry, sink capture.Sink, models target.ModelLoader) (target.Target, error) {
	t, err := target.New(ctx, c.DeployKind, target.Deps{Config: c, Fetcher: fetcher, Metrics: metrics, Capture: sink, Models: models})
	if err != nil {
		if _, known := slices.BinarySearch(target.Kinds(), c.DeployKind); !known {
			return nil, err
		}
		return nil, fmt.Errorf("deploy target %s: %w", c.DeployKind, err)
	}
	return t, nil
}

// addrSetter is implemented by targets whose endpoint URLs depend on the
// address bridge run listens on.
type addrSetter interface{ SetAddr(addr string) }

// closeTarget releases a target that holds resources (loaded models).
func closeTarget(ctx context.Context, t target.Target) error {
	switch c := t.(type) {
	case interface{ Close(context.Context) error }:
		return c.Close(ctx)
	case interface{ Close() error }:
		return c.Close()
	}
	return nil
}

// StoreDB is the embedded store's database, nil without one.
func StoreDB(st *store.Store) *sql.DB {
	if st == nil {
		return nil
	}
	return st.DB()
}
