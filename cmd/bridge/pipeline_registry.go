package main

import (
	"context"
	"fmt"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/pipeline/local"
	"github.com/bridgeops/bridge/internal/registry/mlflow"
	"github.com/bridgeops/bridge/internal/registry/mlflowerr"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// storeRegistrar registers pipeline versions in the embedded store.
type storeRegistrar struct{ st *store.Store }

func (r storeRegistrar) Register(ctx context.Context, v local.NewVersion) (local.RegisteredVersion, error) {
	if _, err := r.st.CreateRegisteredModel(ctx, v.Model, "", nil); err != nil && !mlflowerr.IsAlreadyExists(err) {
		return local.RegisteredVersion{}, err
	}
	mv, err := r.st.CreateModelVersion(ctx, store.VersionSpec{Name: v.Model, Source: v.Source, Description: v.Description, Tags: v.Tags})
	if err != nil {
		return local.RegisteredVersion{}, err
	}
	out := local.RegisteredVersion{Model: v.Model, Version: mv.Version}
	if v.Stage != "" {
		if _, err := r.st.TransitionStage(ctx, v.Model, mv.Version, v.Stage, false); err != nil {
			// Leave no half-registered version behind.
			_ = r.st.DeleteModelVersion(context.WithoutCancel(ctx), v.Model, mv.Version)
			return local.RegisteredVersion{}, fmt.Errorf("move version %d to %s: %w", mv.Version, v.Stage, err)
		}
		out.Stage = v.Stage
	}
	return out, nil
}

// mlflowRegistrar registers pipeline versions in an MLflow server.
type mlflowRegistrar struct{ c *mlflow.Client }

func (r mlflowRegistrar) Register(ctx context.Context, v local.NewVersion) (local.RegisteredVersion, error) {
	if _, err := r.c.CreateRegisteredModel(ctx, v.Model, "", nil); err != nil && !mlflowerr.IsAlreadyExists(err) {
		return local.RegisteredVersion{}, err
	}
	mv, err := r.c.CreateModelVersion(ctx, mlflow.VersionSpec{Name: v.Model, Source: v.Source, Description: v.Description, Tags: v.Tags})
	if err != nil {
		return local.RegisteredVersion{}, err
	}
	n, err := model.ParseVersion(mv.Version)
	if err != nil {
		return local.RegisteredVersion{}, err
	}
	out := local.RegisteredVersion{Model: v.Model, Version: n}
	if v.Stage != "" {
		if _, err := r.c.TransitionStage(ctx, v.Model, n, v.Stage, false); err != nil {
			_ = r.c.DeleteModelVersion(context.WithoutCancel(ctx), v.Model, n)
			return local.RegisteredVersion{}, fmt.Errorf("move version %d to %s: %w", n, v.Stage, err)
		}
		out.Stage = v.Stage
	}
	return out, nil
}
