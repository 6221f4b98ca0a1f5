package iampolicy

import (
	"context"
	"fmt"

	"github.com/bridgeops/bridge/internal/awsauth"
	"github.com/bridgeops/bridge/internal/config"
)

// ForConfig renders the policy command (Init, Run, Destroy or Pipeline)
// needs under the configuration c: the pipeline policy names the
// configured role, pipeline and prefix, and with BRIDGE_REGISTRY=sagemaker
// the run policy also grants the model package groups. An empty account is
// asked from AWS (sts get-caller-identity, which needs no permission) with
// c's credentials; an empty region comes from c's AWS settings.
func ForConfig(ctx context.Context, c config.Config, command, account, region string) (string, error) {
	if account == "" || region == "" {
		opts, err := awsauth.FromConfig(c)
		if err != nil {
			return "", err
		}
		if region != "" {
			opts.Region = region
		}
		if account == "" {
			awsCfg, err := awsauth.Load(ctx, opts)
			if err != nil {
				return "", fmt.Errorf("%w (or pass --account and --region)", err)
			}
			id, err := awsauth.CallerIdentity(ctx, awsCfg)
			if err != nil {
				return "", fmt.Errorf("%w (or pass --account)", err)
			}
			account, region = id.Account, awsCfg.Region
		} else if region = opts.Region; region == "" {
			return "", fmt.Errorf("no AWS region: pass --region or set AWS_REGION")
		}
	}
	doc, err := Render(command, account, region)
	if err == nil && command == Pipeline {
		var set config.SageMakerPipeline
		if set, err = c.SageMakerPipeline(); err == nil {
			doc, err = FillPipeline(doc, set.Role, set.PipelineName, set.BaseJobPrefix)
		}
	}
	if err != nil || command != Run {
		return doc, err
	}
	// The model package group statements (BRIDGE_REGISTRY=sagemaker).
	rs, err := c.Registry()
	if err != nil || rs.Kind != config.RegistrySageMaker {
		return doc, err
	}
	sts, err := PackageGroupStatements(account, region, rs.Groups)
	if err != nil {
		return "", err
	}
	return AppendStatements(doc, sts...)
}
