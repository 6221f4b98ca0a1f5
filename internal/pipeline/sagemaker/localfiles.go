package sagemaker

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// CodeDir is where a processing step's uploaded scripts appear in its
// container (the SageMaker Python SDK's place for `code=`).
const CodeDir = "/opt/ml/processing/input/code"

// refKind says what a local reference is and how it is uploaded.
type refKind int

const (
	refData      refKind = iota // a file or directory, uploaded as is
	refCode                     // a script named in ContainerEntrypoint/ContainerArguments
	refSourceDir                // sagemaker_submit_directory: packed into sourcedir.tar.gz
)

// localRef is one place in the definition that names a local file.
type localRef struct {
	step  string
	field string // where, for messages
	path  string // as written
	kind  refKind
	// set rewrites the field to the uploaded location (an s3:// URI, or
	// for code the path inside the container).
	set func(string)
	// args is the step's Arguments (to add the code input).
	args map[string]any
}

// isRemote reports whether a URI names something SageMaker can read
// itself, or is not a plain string.
func isRemote(s string) bool {
	for _, p := range []string{"s3://", "https://", "http://"} {
		if strings.HasPrefix(strings.ToLower(s), p) {
			return true
		}
	}
	return false
}

// localRefs finds the references to local files in the definition (pure:
// code candidates are checked for existence later).
func (d *Definition) localRefs() []localRef {
	var refs []localRef
	for _, s := range d.steps {
		name, _ := s["Name"].(string)
		args, _ := s["Arguments"].(map[string]any)
		if args == nil {
			continue
		}
		switch s["Type"] {
		case "Processing":
			ins, _ := args["ProcessingInputs"].([]any)
			for i, raw := range ins {
				in, _ := raw.(map[string]any)
				s3in, _ := in["S3Input"].(map[string]any)
				if u, ok := s3in["S3Uri"].(string); ok && u != "" && !isRemote(u) {
					refs = append(refs, localRef{step: name, field: fmt.Sprintf("Arguments.ProcessingInputs[%d].S3Input.S3Uri", i), path: u, kind: refData,
						set: func(v string) { s3in["S3Uri"] = v }})
				}
			}
			app, _ := args["AppSpecification"].(map[string]any)
			for _, key := range []string{"ContainerEntrypoint", "ContainerArguments"} {
				list, _ := app[key].([]any)
				for i, raw := range list {
					v, ok := raw.(string)
					if !ok || v == "" || isRemote(v) || strings.HasPrefix(v, "/opt/ml/") || strings.HasPrefix(v, "-") {
						continue
					}
					i, list := i, list
					refs = append(refs, localRef{step: name, field: fmt.Sprintf("Arguments.AppSpecification.%s[%d]", key, i), path: v, kind: refCode,
						set: func(p string) { list[i] = p }, args: args})
				}
			}
		case "Training":
			chans, _ := args["InputDataConfig"].([]any)
			for i, raw := range chans {
				ch, _ := raw.(map[string]any)
				ds, _ := ch["DataSource"].(map[string]any)
				s3ds, _ := ds["S3DataSource"].(map[string]any)
				if u, ok := s3ds["S3Uri"].(string); ok && u != "" && !isRemote(u) {
					refs = append(refs, localRef{step: name, field: fmt.Sprintf("Arguments.InputDataConfig[%d].DataSource.S3DataSource.S3Uri", i), path: u, kind: refData,
						set: func(v string) { s3ds["S3Uri"] = v }})
				}
			}
			hp, _ := args["HyperParameters"].(map[string]any)
			if raw, ok := hp["sagemaker_submit_directory"].(string); ok {
				// The SDK writes hyperparameters JSON-encoded: "\"s3://...\"".
				val, quoted := raw, false
				var un string
				if json.Unmarshal([]byte(raw), &un) == nil {
					val, quoted = un, true
				}
				if val != "" && !isRemote(val) {
					refs = append(refs, localRef{step: name, field: "Arguments.HyperParameters.sagemaker_submit_directory", path: val, kind: refSourceDir,
						set: func(v string) {
							if quoted {
								b, _ := json.Marshal(v)
								v = string(b)
							}
							hp["sagemaker_submit_directory"] = v
						}})
				}
			}
		}
	}
	return refs
}

// localPath turns a reference into a path on this machine: file:// URIs and
// paths relative to the definition's directory.
func localPath(ref, baseDir string) string {
	p := strings.TrimPrefix(ref, "file://")
	if !filepath.IsAbs(p) {
		p = filepath.Join(baseDir, p)
	}
	return filepath.Clean(p)
}

// Upload is one local file or directory copied to S3.
type Upload struct {
	Step      string `json:"step"`
	Field     string `json:"field"`
	LocalPath string `json:"localPath"`
	S3URI     string `json:"s3Uri"`
	Files     int    `json:"files"`
	Bytes     int64  `json:"bytes"`
	Skipped   bool   `json:"alreadyThere,omitempty"` // same content was uploaded before
}

// object is one object to put.
type object struct {
	key  string
	data []byte
}

// prepared is a reference with its content read and its target chosen.
// The scripts of one processing step are prepared together: refs lists
// them, in the order their fields appear.
type prepared struct {
	Upload
	objects []object
	ref     localRef
	code    []localRef
}

// prepare reads the local files of the references and chooses their keys
// under prefix: content-addressed, so an unchanged file keeps its URI (and
// the pipeline definition stays the same) from run to run.
func prepare(refs []localRef, baseDir, bucket, prefix string) ([]prepared, error) {
	var out []prepared
	codeOf := map[string]int{} // step -> index in out
	for _, r := range refs {
		p := localPath(r.path, baseDir)
		st, err := os.Stat(p)
		if r.kind == refCode {
			// A code candidate is a local script only when it exists as a
			// file; other arguments are passed on unchanged.
			if !strings.HasPrefix(r.path, "file://") && (err != nil || !st.Mode().IsRegular()) {
				continue
			}
			if err == nil && !st.Mode().IsRegular() {
				err = fmt.Errorf("not a regular file")
			}
			if err != nil {
				return nil, fmt.Errorf("step %s %s: script %s: %w", r.step, r.field, r.path, err)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("step %s %s: %w", r.step, r.field, err)
			}
			i, ok := codeOf[r.step]
			if !ok {
				i = len(out)
				codeOf[r.step] = i
				out = append(out, prepared{ref: r, Upload: Upload{Step: r.step, Field: "Arguments.AppSpecification (scripts)"}})
			}
			pr := &out[i]
			pr.code = append(pr.code, r)
			base := filepath.Base(p)
			dup := false
			for _, o := range pr.objects {
				if o.key == base {
					if !bytes.Equal(o.data, b) {
						return nil, fmt.Errorf("step %s: two different scripts are named %s; both would land in %s", r.step, base, CodeDir)
					}
					dup = true
				}
			}
			if !dup {
				pr.objects = append(pr.objects, object{key: base, data: b})
				pr.LocalPath = strings.TrimPrefix(pr.LocalPath+", "+p, ", ")
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("step %s %s: local path %s: %w", r.step, r.field, r.path, err)
		}
		var files []object
		switch {
		case r.kind == refSourceDir && st.IsDir():
			b, err := tarGz(p)
			if err != nil {
				return nil, fmt.Errorf("step %s %s: pack %s: %w", r.step, r.field, p, err)
			}
			files = []object{{key: "sourcedir.tar.gz", data: b}}
		case st.IsDir():
			files, err = readTree(p)
			if err != nil {
				return nil, fmt.Errorf("step %s %s: read %s: %w", r.step, r.field, p, err)
			}
			if len(files) == 0 {
				return nil, fmt.Errorf("step %s %s: directory %s has no files to upload", r.step, r.field, p)
			}
		case st.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("step %s %s: %w", r.step, r.field, err)
			}
			files = []object{{key: filepath.Base(p), data: b}}
		default:
			return nil, fmt.Errorf("step %s %s: %s is not a regular file or directory", r.step, r.field, p)
		}
		out = append(out, prepared{ref: r, objects: files, Upload: Upload{Step: r.step, Field: r.field, LocalPath: p}})
		if st.IsDir() && r.kind == refData {
			out[len(out)-1].S3URI = "/" // a prefix
		}
	}
	for i := range out {
		pr := &out[i]
		kind := map[refKind]string{refData: "input", refCode: "code", refSourceDir: "source"}[pr.ref.kind]
		h := sha256.New()
		for _, f := range pr.objects {
			fmt.Fprintf(h, "%s\x00%d\x00", f.key, len(f.data))
			h.Write(f.data)
			pr.Bytes += int64(len(f.data))
		}
		pr.Files = len(pr.objects)
		dir := path.Join(prefix, "local", kind, hex.EncodeToString(h.Sum(nil))[:16])
		for j := range pr.objects {
			pr.objects[j].key = dir + "/" + pr.objects[j].key
		}
		if pr.S3URI == "/" || pr.ref.kind == refCode {
			pr.S3URI = "s3://" + bucket + "/" + dir + "/"
		} else {
			pr.S3URI = "s3://" + bucket + "/" + pr.objects[0].key
		}
	}
	return out, nil
}

// rewrite points the definition at the uploaded copies. The scripts of a
// processing step come in one extra ProcessingInput named "code" (SageMaker
// downloads it to CodeDir) and their arguments become CodeDir paths.
func rewrite(preps []prepared) {
	for _, p := range preps {
		if p.ref.kind != refCode {
			p.ref.set(p.S3URI)
			continue
		}
		for _, r := range p.code {
			r.set(CodeDir + "/" + filepath.Base(localPath(r.path, "/")))
		}
		args := p.ref.args
		ins, _ := args["ProcessingInputs"].([]any)
		names := map[string]bool{}
		for _, raw := range ins {
			in, _ := raw.(map[string]any)
			if n, ok := in["InputName"].(string); ok {
				names[n] = true
			}
		}
		name := "code"
		for i := 2; names[name]; i++ {
			name = fmt.Sprintf("code-%d", i)
		}
		args["ProcessingInputs"] = append(ins, map[string]any{
			"InputName":  name,
			"AppManaged": false,
			"S3Input": map[string]any{
				"S3Uri":                  p.S3URI,
				"LocalPath":              CodeDir,
				"S3DataType":             "S3Prefix",
				"S3InputMode":            "File",
				"S3DataDistributionType": "FullyReplicated",
			},
		})
	}
}

// readTree reads every regular file under dir, keyed by slash path.
func readTree(dir string) ([]object, error) {
	var out []object
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, object{key: filepath.ToSlash(rel), data: b})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out, err
}

// tarGz packs a directory's files into a gzipped tarball whose bytes depend
// only on the files' names, modes and contents.
func tarGz(dir string) ([]byte, error) {
	files, err := readTree(dir)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		mode := int64(0o644)
		if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.key))); err == nil && st.Mode()&0o111 != 0 {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Name: f.key, Mode: mode, Size: int64(len(f.data)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
