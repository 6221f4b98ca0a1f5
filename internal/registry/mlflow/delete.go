package mlflow

import (
	"context"
	"fmt"
)

// DeleteModelUnlessServed deletes registered model name with all its
// versions, aliases and tags, and returns how many versions it had. Unless
// force, a model with versions that endpoints serve (in Staging or
// Production, or with an alias) is refused.
func (c *Client) DeleteModelUnlessServed(ctx context.Context, name string, force bool) (versions int, err error) {
	if _, err := c.GetRegisteredModel(ctx, name); err != nil {
		return 0, err
	}
	vs, err := c.VersionsOf(ctx, name)
	if err != nil {
		return 0, err
	}
	if s := ServingVersions(vs); s != "" && !force {
		return 0, fmt.Errorf("model %s has endpoints serving %s: archive them first, or delete anyway with --force", name, s)
	}
	if err := c.DeleteRegisteredModel(ctx, name); err != nil {
		return 0, err
	}
	return len(vs), nil
}

// DeleteVersionUnlessServed deletes version v of model name. Unless force,
// a version that endpoints serve is refused.
func (c *Client) DeleteVersionUnlessServed(ctx context.Context, name string, v int, force bool) error {
	mv, err := c.GetModelVersion(ctx, name, v)
	if err != nil {
		return err
	}
	if s := ServingVersions([]ModelVersion{mv}); s != "" && !force {
		return fmt.Errorf("%s %s is served: move it to Archived first (bridge models transition %s %d Archived), or delete anyway with --force", name, s, name, v)
	}
	return c.DeleteModelVersion(ctx, name, v)
}
