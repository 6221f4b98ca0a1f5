package sagemaker

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/bridgeops/bridge/internal/serving"
)

//go:embed images/inference.py
var entryScript []byte

// servingImage decides how a fetched MLflow model is served: with
// BRDG_DEPLOY_AWS_IMAGE when it is set; else, for the sklearn flavor, with
// AWS's prebuilt SageMaker scikit-learn image matching the model's
// scikit-learn version, plus a generated entry script (extra files for
// model.tar.gz) and the container environment that runs it. Other flavors
// need an image of their own.
func (t *Target) servingImage(dir string) (image string, env map[string]string, extra map[string][]byte, err error) {
	if t.set.Image != "" {
		return t.set.Image, nil, nil, nil
	}
	mm, err := serving.ReadMLmodel(dir)
	if err != nil {
		return "", nil, nil, err
	}
	sk, ok := mm.Flavors["sklearn"]
	if !ok {
		flavors := make([]string, 0, len(mm.Flavors))
		for f := range mm.Flavors {
			flavors = append(flavors, f)
		}
		sort.Strings(flavors)
		return "", nil, nil, fmt.Errorf("%s is not set: AWS's prebuilt images serve scikit-learn models only, and this model's flavors are %s; build an MLflow serving image into your ECR (see docs/sagemaker.md) and set %s to its URI",
			EnvImage, strings.Join(flavors, ", "), EnvImage)
	}
	version, _ := sk["sklearn_version"].(string)
	image, _, err = SklearnImage(t.region, version)
	if err != nil {
		return "", nil, nil, err
	}
	conf := map[string]any{"model_file": "model.pkl", "format": "cloudpickle"}
	if p, _ := sk["pickled_model"].(string); p != "" {
		conf["model_file"] = p
	}
	if f, _ := sk["serialization_format"].(string); f != "" {
		conf["format"] = f
	}
	if cols := signatureColumns(mm); len(cols) > 0 {
		conf["columns"] = cols
	}
	b, err := json.Marshal(conf)
	if err != nil {
		return "", nil, nil, err
	}
	env = map[string]string{
		// What SageMaker's scikit-learn container reads to find the script.
		"SAGEMAKER_PROGRAM":                    "inference.py",
		"SAGEMAKER_SUBMIT_DIRECTORY":           "/opt/ml/model/code",
		"SAGEMAKER_CONTAINER_LOG_LEVEL":        "20",
		"SAGEMAKER_REGION":                     t.region,
		"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "application/json",
	}
	return image, env, map[string][]byte{"code/inference.py": entryScript, "code/bridge_model.json": b}, nil
}

// signatureColumns returns the input column names of an MLflow signature.
func signatureColumns(mm serving.MLmodel) []string {
	raw, _ := mm.Signature["inputs"].(string)
	var cols []struct {
		Name string `json:"name"`
	}
	if raw == "" || json.Unmarshal([]byte(raw), &cols) != nil {
		return nil
	}
	out := make([]string, 0, len(cols))
	for _, c := range cols {
		if c.Name == "" {
			return nil
		}
		out = append(out, c.Name)
	}
	return out
}
