package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ModelName is the registered model bridge demo creates.
const ModelName = "iris"

// WriteModelDir writes m as an MLflow model directory of flavor
// bridge_linear: dir/MLmodel and dir/model.json. The MLmodel carries a
// column signature naming the features.
func WriteModelDir(dir string, m Logistic) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create model directory: %w", err)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "model.json"), append(b, '\n')); err != nil {
		return err
	}
	type col struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	cols := make([]col, len(m.FeatureNames))
	for i, f := range m.FeatureNames {
		cols[i] = col{f, "double"}
	}
	inputs, err := json.Marshal(cols)
	if err != nil {
		return err
	}
	mlmodel := fmt.Sprintf(`artifact_path: model
flavors:
  bridge_linear:
    data: model.json
signature:
  inputs: '%s'
  outputs: '[{"type": "string"}]'
`, inputs)
	return writeFile(filepath.Join(dir, "MLmodel"), []byte(mlmodel))
}

// writeFile writes through a temporary file and a rename, so a crash never
// leaves half a file.
func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Versions are the demo's two model versions: a quick first fit (5 gradient
// steps) that goes to Production, and a converged one (500 steps) in
// Staging, the candidate to promote.
var Versions = []struct {
	Stage string
	Opts  TrainOptions
}{
	{"Production", TrainOptions{Epochs: 5}},
	{"Staging", TrainOptions{Epochs: 500}},
}

// SeedOptions say where the registry is and where model files go.
type SeedOptions struct {
	// RegistryURL is the MLflow REST API's base URL (http://127.0.0.1:5000).
	RegistryURL string
	// Token is sent as a bearer token when set.
	Token string
	// Dir is where the model directories are written (dir/iris/v1, ...);
	// versions' sources point there.
	Dir    string
	Client *http.Client
}

// SeedResult tells what Seed did.
type SeedResult struct {
	// Created is false when the model already had versions and nothing was
	// added.
	Created  bool
	Versions []int
}

// Seed registers the demo model with one version in Production and one in
// Staging, unless the model already has versions: running it again changes
// nothing.
func Seed(ctx context.Context, o SeedOptions) (SeedResult, error) {
	c := &restClient{base: strings.TrimRight(o.RegistryURL, "/"), token: o.Token, hc: o.Client}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 30 * time.Second}
	}
	var got struct {
		RegisteredModel struct {
			LatestVersions []json.RawMessage `json:"latest_versions"`
		} `json:"registered_model"`
	}
	err := c.call(ctx, http.MethodGet, "registered-models/get?name="+url.QueryEscape(ModelName), nil, &got)
	switch {
	case err == nil && len(got.RegisteredModel.LatestVersions) > 0:
		return SeedResult{}, nil
	case err == nil:
		// Created by an earlier, interrupted run: add the versions.
	case isNotFound(err):
		if err := c.call(ctx, http.MethodPost, "registered-models/create", map[string]any{
			"name":        ModelName,
			"description": "Iris species classifier (multinomial logistic regression trained in Go); created by bridge demo",
		}, nil); err != nil {
			return SeedResult{}, fmt.Errorf("create registered model %s: %w", ModelName, err)
		}
	default:
		return SeedResult{}, fmt.Errorf("look up registered model %s: %w", ModelName, err)
	}

	data, err := Iris()
	if err != nil {
		return SeedResult{}, err
	}
	res := SeedResult{Created: true}
	for i, v := range Versions {
		m, err := Train(data, v.Opts)
		if err != nil {
			return res, fmt.Errorf("train demo model: %w", err)
		}
		dir, err := filepath.Abs(filepath.Join(o.Dir, ModelName, "v"+strconv.Itoa(i+1)))
		if err != nil {
			return res, err
		}
		if err := WriteModelDir(dir, m); err != nil {
			return res, err
		}
		var mv struct {
			ModelVersion struct {
				Version string `json:"version"`
			} `json:"model_version"`
		}
		if err := c.call(ctx, http.MethodPost, "model-versions/create", map[string]any{
			"name":        ModelName,
			"source":      (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir)}).String(),
			"description": fmt.Sprintf("%d gradient-descent steps; training accuracy %.3f", v.Opts.Epochs, m.Accuracy(data)),
		}, &mv); err != nil {
			return res, fmt.Errorf("create version of %s: %w", ModelName, err)
		}
		n, err := strconv.Atoi(mv.ModelVersion.Version)
		if err != nil {
			return res, fmt.Errorf("registry answered version %q: %w", mv.ModelVersion.Version, err)
		}
		if err := c.call(ctx, http.MethodPost, "model-versions/transition-stage", map[string]any{
			"name": ModelName, "version": mv.ModelVersion.Version, "stage": v.Stage, "archive_existing_versions": false,
		}, nil); err != nil {
			return res, fmt.Errorf("move %s version %d to %s: %w", ModelName, n, v.Stage, err)
		}
		res.Versions = append(res.Versions, n)
	}
	return res, nil
}

// restClient is the small part of the MLflow REST API that seeding needs.
type restClient struct {
	base  string
	token string
	hc    *http.Client
}

// apiError is an MLflow REST error answer.
type apiError struct {
	Status  int
	Code    string `json:"error_code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("registry answered %d %s: %s", e.Status, e.Code, e.Message)
}

func isNotFound(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && (ae.Code == "RESOURCE_DOES_NOT_EXIST" || ae.Status == http.StatusNotFound)
}

func (c *restClient) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/api/2.0/mlflow/"+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("registry at %s unreachable: %w", c.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("read registry answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		ae := &apiError{Status: resp.StatusCode}
		if json.Unmarshal(b, ae) != nil || ae.Message == "" {
			ae.Message = strings.TrimSpace(string(b))
		}
		return ae
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decode registry answer to %s: %w", path, err)
		}
	}
	return nil
}
