package pipeline

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompile(t *testing.T) {
	dir := t.TempDir()
	yamlDef := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(yamlDef, []byte(`
steps:
  - name: Sleep
    type: Processing
    arguments:
      AppSpecification:
        ImageUri: 141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3
        ContainerEntrypoint: [python3, /opt/ml/processing/input/code/sleep.py]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, path, wantErr string
	}{
		{"yaml", yamlDef, ""},
		{"the repository's example", filepath.Join("..", "..", "examples", "sts", "pipeline.json"), ""},
		{"missing file", filepath.Join(dir, "nope.json"), "read definition"},
		{"not a definition", filepath.Join("compile.go"), "malformed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Compile(tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Compile: %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(b, &doc); err != nil || !strings.HasSuffix(string(b), "}\n") || !strings.Contains(string(b), "\n  \"") {
				t.Fatalf("not indented JSON with a final newline (%v):\n%s", err, b)
			}
			if _, ok := doc["Steps"]; !ok {
				t.Fatalf("no Steps in %s", b)
			}
		})
	}
}
