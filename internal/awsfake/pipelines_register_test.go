package awsfake_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/bridgeops/bridge/internal/awsfake"
)

// regDef registers with the seed's argument shapes: group and approval
// from parameters, model data from the training step, metrics from a
// processing output joined with a file name.
const regDef = `{"Version":"2020-12-01",
 "Parameters":[{"Name":"ModelApprovalStatus","Type":"String","DefaultValue":"Approved"},{"Name":"ModelPackageGroupName","Type":"String","DefaultValue":"stsPackageGroup"}],
 "Steps":[
  {"Name":"Train","Type":"Training","Arguments":{"OutputDataConfig":{"S3OutputPath":"s3://b/model/"}}},
  {"Name":"Eval","Type":"Processing","Arguments":{"ProcessingOutputConfig":{"Outputs":[{"OutputName":"evaluation","S3Output":{"S3Uri":"s3://b/eval","LocalPath":"/opt/ml/processing/evaluation","S3UploadMode":"EndOfJob"}}]}}},
  {"Name":"Register","Type":"RegisterModel","Arguments":{
    "ModelPackageGroupName":{"Get":"Parameters.ModelPackageGroupName"},
    "ModelApprovalStatus":{"Get":"Parameters.ModelApprovalStatus"},
    "ModelMetrics":{"ModelQuality":{"Statistics":{"ContentType":"application/json","S3Uri":{"Std:Join":{"On":"/","Values":[{"Get":"Steps.Eval.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"},"evaluation.json"]}}}}},
    "InferenceSpecification":{"Containers":[{"Image":"img","ModelDataUrl":{"Get":"Steps.Train.ModelArtifacts.S3ModelArtifacts"}}],"SupportedContentTypes":["text/csv"],"SupportedResponseMIMETypes":["text/csv"]}}}
 ]}`

func TestRegisterModelStepCreatesPackage(t *testing.T) {
	ctx := context.Background()
	_, c := start(t, awsfake.Options{}, "eu-west-1")
	if _, err := c.sm.CreatePipeline(ctx, &sagemaker.CreatePipelineInput{PipelineName: aws.String("sts"), PipelineDefinition: aws.String(regDef), RoleArn: aws.String(plRole)}); err != nil {
		t.Fatal(err)
	}
	run := func(params ...smtypes.Parameter) (smtypes.PipelineExecutionStep, []string) {
		ex, err := c.sm.StartPipelineExecution(ctx, &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String("sts"), PipelineParameters: params})
		if err != nil {
			t.Fatal(err)
		}
		seen := describeUntilEnd(t, c, aws.ToString(ex.PipelineExecutionArn))
		return steps(t, c, aws.ToString(ex.PipelineExecutionArn))["Register"], seen
	}
	// The group does not exist: the step creates it.
	reg, seen := run()
	if seen[len(seen)-1] != "Succeeded" || reg.Metadata == nil || reg.Metadata.RegisterModel == nil {
		t.Fatalf("execution %v, register step %+v", seen, reg)
	}
	arn := aws.ToString(reg.Metadata.RegisterModel.Arn)
	if arn != "arn:aws:sagemaker:eu-west-1:123456789012:model-package/stspackagegroup/1" {
		t.Fatalf("package ARN %s", arn)
	}
	d, err := c.sm.DescribeModelPackage(ctx, &sagemaker.DescribeModelPackageInput{ModelPackageName: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	data := aws.ToString(d.InferenceSpecification.Containers[0].ModelDataUrl)
	if d.ModelApprovalStatus != smtypes.ModelApprovalStatusApproved || aws.ToString(d.ModelPackageGroupName) != "stsPackageGroup" ||
		!strings.HasPrefix(data, "s3://b/model/pipelines-") || !strings.HasSuffix(data, "-train/output/model.tar.gz") ||
		aws.ToString(d.ModelMetrics.ModelQuality.Statistics.S3Uri) != "s3://b/eval/evaluation.json" {
		t.Fatalf("package: %s %s %s %+v", d.ModelApprovalStatus, aws.ToString(d.ModelPackageGroupName), data, d.ModelMetrics.ModelQuality.Statistics)
	}
	// A second run registers version 2, with the approval parameter given.
	reg, _ = run(smtypes.Parameter{Name: aws.String("ModelApprovalStatus"), Value: aws.String("PendingManualApproval")})
	d, err = c.sm.DescribeModelPackage(ctx, &sagemaker.DescribeModelPackageInput{ModelPackageName: aws.String("stsPackageGroup/2")})
	if err != nil || d.ModelApprovalStatus != smtypes.ModelApprovalStatusPendingManualApproval || aws.ToString(reg.Metadata.RegisterModel.Arn) != aws.ToString(d.ModelPackageArn) {
		t.Fatalf("second registration: %v %+v", err, d)
	}
	// An approval status SageMaker does not know fails the step.
	reg, seen = run(smtypes.Parameter{Name: aws.String("ModelApprovalStatus"), Value: aws.String("Maybe")})
	if seen[len(seen)-1] != "Failed" || reg.StepStatus != smtypes.StepStatusFailed || !strings.Contains(aws.ToString(reg.FailureReason), "modelApprovalStatus") {
		t.Fatalf("bad approval: %v %+v", seen, reg)
	}
}
