package registrar

import (
	"context"
	"fmt"
	"net/http"

	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/bridgeops/bridge/internal/awsauth"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/pipeline/local"
	"github.com/bridgeops/bridge/internal/registry/mlflow"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// ForConfig picks the registrar of the configured registry
// (BRIDGE_REGISTRY): the embedded store st, the MLflow server of
// BRIDGE_MLFLOW_URI (over hc), or SageMaker model package groups with the
// AWS settings of the SageMaker target (profile, region, role, retries).
func ForConfig(ctx context.Context, c config.Config, st *store.Store, hc *http.Client) (local.Registrar, error) {
	rs, err := c.Registry()
	if err != nil {
		return nil, err
	}
	switch rs.Kind {
	case config.RegistrySageMaker:
		opts, err := awsauth.FromConfig(c)
		if err != nil {
			return nil, err
		}
		awsCfg, err := awsauth.Load(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("BRIDGE_REGISTRY=sagemaker: %w", err)
		}
		return SageMaker{API: sm.NewFromConfig(awsCfg)}, nil
	case config.RegistryMLflow:
		return MLflow{C: mlflow.NewClient(c.MLflowURI, c.RegistryToken, hc)}, nil
	}
	return Store{St: st}, nil
}
