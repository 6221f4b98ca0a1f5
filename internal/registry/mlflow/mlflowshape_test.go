package mlflow_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bridgeops/bridge/internal/registry/mlflow"
)

// mlflowTracking answers runs/get and model-versions/get the way an MLflow
// tracking server does (Bridge's own server serves no runs), including
// int64 fields written as strings by protobuf's JSON mapping.
func mlflowTracking(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/2.0/mlflow/runs/get", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Query().Get("run_id") {
		case "abc123":
			w.Write([]byte(`{"run": {"info": {"run_id": "abc123", "run_uuid": "abc123", "experiment_id": "4", "run_name": "train",
				"status": "FINISHED", "start_time": 1700000000000, "artifact_uri": "mlflow-artifacts:/4/abc123/artifacts",
				"lifecycle_stage": "active"}, "data": {"metrics": [{"key": "rmse", "value": 0.5}]}, "inputs": {}}}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run 'nope' not found"}`))
		}
	})
	mux.HandleFunc("GET /api/2.0/mlflow/model-versions/get", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"model_version": {"name": "iris", "version": "7", "creation_timestamp": "1700000000123",
			"last_updated_timestamp": 1700000000456, "current_stage": "Production", "source": "runs:/abc123/model",
			"run_id": "abc123", "status": "READY", "tags": [{"key": "k", "value": "v"}], "aliases": ["champion"]}}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestClientAgainstMLflowShapedAnswers(t *testing.T) {
	srv := mlflowTracking(t)
	c := mlflow.NewClient(srv.URL+"/", "tok", srv.Client())
	ctx := context.Background()

	run, err := c.GetRun(ctx, "abc123")
	if err != nil {
		t.Fatal(err)
	}
	if run.Info.ArtifactURI != "mlflow-artifacts:/4/abc123/artifacts" || run.Info.ExperimentID != "4" || run.Info.Status != "FINISHED" {
		t.Fatalf("run %+v", run)
	}
	if _, err := c.GetRun(ctx, "nope"); !mlflow.IsNotFound(err) {
		t.Fatalf("missing run: %v", err)
	}
	if _, err := mlflow.NewClient(srv.URL, "wrong", srv.Client()).GetRun(ctx, "abc123"); err == nil {
		t.Fatal("wrong token accepted")
	}

	v, err := c.GetModelVersion(ctx, "iris", 7)
	if err != nil {
		t.Fatal(err)
	}
	if v.CreationTimestamp != 1700000000123 || v.LastUpdatedTimestamp != 1700000000456 {
		t.Fatalf("timestamps %d %d", v.CreationTimestamp, v.LastUpdatedTimestamp)
	}
	mv, err := v.Model()
	if err != nil {
		t.Fatal(err)
	}
	if mv.Version != 7 || mv.Stage != "Production" || mv.Tags["k"] != "v" || mv.Aliases[0] != "champion" || mv.Created.UnixMilli() != 1700000000123 {
		t.Fatalf("domain version %+v", mv)
	}
}
