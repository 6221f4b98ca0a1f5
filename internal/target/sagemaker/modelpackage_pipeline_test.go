package sagemaker_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/model"
	regsm "github.com/bridgeops/bridge/internal/registry/sagemaker"
	"github.com/bridgeops/bridge/internal/target/sagemaker"
)

// registerPipeline trains and registers as the seed's pipeline does: the
// RegisterModel step takes the group and approval status from parameters
// and the model data from the training step's artifacts.
const registerPipeline = `{"Version":"2020-12-01",
 "Parameters":[{"Name":"ModelApprovalStatus","Type":"String","DefaultValue":"PendingManualApproval"},{"Name":"ModelPackageGroupName","Type":"String","DefaultValue":"churn"}],
 "Steps":[
  {"Name":"Train","Type":"Training","Arguments":{"AlgorithmSpecification":{"TrainingImage":"` + pkgImage + `","TrainingInputMode":"File"},
    "OutputDataConfig":{"S3OutputPath":"s3://` + pkgBucket + `/sts/model"},"StoppingCondition":{"MaxRuntimeInSeconds":3600}}},
  {"Name":"Register","Type":"RegisterModel","Arguments":{
    "ModelPackageGroupName":{"Get":"Parameters.ModelPackageGroupName"},
    "ModelApprovalStatus":{"Get":"Parameters.ModelApprovalStatus"},
    "InferenceSpecification":{"Containers":[{"Image":"` + pkgImage + `","ModelDataUrl":{"Get":"Steps.Train.ModelArtifacts.S3ModelArtifacts"}}],
      "SupportedContentTypes":["text/csv"],"SupportedResponseMIMETypes":["text/csv"]}}}
 ]}`

// TestPipelineRegisteredPackageDeploys registers a package with a
// pipeline's RegisterModel step on the fake, approves it and sees
// brdg-churn-production created from it, with data capture.
func TestPipelineRegisteredPackageDeploys(t *testing.T) {
	h := newPackageHarness(t, map[string]string{sagemaker.EnvDataCapture: "100"})
	if _, err := h.admin.CreatePipeline(h.ctx, &sm.CreatePipelineInput{PipelineName: aws.String("sts"),
		PipelineDefinition: aws.String(registerPipeline), RoleArn: aws.String("arn:aws:iam::123456789012:role/pipelines")}); err != nil {
		t.Fatal(err)
	}
	ex, err := h.admin.StartPipelineExecution(h.ctx, &sm.StartPipelineExecutionInput{PipelineName: aws.String("sts")})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := h.admin.DescribePipelineExecution(h.ctx, &sm.DescribePipelineExecutionInput{PipelineExecutionArn: ex.PipelineExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if d.PipelineExecutionStatus == smtypes.PipelineExecutionStatusSucceeded {
			break
		}
		if d.PipelineExecutionStatus == smtypes.PipelineExecutionStatusFailed || time.Now().After(deadline) {
			t.Fatalf("execution %s: %s", d.PipelineExecutionStatus, aws.ToString(d.FailureReason))
		}
	}
	steps, err := h.admin.ListPipelineExecutionSteps(h.ctx, &sm.ListPipelineExecutionStepsInput{PipelineExecutionArn: ex.PipelineExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	var arn string
	for _, s := range steps.PipelineExecutionSteps {
		if aws.ToString(s.StepName) == "Register" && s.Metadata != nil && s.Metadata.RegisterModel != nil {
			arn = aws.ToString(s.Metadata.RegisterModel.Arn)
		}
	}
	pkgs, err := h.reg.Packages(h.ctx, pkgGroup)
	if err != nil || len(pkgs) != 1 || pkgs[0].ARN != arn || pkgs[0].Approval != regsm.Pending {
		t.Fatalf("packages after the pipeline: %v %+v, step ARN %q", err, pkgs, arn)
	}
	d, err := h.admin.DescribeModelPackage(h.ctx, &sm.DescribeModelPackageInput{ModelPackageName: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	data := aws.ToString(d.InferenceSpecification.Containers[0].ModelDataUrl)
	if want := "s3://" + pkgBucket + "/sts/model/"; len(data) <= len(want) || data[:len(want)] != want || data[len(data)-len("/output/model.tar.gz"):] != "/output/model.tar.gz" {
		t.Fatalf("ModelDataUrl %q, want the training job's artifacts", data)
	}
	// The training job wrote its artifacts there.
	key := data[len("s3://"+pkgBucket+"/"):]
	h.fake.PlantObject(awsfake.DefaultRegion, pkgBucket, key, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0})

	mark := h.fake.Mark()
	h.setApproval(1, regsm.Approved)
	a := h.converge(10 * time.Second)
	if got, want := endpointNames(a), []string{"churn/Latest", "churn/Production"}; !slices.Equal(got, want) {
		t.Fatalf("endpoints %v, want %v", got, want)
	}
	if c, _ := h.fake.ModelContainer("brdg-churn-1"); c["ModelPackageName"] != arn {
		t.Fatalf("brdg-churn-1 not created from the package: %v", c)
	}
	meta, _, _ := h.fake.PackageMetadata(arn)
	if meta[model.TagDeployState] != model.StateDeployed {
		t.Fatalf("metadata %v", meta)
	}
	ep, err := h.admin.DescribeEndpoint(h.ctx, &sm.DescribeEndpointInput{EndpointName: aws.String("brdg-churn-production")})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := h.admin.DescribeEndpointConfig(h.ctx, &sm.DescribeEndpointConfigInput{EndpointConfigName: ep.EndpointConfigName})
	if err != nil {
		t.Fatal(err)
	}
	if dc := cfg.DataCaptureConfig; dc == nil || !aws.ToBool(dc.EnableCapture) || aws.ToInt32(dc.InitialSamplingPercentage) != 100 {
		t.Fatalf("production endpoint config captures %+v", dc)
	}
	h.assertPolicy(mark)
}
