package mlflow

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// AddVersion registers a new version of spec.Name from src: a local MLflow
// model directory (holding an MLmodel file) is uploaded whole to the
// artifact store under mlflow-artifacts:/NAME/<random id>/ first; a URI
// (s3://, file://, runs:/, models:/ ...) is registered as it is. An upload
// whose version cannot be created is removed again.
func (c *Client) AddVersion(ctx context.Context, src string, spec VersionSpec) (ModelVersion, error) {
	source, uploaded, err := c.versionSource(ctx, spec.Name, src)
	if err != nil {
		return ModelVersion{}, err
	}
	spec.Source = source
	v, err := c.CreateModelVersion(ctx, spec)
	if err != nil && uploaded != "" { // leave no orphaned upload behind
		if derr := c.DeleteArtifact(context.WithoutCancel(ctx), uploaded); derr != nil {
			return v, fmt.Errorf("%w (and the uploaded %s could not be removed: %v)", err, source, derr)
		}
	}
	return v, err
}

// versionSource returns the source URI to register: a local model
// directory is uploaded first (uploaded is its artifact path), a URI is
// returned as it is.
func (c *Client) versionSource(ctx context.Context, name, src string) (source, uploaded string, err error) {
	fi, statErr := os.Stat(src)
	if statErr == nil {
		if !fi.IsDir() {
			return "", "", fmt.Errorf("%s is a file: give the model directory (the one holding MLmodel) or a URI", src)
		}
		if _, err := os.Stat(filepath.Join(src, "MLmodel")); err != nil {
			return "", "", fmt.Errorf("%s has no MLmodel file: save the model with mlflow.<flavor>.save_model(model, %q) or give an artifact URI", src, src)
		}
		dest := name + "/" + randomID()
		if err := c.UploadDir(ctx, src, dest); err != nil {
			c.DeleteArtifact(context.WithoutCancel(ctx), dest)
			return "", "", err
		}
		return "mlflow-artifacts:/" + dest, dest, nil
	}
	if i := strings.Index(src, ":"); i > 1 && !strings.ContainsAny(src[:i], `/\`) {
		return src, "", nil // a URI (a one-letter scheme would be a Windows drive)
	}
	return "", "", fmt.Errorf("%s: no such directory, and not a URI (give a model directory, or a URI such as s3://bucket/path or runs:/RUN_ID/model)", src)
}

// randomID returns a random UUID (version 4) string.
func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
