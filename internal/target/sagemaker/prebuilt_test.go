package sagemaker_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/target"
	"github.com/bridgeops/bridge/internal/target/sagemaker"
)

// sklearnFetcher materialises an MLflow scikit-learn model directory.
type sklearnFetcher struct {
	root    string
	version string
}

func (f sklearnFetcher) Fetch(ctx context.Context, ref model.VersionRef, source string) (string, error) {
	dir := filepath.Join(f.root, ref.String())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	mlmodel := fmt.Sprintf(`flavors:
  python_function:
    loader_module: mlflow.sklearn
    model_path: model.pkl
  sklearn:
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: %s
signature:
  inputs: '[{"type": "double", "name": "x0"}, {"type": "double", "name": "x1"}]'
`, f.version)
	if err := os.WriteFile(filepath.Join(dir, "MLmodel"), []byte(mlmodel), 0o644); err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "model.pkl"), []byte("pickle"), 0o644)
}

func TestPrebuiltSklearnImage(t *testing.T) {
	for _, tc := range []struct {
		name, region, sklearn string
		wantImage, wantErr    string
	}{
		{"1.2 in us-east-1", "us-east-1", "1.2.2", "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3", ""},
		{"1.0 in eu-west-1", "eu-west-1", "1.0.2", "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.0-1-cpu-py3", ""},
		{"China", "cn-north-1", "1.2.1", "450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-scikit-learn:1.2-1-cpu-py3", ""},
		{"region without image", "ap-southeast-7", "1.2.2", "", "no prebuilt SageMaker scikit-learn image is known for region ap-southeast-7"},
		{"scikit-learn without image", "us-east-1", "1.3.0", "", "no prebuilt SageMaker scikit-learn image for scikit-learn 1.3.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{env: map[string]string{sagemaker.EnvImage: "", "AWS_REGION": tc.region}})
			h.tgt = h.openWith(sklearnFetcher{root: t.TempDir(), version: tc.sklearn})
			if err := h.tgt.Init(h.ctx); err != nil {
				t.Fatal(err)
			}
			mark := h.fake.Mark()
			ref := model.VersionRef{Model: "iris", Version: 1}
			err := h.tgt.CreateVersion(h.ctx, target.VersionSpec{Ref: ref, Source: "file:///iris"})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), sagemaker.EnvImage) {
					t.Fatalf("got %v, want an error with %q naming %s", err, tc.wantErr, sagemaker.EnvImage)
				}
				if len(h.fake.Models()) != 0 || len(h.fake.Objects(h.tgt.Bucket())) > 0 && hasArtifact(h.fake.Objects(h.tgt.Bucket())) {
					t.Fatalf("half-deployed: models %v, objects %v", h.fake.Models(), h.fake.Objects(h.tgt.Bucket()))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, ok := h.fake.ModelContainer("brdg-iris-1")
			if !ok || c["Image"] != tc.wantImage {
				t.Fatalf("container %v, want image %s", c, tc.wantImage)
			}
			env, _ := c["Environment"].(map[string]any)
			if env["SAGEMAKER_PROGRAM"] != "inference.py" || env["SAGEMAKER_SUBMIT_DIRECTORY"] != "/opt/ml/model/code" {
				t.Fatalf("environment %v", env)
			}
			data, ok := h.fake.Object(h.tgt.Bucket(), sagemaker.ArtifactKey(ref))
			if !ok {
				t.Fatal("no artifact uploaded")
			}
			files := tarFiles(t, data)
			var conf map[string]any
			if err := json.Unmarshal(files["code/bridge_model.json"], &conf); err != nil {
				t.Fatalf("code/bridge_model.json: %v (files %v)", err, keys(files))
			}
			if conf["model_file"] != "model.pkl" || conf["format"] != "cloudpickle" || fmt.Sprint(conf["columns"]) != "[x0 x1]" {
				t.Fatalf("bridge_model.json %v", conf)
			}
			if !bytes.Contains(files["code/inference.py"], []byte("def model_fn(model_dir)")) || files["MLmodel"] == nil {
				t.Fatalf("model.tar.gz holds %v", keys(files))
			}
			h.assertAllowed(mark, runPolicy, "create version with a prebuilt image")
		})
	}
}

func hasArtifact(keys []string) bool {
	for _, k := range keys {
		if strings.HasSuffix(k, "/artifact.tar.gz") {
			return true
		}
	}
	return false
}

func tarFiles(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = b
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
