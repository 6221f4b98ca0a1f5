package local

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/bridgeops/bridge/internal/objectstore"
	"github.com/bridgeops/bridge/internal/pipeline"
)

// stepFunc runs a Processing or Training step: it returns the step's
// properties and the URIs it wrote.
type stepFunc func(ctx context.Context, st *pipeline.Step, rec *StepRecord, args map[string]any, inputs []string) (map[string]any, []string, error)

// cached runs fn unless an earlier run with the same resolved arguments and
// input contents is in the cache (CacheConfig.Enabled, within ExpireAfter,
// its outputs unchanged), in which case its properties are reused.
func (r *run) cached(ctx context.Context, st *pipeline.Step, rec *StepRecord, args map[string]any, fn stepFunc) (map[string]any, error) {
	inputs := inputURIs(st.Type, args)
	enabled := st.CacheConfig != nil && st.CacheConfig.Enabled && !r.o.NoCache
	var key string
	if enabled {
		var err error
		key, err = r.cacheKey(ctx, st, args, inputs)
		if err != nil {
			return nil, err
		}
		c, ok, err := r.o.History.cacheGet(ctx, key)
		if err != nil {
			return nil, err
		}
		fresh := true
		if ok && st.CacheConfig.ExpireAfter != "" {
			d, _ := pipeline.ParseISODuration(st.CacheConfig.ExpireAfter)
			fresh = time.Since(c.Created) <= d
		}
		if ok && fresh && r.outputsUnchanged(ctx, c.Outputs) {
			rec.CacheHit, rec.CachedFrom = true, c.Execution
			return c.Properties, nil
		}
	}
	props, outs, err := fn(ctx, st, rec, args, inputs)
	if err != nil {
		return nil, err
	}
	if enabled {
		digests := map[string]string{}
		for _, u := range outs {
			d, err := r.digest(ctx, u)
			if err != nil {
				return nil, fmt.Errorf("output %s: %w", u, err)
			}
			digests[u] = d
		}
		if err := r.o.History.cachePut(ctx, key, cacheEntry{Execution: r.exec.ID, Step: st.Name, Properties: props, Outputs: digests, Created: time.Now()}); err != nil {
			return nil, err
		}
	}
	return props, nil
}

func (r *run) outputsUnchanged(ctx context.Context, outs map[string]string) bool {
	for u, want := range outs {
		got, err := r.digest(ctx, u)
		if err != nil || got != want {
			return false
		}
	}
	return true
}

func (r *run) cacheKey(ctx context.Context, st *pipeline.Step, args map[string]any, inputs []string) (string, error) {
	h := sha256.New()
	b, _ := json.Marshal(args) // map keys are sorted: canonical
	fmt.Fprintf(h, "%s\x00%s\x00", st.Type, b)
	pf, _ := json.Marshal(st.PropertyFiles)
	h.Write(pf)
	for _, u := range inputs {
		d, err := r.digest(ctx, u)
		if err != nil {
			return "", fmt.Errorf("input %s: %w", u, err)
		}
		fmt.Fprintf(h, "\x00%s=%s", u, d)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// inputURIs lists the URIs a step reads.
func inputURIs(typ string, a map[string]any) []string {
	var out []string
	switch typ {
	case pipeline.TypeProcessing:
		for _, in := range list(a["ProcessingInputs"]) {
			if u := str(obj(obj(in)["S3Input"])["S3Uri"]); u != "" {
				out = append(out, u)
			}
		}
	case pipeline.TypeTraining:
		for _, ch := range list(a["InputDataConfig"]) {
			if u := str(obj(obj(obj(ch)["DataSource"])["S3DataSource"])["S3Uri"]); u != "" {
				out = append(out, u)
			}
		}
		if u := hyper(obj(a["HyperParameters"]), "sagemaker_submit_directory"); u != "" {
			out = append(out, u)
		}
	}
	sort.Strings(out)
	return out
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func list(v any) []any         { l, _ := v.([]any); return l }
func str(v any) string {
	if v == nil {
		return ""
	}
	return pipeline.Stringify(v)
}

// hyper reads a hyperparameter; the SDK JSON-encodes script-mode values
// ("\"train.py\"").
func hyper(hps map[string]any, k string) string {
	s := str(hps[k])
	var dec string
	if json.Unmarshal([]byte(s), &dec) == nil {
		return dec
	}
	return s
}

// location turns a URI of the definition into where it lives here: an
// s3:// URI in the embedded object store, a file:// URI or a local path
// (relative to the definition's directory).
func (r *run) localPath(uri string) (string, bool, error) {
	switch {
	case strings.HasPrefix(uri, "s3://"):
		_, _, err := objectstore.ParseURI(uri)
		return "", true, err
	case strings.HasPrefix(uri, "file://"):
		return strings.TrimPrefix(uri, "file://"), false, nil
	case strings.Contains(uri, "://"):
		return "", false, fmt.Errorf("%q: only s3://, file:// and local paths are supported", uri)
	case filepath.IsAbs(uri):
		return uri, false, nil
	}
	return filepath.Join(r.o.DefinitionDir, uri), false, nil
}

func (r *run) digest(ctx context.Context, uri string) (string, error) {
	p, isS3, err := r.localPath(uri)
	if err != nil {
		return "", err
	}
	if isS3 {
		return r.o.Objects.Digest(ctx, uri)
	}
	return objectstore.DigestPath(p)
}

// fetch copies what uri names into dir (S3 prefix semantics).
func (r *run) fetch(ctx context.Context, uri, dir string) error {
	p, isS3, err := r.localPath(uri)
	if err != nil {
		return err
	}
	if isS3 {
		return r.o.Objects.Download(ctx, uri, dir)
	}
	if _, err := os.Stat(p); err != nil {
		return fmt.Errorf("%s: %w", uri, err)
	}
	return objectstore.CopyTree(p, dir)
}

// store copies dir's files to uri.
func (r *run) store(ctx context.Context, dir, uri string) error {
	p, isS3, err := r.localPath(uri)
	if err != nil {
		return err
	}
	if isS3 {
		return r.o.Objects.Upload(ctx, dir, uri)
	}
	return objectstore.CopyTree(dir, p)
}

func (r *run) readURI(ctx context.Context, uri string) ([]byte, error) {
	p, isS3, err := r.localPath(uri)
	if err != nil {
		return nil, err
	}
	if isS3 {
		return r.o.Objects.Read(ctx, uri)
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such object", uri)
	}
	return b, err
}

var jobNameRE = regexp.MustCompile(`[^a-zA-Z0-9-]`)

// jobName is SageMaker's pipelines-<execution>-<step>-<suffix>, at most 63
// characters.
func (r *run) jobName(step string) string {
	s := jobNameRE.ReplaceAllString(step, "-")
	if len(s) > 30 {
		s = s[:30]
	}
	return "pipelines-" + r.exec.ID + "-" + s + "-" + newID()[:10]
}

// containerDir maps a /opt/ml/... path to its directory under the step's
// work dir.
func containerDir(work, local, field string) (string, error) {
	clean := path.Clean(local)
	rel, ok := strings.CutPrefix(clean, ContainerRoot+"/")
	if !ok || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("%s: LocalPath %q must be under %s/ (as SageMaker requires /opt/ml/processing/...)", field, local, ContainerRoot)
	}
	return filepath.Join(work, filepath.FromSlash(rel)), nil
}

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
	job := r.jobName(st.Name)
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
	if err := r.command(ctx, st.Name, rec, work, ContainerRoot+"/processing", argv, env); err != nil {
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

func (r *run) training(ctx context.Context, st *pipeline.Step, rec *StepRecord, a map[string]any, _ []string) (map[string]any, []string, error) {
	alg := obj(a["AlgorithmSpecification"])
	python, err := r.interpreter(str(alg["TrainingImage"]), "Arguments.AlgorithmSpecification.TrainingImage")
	if err != nil {
		return nil, nil, err
	}
	hps := obj(a["HyperParameters"])
	program := hyper(hps, "sagemaker_program")
	if program == "" {
		return nil, nil, errors.New("Arguments.HyperParameters.sagemaker_program: missing; built-in algorithm containers need Docker, only script mode (an entry point script) runs locally")
	}
	work := r.workDir(st.Name)
	if err := os.RemoveAll(work); err != nil {
		return nil, nil, err
	}
	code := filepath.Join(work, "code")
	if src := hyper(hps, "sagemaker_submit_directory"); src != "" {
		if err := r.unpackSource(ctx, src, code); err != nil {
			return nil, nil, fmt.Errorf("Arguments.HyperParameters.sagemaker_submit_directory %s: %w", src, err)
		}
	}
	if _, err := os.Stat(filepath.Join(code, program)); err != nil {
		return nil, nil, fmt.Errorf("Arguments.HyperParameters.sagemaker_program: %s is not in the source directory", program)
	}
	var channels []string
	inputCfg := map[string]any{}
	env := map[string]string{}
	for i, ch := range list(a["InputDataConfig"]) {
		name := str(obj(ch)["ChannelName"])
		field := fmt.Sprintf("Arguments.InputDataConfig[%d] (%s)", i, name)
		s3 := obj(obj(obj(ch)["DataSource"])["S3DataSource"])
		if s3 == nil {
			return nil, nil, fmt.Errorf("%s: only S3DataSource channels are supported locally", field)
		}
		dir := filepath.Join(work, "input", "data", name)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return nil, nil, err
		}
		if err := r.fetch(ctx, str(s3["S3Uri"]), dir); err != nil {
			return nil, nil, fmt.Errorf("%s: input %s: %w", field, str(s3["S3Uri"]), err)
		}
		channels = append(channels, name)
		inputCfg[name] = map[string]any{"ContentType": obj(ch)["ContentType"], "TrainingInputMode": "File", "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"}
		env["SM_CHANNEL_"+strings.ToUpper(name)] = ContainerRoot + "/input/data/" + name
	}
	user := map[string]any{}
	var userArgs []string
	keys := make([]string, 0, len(hps))
	for k := range hps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rawHPs := map[string]string{}
	for _, k := range keys {
		rawHPs[k] = str(hps[k])
		if strings.HasPrefix(k, "sagemaker_") {
			continue
		}
		v := hyper(hps, k)
		var decoded any
		if json.Unmarshal([]byte(str(hps[k])), &decoded) == nil {
			user[k] = decoded
		} else {
			user[k] = v
		}
		env["SM_HP_"+strings.ToUpper(k)] = v
		userArgs = append(userArgs, "--"+k, v)
	}
	job := r.jobName(st.Name)
	for _, d := range []string{"model", "output/data", "input/config", "code"} {
		if err := os.MkdirAll(filepath.Join(work, d), 0o777); err != nil {
			return nil, nil, err
		}
	}
	writeJSON := func(name string, v any) error {
		b, _ := json.Marshal(v)
		return os.WriteFile(filepath.Join(work, "input", "config", name), b, 0o644)
	}
	if err := writeJSON("hyperparameters.json", rawHPs); err != nil {
		return nil, nil, err
	}
	if err := writeJSON("inputdataconfig.json", inputCfg); err != nil {
		return nil, nil, err
	}
	if err := writeJSON("resourceconfig.json", map[string]any{"current_host": "algo-1", "hosts": []string{"algo-1"}}); err != nil {
		return nil, nil, err
	}
	hpsJSON, _ := json.Marshal(user)
	chJSON, _ := json.Marshal(channels)
	argsJSON, _ := json.Marshal(userArgs)
	for k, v := range map[string]string{
		"SM_MODEL_DIR": ContainerRoot + "/model", "SM_OUTPUT_DATA_DIR": ContainerRoot + "/output/data",
		"SM_OUTPUT_DIR": ContainerRoot + "/output", "SM_INPUT_DIR": ContainerRoot + "/input",
		"SM_INPUT_CONFIG_DIR": ContainerRoot + "/input/config", "SM_INPUT_DATA_DIR": ContainerRoot + "/input/data",
		"SM_CHANNELS": string(chJSON), "SM_HPS": string(hpsJSON), "SM_USER_ARGS": string(argsJSON),
		"SM_USER_ENTRY_POINT": program, "SM_MODULE_NAME": strings.TrimSuffix(program, ".py"),
		"SM_MODULE_DIR": hyper(hps, "sagemaker_submit_directory"), "SM_HOSTS": `["algo-1"]`, "SM_CURRENT_HOST": "algo-1",
		"SM_NUM_GPUS": "0", "SM_NUM_CPUS": fmt.Sprint(numCPU()), "SM_LOG_LEVEL": "20", "TRAINING_JOB_NAME": job,
		"SAGEMAKER_PROGRAM": program, "SAGEMAKER_SUBMIT_DIRECTORY": ContainerRoot + "/code",
	} {
		env[k] = v
	}
	for k, v := range obj(a["Environment"]) {
		env[k] = str(v)
	}
	argv := append([]string{python, program}, userArgs...)
	if err := r.command(ctx, st.Name, rec, work, ContainerRoot+"/code", argv, env); err != nil {
		if b, rerr := os.ReadFile(filepath.Join(work, "output", "failure")); rerr == nil && len(b) > 0 {
			return nil, nil, fmt.Errorf("%w; /opt/ml/output/failure: %s", err, strings.TrimSpace(string(b)))
		}
		return nil, nil, err
	}
	outPath := strings.TrimSuffix(str(obj(a["OutputDataConfig"])["S3OutputPath"]), "/")
	modelURI := outPath + "/" + job + "/output/model.tar.gz"
	tmp := filepath.Join(work, "upload")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, nil, err
	}
	if err := tarGz(filepath.Join(work, "model"), filepath.Join(tmp, "model.tar.gz")); err != nil {
		return nil, nil, fmt.Errorf("pack model.tar.gz: %w", err)
	}
	written := []string{modelURI}
	if err := r.storeFile(ctx, filepath.Join(tmp, "model.tar.gz"), modelURI); err != nil {
		return nil, nil, err
	}
	if entries, _ := os.ReadDir(filepath.Join(work, "output", "data")); len(entries) > 0 {
		u := outPath + "/" + job + "/output/output.tar.gz"
		if err := tarGz(filepath.Join(work, "output", "data"), filepath.Join(tmp, "output.tar.gz")); err != nil {
			return nil, nil, err
		}
		if err := r.storeFile(ctx, filepath.Join(tmp, "output.tar.gz"), u); err != nil {
			return nil, nil, err
		}
		written = append(written, u)
	}
	_ = os.RemoveAll(work)
	props := cloneMap(a)
	props["TrainingJobName"] = job
	props["TrainingJobArn"] = fmt.Sprintf("arn:aws:sagemaker:%s:000000000000:training-job/%s", r.o.Region, strings.ToLower(job))
	props["TrainingJobStatus"] = "Completed"
	props["SecondaryStatus"] = "Completed"
	props["ModelArtifacts"] = map[string]any{"S3ModelArtifacts": modelURI}
	return props, written, nil
}

func (r *run) storeFile(ctx context.Context, src, uri string) error {
	p, isS3, err := r.localPath(uri)
	if err != nil {
		return err
	}
	if isS3 {
		return r.o.Objects.PutFile(ctx, src, uri)
	}
	return objectstore.CopyFile(src, p)
}

// unpackSource puts a script-mode source directory (a sourcedir.tar.gz, a
// directory or one file) at dir.
func (r *run) unpackSource(ctx context.Context, src, dir string) error {
	if strings.HasSuffix(src, ".tar.gz") || strings.HasSuffix(src, ".tgz") {
		tmp := dir + ".src"
		if err := r.fetch(ctx, src, tmp); err != nil {
			return err
		}
		entries, err := os.ReadDir(tmp)
		if err != nil || len(entries) != 1 {
			return fmt.Errorf("want one archive, got %d files", len(entries))
		}
		return untarGz(filepath.Join(tmp, entries[0].Name()), dir)
	}
	return r.fetch(ctx, src, dir)
}

func (r *run) model(ctx context.Context, st *pipeline.Step, a map[string]any) (map[string]any, error) {
	pc := obj(a["PrimaryContainer"])
	if u := str(pc["ModelDataUrl"]); u != "" {
		if _, err := r.readURI(ctx, u); err != nil {
			return nil, fmt.Errorf("Arguments.PrimaryContainer.ModelDataUrl: %w", err)
		}
	}
	props := cloneMap(a)
	name := "pipelines-" + r.exec.ID + "-" + jobNameRE.ReplaceAllString(st.Name, "-")
	props["ModelName"] = name
	props["ModelArn"] = fmt.Sprintf("arn:aws:sagemaker:%s:000000000000:model/%s", r.o.Region, strings.ToLower(name))
	return props, nil
}

func tarGz(dir, dst string) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		hdr.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			hdr.Name += "/"
		}
		hdr.ModTime = time.Time{}
		hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		_, err = io.Copy(tw, in)
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	return f.Close()
}

func untarGz(src, dir string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(mustMkdir(dir))
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if d := path.Dir(name); d != "." {
				if err := root.MkdirAll(d, 0o755); err != nil {
					return err
				}
			}
			out, err := root.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, io.LimitReader(tr, 1<<32)); err != nil {
				out.Close()
				return err
			}
			out.Close()
		}
	}
}

func mustMkdir(d string) string {
	_ = os.MkdirAll(d, 0o755)
	return d
}
