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

// cacheDef has a cached Processing step whose output path contains the
// execution id (not a key attribute) and whose environment takes a
// parameter (a key attribute), and an uncached one.
const cacheDef = `{"Version":"2020-12-01","Parameters":[{"Name":"Mode","Type":"String","DefaultValue":"a"}],
"Steps":[
 {"Name":"Prep","Type":"Processing","DisplayName":"Prepare data","Description":"prepares","CacheConfig":{"Enabled":true,"ExpireAfter":"30d"},
  "Arguments":{"AppSpecification":{"ImageUri":"img"},"Environment":{"MODE":{"Get":"Parameters.Mode"}},
   "ProcessingOutputConfig":{"Outputs":[{"OutputName":"o","S3Output":{"S3Uri":{"Std:Join":{"On":"/","Values":["s3://b",{"Get":"Execution.PipelineExecutionId"}]}}}}]}}},
 {"Name":"Eval","Type":"Processing","Arguments":{"AppSpecification":{"ImageUri":"img"}}}
]}`

func TestPipelineStepCaching(t *testing.T) {
	_, c := start(t, awsfake.Options{}, "us-east-1")
	ctx := context.Background()
	if _, err := c.sm.CreatePipeline(ctx, &sagemaker.CreatePipelineInput{PipelineName: aws.String("cached"),
		PipelineDefinition: aws.String(cacheDef), RoleArn: aws.String(plRole)}); err != nil {
		t.Fatal(err)
	}
	run := func(mode string) (string, map[string]smtypes.PipelineExecutionStep) {
		in := &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String("cached")}
		if mode != "" {
			in.PipelineParameters = []smtypes.Parameter{{Name: aws.String("Mode"), Value: aws.String(mode)}}
		}
		out, err := c.sm.StartPipelineExecution(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		arn := aws.ToString(out.PipelineExecutionArn)
		if seen := describeUntilEnd(t, c, arn); seen[len(seen)-1] != "Succeeded" {
			t.Fatalf("execution %v", seen)
		}
		return arn, steps(t, c, arn)
	}
	first, s1 := run("")
	if s1["Prep"].CacheHitResult != nil || aws.ToString(s1["Prep"].StepDisplayName) != "Prepare data" || aws.ToString(s1["Prep"].StepDescription) != "prepares" {
		t.Fatalf("first Prep: %+v", s1["Prep"])
	}
	_, s2 := run("a")
	p := s2["Prep"]
	if p.CacheHitResult == nil || !strings.EqualFold(aws.ToString(p.CacheHitResult.SourcePipelineExecutionArn), first) || p.StepStatus != smtypes.StepStatusSucceeded {
		t.Fatalf("second Prep: %+v, want a cache hit from %s", p, first)
	}
	if p.Metadata == nil || p.Metadata.ProcessingJob == nil || aws.ToString(p.Metadata.ProcessingJob.Arn) != aws.ToString(s1["Prep"].Metadata.ProcessingJob.Arn) {
		t.Errorf("cache hit metadata %+v, want the first run's job", p.Metadata)
	}
	if s2["Eval"].CacheHitResult != nil {
		t.Errorf("Eval has no CacheConfig but hit the cache")
	}
	if _, s3 := run("b"); s3["Prep"].CacheHitResult != nil {
		t.Errorf("Prep with another Environment hit the cache: %+v", s3["Prep"].CacheHitResult)
	}
}
