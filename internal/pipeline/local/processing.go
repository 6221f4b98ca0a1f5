package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bridgeops/bridge/internal/pipeline"
)

func (r *run) processing(ctx context.Context, st *pipeline.Step, rec *StepRecord, a map[string]any, _ []string) (map[string]any, []string, error) {
	app := obj(a["AppSpecification"])
	image := str(app["ImageUri"])
	python, err := r.interpreter(image, "Arguments.AppSpecification.ImageUri")
	if err != nil {
		return nil, nil, err
	}
	work := r.workDir(st.Name)
	if err := os.RemoveAll(work); err != nil {
		return nil, nil, err
	}
	for i, in := range list(a["ProcessingInputs"]) {
		field := fmt.Sprintf("Arguments.ProcessingInputs[%d]", i)
		s3 := obj(obj(in)["S3Input"])
		if s3 == nil {
			return nil, nil, fmt.Errorf("%s (%s): only S3Input inputs are supported locally", field, str(obj(in)["InputName"]))
		}
		dir, err := containerDir(work, str(s3["LocalPath"]), field+".S3Input")
		if err != nil {
			return nil, nil, err
		}
		if err := r.fetch(ctx, str(s3["S3Uri"]), dir); err != nil {
			return nil, nil, fmt.Errorf("%s (%s): input %s: %w", field, str(obj(in)["InputName"]), str(s3["S3Uri"]), err)
		}
	}
	type output struct{ name, dir, uri string }
	var outputs []output
	for i, out := range list(obj(a["ProcessingOutputConfig"])["Outputs"]) {
		field := fmt.Sprintf("Arguments.ProcessingOutputConfig.Outputs[%d]", i)
		s3 := obj(obj(out)["S3Output"])
		dir, err := containerDir(work, str(s3["LocalPath"]), field+".S3Output")
		if err != nil {
			return nil, nil, err
		}
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return nil, nil, err
		}
		outputs = append(outputs, output{str(obj(out)["OutputName"]), dir, str(s3["S3Uri"])})
	}
	var argv []string
	for _, x := range list(app["ContainerEntrypoint"]) {
		argv = append(argv, str(x))
	}
	for _, x := range list(app["ContainerArguments"]) {
		argv = append(argv, str(x))
	}
	if len(argv) == 0 {
		return nil, nil, errors.New("Arguments.AppSpecification.ContainerEntrypoint: missing (images' default entrypoints need Docker)")
	}
	if isPython(argv[0]) {
		argv[0] = python
	}
	env := map[string]string{}
	for k, v := range obj(a["Environment"]) {
		env[k] = str(v)
	}
	job := rec.job
	env["PROCESSING_JOB_NAME"] = job
	if err := os.MkdirAll(filepath.Join(work, "config"), 0o755); err != nil {
		return nil, nil, err
	}
	cfg, _ := json.Marshal(map[string]any{"ProcessingJobName": job, "AppSpecification": app, "Environment": a["Environment"], "ProcessingResources": a["ProcessingResources"]})
	if err := os.WriteFile(filepath.Join(work, "config", "processingjobconfig.json"), cfg, 0o644); err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(filepath.Join(work, "processing"), 0o777); err != nil {
		return nil, nil, err
	}
	if err := r.commandWithin(ctx, a, st.Name, rec, work, ContainerRoot+"/processing", argv, env); err != nil {
		return nil, nil, err
	}
	var written []string
	for _, o := range outputs {
		if err := r.store(ctx, o.dir, o.uri); err != nil {
			return nil, nil, fmt.Errorf("output %s to %s: %w", o.name, o.uri, err)
		}
		written = append(written, o.uri)
	}
	// Property files must exist and be JSON now, not when a later step reads them.
	for i, pf := range st.PropertyFiles {
		var dir string
		for _, o := range outputs {
			if o.name == pf.OutputName {
				dir = o.dir
			}
		}
		field := fmt.Sprintf("PropertyFiles[%d] (%s)", i, pf.PropertyFileName)
		if dir == "" {
			return nil, nil, fmt.Errorf("%s: no output named %q", field, pf.OutputName)
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(pf.FilePath)))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: the script did not write %s in output %s", field, pf.FilePath, pf.OutputName)
		}
		if !json.Valid(b) {
			return nil, nil, fmt.Errorf("%s: %s in output %s is not JSON", field, pf.FilePath, pf.OutputName)
		}
	}
	// The outputs are stored: the work directory goes (a failed step's
	// stays for inspection until the next run of that step).
	_ = os.RemoveAll(work)
	props := cloneMap(a)
	props["ProcessingJobName"] = job
	props["ProcessingJobArn"] = fmt.Sprintf("arn:aws:sagemaker:%s:000000000000:processing-job/%s", r.o.Region, strings.ToLower(job))
	props["ProcessingJobStatus"] = "Completed"
	props["ExitMessage"] = ""
	return props, written, nil
}

func cloneMap(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	if out == nil {
		out = map[string]any{}
	}
	return out
}

// propertyFile reads a property file of a finished Processing step from the
// output it names.
func (r *run) propertyFile(step, file string) (any, error) {
	props, ok := r.properties(step)
	if !ok {
		return nil, fmt.Errorf("property file %s: step %s has not run", file, step)
	}
	var pf *pipeline.PropertyFile
	for i, p := range r.def.Step(step).PropertyFiles {
		if p.PropertyFileName == file {
			pf = &r.def.Step(step).PropertyFiles[i]
		}
	}
	if pf == nil {
		return nil, fmt.Errorf("step %s has no property file %s", step, file)
	}
	uri, err := pipeline.Lookup(props, fmt.Sprintf("ProcessingOutputConfig.Outputs['%s'].S3Output.S3Uri", pf.OutputName))
	if err != nil {
		return nil, fmt.Errorf("property file %s of step %s: output %s: %w", file, step, pf.OutputName, err)
	}
	u := strings.TrimSuffix(str(uri), "/") + "/" + pf.FilePath
	b, err := r.readURI(r.ctx, u)
	if err != nil {
		return nil, fmt.Errorf("property file %s of step %s: %w", file, step, err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("property file %s of step %s (%s) is not JSON: %v", file, step, u, err)
	}
	return doc, nil
}

// readJSON reads the JSON document at uri (Std:JsonGet on an S3Uri).
func (r *run) readJSON(uri string) (any, error) {
	b, err := r.readURI(r.ctx, uri)
	if err != nil {
		return nil, err
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s is not JSON: %v", uri, err)
	}
	return doc, nil
}
