package iampolicy

import (
	"strings"
	"testing"
)

func TestPipelinePolicy(t *testing.T) {
	doc, err := Render(Pipeline, "123456789012", "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	const role = "arn:aws:iam::123456789012:role/sts-sagemaker"
	filled, err := FillPipeline(doc, role, "stsPipeline", "sts")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse([]byte(filled))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		action, resource string
		allowed          bool
	}{
		{"sagemaker:CreatePipeline", "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/stspipeline", true},
		{"sagemaker:DescribePipelineExecution", "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/stspipeline/execution/x1", true},
		{"iam:PassRole", role, true},
		{"s3:PutObject", "arn:aws:s3:::sagemaker-eu-west-1-123456789012/sts/local/code/a/b.py", true},
		{"s3:CreateBucket", "arn:aws:s3:::sagemaker-eu-west-1-123456789012", true},
		{"sagemaker:CreatePipeline", "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/other", false},
		{"sagemaker:DeletePipeline", "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/stspipeline", false},
		{"s3:DeleteObject", "arn:aws:s3:::sagemaker-eu-west-1-123456789012/sts/x", false},
		{"s3:PutObject", "arn:aws:s3:::sagemaker-eu-west-1-123456789012/other/x", false},
		{"sagemaker:CreatePipeline", "arn:aws:sagemaker:us-east-1:123456789012:pipeline/stspipeline", false},
	} {
		if got := p.Allowed(tc.action, tc.resource); got != tc.allowed {
			t.Errorf("%s on %s: allowed %v, want %v", tc.action, tc.resource, got, tc.allowed)
		}
	}
	if strings.Contains(filled, "<") {
		t.Errorf("placeholder left:\n%s", filled)
	}
	for _, bad := range []struct{ role, name, prefix, want string }{
		{"", "p", "sts", "AWS_ROLE is not set"},
		{"role/x", "p", "sts", "want a role ARN"},
		{role, "my_pipeline", "sts", "PIPELINE_NAME"},
		{role, "p", "a b", "BASE_JOB_PREFIX"},
	} {
		if _, err := FillPipeline(doc, bad.role, bad.name, bad.prefix); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("FillPipeline(%q, %q, %q): %v, want %q", bad.role, bad.name, bad.prefix, err, bad.want)
		}
	}
}
