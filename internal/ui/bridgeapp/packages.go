package bridgeapp

import (
	"context"
	"errors"
	"time"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/registry"
	"github.com/bridgeops/bridge/internal/ui"
)

// PackageApprover sets a SageMaker model package's approval status
// (*sagemaker.Registry).
type PackageApprover interface {
	SetApproval(ctx context.Context, ref model.VersionRef, status, description string) (string, error)
}

// PackageActions are the dashboard's writes on SageMaker model package
// groups (BRIDGE_REGISTRY=sagemaker), through UpdateModelPackage as bridge
// models approve makes it. Package groups have no stages or aliases (the
// slot rules decide what is served), so approving is the one write.
type PackageActions struct {
	Registry PackageApprover
}

var errPackages = errors.New("SageMaker model package groups have no stages or aliases: approve the version instead (the slot rules serve approved versions)")

// ActionKinds implements ui.ActionKinds: approve only.
func (PackageActions) ActionKinds() []string { return []string{"approve"} }

// Approve sets the package version's ModelApprovalStatus to Approved.
func (p PackageActions) Approve(ctx context.Context, group string, version int) error {
	_, err := p.Registry.SetApproval(ctx, model.VersionRef{Model: group, Version: version}, "Approved", "approved from the Bridge dashboard")
	return err
}

// TransitionStage is refused: packages have no stages.
func (PackageActions) TransitionStage(context.Context, string, int, string, bool) error {
	return errPackages
}

// SetAlias is refused: packages have no aliases.
func (PackageActions) SetAlias(context.Context, string, string, int) error { return errPackages }

// SetVersionTag is refused: approval is the package's status, not a tag.
func (PackageActions) SetVersionTag(context.Context, string, int, string, string) error {
	return errPackages
}

// ActionsFor returns the dashboard's writes for reg: on SageMaker model
// package groups their approval, else the MLflow REST API at url with the
// registry token, as bridge models does.
func ActionsFor(reg registry.Registry, url func() string, token string, timeout time.Duration) ui.Actions {
	if p, ok := reg.(PackageApprover); ok {
		return PackageActions{Registry: p}
	}
	return RegistryActions{URL: url, Token: token, Timeout: timeout}
}
