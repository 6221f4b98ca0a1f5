package config

// PipelineS3Endpoint is where local pipeline runs keep s3:// objects
// (BRIDGE_PIPELINE_S3_ENDPOINT): empty for the embedded object store under
// $BRIDGE_HOME/s3, "aws" for Amazon S3 itself, or the URL of an
// S3-compatible server such as MinIO. Credentials for the last two come
// from the AWS SDK's standard chain.
func (c Config) PipelineS3Endpoint() string { return c.Get("BRIDGE_PIPELINE_S3_ENDPOINT", "") }

// Python is the interpreter BRIDGE_PYTHON names, or "" to search for one.
func (c Config) Python() string { return c.Get("BRIDGE_PYTHON", "") }
