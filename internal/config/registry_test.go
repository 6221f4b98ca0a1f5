package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestRegistrySettings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		kind    string
		groups  []string
		wantErr string
	}{
		{"default embedded", nil, RegistryEmbedded, nil, ""},
		{"MLflow URI", map[string]string{"BRIDGE_MLFLOW_URI": "http://mlflow:5000"}, RegistryMLflow, nil, ""},
		{"sagemaker, all groups", map[string]string{EnvRegistry: "sagemaker"}, RegistrySageMaker, nil, ""},
		{"sagemaker, named groups", map[string]string{EnvRegistry: "SageMaker", EnvPackageGroups: " stsPackageGroup, churn ,"}, RegistrySageMaker, []string{"stsPackageGroup", "churn"}, ""},
		{"unknown kind", map[string]string{EnvRegistry: "unity"}, "", nil, "want embedded, mlflow or sagemaker"},
		{"mlflow without URI", map[string]string{EnvRegistry: "mlflow"}, "", nil, "needs BRIDGE_MLFLOW_URI"},
		{"bad group name", map[string]string{EnvRegistry: "sagemaker", EnvPackageGroups: "sts_group"}, "", nil, "is not a model package group name"},
		{"bad slots", map[string]string{EnvRegistry: "sagemaker", EnvPackageSlots: "Production=Rejected"}, "", nil, "never served"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("BRIDGE_ENV_FILE", filepath.Join(t.TempDir(), "none.env"))
			for _, k := range []string{"BRIDGE_MLFLOW_URI", EnvRegistry, EnvPackageGroups, EnvPackageSlots} {
				t.Setenv(k, tc.env[k])
			}
			c, err := Load()
			if err != nil {
				t.Fatal(err)
			}
			rs, err := c.Registry()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rs.Kind != tc.kind || strings.Join(rs.Groups, ",") != strings.Join(tc.groups, ",") || len(rs.Slots) == 0 {
				t.Fatalf("settings %+v", rs)
			}
		})
	}
}
