package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSageMakerPipelineSettings(t *testing.T) {
	for _, k := range []string{"AWS_ROLE", "AWS_DEFAULT_REGION", "AWS_REGION", "PIPELINE_NAME", "MODEL_PACKAGE_GROUP_NAME",
		"BASE_JOB_PREFIX", "AWS_PROFILE", "BRIDGE_PIPELINE_POLL_INTERVAL_S", "BRIDGE_PIPELINE_STOP_TIMEOUT_S"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	dir := t.TempDir()
	env := filepath.Join(dir, ".env")
	if err := os.WriteFile(env, []byte("AWS_DEFAULT_REGION=eu-central-1\nAWS_PROFILE=mlops\nAWS_ROLE=arn:aws:iam::123456789012:role/r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BRIDGE_ENV_FILE", env)
	for _, tc := range []struct {
		name string
		env  map[string]string
		want SageMakerPipeline
		err  string
	}{
		{name: "seed defaults and .env", want: SageMakerPipeline{Role: "arn:aws:iam::123456789012:role/r", Region: "eu-central-1",
			PipelineName: "stsPipeline", ModelPackageGroup: "stsPackageGroup", BaseJobPrefix: "sts", Profile: "mlops",
			PollInterval: 10 * time.Second, StopTimeout: 5 * time.Minute}},
		{name: "environment over .env", env: map[string]string{"AWS_DEFAULT_REGION": "us-west-2", "PIPELINE_NAME": "p", "MODEL_PACKAGE_GROUP_NAME": "g",
			"BASE_JOB_PREFIX": "x", "BRIDGE_PIPELINE_POLL_INTERVAL_S": "0.5"},
			want: SageMakerPipeline{Role: "arn:aws:iam::123456789012:role/r", Region: "us-west-2", PipelineName: "p", ModelPackageGroup: "g",
				BaseJobPrefix: "x", Profile: "mlops", PollInterval: 500 * time.Millisecond, StopTimeout: 5 * time.Minute}},
		{name: "bad poll interval", env: map[string]string{"BRIDGE_PIPELINE_POLL_INTERVAL_S": "soon"}, err: `BRIDGE_PIPELINE_POLL_INTERVAL_S="soon"`},
		{name: "empty pipeline name", env: map[string]string{"PIPELINE_NAME": ""}, err: "PIPELINE_NAME is set but empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			c, err := Load()
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.SageMakerPipeline()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v %v\nwant %+v", got, err, tc.want)
			}
		})
	}
}
