package main

import (
	"context"
	"fmt"
	"log/slog"

	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/bridgeops/bridge/internal/awsauth"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/iampolicy"
	"github.com/bridgeops/bridge/internal/registry"
	regsm "github.com/bridgeops/bridge/internal/registry/sagemaker"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// openPackageRegistry opens SageMaker model package groups as the registry
// (BRIDGE_REGISTRY=sagemaker), with the AWS settings of the SageMaker
// target (profile, region, role, retries). Named groups must exist.
func openPackageRegistry(ctx context.Context, c config.Config, rs config.RegistrySettings) (registry.Registry, *store.Store, func(), error) {
	r, err := newPackageRegistry(ctx, c, rs)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := r.Check(ctx); err != nil {
		return nil, nil, nil, err
	}
	return r, nil, func() {}, nil
}

// newPackageRegistry builds the SageMaker registry client without checking
// the groups.
func newPackageRegistry(ctx context.Context, c config.Config, rs config.RegistrySettings) (*regsm.Registry, error) {
	opts, err := awsauth.FromConfig(c)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsauth.Load(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("BRIDGE_REGISTRY=sagemaker: %w", err)
	}
	return regsm.New(sm.NewFromConfig(awsCfg), rs, slog.Default()), nil
}

// withPackageGroupStatements adds the model package group statements to
// the run policy when BRIDGE_REGISTRY=sagemaker.
func withPackageGroupStatements(cfg config.Config, doc, command, account, region string) (string, error) {
	if command != iampolicy.Run {
		return doc, nil
	}
	rs, err := cfg.Registry()
	if err != nil || rs.Kind != config.RegistrySageMaker {
		return doc, err
	}
	sts, err := iampolicy.PackageGroupStatements(account, region, rs.Groups)
	if err != nil {
		return "", err
	}
	return iampolicy.AppendStatements(doc, sts...)
}
