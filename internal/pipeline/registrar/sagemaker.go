package registrar

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/smithy-go"

	"github.com/bridgeops/bridge/internal/pipeline"
	"github.com/bridgeops/bridge/internal/pipeline/local"
)

// PackageAPI is the part of the SageMaker client the package registrar uses.
type PackageAPI interface {
	DescribeModelPackageGroup(context.Context, *sm.DescribeModelPackageGroupInput, ...func(*sm.Options)) (*sm.DescribeModelPackageGroupOutput, error)
	CreateModelPackageGroup(context.Context, *sm.CreateModelPackageGroupInput, ...func(*sm.Options)) (*sm.CreateModelPackageGroupOutput, error)
	DeleteModelPackageGroup(context.Context, *sm.DeleteModelPackageGroupInput, ...func(*sm.Options)) (*sm.DeleteModelPackageGroupOutput, error)
	CreateModelPackage(context.Context, *sm.CreateModelPackageInput, ...func(*sm.Options)) (*sm.CreateModelPackageOutput, error)
}

// SageMaker registers pipeline versions as model packages in SageMaker
// model package groups (BRIDGE_REGISTRY=sagemaker), the way the
// RegisterModel step does on SageMaker: the step's resolved Arguments are
// the CreateModelPackage request, sent as they are (ModelMetrics,
// ModelApprovalStatus, CustomerMetadataProperties …), plus the execution
// and step as customer metadata. The group is created when it does not
// exist. The approval status is the package's: a package registry has no
// stages, so Stage is ignored (BRIDGE_SAGEMAKER_SLOTS maps approval
// statuses to endpoints).
type SageMaker struct{ API PackageAPI }

// NeedsRemoteArtifacts implements local.RemoteArtifacts.
func (SageMaker) NeedsRemoteArtifacts() string {
	return "BRIDGE_REGISTRY=sagemaker registers model packages whose ModelDataUrl SageMaker reads from S3, " +
		"but this run keeps s3:// objects in the embedded store: set BRIDGE_PIPELINE_S3_ENDPOINT=aws (or an S3 endpoint SageMaker can read)"
}

// Register implements local.Registrar.
func (r SageMaker) Register(ctx context.Context, v local.NewVersion) (local.RegisteredVersion, error) {
	in, err := packageInput(v)
	if err != nil {
		return local.RegisteredVersion{}, err
	}
	created := false
	if _, err := r.API.DescribeModelPackageGroup(ctx, &sm.DescribeModelPackageGroupInput{ModelPackageGroupName: aws.String(v.Model)}); err != nil {
		if !isValidation(err, "does not exist") {
			return local.RegisteredVersion{}, fmt.Errorf("describe model package group %s: %w", v.Model, err)
		}
		if _, err := r.API.CreateModelPackageGroup(ctx, &sm.CreateModelPackageGroupInput{ModelPackageGroupName: aws.String(v.Model),
			ModelPackageGroupDescription: aws.String("created by a Bridge pipeline run")}); err != nil && !isValidation(err, "already exists") {
			return local.RegisteredVersion{}, fmt.Errorf("create model package group %s: %w", v.Model, err)
		} else if err == nil {
			created = true
		}
	}
	out, err := r.API.CreateModelPackage(ctx, in)
	if err != nil {
		if created {
			// Leave no empty group behind for a registration that failed.
			_, _ = r.API.DeleteModelPackageGroup(context.WithoutCancel(ctx), &sm.DeleteModelPackageGroupInput{ModelPackageGroupName: aws.String(v.Model)})
		}
		return local.RegisteredVersion{}, fmt.Errorf("create model package in %s: %w", v.Model, err)
	}
	arn := aws.ToString(out.ModelPackageArn)
	n, err := strconv.Atoi(arn[strings.LastIndex(arn, "/")+1:])
	if err != nil {
		return local.RegisteredVersion{}, fmt.Errorf("model package ARN %q has no version", arn)
	}
	return local.RegisteredVersion{Model: v.Model, Version: n, Arn: arn}, nil
}

// packageInput turns the RegisterModel arguments into CreateModelPackage's
// input: the request's members decode into the SDK's input type by name.
func packageInput(v local.NewVersion) (*sm.CreateModelPackageInput, error) {
	req := map[string]any{}
	for k, x := range v.Request {
		req[k] = x
	}
	req["ModelPackageGroupName"] = v.Model
	meta := map[string]string{}
	if m, ok := req["CustomerMetadataProperties"].(map[string]any); ok {
		for k, x := range m {
			meta[k] = pipeline.Stringify(x)
		}
	}
	for _, k := range []string{local.TagExecution, local.TagStep} {
		if s := v.Tags[k]; s != "" {
			meta[k] = s
		}
	}
	req["CustomerMetadataProperties"] = meta
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	var in sm.CreateModelPackageInput
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("Arguments: not a CreateModelPackage request: %w", err)
	}
	if v.Token != "" {
		// CreateModelPackage's ClientToken is at most 36 characters.
		sum := sha256.Sum256([]byte(v.Token))
		in.ClientToken = aws.String(hex.EncodeToString(sum[:])[:36])
	}
	return &in, nil
}

func isValidation(err error, contains string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationException" && strings.Contains(ae.ErrorMessage(), contains)
}
