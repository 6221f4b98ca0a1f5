package awsfake_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/bridgeops/bridge/internal/awsfake"
)

// TestNamesAreUniqueRegardlessOfCase: SageMaker model, endpoint config and
// endpoint names are unique regardless of case ("The name is
// case-insensitive in CreateEndpoint, but the case is preserved"): a
// case-twin cannot be created, the first spelling is kept in answers and
// lists, and ARNs are lower-case.
func TestNamesAreUniqueRegardlessOfCase(t *testing.T) {
	_, c := start(t, awsfake.Options{}, "eu-west-1")
	ctx := context.Background()
	setupModel(t, ctx, c, "brdg-Wine-1", "img:ok")
	createConfig(t, ctx, c, "brdg-wine-Production-cfg", "brdg-Wine-1")
	if _, err := c.sm.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: aws.String("brdg-wine-Production"), EndpointConfigName: aws.String("brdg-wine-Production-cfg")}); err != nil {
		t.Fatal(err)
	}
	variant := []smtypes.ProductionVariant{{VariantName: aws.String("v1"), ModelName: aws.String("brdg-wine-1"),
		InstanceType: smtypes.ProductionVariantInstanceTypeMlT2Medium, InitialInstanceCount: aws.Int32(1)}}
	twins := []struct {
		name string
		call func() error
		want string
	}{
		{"model", func() error {
			_, err := c.sm.CreateModel(ctx, &sagemaker.CreateModelInput{ModelName: aws.String("brdg-wine-1"),
				ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/exec"), PrimaryContainer: &smtypes.ContainerDefinition{Image: aws.String("img:ok")}})
			return err
		}, `Cannot create already existing model "arn:aws:sagemaker:eu-west-1:123456789012:model/brdg-wine-1"`},
		{"endpoint config", func() error {
			_, err := c.sm.CreateEndpointConfig(ctx, &sagemaker.CreateEndpointConfigInput{EndpointConfigName: aws.String("BRDG-wine-production-CFG"), ProductionVariants: variant})
			return err
		}, "Cannot create already existing endpoint configuration"},
		{"endpoint", func() error {
			_, err := c.sm.CreateEndpoint(ctx, &sagemaker.CreateEndpointInput{EndpointName: aws.String("brdg-wine-production"), EndpointConfigName: aws.String("brdg-wine-Production-cfg")})
			return err
		}, `Cannot create already existing endpoint "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/brdg-wine-production"`},
	}
	for _, tt := range twins {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, tt.call(), "ValidationException", tt.want)
		})
	}
	// Lookups in another case find the resource under its first spelling.
	m, err := c.sm.DescribeModel(ctx, &sagemaker.DescribeModelInput{ModelName: aws.String("BRDG-WINE-1")})
	if err != nil || aws.ToString(m.ModelName) != "brdg-Wine-1" {
		t.Fatalf("DescribeModel in another case: %v %v", m, err)
	}
	d := describe(t, ctx, c, "brdg-wine-production")
	if aws.ToString(d.EndpointName) != "brdg-wine-Production" || aws.ToString(d.EndpointArn) != "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/brdg-wine-production" {
		t.Fatalf("DescribeEndpoint: name %s arn %s", aws.ToString(d.EndpointName), aws.ToString(d.EndpointArn))
	}
	list, err := c.sm.ListEndpoints(ctx, &sagemaker.ListEndpointsInput{NameContains: aws.String("production")})
	if err != nil || len(list.Endpoints) != 1 || aws.ToString(list.Endpoints[0].EndpointName) != "brdg-wine-Production" {
		t.Fatalf("ListEndpoints NameContains in another case: %+v %v", list, err)
	}
}
