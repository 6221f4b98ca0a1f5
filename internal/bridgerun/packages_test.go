package bridgerun_test

import (
	"context"
	"testing"

	"github.com/bridgeops/bridge/internal/bridgerun"
)

// TestSelectedPackageRegistry covers the MLflow side and bad settings;
// the SageMaker side runs through bridge models list/approve against the
// SageMaker fake in cmd/bridge.
func TestSelectedPackageRegistry(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]string
		wantErr  bool
	}{
		{"default is MLflow", map[string]string{}, false},
		{"mlflow server", map[string]string{"BRIDGE_REGISTRY": "mlflow", "BRIDGE_MLFLOW_URI": "http://127.0.0.1:5000"}, false},
		{"mlflow without a server", map[string]string{"BRIDGE_REGISTRY": "mlflow"}, true},
		{"misspelt", map[string]string{"BRIDGE_REGISTRY": "sagemkaer"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("BRIDGE_REGISTRY", "")
			cfg, err := monitorConfig(t, tt.settings)
			if err != nil {
				if tt.wantErr {
					return // refused when loading: as good
				}
				t.Fatal(err)
			}
			r, slots, ok, err := bridgerun.SelectedPackageRegistry(context.Background(), cfg)
			if ok || r != nil || slots != nil || (err != nil) != tt.wantErr {
				t.Fatalf("= %v, %v, %v, %v; want not selected, error %v", r, slots, ok, err, tt.wantErr)
			}
		})
	}
}
