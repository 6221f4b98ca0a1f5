package sagemaker

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/bridgeops/bridge/internal/artifact"
)

// ResolvePackage implements artifact.PackageResolver: the model data, the
// container environment and the supported content types of a package's
// first inference container. A package without an inference specification
// is an error that says so.
func (r *Registry) ResolvePackage(ctx context.Context, arn string) (artifact.Package, error) {
	d, err := r.Describe(ctx, arn)
	if err != nil {
		return artifact.Package{}, err
	}
	spec := d.InferenceSpecification
	if spec == nil || len(spec.Containers) == 0 {
		return artifact.Package{}, fmt.Errorf("model package %s has no inference specification: register it with InferenceSpecification.Containers (image and ModelDataUrl) to serve it", arn)
	}
	c := spec.Containers[0]
	return artifact.Package{ARN: arn, ModelDataURL: aws.ToString(c.ModelDataUrl), Environment: c.Environment,
		ContentTypes: spec.SupportedContentTypes}, nil
}
