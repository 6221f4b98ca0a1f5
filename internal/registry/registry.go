// Package registry defines how Bridge reads the model registry, its source of
// truth, and writes deploy outcomes back to it. Implementations: the embedded
// SQLite store (registry/store) and a client for any MLflow server
// (registry/mlflow).
package registry

import (
	"context"

	"github.com/bridgeops/bridge/internal/model"
)

// Registry is what the reconcile loop needs from a model registry.
type Registry interface {
	// Versions lists every non-deleted version of every registered model,
	// with its stage, aliases and tags, in as few reads as the backend allows
	// (the count must not grow with the number of versions beyond paging).
	// model.DesiredFrom turns the result into the desired serving state.
	Versions(ctx context.Context) ([]model.ModelVersion, error)
	// DownloadURI resolves where a version's artifact can be fetched from
	// (MLflow's model-versions/get-download-uri).
	DownloadURI(ctx context.Context, ref model.VersionRef) (string, error)
	// SetVersionTag sets a tag on a version.
	SetVersionTag(ctx context.Context, ref model.VersionRef, key, value string) error
	// DeleteVersionTag removes a tag from a version; a missing tag is not an error.
	DeleteVersionTag(ctx context.Context, ref model.VersionRef, key string) error
}

// Notifier is implemented by registries that can tell the loop at once when
// something changed. The channel receives a value (coalesced, never blocking
// the writer) after every committed change.
type Notifier interface {
	Changes() <-chan struct{}
}
