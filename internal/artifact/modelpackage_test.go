package artifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bridgeops/bridge/internal/awsfake"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/serving"
)

type fakePackages map[string]Package

func (p fakePackages) ResolvePackage(ctx context.Context, arn string) (Package, error) {
	return p[arn], nil
}

func tgz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func TestFetchModelPackage(t *testing.T) {
	fake := awsfake.New(awsfake.Options{})
	t.Cleanup(fake.Close)
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(fake.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(awsfake.DefaultAccessKey, awsfake.DefaultSecretKey, "")})
	var gzipOnly bytes.Buffer
	gz := gzip.NewWriter(&gzipOnly)
	gz.Write([]byte("not a tar archive at all, just text that is long enough to be read as a header block......"))
	gz.Close()
	objects := map[string][]byte{
		"joblib.tar.gz": tgz(t, map[string]string{"model.joblib": "x"}),
		"script.tar.gz": tgz(t, map[string]string{"model.joblib": "x", "code/serve.py": "def model_fn(model_dir):\n    pass\n"}),
		"plain.bin":     []byte("model weights, not compressed"),
		"notar.tar.gz":  gzipOnly.Bytes(),
		"empty.tar.gz":  tgz(t, map[string]string{"README": "nothing to serve"}),
		"mlflow.tar.gz": tgz(t, map[string]string{"MLmodel": "flavors:\n  sklearn:\n    pickled_model: model.pkl\n", "model.pkl": "x"}),
	}
	for k, v := range objects {
		fake.PlantObject("us-east-1", "models", k, v)
	}
	pkg := func(key string, env map[string]string) Package {
		return Package{ModelDataURL: "s3://models/" + key, Environment: env, ContentTypes: []string{"text/csv"}}
	}
	for i, tc := range []struct {
		name    string
		pkg     Package
		flavor  string
		want    map[string]any
		wantErr string
	}{
		{"model.joblib", pkg("joblib.tar.gz", nil), FlavorSageMakerSklearn, map[string]any{"model_file": "model.joblib"}, ""},
		{"entry script", pkg("script.tar.gz", map[string]string{"SAGEMAKER_PROGRAM": "serve.py", "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"}), FlavorSageMakerSklearn,
			map[string]any{"entry_point": "code/serve.py", "default_accept": "text/csv"}, ""},
		{"found entry script", pkg("script.tar.gz", nil), FlavorSageMakerSklearn, map[string]any{"entry_point": "code/serve.py"}, ""},
		{"MLflow model inside", pkg("mlflow.tar.gz", nil), "sklearn", nil, ""},
		{"missing artifact", pkg("gone.tar.gz", nil), "", nil, "s3://models/gone.tar.gz: no such object"},
		{"not gzip", pkg("plain.bin", nil), "", nil, "is not a gzip-compressed tar"},
		{"gzip but not tar", pkg("notar.tar.gz", nil), "", nil, "is not a valid model.tar.gz"},
		{"no layout", pkg("empty.tar.gz", nil), "", nil, "neither an MLflow model nor a SageMaker scikit-learn layout"},
		{"SAGEMAKER_PROGRAM missing", pkg("joblib.tar.gz", map[string]string{"SAGEMAKER_PROGRAM": "inference.py"}), "", nil, "SAGEMAKER_PROGRAM=inference.py"},
		{"no model data", Package{}, "", nil, "has no ModelDataUrl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			arn := "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/" + string(rune('1'+i))
			cache := t.TempDir()
			f := New(Options{CacheDir: cache, S3: S3Options{Client: client}, Packages: fakePackages{arn: tc.pkg}})
			dir, err := f.Fetch(context.Background(), model.VersionRef{Model: "g", Version: i + 1}, arn)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tc.wantErr)
				}
				if ents, _ := os.ReadDir(filepath.Join(cache, entryName("g"))); len(ents) > 0 {
					t.Fatalf("cache entry left after a failed fetch: %v", ents)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			mm, err := serving.ReadMLmodel(dir)
			if err != nil {
				t.Fatal(err)
			}
			fl, ok := mm.Flavors[tc.flavor]
			if !ok {
				t.Fatalf("flavors %v, want %s", mm.Flavors, tc.flavor)
			}
			for k, v := range tc.want {
				if fl[k] != v {
					t.Fatalf("flavor %v: %s = %v, want %v", fl, k, fl[k], v)
				}
			}
		})
	}

	// Without a resolver (an MLflow registry), a package ARN is refused.
	f := New(Options{CacheDir: t.TempDir()})
	if _, err := f.Fetch(context.Background(), model.VersionRef{Model: "g", Version: 1}, "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1"); err == nil || !strings.Contains(err.Error(), "BRIDGE_REGISTRY=sagemaker") {
		t.Fatalf("package without resolver: %v", err)
	}
}
