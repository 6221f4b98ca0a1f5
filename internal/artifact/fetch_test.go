package artifact

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/model"
)

// writeModel writes a small MLflow model directory into dir and returns the
// contents by relative path.
func writeModel(t testing.TB, dir, tag string) map[string]string {
	t.Helper()
	files := map[string]string{
		"MLmodel":          "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n  sklearn:\n    pickled_model: model.pkl\n# " + tag + "\n",
		"model.pkl":        "pickle bytes of " + tag,
		"requirements.txt": "scikit-learn\n",
		"sub/data.bin":     strings.Repeat(tag, 100),
	}
	for p, body := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// checkModel fails unless dir holds exactly the files of want.
func checkModel(t testing.TB, dir string, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		got[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("model dir %s holds %d files, want %d: %v", dir, len(got), len(want), keys(got))
	}
	for p, body := range want {
		if got[p] != body {
			t.Errorf("%s = %q, want %q", p, got[p], body)
		}
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// tarDir archives dir as a .tar.gz under prefix.
func tarDir(t testing.TB, dir, prefix string) []byte {
	t.Helper()
	var entries []tarEntry
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		entries = append(entries, tarEntry{name: path.Join(prefix, filepath.ToSlash(rel)), body: string(b)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return makeTarGz(t, entries)
}

// fakeMLflow is an MLflow tracking server over a directory of artifacts: the
// artifact proxy API (list, download), runs/get, get-download-uri, aliases
// and latest versions. It counts file downloads.
type fakeMLflow struct {
	root      string            // artifact root on disk
	runs      map[string]string // run id -> artifact_uri
	versions  map[string]string // "name/version" -> artifact_uri
	aliases   map[string]string // "name@alias" -> version
	stages    map[string]string // "name/stage" -> version
	token     string
	downloads atomic.Int64
	truncate  atomic.Bool // send files cut short
}

func (m *fakeMLflow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m.token != "" && r.Header.Get("Authorization") != "Bearer "+m.token {
		http.Error(w, `{"error_code":"UNAUTHENTICATED","message":"bad token"}`, http.StatusUnauthorized)
		return
	}
	notFound := func(what string) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"%s not found"}`, what)
	}
	q := r.URL.Query()
	switch {
	case r.URL.Path == "/api/2.0/mlflow-artifacts/artifacts":
		p := q.Get("path")
		ents, _ := os.ReadDir(filepath.Join(m.root, filepath.FromSlash(p)))
		files := []map[string]any{}
		for _, e := range ents {
			f := map[string]any{"path": e.Name(), "is_dir": e.IsDir()}
			if !e.IsDir() {
				fi, _ := e.Info()
				f["file_size"] = strconv.FormatInt(fi.Size(), 10)
			}
			files = append(files, f)
		}
		json.NewEncoder(w).Encode(map[string]any{"files": files})
	case strings.HasPrefix(r.URL.Path, "/api/2.0/mlflow-artifacts/artifacts/"):
		p := strings.TrimPrefix(r.URL.Path, "/api/2.0/mlflow-artifacts/artifacts/")
		b, err := os.ReadFile(filepath.Join(m.root, filepath.FromSlash(path.Clean("/"+p))))
		if err != nil {
			notFound(p)
			return
		}
		m.downloads.Add(1)
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		if m.truncate.Load() {
			w.Write(b[:len(b)/2])
			return
		}
		w.Write(b)
	case r.URL.Path == "/api/2.0/mlflow/runs/get":
		uri, ok := m.runs[q.Get("run_id")]
		if !ok {
			notFound("run " + q.Get("run_id"))
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"run": map[string]any{"info": map[string]any{"run_id": q.Get("run_id"), "artifact_uri": uri}}})
	case r.URL.Path == "/api/2.0/mlflow/model-versions/get-download-uri":
		uri, ok := m.versions[q.Get("name")+"/"+q.Get("version")]
		if !ok {
			notFound("model version")
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"artifact_uri": uri})
	case r.URL.Path == "/api/2.0/mlflow/registered-models/alias":
		v, ok := m.aliases[q.Get("name")+"@"+q.Get("alias")]
		if !ok {
			notFound("alias")
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"model_version": map[string]any{"name": q.Get("name"), "version": v}})
	case r.URL.Path == "/api/2.0/mlflow/registered-models/get-latest-versions" && r.Method == http.MethodPost:
		var body struct {
			Name   string   `json:"name"`
			Stages []string `json:"stages"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		var mvs []map[string]any
		for _, s := range body.Stages {
			if v, ok := m.stages[body.Name+"/"+s]; ok {
				mvs = append(mvs, map[string]any{"name": body.Name, "version": v})
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"model_versions": mvs})
	default:
		notFound(r.URL.Path)
	}
}

func newFetcher(t testing.TB, opts Options) *Fetcher {
	t.Helper()
	if opts.CacheDir == "" {
		opts.CacheDir = t.TempDir()
	}
	return New(opts)
}

func TestFetchSources(t *testing.T) {
	src := t.TempDir()
	want := writeModel(t, filepath.Join(src, "exp/run1/artifacts/model"), "v1")
	// A parent folder: the model root is found one level down.
	writeModel(t, filepath.Join(src, "parent/model"), "v1")
	if err := os.WriteFile(filepath.Join(src, "model.tar.gz"), tarDir(t, filepath.Join(src, "exp/run1/artifacts/model"), "./"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "nested.tgz"), tarDir(t, filepath.Join(src, "exp/run1/artifacts/model"), "outer/model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(src, "exp/run1/artifacts/model"), filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	mlf := &fakeMLflow{
		root:     src,
		runs:     map[string]string{"run1": "mlflow-artifacts:/exp/run1/artifacts", "runtar": "mlflow-artifacts:/"},
		versions: map[string]string{"iris/3": "runs:/run1/model", "iris/4": "mlflow-artifacts:/model.tar.gz"},
		aliases:  map[string]string{"iris@champion": "3"},
		stages:   map[string]string{"iris/Production": "4"},
		token:    "s3cret",
	}
	srv := httptest.NewServer(mlf)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	tests := []struct {
		name   string
		source string
		opts   Options
	}{
		{"local directory", filepath.Join(src, "exp/run1/artifacts/model"), Options{}},
		{"file URI", "file://" + filepath.Join(src, "exp/run1/artifacts/model"), Options{}},
		{"parent folder", filepath.Join(src, "parent"), Options{}},
		{"symlink to the model directory", filepath.Join(src, "link"), Options{}},
		{"local archive", filepath.Join(src, "model.tar.gz"), Options{}},
		{"archive with nested root", "file://" + filepath.Join(src, "nested.tgz"), Options{}},
		{"mlflow-artifacts over HTTP", "mlflow-artifacts:/exp/run1/artifacts/model", Options{TrackingURI: srv.URL, Token: "s3cret"}},
		{"mlflow-artifacts with host", "mlflow-artifacts://" + host + "/exp/run1/artifacts/model", Options{Token: "s3cret"}},
		{"mlflow-artifacts archive file", "mlflow-artifacts:/model.tar.gz", Options{TrackingURI: srv.URL, Token: "s3cret"}},
		{"mlflow-artifacts local root", "mlflow-artifacts:/exp/run1/artifacts/model", Options{LocalArtifactRoot: src}},
		{"runs URI", "runs:/run1/model", Options{TrackingURI: srv.URL, Token: "s3cret"}},
		{"models URI version", "models:/iris/3", Options{TrackingURI: srv.URL, Token: "s3cret"}},
		{"models URI alias", "models:/iris@champion", Options{TrackingURI: srv.URL, Token: "s3cret"}},
		{"models URI stage to archive", "models:/iris/Production", Options{TrackingURI: srv.URL, Token: "s3cret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFetcher(t, tt.opts)
			dir, err := f.Fetch(context.Background(), model.VersionRef{Model: "iris", Version: 3}, tt.source)
			if err != nil {
				t.Fatal(err)
			}
			checkModel(t, dir, want)
		})
	}
}

func TestFetchErrors(t *testing.T) {
	src := t.TempDir()
	writeModel(t, filepath.Join(src, "a/model"), "a")
	writeModel(t, filepath.Join(src, "b/model"), "b")
	if err := os.MkdirAll(filepath.Join(src, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	bad := makeTarGz(t, []tarEntry{{name: "MLmodel", body: "flavors: {}"}, {name: "../../evil", body: "x"}})
	if err := os.WriteFile(filepath.Join(src, "bad.tar.gz"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	mlf := &fakeMLflow{root: src, runs: map[string]string{}, versions: map[string]string{}, token: "right"}
	srv := httptest.NewServer(mlf)
	defer srv.Close()

	tests := []struct {
		name, source string
		opts         Options
		want         string
	}{
		{"missing path", filepath.Join(src, "nope"), Options{}, "does not exist"},
		{"no MLmodel", filepath.Join(src, "empty"), Options{}, "no MLmodel file"},
		{"two models", src, Options{LocalArtifactRoot: src}, "several models"},
		{"unsafe archive", filepath.Join(src, "bad.tar.gz"), Options{}, "path traversal"},
		{"unknown scheme", "gs://bucket/model", Options{}, "unsupported artifact source scheme"},
		{"runs without server", "runs:/abc/model", Options{}, "BRIDGE_MLFLOW_URI"},
		{"unknown run", "runs:/nope/model", Options{TrackingURI: srv.URL, Token: "right"}, "RESOURCE_DOES_NOT_EXIST"},
		{"unknown model version", "models:/iris/9", Options{TrackingURI: srv.URL, Token: "right"}, "RESOURCE_DOES_NOT_EXIST"},
		{"bad models URI", "models:/iris", Options{TrackingURI: srv.URL, Token: "right"}, "want models:/<name>/<version>"},
		{"wrong token", "mlflow-artifacts:/a/model", Options{TrackingURI: srv.URL, Token: "wrong"}, "BRIDGE_REGISTRY_TOKEN"},
		{"missing artifact", "mlflow-artifacts:/nothing/here", Options{TrackingURI: srv.URL, Token: "right"}, "not found"},
		{"size limit", filepath.Join(src, "a/model"), Options{Limits: Limits{MaxBytes: 100}}, "larger than 100 bytes"},
		{"empty source", "", Options{}, "no artifact source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFetcher(t, tt.opts)
			_, err := f.Fetch(context.Background(), model.VersionRef{Model: "m", Version: 1}, tt.source)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			// A failed fetch leaves no cache entry and no temporary files.
			ents, _ := os.ReadDir(filepath.Join(f.opts.CacheDir, entryName("m")))
			if len(ents) != 0 {
				t.Errorf("failed fetch left %d entries in the cache", len(ents))
			}
		})
	}
}

func TestFetchCache(t *testing.T) {
	src := t.TempDir()
	want := writeModel(t, src, "v1")
	mlf := &fakeMLflow{root: src}
	srv := httptest.NewServer(mlf)
	defer srv.Close()
	ctx := context.Background()
	ref := model.VersionRef{Model: "iris/prod model", Version: 7}
	f := newFetcher(t, Options{TrackingURI: srv.URL})

	// Concurrent fetches of one version download it once.
	const n = 8
	dirs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dirs[i], errs[i] = f.Fetch(ctx, ref, "mlflow-artifacts:/")
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if dirs[i] != dirs[0] {
			t.Fatalf("fetch %d returned %s, fetch 0 %s", i, dirs[i], dirs[0])
		}
	}
	if got := mlf.downloads.Load(); got != int64(len(want)) {
		t.Fatalf("%d downloads for %d files, want one each", got, len(want))
	}
	checkModel(t, dirs[0], want)

	// Reuse: no download at all.
	dir, err := f.Fetch(ctx, ref, "mlflow-artifacts:/")
	if err != nil || dir != dirs[0] {
		t.Fatalf("refetch = %s, %v", dir, err)
	}
	if got := mlf.downloads.Load(); got != int64(len(want)) {
		t.Fatalf("cached fetch downloaded again (%d downloads)", got)
	}

	// A corrupted cache entry fails verification and is fetched again.
	if err := os.WriteFile(filepath.Join(dir, "model.pkl"), []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir, err = f.Fetch(ctx, ref, "mlflow-artifacts:/")
	if err != nil {
		t.Fatal(err)
	}
	checkModel(t, dir, want)
	if got := mlf.downloads.Load(); got != 2*int64(len(want)) {
		t.Fatalf("%d downloads after corruption, want %d", got, 2*len(want))
	}

	// Files the model writes itself (Python bytecode) do not invalidate it.
	if err := os.MkdirAll(filepath.Join(dir, "__pycache__"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "__pycache__", "x.pyc"), []byte("pyc"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Fetch(ctx, ref, "mlflow-artifacts:/"); err != nil {
		t.Fatal(err)
	}
	if got := mlf.downloads.Load(); got != 2*int64(len(want)) {
		t.Fatalf("extra files caused a download (%d downloads)", got)
	}

	// Another fetcher on the same cache (a restarted Bridge) reuses it.
	f2 := New(Options{CacheDir: f.opts.CacheDir, TrackingURI: srv.URL})
	if _, err := f2.Fetch(ctx, ref, "mlflow-artifacts:/"); err != nil {
		t.Fatal(err)
	}
	if got := mlf.downloads.Load(); got != 2*int64(len(want)) {
		t.Fatalf("restarted fetcher downloaded again (%d downloads)", got)
	}
}

func TestFetchInterruptedDownloadIsNotCached(t *testing.T) {
	src := t.TempDir()
	want := writeModel(t, src, "v1")
	mlf := &fakeMLflow{root: src}
	mlf.truncate.Store(true)
	srv := httptest.NewServer(mlf)
	defer srv.Close()
	f := newFetcher(t, Options{TrackingURI: srv.URL})
	ref := model.VersionRef{Model: "m", Version: 1}
	if _, err := f.Fetch(context.Background(), ref, "mlflow-artifacts:/"); err == nil {
		t.Fatal("fetch of truncated files succeeded")
	}
	if _, err := os.Stat(filepath.Join(f.opts.CacheDir, entryName("m"), "1")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("partial download left a cache entry (stat err %v)", err)
	}
	// Leftovers of a Bridge that died while fetching go once they are old;
	// a recent one may belong to another process still fetching.
	modelDir := filepath.Join(f.opts.CacheDir, entryName("m"))
	stale, fresh := filepath.Join(modelDir, ".fetch-1-stale"), filepath.Join(modelDir, ".fetch-1-fresh")
	for _, d := range []string{stale, fresh} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleAfter)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	mlf.truncate.Store(false)
	dir, err := f.Fetch(context.Background(), ref, "mlflow-artifacts:/")
	if err != nil {
		t.Fatal(err)
	}
	checkModel(t, dir, want)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("stale temporary fetch directory was not removed")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("recent temporary fetch directory was removed")
	}
}

// fakeS3 answers the S3 calls the fetcher makes (ListObjectsV2 with paging,
// GetObject with ranges) from memory, path-style, like MinIO.
type fakeS3 struct {
	bucket  string
	objects map[string][]byte
	lists   atomic.Int64
}

func (s *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDTEST/") {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
		return
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket != s.bucket {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>%s</BucketName></Error>`, bucket)
		return
	}
	if key == "" && r.URL.Query().Get("list-type") == "2" {
		s.lists.Add(1)
		s.list(w, r)
		return
	}
	body, ok := s.objects[key]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>%s</Key></Error>`, key)
		return
	}
	w.Header().Set("ETag", `"etag"`)
	http.ServeContent(w, r, key, time.Unix(0, 0), strings.NewReader(string(body)))
}

func (s *fakeS3) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	prefix := q.Get("prefix")
	maxKeys := 2 // small pages so paging is exercised
	var ks []string
	for k := range s.objects {
		if strings.HasPrefix(k, prefix) && k > q.Get("continuation-token") {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	type content struct {
		Key  string `xml:"Key"`
		Size int64  `xml:"Size"`
	}
	out := struct {
		XMLName               xml.Name  `xml:"ListBucketResult"`
		Name                  string    `xml:"Name"`
		Prefix                string    `xml:"Prefix"`
		KeyCount              int       `xml:"KeyCount"`
		MaxKeys               int       `xml:"MaxKeys"`
		IsTruncated           bool      `xml:"IsTruncated"`
		NextContinuationToken string    `xml:"NextContinuationToken,omitempty"`
		Contents              []content `xml:"Contents"`
	}{Name: s.bucket, Prefix: prefix, MaxKeys: maxKeys}
	if len(ks) > maxKeys {
		out.IsTruncated = true
		out.NextContinuationToken = ks[maxKeys-1]
		ks = ks[:maxKeys]
	}
	for _, k := range ks {
		out.Contents = append(out.Contents, content{k, int64(len(s.objects[k]))})
	}
	out.KeyCount = len(ks)
	w.Header().Set("Content-Type", "application/xml")
	xml.NewEncoder(w).Encode(out)
}

func TestFetchS3(t *testing.T) {
	src := t.TempDir()
	want := writeModel(t, filepath.Join(src, "model"), "s3")
	objects := map[string][]byte{"models/archive.tar.gz": tarDir(t, filepath.Join(src, "model"), "model")}
	for p, body := range want {
		objects["models/iris/artifacts/"+p] = []byte(body)
	}
	objects["models/iris/artifacts/"] = nil // a "directory marker" some tools write
	objects["models/iris-other/MLmodel"] = []byte("not part of the model")
	fake := &fakeS3{bucket: "mlflow", objects: objects}
	srv := httptest.NewServer(fake)
	defer srv.Close()

	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(src, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(src, "none"))
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_S3", "")

	tests := []struct {
		name, source, env, want string
	}{
		{"tree via MLFLOW_S3_ENDPOINT_URL", "s3://mlflow/models/iris/artifacts", "MLFLOW_S3_ENDPOINT_URL", ""},
		{"archive via AWS_ENDPOINT_URL", "s3://mlflow/models/archive.tar.gz", "AWS_ENDPOINT_URL", ""},
		{"missing key", "s3://mlflow/models/nothing", "MLFLOW_S3_ENDPOINT_URL", "no such object or prefix"},
		{"missing bucket", "s3://other/models/iris", "MLFLOW_S3_ENDPOINT_URL", "NoSuchBucket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("MLFLOW_S3_ENDPOINT_URL", "")
			t.Setenv(tt.env, srv.URL)
			t.Setenv("BRIDGE_ENV_FILE", filepath.Join(src, "none"))
			c, err := config.Load() // as bridge run reads its settings
			if err != nil {
				t.Fatal(err)
			}
			f := newFetcher(t, Options{S3: S3OptionsFrom(c.AWS)})
			dir, err := f.Fetch(context.Background(), model.VersionRef{Model: "iris", Version: 1}, tt.source)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkModel(t, dir, want)
		})
	}

	// A client given in the options is used as is.
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
	f := newFetcher(t, Options{S3: S3Options{Client: client}})
	dir, err := f.Fetch(context.Background(), model.VersionRef{Model: "iris", Version: 2}, "s3://mlflow/models/iris/artifacts/")
	if err != nil {
		t.Fatal(err)
	}
	checkModel(t, dir, want)
}
