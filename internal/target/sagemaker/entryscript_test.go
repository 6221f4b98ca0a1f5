package sagemaker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/artifact"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
	"github.com/bridgeops/bridge/internal/target"
	"github.com/bridgeops/bridge/internal/target/sagemaker"
)

type fixedDir string

func (d fixedDir) Fetch(context.Context, model.VersionRef, string) (string, error) {
	return string(d), nil
}

// containerDriver calls the entry script as SageMaker's scikit-learn
// container does: model_fn on the model directory, then input_fn,
// predict_fn and output_fn per request.
const containerDriver = `import json, sys
model_dir = sys.argv[1]
sys.path.insert(0, model_dir + "/code")
import inference
model = inference.model_fn(model_dir)
out = []
for body, ctype, accept in json.loads(sys.stdin.read()):
    data = inference.input_fn(body, ctype)
    pred = inference.predict_fn(data, model)
    out.append(inference.output_fn(pred, accept))
print(json.dumps(out))
`

// TestEntryScriptServesMLflowModel trains a real scikit-learn MLflow model,
// has the target pack it for AWS's prebuilt image, unpacks model.tar.gz as
// SageMaker does into a model directory and runs the generated entry
// script on it: its answers must be scikit-learn's own.
func TestEntryScriptServesMLflowModel(t *testing.T) {
	py := pythontest.Interpreter(t)
	for _, format := range []string{"pickle", "cloudpickle"} {
		t.Run(format, func(t *testing.T) {
			m := pythontest.TrainSklearn(t, py, filepath.Join(t.TempDir(), "model"), pythontest.SklearnSpec{Seed: 3, Format: format})
			h := newHarness(t, harnessOpts{env: map[string]string{sagemaker.EnvImage: ""}})
			h.tgt = h.openWith(fixedDir(m.Dir))
			if err := h.tgt.Init(h.ctx); err != nil {
				t.Fatal(err)
			}
			ref := model.VersionRef{Model: "iris", Version: 1}
			if err := h.tgt.CreateVersion(h.ctx, target.VersionSpec{Ref: ref, Source: "file://" + m.Dir}); err != nil {
				t.Fatal(err)
			}
			data, ok := h.fake.Object(h.tgt.Bucket(), sagemaker.ArtifactKey(ref))
			if !ok {
				t.Fatal("no artifact")
			}
			optML := t.TempDir() // /opt/ml/model
			if err := artifact.ExtractTarGz(bytes.NewReader(data), optML, artifact.Limits{}); err != nil {
				t.Fatal(err)
			}
			split, _ := json.Marshal(map[string]any{"dataframe_split": map[string]any{"columns": m.Columns, "data": m.Rows}})
			instances, _ := json.Marshal(map[string]any{"instances": m.Rows})
			var csv strings.Builder
			for _, r := range m.Rows {
				for i, x := range r {
					if i > 0 {
						csv.WriteByte(',')
					}
					fmt.Fprint(&csv, x)
				}
				csv.WriteByte('\n')
			}
			reqs, _ := json.Marshal([][3]string{
				{string(split), "application/json", "application/json"},
				{string(instances), "application/json", "application/json"},
				{csv.String(), "text/csv", "text/csv"},
			})
			script := filepath.Join(t.TempDir(), "driver.py")
			os.WriteFile(script, []byte(containerDriver), 0o644)
			cmd := exec.Command(py, script, optML)
			cmd.Stdin = bytes.NewReader(reqs)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("entry script: %v\n%s", err, out)
			}
			var answers [][2]string
			if err := json.Unmarshal(out, &answers); err != nil {
				t.Fatalf("driver output %s: %v", out, err)
			}
			for i, a := range answers[:2] {
				var got struct {
					Predictions []int `json:"predictions"`
				}
				if a[1] != "application/json" || json.Unmarshal([]byte(a[0]), &got) != nil || !slices.Equal(got.Predictions, m.Predictions) {
					t.Fatalf("request %d: %q, want predictions %v", i, a, m.Predictions)
				}
			}
			var lines []string
			for _, p := range m.Predictions {
				lines = append(lines, fmt.Sprint(p))
			}
			if answers[2][1] != "text/csv" || strings.TrimSpace(answers[2][0]) != strings.Join(lines, "\n") {
				t.Fatalf("CSV answer %q", answers[2])
			}
		})
	}
}
