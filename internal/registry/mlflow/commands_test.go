package mlflow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/registry/mlflow"
)

func TestModelCommands(t *testing.T) {
	ctx := context.Background()
	_, srv := serve(t, t.TempDir(), "")
	c := mlflow.NewClient(srv.URL, "", srv.Client())
	modelDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(modelDir, "MLmodel"), []byte("flavors: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		run     func(w *bytes.Buffer) error
		wantOut string // text output, or a field of the JSON output
		wantErr string
	}{
		{"create", func(w *bytes.Buffer) error {
			return c.CreateModel(ctx, w, "iris", "Iris", map[string]string{"team": "ml"}, false)
		}, "Created model iris\n", ""},
		{"create again", func(w *bytes.Buffer) error { return c.CreateModel(ctx, w, "iris", "", nil, false) }, "",
			"(add versions with: bridge models add-version iris PATH_OR_URI)"},
		{"create json", func(w *bytes.Buffer) error { return c.CreateModel(ctx, w, "churn", "", nil, true) }, `"name": "churn"`, ""},
		{"add a directory", func(w *bytes.Buffer) error {
			return c.AddModelVersion(ctx, w, modelDir, mlflow.VersionSpec{Name: "iris"}, false)
		}, "1\n", ""},
		{"add a URI, json", func(w *bytes.Buffer) error {
			return c.AddModelVersion(ctx, w, "s3://bucket/iris/2", mlflow.VersionSpec{Name: "iris", Tags: map[string]string{"owner": "ana"}}, true)
		}, `"version": "2"`, ""},
		{"add to a missing model", func(w *bytes.Buffer) error {
			return c.AddModelVersion(ctx, w, "s3://bucket/x", mlflow.VersionSpec{Name: "nope"}, false)
		}, "", "RESOURCE_DOES_NOT_EXIST"},
		{"transition", func(w *bytes.Buffer) error { return c.Transition(ctx, w, "iris", 1, "production", false, false) },
			"iris version 1 is now in stage Production\n", ""},
		{"transition json", func(w *bytes.Buffer) error { return c.Transition(ctx, w, "iris", 2, "Staging", false, true) },
			`"current_stage": "Staging"`, ""},
		{"alias", func(w *bytes.Buffer) error { return c.PointAlias(ctx, w, "iris", "champion", 1) }, "iris@champion → version 1\n", ""},
		{"alias a missing version", func(w *bytes.Buffer) error { return c.PointAlias(ctx, w, "iris", "champion", 9) }, "", "RESOURCE_DOES_NOT_EXIST"},
		{"remove the alias", func(w *bytes.Buffer) error { return c.RemoveAlias(ctx, w, "iris", "champion") }, "Removed alias champion of iris\n", ""},
		{"tag", func(w *bytes.Buffer) error { return c.TagVersion(ctx, w, "iris", 1, "validated", "true") }, "Tagged iris version 1: validated=true\n", ""},
		{"remove the tag", func(w *bytes.Buffer) error { return c.UntagVersion(ctx, w, "iris", 1, "validated") }, "Removed tag validated from iris version 1\n", ""},
		{"tag a missing model", func(w *bytes.Buffer) error { return c.TagVersion(ctx, w, "nope", 1, "k", "v") }, "", "RESOURCE_DOES_NOT_EXIST"},
		{"transition to a bad stage", func(w *bytes.Buffer) error { return c.Transition(ctx, w, "iris", 1, "Live", false, false) }, "", "Live"},
	}
	for _, s := range steps {
		var out bytes.Buffer
		err := s.run(&out)
		if s.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), s.wantErr) || out.Len() != 0 {
				t.Fatalf("%s: err %v, out %q; want error %q", s.name, err, out.String(), s.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if strings.HasPrefix(strings.TrimSpace(out.String()), "{") {
			if !json.Valid(out.Bytes()) {
				t.Fatalf("%s: invalid JSON:\n%s", s.name, out.String())
			}
			if !strings.Contains(out.String(), s.wantOut) {
				t.Fatalf("%s: JSON lacks %s:\n%s", s.name, s.wantOut, out.String())
			}
			continue
		}
		if out.String() != s.wantOut {
			t.Fatalf("%s: out %q, want %q", s.name, out.String(), s.wantOut)
		}
	}
}
