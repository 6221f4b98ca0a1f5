package iampolicy

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"
)

// Pipeline names the policy of `bridge pipeline run --on sagemaker`.
const Pipeline = "pipeline"

// Placeholders of the pipeline policy besides account and region: the
// execution role (as the seed spells it), the pipeline name and the
// BASE_JOB_PREFIX the local files are uploaded under.
const (
	RolePlaceholder          = "<SAGEMAKER_EXECUTION_ROLE_ARN>"
	PipelineNamePlaceholder  = "<PIPELINE_NAME>"
	BaseJobPrefixPlaceholder = "<BASE_JOB_PREFIX>"
)

//go:embed policies/pipeline.json
var pipelineDoc string

var (
	roleARNRE      = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$`)
	pipelineNameRE = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$`)
	prefixRE       = regexp.MustCompile(`^[A-Za-z0-9!_.*'()/-]+$`)
)

// FillPipeline fills the pipeline policy's role, pipeline name and prefix
// into a rendered document (see Render). SageMaker lower-cases names in its
// ARNs, so the pipeline's ARN is written in lower case.
func FillPipeline(doc, role, pipeline, prefix string) (string, error) {
	if role == "" {
		return "", fmt.Errorf("AWS_ROLE is not set: the pipeline policy lets the caller pass the execution role to SageMaker (iam:PassRole), so it names that role")
	}
	if !roleARNRE.MatchString(role) {
		return "", fmt.Errorf("AWS_ROLE=%q: want a role ARN such as arn:aws:iam::123456789012:role/sagemaker-execution", role)
	}
	if !pipelineNameRE.MatchString(pipeline) {
		return "", fmt.Errorf("PIPELINE_NAME=%q: want letters, digits and hyphens, starting with a letter or digit", pipeline)
	}
	prefix = strings.Trim(prefix, "/")
	if !prefixRE.MatchString(prefix) {
		return "", fmt.Errorf("BASE_JOB_PREFIX=%q: want an S3 key prefix of letters, digits and -_.!*'()/", prefix)
	}
	doc = strings.ReplaceAll(doc, RolePlaceholder, role)
	doc = strings.ReplaceAll(doc, PipelineNamePlaceholder, strings.ToLower(pipeline))
	return strings.ReplaceAll(doc, BaseJobPrefixPlaceholder, prefix), nil
}
