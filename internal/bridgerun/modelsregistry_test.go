package bridgerun_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/bridgerun"
)

func TestResolveModelsRegistry(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	gone, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	goneURL := "http://" + gone.Addr().String()
	gone.Close()
	tests := []struct {
		name     string
		settings map[string]string
		flag     string
		wantURL  string
		wantErr  string
	}{
		{"--registry answers", nil, srv.URL, srv.URL, ""},
		{"BRIDGE_MLFLOW_URI answers", map[string]string{"BRIDGE_MLFLOW_URI": srv.URL}, "", srv.URL, ""},
		{"--registry wins", map[string]string{"BRIDGE_MLFLOW_URI": goneURL}, srv.URL, srv.URL, ""},
		{"model package groups: no MLflow", map[string]string{"BRIDGE_REGISTRY": "sagemaker"}, "", "", ""},
		{"nothing answers", nil, goneURL, "", "no registry answers at " + goneURL},
		{"bad URL", nil, "127.0.0.1:5000", "", "want http://host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"BRIDGE_REGISTRY", "BRIDGE_MLFLOW_URI"} {
				t.Setenv(k, "")
			}
			cfg, err := monitorConfig(t, tt.settings)
			if err != nil {
				t.Fatal(err)
			}
			u, local, err := bridgerun.ResolveModelsRegistry(context.Background(), cfg, tt.flag)
			if local != nil {
				local.Close()
				t.Fatal("opened the embedded registry")
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || u != tt.wantURL {
				t.Fatalf("= %q, %v; want %q", u, err, tt.wantURL)
			}
		})
	}
}

func TestMLflowClientToken(t *testing.T) {
	var gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		w.Write([]byte(`{"registered_model": {"name": "iris"}}`))
	}))
	defer srv.Close()
	tests := []struct {
		name     string
		settings map[string]string
		tracking string
		want     string
	}{
		{"BRIDGE_REGISTRY_TOKEN", map[string]string{"BRIDGE_REGISTRY_TOKEN": "s3cret"}, "other", "Bearer s3cret"},
		{"MLFLOW_TRACKING_TOKEN", nil, "tracked", "Bearer tracked"},
		{"none", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("BRIDGE_REGISTRY_TOKEN", "")
			t.Setenv("MLFLOW_TRACKING_TOKEN", tt.tracking)
			cfg, err := monitorConfig(t, tt.settings)
			if err != nil {
				t.Fatal(err)
			}
			gotAuth = "unset"
			if _, err := bridgerun.MLflowClient(cfg, "", srv.URL).GetRegisteredModel(context.Background(), "iris"); err != nil {
				t.Fatal(err)
			}
			if gotAuth != tt.want {
				t.Fatalf("Authorization %q, want %q", gotAuth, tt.want)
			}
		})
	}
}
