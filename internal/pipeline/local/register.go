package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/bridgeops/bridge/internal/pipeline"
)

// Version tags a RegisterModel step writes besides the flattened metrics.
const (
	TagApprovalStatus = "sagemaker_model_approval_status"
	TagModelDataURL   = "sagemaker_model_data_url"
	TagImage          = "sagemaker_image"
	TagExecution      = "bridge_pipeline_execution"
	TagStep           = "bridge_pipeline_step"
)

// metricSections are ModelMetrics' groups, as tag key prefixes.
var metricSections = map[string]string{"ModelQuality": "model_quality", "ModelDataQuality": "model_data_quality", "Bias": "bias", "Explainability": "explainability"}

// register creates the version: everything (metrics files included) is read
// and checked before the registry is touched, and the registrar creates the
// version with its tags in one call.
func (r *run) register(ctx context.Context, st *pipeline.Step, a map[string]any) (map[string]any, error) {
	if r.o.Registrar == nil {
		return nil, errors.New("no model registry configured for RegisterModel")
	}
	group := str(a["ModelPackageGroupName"])
	if group == "" {
		return nil, errors.New("Arguments.ModelPackageGroupName: empty")
	}
	if ra, ok := r.o.Registrar.(RemoteArtifacts); ok {
		if _, emb := r.o.Objects.(Embedded); emb {
			return nil, fmt.Errorf("register %s: %s", group, ra.NeedsRemoteArtifacts())
		}
	}
	containers := list(obj(a["InferenceSpecification"])["Containers"])
	if len(containers) == 0 {
		return nil, errors.New("Arguments.InferenceSpecification.Containers: empty")
	}
	c0 := obj(containers[0])
	dataURL := str(c0["ModelDataUrl"])
	if dataURL == "" {
		return nil, errors.New("Arguments.InferenceSpecification.Containers[0].ModelDataUrl: missing")
	}
	if _, err := r.readURI(ctx, dataURL); err != nil {
		return nil, fmt.Errorf("Arguments.InferenceSpecification.Containers[0].ModelDataUrl: %w", err)
	}
	status := str(a["ModelApprovalStatus"])
	if status == "" {
		status = "PendingManualApproval"
	}
	switch status {
	case "Approved", "Rejected", "PendingManualApproval":
	default:
		return nil, fmt.Errorf("Arguments.ModelApprovalStatus %q: want Approved, Rejected or PendingManualApproval", status)
	}
	tags := map[string]string{
		TagApprovalStatus: status, TagModelDataURL: dataURL, TagImage: str(c0["Image"]),
		TagExecution: r.exec.ID, TagStep: st.Name,
	}
	metrics := obj(a["ModelMetrics"])
	sections := make([]string, 0, len(metrics))
	for k := range metrics {
		sections = append(sections, k)
	}
	sort.Strings(sections)
	for _, sec := range sections {
		prefix, ok := metricSections[sec]
		if !ok {
			prefix = strings.ToLower(sec)
		}
		for _, kind := range []string{"Statistics", "Constraints", "Report"} {
			src := obj(obj(metrics[sec])[kind])
			uri := str(src["S3Uri"])
			if uri == "" {
				continue
			}
			field := fmt.Sprintf("Arguments.ModelMetrics.%s.%s.S3Uri", sec, kind)
			tags[prefix+"."+strings.ToLower(kind)+"_uri"] = uri
			if kind != "Statistics" {
				continue
			}
			b, err := r.readURI(ctx, uri)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", field, err)
			}
			var doc any
			if err := json.Unmarshal(b, &doc); err != nil {
				return nil, fmt.Errorf("%s: %s is not JSON: %v", field, uri, err)
			}
			flatten(doc, prefix, tags)
		}
	}
	for k, v := range obj(a["CustomerMetadataProperties"]) {
		tags[k] = str(v)
	}
	stage := ""
	if status == "Approved" {
		stage = r.o.ApprovedStage
	}
	source := dataURL
	if emb, ok := r.o.Objects.(Embedded); ok && strings.HasPrefix(dataURL, "s3://") {
		// The embedded object store is a directory: give the registry a
		// path Bridge's artifact cache can fetch without S3.
		p, err := emb.Path(dataURL)
		if err != nil {
			return nil, err
		}
		source = "file://" + p
	}
	v, err := r.o.Registrar.Register(ctx, NewVersion{Model: group, Source: source, Description: str(a["ModelPackageDescription"]), Tags: tags, Stage: stage,
		Request: a, Token: r.exec.ID + "-" + st.Name})
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", group, err)
	}
	props := cloneMap(a)
	props["ModelPackageGroupName"] = group
	props["ModelPackageVersion"] = v.Version
	props["ModelPackageName"] = fmt.Sprintf("%s/%d", group, v.Version)
	props["ModelPackageArn"] = fmt.Sprintf("arn:aws:sagemaker:%s:000000000000:model-package/%s/%d", r.o.Region, strings.ToLower(group), v.Version)
	if v.Arn != "" {
		props["ModelPackageArn"] = v.Arn
	}
	props["ModelApprovalStatus"] = status
	props["RegisteredStage"] = v.Stage
	return props, nil
}

// flatten turns a statistics document into dotted tag keys with scalar
// values: {"regression_metrics": {"mse": {"value": 1.5}}} →
// model_quality.regression_metrics.mse.value=1.5.
func flatten(v any, prefix string, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, sub := range x {
			flatten(sub, prefix+"."+k, out)
		}
	case []any:
		for i, sub := range x {
			flatten(sub, fmt.Sprintf("%s.%d", prefix, i), out)
		}
	default:
		out[prefix] = pipeline.Stringify(v)
	}
}
