package mlflow_test

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/registry/mlflow"
	"github.com/bridgeops/bridge/internal/registry/mlflowapi"
	"github.com/bridgeops/bridge/internal/registry/registrytest"
	"github.com/bridgeops/bridge/internal/registry/store"
)

func serve(t *testing.T, home, token string) (*store.Store, *httptest.Server) {
	t.Helper()
	st, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mlflowapi.New(st, mlflowapi.Options{Token: token}))
	t.Cleanup(func() { srv.Close(); st.Close() })
	return st, srv
}

// TestClientAgainstBridgeServer runs the behaviour tests with the client as
// the registry.Registry under test.
func TestClientAgainstBridgeServer(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) registrytest.Target {
		_, srv := serve(t, t.TempDir(), "tok")
		c := mlflow.NewClient(srv.URL, "tok", srv.Client())
		c.PageSize = 50 // exercise paging in Versions
		return registrytest.Target{Client: c, Registry: c, Artifacts: true}
	})
}

// TestStoreBehindBridgeServer runs the same tests with the embedded store as
// the registry.Registry under test, written to through the REST API.
func TestStoreBehindBridgeServer(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) registrytest.Target {
		st, srv := serve(t, t.TempDir(), "")
		return registrytest.Target{Client: mlflow.NewClient(srv.URL, "", srv.Client()), Registry: st, Artifacts: true}
	})
}

// TestClientAgainstExternalMLflow runs the behaviour tests against a real
// MLflow server when BRIDGE_TEST_MLFLOW_URI names one.
func TestClientAgainstExternalMLflow(t *testing.T) {
	uri := os.Getenv(registrytest.Env)
	if uri == "" {
		t.Skipf("set %s=http://host:port to run the behaviour tests against an MLflow server", registrytest.Env)
	}
	registrytest.Run(t, func(t *testing.T) registrytest.Target {
		c := mlflow.NewClient(uri, os.Getenv("MLFLOW_TRACKING_TOKEN"), nil)
		return registrytest.Target{Client: c, Registry: c, Artifacts: os.Getenv("BRIDGE_TEST_MLFLOW_ARTIFACTS") != ""}
	})
}

func TestRestartKeepsEverything(t *testing.T) {
	home := t.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mlflowapi.New(st, mlflowapi.Options{}))
	c := mlflow.NewClient(srv.URL, "", srv.Client())
	if _, err := c.CreateRegisteredModel(ctx, "iris", "d", map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if _, err := c.CreateModelVersion(ctx, mlflow.VersionSpec{Name: "iris", Source: "s3://b/k"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.TransitionStage(ctx, "iris", 4, "Production", false); err != nil {
		t.Fatal(err)
	}
	if err := c.SetAlias(ctx, "iris", "champion", 5); err != nil {
		t.Fatal(err)
	}
	if err := c.UploadArtifact(ctx, "iris/x/MLmodel", strings.NewReader("flavors: {}"), -1); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	st.Close()

	_, srv2 := serve(t, home, "")
	c = mlflow.NewClient(srv2.URL, "", srv2.Client())
	m, err := c.GetRegisteredModel(ctx, "iris")
	if err != nil {
		t.Fatal(err)
	}
	if m.Description != "d" || m.TagMap()["k"] != "v" || len(m.Aliases) != 1 || m.Aliases[0].Version != "5" {
		t.Fatalf("model after restart: %+v", m)
	}
	vs, err := c.AllModelVersions(ctx, mlflow.SearchOptions{Filter: "name='iris'"})
	if err != nil || len(vs) != 5 {
		t.Fatalf("versions after restart: %d, %v", len(vs), err)
	}
	if v, err := c.GetModelVersion(ctx, "iris", 4); err != nil || v.CurrentStage != "Production" {
		t.Fatalf("v4 after restart: %+v, %v", v, err)
	}
	if files, err := c.ListArtifacts(ctx, "iris/x"); err != nil || len(files) != 1 || files[0].Path != "MLmodel" {
		t.Fatalf("artifacts after restart: %+v, %v", files, err)
	}
}

func TestClientErrors(t *testing.T) {
	_, srv := serve(t, t.TempDir(), "right")
	ctx := context.Background()
	tests := []struct {
		name   string
		client *mlflow.Client
		check  func(error) bool
		hint   string
	}{
		{"no token", mlflow.NewClient(srv.URL, "", srv.Client()), func(err error) bool { return mlflow.ErrorCode(err) == "UNAUTHENTICATED" }, "BRIDGE_REGISTRY_TOKEN"},
		{"wrong token", mlflow.NewClient(srv.URL, "wrong", srv.Client()), func(err error) bool { return mlflow.ErrorCode(err) == "UNAUTHENTICATED" }, "MLFLOW_TRACKING_TOKEN"},
		{"basic auth in URL", mlflow.NewClient(strings.Replace(srv.URL, "http://", "http://user:right@", 1), "", srv.Client()), func(err error) bool { return mlflow.IsNotFound(err) }, "not found"},
		{"server down", mlflow.NewClient("http://127.0.0.1:1", "", nil), func(err error) bool { return err != nil && mlflow.ErrorCode(err) == "" }, "is the registry at"},
		{"not a URL", mlflow.NewClient("127.0.0.1:5000", "", nil), func(err error) bool { return err != nil && mlflow.ErrorCode(err) == "" }, "want http://HOST:PORT"},
	}
	for _, tt := range tests {
		_, err := tt.client.GetRegisteredModel(ctx, "missing")
		if !tt.check(err) {
			t.Errorf("%s: unexpected error %v", tt.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.hint) {
			t.Errorf("%s: error %q does not say %q", tt.name, err, tt.hint)
		}
	}
}

func TestArtifactPath(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"mlflow-artifacts:/a/b", "a/b", true},
		{"mlflow-artifacts://host:5000/a/b", "a/b", true},
		{"mlflow-artifacts:/a/../b", "", false},
		{"s3://bucket/a", "", false},
	}
	for _, tt := range tests {
		got, err := mlflow.ArtifactPath(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ArtifactPath(%q) = %q, %v", tt.in, got, err)
		}
	}
}
