package mlflow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/registry/mlflow"
	"github.com/bridgeops/bridge/internal/registry/store"
)

func TestListAndShowModels(t *testing.T) {
	ctx := context.Background()
	st, srv := serve(t, t.TempDir(), "")
	c := mlflow.NewClient(srv.URL, "", srv.Client())
	for _, name := range []string{"iris", "churn"} {
		if _, err := st.CreateRegisteredModel(ctx, name, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		if _, err := st.CreateModelVersion(ctx, store.VersionSpec{Name: "iris", Source: "file:///m"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.TransitionStage(ctx, "iris", 2, "Production", false); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name   string
		run    func(w *bytes.Buffer) error
		checks func(t *testing.T, out string)
	}{
		{"list table", func(w *bytes.Buffer) error { return c.ListModels(ctx, w, "", false) }, func(t *testing.T, out string) {
			if !strings.Contains(out, "iris") || !strings.Contains(out, "churn") {
				t.Errorf("table:\n%s", out)
			}
		}},
		{"list json with a filter", func(w *bytes.Buffer) error { return c.ListModels(ctx, w, "name LIKE 'ir%'", true) }, func(t *testing.T, out string) {
			var res mlflow.SearchRegisteredModelsResponse
			if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.RegisteredModels) != 1 || res.RegisteredModels[0].Name != "iris" {
				t.Errorf("json (%v):\n%s", err, out)
			}
		}},
		{"list json of nothing", func(w *bytes.Buffer) error { return c.ListModels(ctx, w, "name = 'nope'", true) }, func(t *testing.T, out string) {
			var res mlflow.SearchRegisteredModelsResponse
			if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.RegisteredModels) != 0 {
				t.Errorf("json (%v):\n%s", err, out)
			}
		}},
		{"show table", func(w *bytes.Buffer) error { return c.ShowModel(ctx, w, "iris", false) }, func(t *testing.T, out string) {
			if !strings.Contains(out, "Production") {
				t.Errorf("detail:\n%s", out)
			}
		}},
		{"show json, oldest first", func(w *bytes.Buffer) error { return c.ShowModel(ctx, w, "iris", true) }, func(t *testing.T, out string) {
			var res struct {
				RegisteredModel mlflow.RegisteredModel `json:"registered_model"`
				ModelVersions   []mlflow.ModelVersion  `json:"model_versions"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil || res.RegisteredModel.Name != "iris" || len(res.ModelVersions) != 3 ||
				res.ModelVersions[0].Version != "1" || res.ModelVersions[1].CurrentStage != "Production" {
				t.Errorf("json (%v):\n%s", err, out)
			}
		}},
		{"show json without versions", func(w *bytes.Buffer) error { return c.ShowModel(ctx, w, "churn", true) }, func(t *testing.T, out string) {
			if !strings.Contains(out, `"model_versions": []`) {
				t.Errorf("json:\n%s", out)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var w bytes.Buffer
			if err := tt.run(&w); err != nil {
				t.Fatal(err)
			}
			tt.checks(t, w.String())
		})
	}
	if err := c.ShowModel(ctx, &bytes.Buffer{}, "nope", false); !mlflow.IsNotFound(err) {
		t.Errorf("show of a missing model: %v", err)
	}
}
