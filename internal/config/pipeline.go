package config

import (
	"fmt"
	"strconv"
	"time"
)

// SageMakerPipeline is the configuration of `bridge pipeline run --on
// sagemaker`. Variable names and defaults are those of the seed pipeline
// (stsmodelmonitor): AWS_ROLE, AWS_DEFAULT_REGION, PIPELINE_NAME,
// MODEL_PACKAGE_GROUP_NAME, BASE_JOB_PREFIX and AWS_PROFILE, read from the
// environment, then the .env file.
type SageMakerPipeline struct {
	Role              string        // AWS_ROLE: pipeline execution role, also assumed (with session tags) to make the calls
	Region            string        // AWS_DEFAULT_REGION (then AWS_REGION), default eu-west-1
	PipelineName      string        // PIPELINE_NAME, default stsPipeline
	ModelPackageGroup string        // MODEL_PACKAGE_GROUP_NAME, default stsPackageGroup
	BaseJobPrefix     string        // BASE_JOB_PREFIX, default sts
	Profile           string        // AWS_PROFILE: named profile of the shared AWS config files
	PollInterval      time.Duration // BRIDGE_PIPELINE_POLL_INTERVAL_S, default 10s
	StopTimeout       time.Duration // BRIDGE_PIPELINE_STOP_TIMEOUT_S: how long Ctrl-C waits for Stopped, default 5m
}

// Pipeline defaults of the seed.
const (
	DefaultPipelineRegion    = "eu-west-1"
	DefaultPipelineName      = "stsPipeline"
	DefaultModelPackageGroup = "stsPackageGroup"
	DefaultBaseJobPrefix     = "sts"
)

// SageMakerPipeline reads the SageMaker pipeline settings.
func (c Config) SageMakerPipeline() (SageMakerPipeline, error) {
	s := SageMakerPipeline{
		Role:              c.Get("AWS_ROLE", ""),
		Region:            c.Get("AWS_DEFAULT_REGION", c.Get("AWS_REGION", DefaultPipelineRegion)),
		PipelineName:      c.Get("PIPELINE_NAME", DefaultPipelineName),
		ModelPackageGroup: c.Get("MODEL_PACKAGE_GROUP_NAME", DefaultModelPackageGroup),
		BaseJobPrefix:     c.Get("BASE_JOB_PREFIX", DefaultBaseJobPrefix),
		Profile:           c.Get("AWS_PROFILE", ""),
	}
	for _, d := range []struct {
		key  string
		def  string
		into *time.Duration
	}{
		{"BRIDGE_PIPELINE_POLL_INTERVAL_S", "10", &s.PollInterval},
		{"BRIDGE_PIPELINE_STOP_TIMEOUT_S", "300", &s.StopTimeout},
	} {
		v := c.Get(d.key, d.def)
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs <= 0 {
			return SageMakerPipeline{}, fmt.Errorf("%s=%q: want a positive number of seconds", d.key, v)
		}
		*d.into = time.Duration(secs * float64(time.Second))
	}
	for _, v := range []struct{ key, val string }{
		{"PIPELINE_NAME", s.PipelineName},
		{"MODEL_PACKAGE_GROUP_NAME", s.ModelPackageGroup},
		{"BASE_JOB_PREFIX", s.BaseJobPrefix},
		{"AWS_DEFAULT_REGION", s.Region},
	} {
		if v.val == "" {
			return SageMakerPipeline{}, fmt.Errorf("%s is set but empty", v.key)
		}
	}
	return s, nil
}

// PipelineS3Endpoint is where local pipeline runs keep s3:// objects
// (BRIDGE_PIPELINE_S3_ENDPOINT): empty for the embedded object store under
// $BRIDGE_HOME/s3, "aws" for Amazon S3 itself, or the URL of an
// S3-compatible server such as MinIO. Credentials for the last two come
// from the AWS SDK's standard chain.
func (c Config) PipelineS3Endpoint() string { return c.Get("BRIDGE_PIPELINE_S3_ENDPOINT", "") }
