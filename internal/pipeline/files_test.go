package pipeline

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefinitionFiles(t *testing.T) {
	dir := t.TempDir()
	example := filepath.Join("..", "..", "examples", "sts", "pipeline.json")
	tuning := filepath.Join(dir, "tune.json")
	if err := os.WriteFile(tuning, []byte(def(`[{"Name": "T", "Type": "Tuning", "Arguments": {"HyperParameterTuningJobConfig": {}}}]`, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nope.json")
	compiled := filepath.Join(dir, "out.json")
	tests := []struct {
		name    string
		run     func(w *bytes.Buffer) error
		want    []string
		wantErr string
	}{
		{"check", func(w *bytes.Buffer) error { return CheckFile(w, example) }, []string{example + ": valid (", " steps, "}, ""},
		{"check SageMaker-only", func(w *bytes.Buffer) error { return CheckFile(w, tuning) },
			[]string{": valid (1 steps, ", "not runnable locally: ", "step type Tuning is not supported by the local executor"}, ""},
		{"check missing", func(w *bytes.Buffer) error { return CheckFile(w, missing) }, nil, "nope.json"},
		{"graph mermaid", func(w *bytes.Buffer) error { return RenderFile(w, example, "mermaid") }, []string{"flowchart LR", "s0 --> s1"}, ""},
		{"graph dot", func(w *bytes.Buffer) error { return RenderFile(w, example, "dot") }, []string{"digraph"}, ""},
		{"graph bad format", func(w *bytes.Buffer) error { return RenderFile(w, example, "png") }, nil, "png"},
		{"graph missing", func(w *bytes.Buffer) error { return RenderFile(w, missing, "text") }, nil, "nope.json"},
		{"compile to w", func(w *bytes.Buffer) error { return CompileFile(w, example, "") }, []string{`"Steps"`}, ""},
		{"compile missing", func(w *bytes.Buffer) error { return CompileFile(w, missing, "") }, nil, "read definition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := tt.run(&out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}

	var none bytes.Buffer
	if err := CompileFile(&none, example, compiled); err != nil || none.Len() != 0 {
		t.Fatalf("CompileFile to a file: %v, wrote %q to w", err, none.String())
	}
	b, err := os.ReadFile(compiled)
	if err != nil || !json.Valid(b) {
		t.Fatalf("compiled file: %v\n%s", err, b)
	}
}
