package bridgeapp

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/bridgeops/bridge/internal/registry/mlflow"
)

// RegistryActions are the dashboard's writes, through the registry's
// MLflow REST API with the registry token, as bridge models does.
type RegistryActions struct {
	URL     func() string
	Token   string
	Timeout time.Duration // of one call
}

var actionClients sync.Map // base URL → *mlflow.Client

func (r RegistryActions) client() *mlflow.Client {
	u := r.URL()
	if c, ok := actionClients.Load(u); ok {
		return c.(*mlflow.Client)
	}
	c := mlflow.NewClient(u, r.Token, &http.Client{Timeout: r.Timeout})
	actionClients.Store(u, c)
	return c
}

// TransitionStage moves a version to stage.
func (r RegistryActions) TransitionStage(ctx context.Context, name string, version int, stage string, archive bool) error {
	_, err := r.client().TransitionStage(ctx, name, version, stage, archive)
	return err
}

// SetAlias points alias at a version.
func (r RegistryActions) SetAlias(ctx context.Context, name, alias string, version int) error {
	return r.client().SetAlias(ctx, name, alias, version)
}

// SetVersionTag sets a tag on a version.
func (r RegistryActions) SetVersionTag(ctx context.Context, name string, version int, key, value string) error {
	return r.client().SetModelVersionTag(ctx, name, version, key, value)
}
