package bridgerun

import (
	"cmp"
	"context"
	"net/http"
	"time"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/registry/mlflow"
	"github.com/bridgeops/bridge/internal/registry/mlflowapi"
)

// ResolveModelsRegistry decides which MLflow registry bridge models talks
// to (mlflowapi.Resolve): flagURL (--registry), else BRIDGE_MLFLOW_URI,
// else the default address or, when nothing answers there, the home's
// embedded registry opened in-process (close local after). With
// BRIDGE_REGISTRY=sagemaker (model package groups) no MLflow server is
// involved and nothing is resolved. A misspelt BRIDGE_REGISTRY is an error
// unless flagURL names the registry.
func ResolveModelsRegistry(ctx context.Context, c config.Config, flagURL string) (url string, local *mlflowapi.InProcess, err error) {
	rs, err := c.Registry()
	if err != nil && flagURL == "" {
		return "", nil, err // a misspelt BRIDGE_REGISTRY is not the MLflow default
	}
	if err == nil && rs.Kind == config.RegistrySageMaker {
		return "", nil, nil
	}
	return mlflowapi.Resolve(ctx, flagURL, c.MLflowURI, c.Home)
}

// MLflowClient is a client of the first of urls that is set (else
// BRIDGE_MLFLOW_URI, else the default address) with the registry token
// (BRIDGE_REGISTRY_TOKEN, else MLFLOW_TRACKING_TOKEN) and a timeout long
// enough for artifact uploads.
func MLflowClient(c config.Config, urls ...string) *mlflow.Client {
	u := cmp.Or(append(urls, c.MLflowURI, mlflowapi.DefaultURL)...)
	tok := cmp.Or(c.RegistryToken, c.Get("MLFLOW_TRACKING_TOKEN", ""))
	return mlflow.NewClient(u, tok, &http.Client{Timeout: 10 * time.Minute})
}
