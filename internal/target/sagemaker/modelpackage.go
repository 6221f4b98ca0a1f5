package sagemaker

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/bridgeops/bridge/internal/sgname"
	"github.com/bridgeops/bridge/internal/target"
)

// createFromPackage creates the SageMaker model of a model package version
// (BRIDGE_REGISTRY=sagemaker): image and artifact come from the package.
// An Approved package backs the model itself (Containers[{ModelPackageName}]);
// SageMaker accepts only Approved packages there, so an unapproved one
// (served on Staging or Latest) gets its first inference container's image,
// model data and environment. Nothing is uploaded.
func (t *Target) createFromPackage(ctx context.Context, v target.VersionSpec) error {
	name := sgname.Model(v.Ref)
	if _, err := t.sm.DescribeModel(ctx, &sm.DescribeModelInput{ModelName: aws.String(name)}); err == nil {
		return nil
	} else if !isNotFound(err) {
		return fmt.Errorf("describe model %s: %w", name, err)
	}
	pkg, err := t.sm.DescribeModelPackage(ctx, &sm.DescribeModelPackageInput{ModelPackageName: aws.String(v.Source)})
	if err != nil {
		return fmt.Errorf("describe model package %s: %w", v.Source, err)
	}
	spec := pkg.InferenceSpecification
	if spec == nil || len(spec.Containers) == 0 {
		return fmt.Errorf("model package %s has no inference specification: register it with InferenceSpecification.Containers (image and ModelDataUrl) to deploy it", v.Source)
	}
	if err := t.recordOrigin(ctx, sgname.Origin{Kind: sgname.KindModel, Model: v.Ref.Model, Version: v.Ref.Version}); err != nil {
		return err
	}
	in := &sm.CreateModelInput{ModelName: aws.String(name), ExecutionRoleArn: aws.String(t.roleARN)}
	if pkg.ModelApprovalStatus == smtypes.ModelApprovalStatusApproved {
		in.Containers = []smtypes.ContainerDefinition{{ModelPackageName: aws.String(v.Source)}}
	} else {
		c := spec.Containers[0]
		in.PrimaryContainer = &smtypes.ContainerDefinition{Image: c.Image, ModelDataUrl: c.ModelDataUrl, Environment: c.Environment}
	}
	if _, err := t.sm.CreateModel(ctx, in); err != nil && !isAlreadyExists(err) {
		return fmt.Errorf("create model %s from model package %s: %w", name, v.Source, err)
	}
	t.log.Info("created model from model package", "version", v.Ref.String(), "model", name, "package", v.Source, "approval", pkg.ModelApprovalStatus)
	return nil
}
