package local

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bridgeops/bridge/internal/objectstore"
	"github.com/bridgeops/bridge/internal/pipeline"
)

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
	job := rec.job
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
	metricDefs, err := metricDefinitions(obj(a["AlgorithmSpecification"]))
	if err != nil {
		return nil, nil, err
	}
	argv := append([]string{python, program}, userArgs...)
	if err := r.commandWithin(ctx, a, st.Name, rec, work, ContainerRoot+"/code", argv, env); err != nil {
		if b, rerr := os.ReadFile(filepath.Join(work, "output", "failure")); rerr == nil && len(b) > 0 {
			return nil, nil, fmt.Errorf("%w; /opt/ml/output/failure: %s", err, strings.TrimSpace(string(b)))
		}
		return nil, nil, err
	}
	metrics, err := finalMetrics(metricDefs, r.logPath(st.Name), time.Now())
	if err != nil {
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
	if metrics != nil {
		props["FinalMetricDataList"] = metrics
	}
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
