package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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

// cacheKeyAttributes are the arguments SageMaker Pipelines compares to
// decide whether a step's earlier run can be reused ("Default cache key
// attributes by pipeline step type"). Output locations, resources, the role
// and stopping conditions are not among them, so a step whose output path is
// built from Execution.PipelineExecutionId (the SDK's default) still hits
// the cache and reuses the earlier run's outputs, as on SageMaker.
var cacheKeyAttributes = map[string][]string{
	pipeline.TypeProcessing: {"AppSpecification", "Environment", "ProcessingInputs"},
	pipeline.TypeTraining: {"AlgorithmSpecification", "CheckpointConfig", "DebugHookConfig", "DebugRuleConfigurations",
		"Environment", "HyperParameters", "InputDataConfig"},
}

// cacheKey hashes, within one pipeline and step, the step's cache key
// attributes (resolved), its property files and the contents of its inputs.
func (r *run) cacheKey(ctx context.Context, st *pipeline.Step, args map[string]any, inputs []string) (string, error) {
	h := sha256.New()
	keyed := map[string]any{}
	for _, k := range cacheKeyAttributes[st.Type] {
		if v, ok := args[k]; ok {
			keyed[k] = v
		}
	}
	b, _ := json.Marshal(keyed) // map keys are sorted: canonical
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", r.exec.Pipeline, st.Name, st.Type, b)
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
