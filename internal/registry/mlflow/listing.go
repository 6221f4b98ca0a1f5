package mlflow

import (
	"context"
	"io"

	"github.com/bridgeops/bridge/internal/cliout"
)

// ListModels writes the registered models matching filter (all pages): a
// table with the latest version per stage and the aliases, or, with
// asJSON, MLflow's search response.
func (c *Client) ListModels(ctx context.Context, w io.Writer, filter string, asJSON bool) error {
	ms, err := c.AllRegisteredModels(ctx, SearchOptions{Filter: filter, MaxResults: 1000})
	if err != nil {
		return err
	}
	if !asJSON {
		return WriteModelTable(w, ms)
	}
	if ms == nil {
		ms = []RegisteredModel{}
	}
	return cliout.JSON(w, SearchRegisteredModelsResponse{RegisteredModels: ms})
}

// ShowModel writes a model and its versions, oldest first: a detail table,
// or, with asJSON, {"registered_model": ..., "model_versions": [...]}.
func (c *Client) ShowModel(ctx context.Context, w io.Writer, name string, asJSON bool) error {
	m, err := c.GetRegisteredModel(ctx, name)
	if err != nil {
		return err
	}
	vs, err := c.VersionsOf(ctx, name)
	if err != nil {
		return err
	}
	SortVersions(vs)
	if !asJSON {
		return WriteModelDetail(w, m, vs)
	}
	if vs == nil {
		vs = []ModelVersion{}
	}
	return cliout.JSON(w, struct {
		RegisteredModel RegisteredModel `json:"registered_model"`
		ModelVersions   []ModelVersion  `json:"model_versions"`
	}{m, vs})
}
