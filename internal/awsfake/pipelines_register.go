package awsfake

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// A pipeline's RegisterModel step creates a versioned model package, as
// CreateModelPackage does, in the fake's model registry: in the group its
// ModelPackageGroupName names (created when missing, as the step does),
// with the step's InferenceSpecification, ModelApprovalStatus (default
// PendingManualApproval), ModelMetrics, DriftCheckBaselines,
// CustomerMetadataProperties and description. Property references are
// resolved as SageMaker resolves them: Parameters.X, a training step's
// ModelArtifacts.S3ModelArtifacts (<S3OutputPath>/<job>/output/model.tar.gz),
// a processing step's ProcessingOutputConfig.Outputs['name'].S3Output.S3Uri,
// and Std:Join of those.

var processingOutputRE = regexp.MustCompile(`^Steps\.([^.]+)\.ProcessingOutputConfig\.Outputs\['([^']+)'\]\.S3Output\.S3Uri$`)

// jobName is the name of the job a step of ex runs.
func jobName(ex *plExecution, s *plStep) string {
	id := ""
	if m := executionArnRE.FindStringSubmatch(ex.arn); m != nil {
		id = m[2]
	}
	job := strings.ToLower(fmt.Sprintf("pipelines-%s-%s", id, s.name))
	if len(job) > 63 {
		job = job[:63]
	}
	return job
}

// resolveStepValue resolves a step argument's property references; ok is
// false when one cannot be resolved.
func resolveStepValue(ex *plExecution, v any) (any, bool) {
	switch t := v.(type) {
	case map[string]any:
		if g, isGet := t["Get"].(string); isGet && len(t) == 1 {
			return resolveGet(ex, g)
		}
		if j, isJoin := t["Std:Join"].(map[string]any); isJoin && len(t) == 1 {
			on, _ := j["On"].(string)
			vals, _ := j["Values"].([]any)
			parts := make([]string, len(vals))
			for i, x := range vals {
				r, ok := resolveStepValue(ex, x)
				if !ok {
					return nil, false
				}
				parts[i] = fmt.Sprint(r)
			}
			return strings.Join(parts, on), true
		}
		out := make(map[string]any, len(t))
		for k, x := range t {
			r, ok := resolveStepValue(ex, x)
			if !ok {
				return nil, false
			}
			out[k] = r
		}
		return out, true
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			r, ok := resolveStepValue(ex, x)
			if !ok {
				return nil, false
			}
			out[i] = r
		}
		return out, true
	}
	return v, true
}

func resolveGet(ex *plExecution, ref string) (any, bool) {
	if name, ok := strings.CutPrefix(ref, "Parameters."); ok {
		v, set := ex.params[name]
		return v, set
	}
	if step, ok := strings.CutPrefix(ref, "Steps."); ok {
		if name, ok := strings.CutSuffix(step, ".ModelArtifacts.S3ModelArtifacts"); ok {
			s := ex.byName[name]
			if s == nil || s.typ != "Training" {
				return nil, false
			}
			odc, _ := s.args["OutputDataConfig"].(map[string]any)
			out, ok := resolveStepValue(ex, odc["S3OutputPath"])
			if !ok || out == nil {
				return nil, false
			}
			return strings.TrimSuffix(fmt.Sprint(out), "/") + "/" + jobName(ex, s) + "/output/model.tar.gz", true
		}
		if m := processingOutputRE.FindStringSubmatch(ref); m != nil {
			s := ex.byName[m[1]]
			if s == nil {
				return nil, false
			}
			poc, _ := s.args["ProcessingOutputConfig"].(map[string]any)
			outs, _ := poc["Outputs"].([]any)
			for _, o := range outs {
				om, _ := o.(map[string]any)
				if om["OutputName"] == m[2] {
					s3, _ := om["S3Output"].(map[string]any)
					return resolveStepValue(ex, s3["S3Uri"])
				}
			}
		}
	}
	return nil, false
}

// registerFromStep creates the model package of a RegisterModel step and
// returns its ARN, or the step's failure reason.
func (p sagemakerProtocol) registerFromStep(ex *plExecution, s *plStep, now time.Time) (string, string) {
	resolved, ok := resolveStepValue(ex, s.args)
	if !ok {
		return "", "ClientError: RegisterModel arguments reference a property that does not resolve."
	}
	args, _ := resolved.(map[string]any)
	region := DefaultRegion
	if parts := strings.Split(ex.arn, ":"); len(parts) > 4 {
		region = parts[3]
	}
	rc := &reqCtx{region: region}
	group, _ := args["ModelPackageGroupName"].(string)
	group = groupName(group)
	if !smNameRE.MatchString(group) {
		return "", fmt.Sprintf("ClientError: Invalid ModelPackageGroupName %q.", group)
	}
	ps := p.s.sm.pk()
	if ps.groups[strings.ToLower(group)] == nil {
		p.s.sm.seq++
		ps.groups[strings.ToLower(group)] = &mpGroup{name: group, arn: p.groupARN(rc, group), created: now, seq: p.s.sm.seq}
	}
	req := map[string]any{"ModelPackageGroupName": group}
	for _, k := range []string{"InferenceSpecification", "ModelApprovalStatus", "ModelMetrics", "DriftCheckBaselines",
		"CustomerMetadataProperties", "ModelPackageDescription", "Domain", "Task", "SamplePayloadUrl", "MetadataProperties"} {
		if v, set := args[k]; set {
			req[k] = v
		}
	}
	out, aerr := p.createPackage(rc, req, now)
	if aerr != nil {
		return "", "ClientError: " + aerr.message
	}
	arn, _ := out.(map[string]any)["ModelPackageArn"].(string)
	return arn, ""
}
