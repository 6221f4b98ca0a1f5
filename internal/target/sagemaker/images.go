package sagemaker

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// sklearnImages is the inference section of the SageMaker Python SDK's
// image table for scikit-learn (image_uri_config/sklearn.json; its source
// and commit are in the file): per framework version, the ECR registry
// account of AWS's prebuilt scikit-learn serving image in each region.
//
//go:embed images/sklearn.json
var sklearnImages []byte

type imageTable struct {
	Source    string `json:"source"`
	Inference struct {
		Versions map[string]struct {
			Registries map[string]string `json:"registries"`
			Repository string            `json:"repository"`
			TagPrefix  string            `json:"tag_prefix"`
			Processors []string          `json:"processors"`
			PyVersions []string          `json:"py_versions"`
		} `json:"versions"`
	} `json:"inference"`
}

var (
	tableOnce sync.Once
	table     imageTable
	tableErr  error
)

// SklearnImage returns the URI of AWS's prebuilt SageMaker scikit-learn
// inference image for a region whose framework version matches the
// model's scikit-learn version (same major.minor: 1.2.2 → 1.2-1), built as
// the SageMaker Python SDK builds it:
// <account>.dkr.ecr.<region>.<domain>/sagemaker-scikit-learn:<version>-cpu-py3.
// An error names BRDG_DEPLOY_AWS_IMAGE when there is none.
func SklearnImage(region, sklearnVersion string) (uri, frameworkVersion string, err error) {
	tableOnce.Do(func() { tableErr = json.Unmarshal(sklearnImages, &table) })
	if tableErr != nil {
		return "", "", fmt.Errorf("read the embedded image table: %w", tableErr)
	}
	mm := majorMinor(sklearnVersion)
	if mm == "" {
		return "", "", fmt.Errorf("the model does not say which scikit-learn version it needs (flavors.sklearn.sklearn_version in MLmodel): set %s to a serving image", EnvImage)
	}
	known := make([]string, 0, len(table.Inference.Versions))
	for v := range table.Inference.Versions {
		known = append(known, v)
	}
	sort.Strings(known)
	for _, v := range known {
		c := table.Inference.Versions[v]
		if majorMinor(strings.ReplaceAll(v, "-", ".")) != mm {
			continue
		}
		account, ok := c.Registries[region]
		if !ok {
			return "", "", fmt.Errorf("no prebuilt SageMaker scikit-learn image is known for region %s: build a serving image into your ECR and set %s", region, EnvImage)
		}
		repo := c.Repository
		if repo == "" {
			repo = "sagemaker-scikit-learn"
		}
		tag := c.TagPrefix
		if tag == "" {
			tag = v
		}
		return fmt.Sprintf("%s.dkr.ecr.%s.%s/%s:%s-cpu-py3", account, region, ecrDomain(region), repo, tag), v, nil
	}
	return "", "", fmt.Errorf("no prebuilt SageMaker scikit-learn image for scikit-learn %s (images exist for %s): retrain with one of those versions or set %s to a serving image", sklearnVersion, strings.Join(known, ", "), EnvImage)
}

// majorMinor returns "1.2" of "1.2.2" (or of "1.2.1.post1").
func majorMinor(v string) string {
	parts := strings.SplitN(strings.TrimSpace(v), ".", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return ""
	}
	return parts[0] + "." + parts[1]
}

// ecrDomain is the DNS suffix of a region's ECR registries.
func ecrDomain(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "amazonaws.com.cn"
	case strings.HasPrefix(region, "us-isob-"):
		return "sc2s.sgov.gov"
	case strings.HasPrefix(region, "us-isof-"):
		return "csp.hci.ic.gov"
	case strings.HasPrefix(region, "us-iso-"):
		return "c2s.ic.gov"
	}
	return "amazonaws.com"
}
