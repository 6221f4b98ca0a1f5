package bridgerun

import (
	"context"

	"github.com/bridgeops/bridge/internal/config"
	regsm "github.com/bridgeops/bridge/internal/registry/sagemaker"
)

// SelectedPackageRegistry opens the model package group registry when the
// configuration selects it (BRIDGE_REGISTRY=sagemaker), with its slot
// rules; ok is false, and nothing is opened, for an MLflow registry. ok is
// true when an error comes from opening the package registry.
func SelectedPackageRegistry(ctx context.Context, c config.Config) (r *regsm.Registry, slots []config.SlotRule, ok bool, err error) {
	rs, err := c.Registry()
	if err != nil {
		return nil, nil, false, err
	}
	if rs.Kind != config.RegistrySageMaker {
		return nil, nil, false, nil
	}
	c.Export() // the AWS SDK reads AWS_* from the process environment
	r, err = NewPackageRegistry(ctx, c, rs)
	return r, rs.Slots, true, err
}
