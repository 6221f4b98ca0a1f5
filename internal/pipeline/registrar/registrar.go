// Package registrar creates the model versions of RegisterModel steps in
// Bridge's registry: the embedded store or an MLflow server. A version is
// created with all its tags in one call; when moving it to its stage fails,
// it is deleted again, so a failed step leaves nothing behind.
package registrar

import (
	"context"
	"fmt"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/pipeline/local"
	"github.com/bridgeops/bridge/internal/registry/mlflow"
	"github.com/bridgeops/bridge/internal/registry/mlflowerr"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// Store registers pipeline versions in the embedded store.
type Store struct{ St *store.Store }

// Register implements local.Registrar.
func (r Store) Register(ctx context.Context, v local.NewVersion) (local.RegisteredVersion, error) {
	created := true
	if _, err := r.St.CreateRegisteredModel(ctx, v.Model, "", nil); mlflowerr.IsAlreadyExists(err) {
		created = false
	} else if err != nil {
		return local.RegisteredVersion{}, err
	}
	mv, err := r.St.CreateModelVersion(ctx, store.VersionSpec{Name: v.Model, Source: v.Source, Description: v.Description, Tags: v.Tags})
	if err != nil {
		if created {
			_ = r.St.DeleteRegisteredModel(context.WithoutCancel(ctx), v.Model)
		}
		return local.RegisteredVersion{}, err
	}
	out := local.RegisteredVersion{Model: v.Model, Version: mv.Version}
	if v.Stage != "" {
		if _, err := r.St.TransitionStage(ctx, v.Model, mv.Version, v.Stage, false); err != nil {
			// Leave no half-registered version behind.
			_ = r.St.DeleteModelVersion(context.WithoutCancel(ctx), v.Model, mv.Version)
			if created {
				_ = r.St.DeleteRegisteredModel(context.WithoutCancel(ctx), v.Model)
			}
			return local.RegisteredVersion{}, fmt.Errorf("move version %d to %s: %w", mv.Version, v.Stage, err)
		}
		out.Stage = v.Stage
	}
	return out, nil
}

// MLflow registers pipeline versions in an MLflow server.
type MLflow struct{ C *mlflow.Client }

// Register implements local.Registrar.
func (r MLflow) Register(ctx context.Context, v local.NewVersion) (local.RegisteredVersion, error) {
	created := true
	if _, err := r.C.CreateRegisteredModel(ctx, v.Model, "", nil); mlflowerr.IsAlreadyExists(err) {
		created = false
	} else if err != nil {
		return local.RegisteredVersion{}, err
	}
	mv, err := r.C.CreateModelVersion(ctx, mlflow.VersionSpec{Name: v.Model, Source: v.Source, Description: v.Description, Tags: v.Tags})
	if err != nil {
		if created {
			_ = r.C.DeleteRegisteredModel(context.WithoutCancel(ctx), v.Model)
		}
		return local.RegisteredVersion{}, err
	}
	n, err := model.ParseVersion(mv.Version)
	if err != nil {
		return local.RegisteredVersion{}, err
	}
	out := local.RegisteredVersion{Model: v.Model, Version: n}
	if v.Stage != "" {
		if _, err := r.C.TransitionStage(ctx, v.Model, n, v.Stage, false); err != nil {
			_ = r.C.DeleteModelVersion(context.WithoutCancel(ctx), v.Model, n)
			if created {
				_ = r.C.DeleteRegisteredModel(context.WithoutCancel(ctx), v.Model)
			}
			return local.RegisteredVersion{}, fmt.Errorf("move version %d to %s: %w", n, v.Stage, err)
		}
		out.Stage = v.Stage
	}
	return out, nil
}
