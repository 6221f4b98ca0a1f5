package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"

	"github.com/bridgeops/bridge/internal/registry/mlflowapi"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// syncBuffer is a bytes.Buffer safe for a command writing while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runRegistryCLI runs a bridge command line in-process with fresh flag
// values and returns its standard output and error output.
func runRegistryCLI(ctx context.Context, t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut syncBuffer
	err = runRegistryCLIInto(ctx, &out, &errOut, args...)
	return out.String(), errOut.String(), err
}

func runRegistryCLIInto(ctx context.Context, out, errOut *syncBuffer, args ...string) error {
	// Every run builds a fresh command tree: flag values start from the
	// defaults.
	root := newRootCmd()
	root.SetOut(out)
	root.SetErr(errOut)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// registryUnderTest serves a fresh embedded registry requiring token.
func registryUnderTest(t *testing.T, token string) (*store.Store, string) {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mlflowapi.New(st, mlflowapi.Options{Token: token}))
	t.Cleanup(func() { srv.Close(); st.Close() })
	return st, srv.URL
}

func writeModelDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for p, body := range map[string]string{
		"MLmodel":          "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n",
		"model.pkl":        "\x80\x04pickle-bytes",
		"requirements.txt": "scikit-learn==1.2.1\n",
		"data/extra.json":  "{}",
	} {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestModelsCommands(t *testing.T) {
	st, url := registryUnderTest(t, "tok")
	t.Setenv("BRIDGE_REGISTRY_TOKEN", "")
	t.Setenv("MLFLOW_TRACKING_TOKEN", "tok") // the fallback token variable
	t.Setenv("BRIDGE_MLFLOW_URI", url)       // the default registry
	ctx := context.Background()
	dir := writeModelDir(t)
	noMLmodel := t.TempDir()

	tests := []struct {
		name    string
		args    []string
		wantOut string // regexp the output must match
		wantErr string // substring of the error
	}{
		{"create", []string{"models", "create", "iris", "--description", "Iris", "--tag", "team=ml"}, `^Created model iris\n$`, ""},
		{"create again", []string{"models", "create", "iris"}, "", "RESOURCE_ALREADY_EXISTS"},
		{"bad tag flag", []string{"models", "create", "x", "--tag", "novalue"}, "", "want KEY=VALUE"},
		{"add local dir", []string{"models", "add-version", "iris", dir}, `^1\n$`, ""},
		{"add URI", []string{"models", "add-version", "iris", "s3://bucket/iris/2", "--run-id", "abc"}, `^2\n$`, ""},
		{"add json", []string{"models", "add-version", "iris", "file:///models/iris", "-o", "json"}, `"version": "3"`, ""},
		{"add to missing model", []string{"models", "add-version", "nope", "s3://b/k"}, "", "bridge models create nope"},
		{"add missing path", []string{"models", "add-version", "iris", filepath.Join(dir, "absent")}, "", "no such directory"},
		{"add dir without MLmodel", []string{"models", "add-version", "iris", noMLmodel}, "", "no MLmodel file"},
		{"transition", []string{"models", "transition", "iris", "1", "production"}, `iris version 1 is now in stage Production`, ""},
		{"transition archiving", []string{"models", "transition", "iris", "2", "Production", "--archive-existing"}, `version 2 is now in stage Production`, ""},
		{"transition bad stage", []string{"models", "transition", "iris", "2", "Live"}, "", "INVALID_PARAMETER_VALUE"},
		{"transition bad version", []string{"models", "transition", "iris", "two", "Staging"}, "", "invalid model version"},
		{"alias", []string{"models", "alias", "iris", "champion", "3"}, `iris@champion → version 3`, ""},
		{"alias missing version", []string{"models", "alias", "iris", "champion", "9"}, "", "RESOURCE_DOES_NOT_EXIST"},
		{"alias needs version", []string{"models", "alias", "iris", "champion"}, "", "accepts 3 arg"},
		{"tag", []string{"models", "tag", "iris", "3", "validated", "true"}, `Tagged iris version 3: validated=true`, ""},
		{"tag to delete", []string{"models", "tag", "iris", "3", "scratch", "x"}, `Tagged`, ""},
		{"untag", []string{"models", "tag", "iris", "3", "scratch", "--delete"}, `Removed tag scratch`, ""},
		{"bad output", []string{"models", "list", "-o", "yaml"}, "", "want table or json"},
		{"list", []string{"models", "list"}, `(?m)^NAME\s+LATEST\s+STAGING\s+PRODUCTION\s+ALIASES\s+UPDATED\n^iris\s+3\s+-\s+2\s+champion=3\s+\d{4}-`, ""},
		{"show", []string{"models", "show", "iris"}, `(?ms)^Model:\s+iris\n.*^1\s+Archived\s+-\s+\S+ \S+\s+mlflow-artifacts:/iris/[0-9a-f-]{36}\s+-\n^2\s+Production.*s3://bucket/iris/2.*\n^3\s+None\s+champion\s+.*validated=true`, ""},
		{"show missing", []string{"models", "show", "nope"}, "", "RESOURCE_DOES_NOT_EXIST"},
		{"wrong registry", []string{"models", "list", "--registry", "http://127.0.0.1:1"}, "", "no registry answers at http://127.0.0.1:1: start it"},
	}
	for _, tt := range tests {
		out, _, err := runRegistryCLI(ctx, t, tt.args...)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want one containing %q (output %q)", tt.name, err, tt.wantErr, out)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !regexp.MustCompile(tt.wantOut).MatchString(out) {
			t.Errorf("%s: output\n%s\ndoes not match %q", tt.name, out, tt.wantOut)
		}
	}

	// The local directory was uploaded whole.
	v1, err := st.GetModelVersion(ctx, "iris", 1)
	if err != nil {
		t.Fatal(err)
	}
	rel := strings.TrimPrefix(v1.Source, "mlflow-artifacts:/")
	for _, p := range []string{"MLmodel", "model.pkl", "requirements.txt", "data/extra.json"} {
		want, _ := os.ReadFile(filepath.Join(dir, p))
		got, err := os.ReadFile(filepath.Join(st.ArtifactRoot(), rel, p))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("uploaded %s: %q, %v", p, got, err)
		}
	}

	// show -o json is the model and every version, for scripts.
	out, _, err := runRegistryCLI(ctx, t, "models", "show", "iris", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		RegisteredModel struct {
			Name    string `json:"name"`
			Aliases []struct{ Alias, Version string }
		} `json:"registered_model"`
		ModelVersions []struct {
			Version      string `json:"version"`
			CurrentStage string `json:"current_stage"`
			RunID        string `json:"run_id"`
		} `json:"model_versions"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("show -o json: %v\n%s", err, out)
	}
	if doc.RegisteredModel.Name != "iris" || len(doc.ModelVersions) != 3 || doc.ModelVersions[1].RunID != "abc" ||
		doc.ModelVersions[0].CurrentStage != "Archived" || len(doc.RegisteredModel.Aliases) != 1 {
		t.Fatalf("show -o json = %+v", doc)
	}
}

func TestAddVersionRemovesUploadWhenRegistrationFails(t *testing.T) {
	st, url := registryUnderTest(t, "")
	ctx := context.Background()
	if _, err := st.CreateRegisteredModel(ctx, "iris", "", nil); err != nil {
		t.Fatal(err)
	}
	// The server refuses the tag key only when the version is created,
	// after the upload.
	_, _, err := runRegistryCLI(ctx, t, "models", "add-version", "iris", writeModelDir(t), "--registry", url, "--tag", "../bad=1")
	if err == nil || !strings.Contains(err.Error(), "INVALID_PARAMETER_VALUE") {
		t.Fatalf("add-version with a bad tag: %v", err)
	}
	entries, err := os.ReadDir(filepath.Join(st.ArtifactRoot(), "iris"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("the upload of a refused version was left behind: %v", entries)
	}
	if vs, _ := st.Versions(ctx); len(vs) != 0 {
		t.Fatalf("versions after a refused registration: %+v", vs)
	}
}

func TestRegistryCommandsHaveHelpAndExamples(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Short == "" || c.Example == "" {
			t.Errorf("%q lacks a short help or examples", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root := newRootCmd()
	for _, name := range []string{"models", "registry"} {
		c, _, err := root.Find([]string{name})
		if err != nil || c.Name() != name {
			t.Fatalf("no %s command: %v", name, err)
		}
		walk(c)
	}
	out, _, err := runRegistryCLI(context.Background(), t, "models", "add-version", "--help")
	if err != nil || !strings.Contains(out, "Examples:") || !strings.Contains(out, "bridge models add-version iris ./iris-model") {
		t.Fatalf("help: %v\n%s", err, out)
	}
}
