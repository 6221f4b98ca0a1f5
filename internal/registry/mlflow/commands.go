package mlflow

import (
	"context"
	"fmt"
	"io"

	"github.com/bridgeops/bridge/internal/cliout"
)

// The methods in this file are the bodies of bridge models create,
// add-version, transition, alias and tag: each makes one change and writes
// the result to w, a line of text or, with asJSON, MLflow's response.

// CreateModel creates registered model name and says so.
func (c *Client) CreateModel(ctx context.Context, w io.Writer, name, description string, tags map[string]string, asJSON bool) error {
	rm, err := c.CreateRegisteredModel(ctx, name, description, tags)
	if err != nil {
		if IsAlreadyExists(err) {
			return fmt.Errorf("%w (add versions with: bridge models add-version %s PATH_OR_URI)", err, name)
		}
		return err
	}
	if asJSON {
		return cliout.JSON(w, RegisteredModelResponse{RegisteredModel: rm})
	}
	fmt.Fprintf(w, "Created model %s\n", rm.Name)
	return nil
}

// AddModelVersion registers a new version of spec.Name from src (AddVersion)
// after checking that the model exists, and writes its number.
func (c *Client) AddModelVersion(ctx context.Context, w io.Writer, src string, spec VersionSpec, asJSON bool) error {
	if _, err := c.GetRegisteredModel(ctx, spec.Name); err != nil {
		return err
	}
	v, err := c.AddVersion(ctx, src, spec)
	if err != nil {
		return err
	}
	if asJSON {
		return cliout.JSON(w, ModelVersionResponse{ModelVersion: v})
	}
	fmt.Fprintln(w, v.Version)
	return nil
}

// Transition moves a version to stage (TransitionStage) and says where it
// is now.
func (c *Client) Transition(ctx context.Context, w io.Writer, name string, version int, stage string, archiveExisting, asJSON bool) error {
	mv, err := c.TransitionStage(ctx, name, version, stage, archiveExisting)
	if err != nil {
		return err
	}
	if asJSON {
		return cliout.JSON(w, ModelVersionResponse{ModelVersion: mv})
	}
	fmt.Fprintf(w, "%s version %s is now in stage %s\n", mv.Name, mv.Version, mv.CurrentStage)
	return nil
}

// PointAlias points alias of model name at version and says so.
func (c *Client) PointAlias(ctx context.Context, w io.Writer, name, alias string, version int) error {
	if err := c.SetAlias(ctx, name, alias, version); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s@%s → version %d\n", name, alias, version)
	return nil
}

// RemoveAlias removes alias of model name and says so.
func (c *Client) RemoveAlias(ctx context.Context, w io.Writer, name, alias string) error {
	if err := c.DeleteAlias(ctx, name, alias); err != nil {
		return err
	}
	fmt.Fprintf(w, "Removed alias %s of %s\n", alias, name)
	return nil
}

// TagVersion sets tag key=value on a version and says so.
func (c *Client) TagVersion(ctx context.Context, w io.Writer, name string, version int, key, value string) error {
	if err := c.SetModelVersionTag(ctx, name, version, key, value); err != nil {
		return err
	}
	fmt.Fprintf(w, "Tagged %s version %d: %s=%s\n", name, version, key, value)
	return nil
}

// UntagVersion removes tag key from a version and says so.
func (c *Client) UntagVersion(ctx context.Context, w io.Writer, name string, version int, key string) error {
	if err := c.DeleteModelVersionTag(ctx, name, version, key); err != nil {
		return err
	}
	fmt.Fprintf(w, "Removed tag %s from %s version %d\n", key, name, version)
	return nil
}
