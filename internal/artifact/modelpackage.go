package artifact

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Package is what the fetcher needs of a SageMaker model package: the model
// data of its first inference container and how to call it.
type Package struct {
	ARN          string
	ModelDataURL string            // InferenceSpecification.Containers[0].ModelDataUrl
	Environment  map[string]string // the container's Environment (SAGEMAKER_PROGRAM, ...)
	ContentTypes []string          // SupportedContentTypes
}

// PackageResolver describes model packages (the SageMaker registry).
type PackageResolver interface {
	ResolvePackage(ctx context.Context, arn string) (Package, error)
}

// FlavorSageMakerSklearn is the MLmodel flavor Bridge writes for a model
// package's SageMaker scikit-learn layout; the Python runtime serves it as
// SageMaker's scikit-learn container would.
const FlavorSageMakerSklearn = "sagemaker_sklearn"

// IsModelPackageARN reports whether source names a SageMaker model package
// version (arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION).
func IsModelPackageARN(source string) bool {
	return strings.HasPrefix(source, "arn:aws") && strings.Contains(source, ":sagemaker:") && strings.Contains(source, ":model-package/")
}

// fromModelPackage materialises a model package's model.tar.gz, unpacked,
// with an MLmodel file that describes its layout (unless it is an MLflow
// model already).
func (f *Fetcher) fromModelPackage(ctx context.Context, arn, dst string, b *budget, depth int) error {
	if f.opts.Packages == nil {
		return fmt.Errorf("%s is a SageMaker model package: set BRIDGE_REGISTRY=sagemaker to deploy model packages", arn)
	}
	pkg, err := f.opts.Packages.ResolvePackage(ctx, arn)
	if err != nil {
		return err
	}
	if pkg.ModelDataURL == "" {
		return fmt.Errorf("model package %s has no ModelDataUrl in its inference specification: register it with the S3 URI of a model.tar.gz", arn)
	}
	raw := dst + ".data"
	defer os.RemoveAll(raw)
	if err := f.materialize(ctx, pkg.ModelDataURL, raw, b, depth+1); err != nil {
		return fmt.Errorf("model data of %s: %w", arn, err)
	}
	ents, err := os.ReadDir(raw)
	if err != nil {
		return err
	}
	if len(ents) != 1 || !ents[0].Type().IsRegular() {
		return fmt.Errorf("model data of %s at %s is not one object: SageMaker wants the S3 URI of a single gzip-compressed tar (model.tar.gz)", arn, pkg.ModelDataURL)
	}
	archive := filepath.Join(raw, ents[0].Name())
	if !isGzip(archive) {
		return fmt.Errorf("model data of %s at %s is not a gzip-compressed tar (model.tar.gz)", arn, pkg.ModelDataURL)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	if err := extractFile(archive, dst, f.opts.Limits); err != nil {
		return fmt.Errorf("model data of %s at %s is not a valid model.tar.gz: %w", arn, pkg.ModelDataURL, err)
	}
	if _, err := findModelRoot(dst); err == nil {
		return nil // an MLflow model inside: served as such
	}
	flavor, err := SageMakerLayout(dst, pkg.Environment)
	if err != nil {
		return fmt.Errorf("model data of %s: %w", arn, err)
	}
	if len(pkg.ContentTypes) > 0 {
		flavor["content_types"] = pkg.ContentTypes
	}
	return writeMLmodel(dst, map[string]any{"flavors": map[string]any{FlavorSageMakerSklearn: flavor}})
}

func isGzip(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [2]byte
	n, _ := f.Read(magic[:])
	return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b
}

// modelFiles are the model files SageMaker scikit-learn layouts use, in
// order of preference.
var modelFiles = []string{"model.joblib", "model.pkl", "model.pickle"}

// SageMakerLayout recognises an unpacked SageMaker scikit-learn model
// directory and returns its MLmodel flavor: entry_point, the script
// SAGEMAKER_PROGRAM names (in code/ or at the top) or else code/inference.py
// or a top-level script that defines model_fn; model_file, the first of
// model.joblib, model.pkl, model.pickle; default_accept from
// SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT.
func SageMakerLayout(dir string, env map[string]string) (map[string]any, error) {
	flavor := map[string]any{}
	if prog := env["SAGEMAKER_PROGRAM"]; prog != "" {
		found := false
		for _, rel := range []string{filepath.Join("code", prog), prog} {
			if fi, err := os.Stat(filepath.Join(dir, rel)); err == nil && fi.Mode().IsRegular() {
				flavor["entry_point"], found = filepath.ToSlash(rel), true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("SAGEMAKER_PROGRAM=%s, but model.tar.gz holds neither code/%s nor %s", prog, prog, prog)
		}
	} else if script := findEntryScript(dir); script != "" {
		flavor["entry_point"] = script
	}
	for _, m := range modelFiles {
		if fi, err := os.Stat(filepath.Join(dir, m)); err == nil && fi.Mode().IsRegular() {
			flavor["model_file"] = m
			break
		}
	}
	if flavor["entry_point"] == nil && flavor["model_file"] == nil {
		return nil, errors.New("model.tar.gz is neither an MLflow model nor a SageMaker scikit-learn layout: want model.joblib, or an entry script with model_fn (code/inference.py, or the script SAGEMAKER_PROGRAM names)")
	}
	if a := env["SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"]; a != "" {
		flavor["default_accept"] = a
	}
	return flavor, nil
}

// findEntryScript returns code/inference.py, or the only script in code/
// or at the top that defines model_fn.
func findEntryScript(dir string) string {
	if fi, err := os.Stat(filepath.Join(dir, "code", "inference.py")); err == nil && fi.Mode().IsRegular() {
		return "code/inference.py"
	}
	var found []string
	for _, sub := range []string{"code", "."} {
		matches, _ := filepath.Glob(filepath.Join(dir, sub, "*.py"))
		for _, m := range matches {
			if definesModelFn(m) {
				rel, _ := filepath.Rel(dir, m)
				found = append(found, filepath.ToSlash(rel))
			}
		}
		if len(found) > 0 {
			break
		}
	}
	sort.Strings(found)
	if len(found) == 1 {
		return found[0]
	}
	return ""
}

func definesModelFn(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(strings.TrimSpace(sc.Text()), "def model_fn(") {
			return true
		}
	}
	return false
}

func writeMLmodel(dir string, doc map[string]any) error {
	b, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "MLmodel"), b, 0o644)
}
