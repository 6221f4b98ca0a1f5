package iampolicy

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/config"
)

func TestForConfig(t *testing.T) {
	for _, tt := range []struct {
		name, command, account, region string
		env                            map[string]string
		want, notWant                  []string
		wantErr                        string
	}{
		{name: "run", command: Run, account: "123456789012", region: "eu-west-1",
			want: []string{"sagemaker:CreateEndpoint", "arn:aws:iam::123456789012:role/bridge-sagemaker-execution"}, notWant: []string{"model-package-group"}},
		{name: "run with model package groups", command: Run, account: "123456789012", region: "eu-west-1",
			env:  map[string]string{"BRIDGE_REGISTRY": "sagemaker", "BRIDGE_SAGEMAKER_MODEL_PACKAGE_GROUPS": "churn"},
			want: []string{"arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/churn"}},
		{name: "init ignores the groups", command: Init, account: "123456789012", region: "eu-west-1",
			env: map[string]string{"BRIDGE_REGISTRY": "sagemaker", "BRIDGE_SAGEMAKER_MODEL_PACKAGE_GROUPS": "churn"}, notWant: []string{"model-package-group"}},
		{name: "pipeline names the role and the pipeline", command: Pipeline, account: "123456789012", region: "eu-west-1",
			env:  map[string]string{"AWS_ROLE": "arn:aws:iam::123456789012:role/sts-pipeline", "PIPELINE_NAME": "stsPipeline"},
			want: []string{"arn:aws:iam::123456789012:role/sts-pipeline", "pipeline/stspipeline"}},
		{name: "unknown command", command: "deploy", account: "123456789012", region: "eu-west-1", wantErr: "deploy"},
		{name: "no region", command: Run, account: "123456789012",
			env: map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": "/nonexistent"}, wantErr: "no AWS region"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("BRIDGE_ENV_FILE", filepath.Join(t.TempDir(), "none.env"))
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := config.Load()
			if err != nil {
				t.Fatal(err)
			}
			doc, err := ForConfig(context.Background(), c, tt.command, tt.account, tt.region)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ForConfig: %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Parse([]byte(doc)); err != nil {
				t.Fatalf("not a policy: %v\n%s", err, doc)
			}
			for _, w := range tt.want {
				if !strings.Contains(strings.ToLower(doc), strings.ToLower(w)) {
					t.Errorf("policy lacks %q:\n%s", w, doc)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(doc, w) {
					t.Errorf("policy has %q:\n%s", w, doc)
				}
			}
		})
	}
}
