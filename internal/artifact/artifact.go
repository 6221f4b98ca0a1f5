// Package artifact fetches model version artifacts into a local cache and
// returns the model root: the folder holding the MLmodel file.
//
// A Fetcher implements target.Fetcher. Build one with New:
//
//	f := artifact.New(artifact.Options{
//		CacheDir:    cfg.ModelCache,         // BRIDGE_MODEL_CACHE_PATH
//		TrackingURI: cfg.MLflowURI,          // MLflow server for mlflow-artifacts:/, runs:/, models:/
//		Token:       cfg.RegistryToken,      // bearer token of that server, if any
//		LocalArtifactRoot: storeArtifactDir, // embedded registry: mlflow-artifacts:/ is this directory
//	})
//	dir, err := f.Fetch(ctx, model.VersionRef{Model: "iris", Version: 3}, source)
//
// Sources:
//
//   - local paths and file:// URIs (a directory, or a .tar.gz/.tgz archive);
//   - mlflow-artifacts:/PATH (the MLflow artifact proxy API of TrackingURI,
//     or LocalArtifactRoot/PATH when set);
//   - runs:/RUN_ID/PATH (the run's artifact_uri from MLflow's runs/get, then
//     PATH below it);
//   - models:/NAME/VERSION (MLflow's model-versions/get-download-uri);
//   - s3://BUCKET/KEY (AWS SDK for Go v2; MLFLOW_S3_ENDPOINT_URL or
//     AWS_ENDPOINT_URL select a MinIO-style server with path-style URLs).
//
// Whatever the source, an artifact that is a single .tar.gz/.tgz file is
// extracted, refusing path traversal, absolute paths, links escaping the
// root, device files and archives over Limits.
//
// The cache holds one entry per (model, version), under
// CacheDir/<model>-<hash>/<version>/: files/ with the artifact and
// manifest.json with every file's size and SHA-256. An entry is assembled in
// a temporary directory and renamed into place only when complete, so a
// partial download never counts; on reuse every file is verified against
// the manifest, and a mismatch fetches again.
package artifact

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/registry/mlflow"
)

// Options configure a Fetcher. Only CacheDir is required.
type Options struct {
	// CacheDir is where fetched artifacts are kept (BRIDGE_MODEL_CACHE_PATH).
	CacheDir string
	// TrackingURI is the MLflow server that answers for mlflow-artifacts:/,
	// runs:/ and models:/ sources (BRIDGE_MLFLOW_URI), e.g.
	// http://127.0.0.1:5000.
	TrackingURI string
	// Token is sent as a bearer token to TrackingURI, when set.
	Token string
	// LocalArtifactRoot, when set, is the directory mlflow-artifacts:/PATH
	// resolves to instead of the HTTP artifact API (the embedded registry
	// keeps its artifacts there).
	LocalArtifactRoot string
	// S3 configures s3:// sources.
	S3 S3Options
	// Packages resolves SageMaker model package ARNs (modelpackage.go);
	// nil means they are refused.
	Packages PackageResolver
	// Limits bound the size and file count of one artifact.
	Limits Limits
	// HTTPClient is used for the MLflow API; nil means a client with a
	// 30-minute overall timeout.
	HTTPClient *http.Client
	// Logger receives progress; nil means slog.Default().
	Logger *slog.Logger
}

// Fetcher fetches artifacts into the cache. It is safe for concurrent use:
// concurrent fetches of the same version download it once.
type Fetcher struct {
	opts Options
	// mlflow is the client of TrackingURI; nil when none is configured.
	mlflow *mlflow.Client
	log    *slog.Logger

	s3once sync.Once
	s3     s3API
	s3err  error

	mu    sync.Mutex
	locks map[string]chan struct{}
}

// New returns a Fetcher.
func New(opts Options) *Fetcher {
	opts.Limits = opts.Limits.withDefaults()
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Minute}
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	f := &Fetcher{
		opts:  opts,
		log:   log.With("component", "artifact"),
		locks: map[string]chan struct{}{},
	}
	if opts.TrackingURI != "" {
		f.mlflow = mlflow.NewClient(opts.TrackingURI, opts.Token, opts.HTTPClient)
	}
	return f
}

// maxIndirections bounds runs:/ and models:/ resolving to one another.
const maxIndirections = 8

// Fetch returns the local model root of ref's artifact at source, fetching
// it into the cache unless a verified copy is already there.
func (f *Fetcher) Fetch(ctx context.Context, ref model.VersionRef, source string) (string, error) {
	if f.opts.CacheDir == "" {
		return "", errors.New("artifact cache directory is not set (BRIDGE_MODEL_CACHE_PATH)")
	}
	if source == "" {
		return "", fmt.Errorf("version %s has no artifact source: register it with a source URI or directory", ref)
	}
	modelDir := filepath.Join(f.opts.CacheDir, entryName(ref.Model))
	entry := filepath.Join(modelDir, strconv.Itoa(ref.Version))

	unlock, err := f.lock(ctx, entry)
	if err != nil {
		return "", err
	}
	defer unlock()

	if dir, ok := f.cached(entry, source); ok {
		return dir, nil
	}
	if err := os.MkdirAll(modelDir, 0o755); err != nil {
		return "", fmt.Errorf("fetch %s: create cache: %w", ref, err)
	}
	removeStale(modelDir, ".fetch-"+strconv.Itoa(ref.Version)+"-")
	tmp, err := os.MkdirTemp(modelDir, ".fetch-"+strconv.Itoa(ref.Version)+"-")
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", ref, err)
	}
	defer os.RemoveAll(tmp) // after a successful rename there is nothing left
	start := time.Now()
	files := filepath.Join(tmp, "files")
	if err := f.materialize(ctx, source, files, &budget{lim: f.opts.Limits}, 0); err != nil {
		return "", fmt.Errorf("fetch %s from %s: %w", ref, source, err)
	}
	if err := f.extractSingleArchive(files); err != nil {
		return "", fmt.Errorf("fetch %s from %s: %w", ref, source, err)
	}
	root, err := findModelRoot(files)
	if err != nil {
		return "", fmt.Errorf("fetch %s from %s: %w", ref, source, err)
	}
	entries, err := buildManifest(files)
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", ref, err)
	}
	m := manifest{Source: source, Root: root, Created: time.Now().UTC(), Files: entries}
	if err := writeManifest(tmp, m); err != nil {
		return "", fmt.Errorf("fetch %s: %w", ref, err)
	}
	if err := replaceDir(tmp, entry); err != nil {
		return "", fmt.Errorf("fetch %s: %w", ref, err)
	}
	var size int64
	for _, e := range entries {
		size += e.Size
	}
	f.log.Info("artifact fetched", "version", ref.String(), "source", source, "files", len(entries), "bytes", size, "took", time.Since(start).Round(time.Millisecond))
	return filepath.Join(entry, "files", filepath.FromSlash(root)), nil
}

// cached returns the model root of a verified cache entry for source.
func (f *Fetcher) cached(entry, source string) (string, bool) {
	m, err := readManifest(entry)
	if err != nil {
		return "", false
	}
	files := filepath.Join(entry, "files")
	if m.Source != source {
		f.log.Info("artifact source changed, fetching again", "entry", entry, "was", m.Source, "now", source)
		return "", false
	}
	if err := m.verify(files); err != nil {
		f.log.Warn("cached artifact failed verification, fetching again", "entry", entry, "err", err)
		return "", false
	}
	return filepath.Join(files, filepath.FromSlash(m.Root)), true
}

// replaceDir moves the complete directory tmp to dst, replacing whatever
// was at dst.
func replaceDir(tmp, dst string) error {
	if _, err := os.Lstat(dst); err == nil {
		trash := tmp + ".old"
		if err := os.Rename(dst, trash); err != nil {
			return fmt.Errorf("replace cache entry: %w", err)
		}
		defer os.RemoveAll(trash)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("install cache entry: %w", err)
	}
	return nil
}

// lock serialises fetches of one cache entry within this process.
func (f *Fetcher) lock(ctx context.Context, key string) (func(), error) {
	f.mu.Lock()
	ch, ok := f.locks[key]
	if !ok {
		ch = make(chan struct{}, 1)
		f.locks[key] = ch
	}
	f.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// materialize writes the artifact at source into dst (which must not exist).
func (f *Fetcher) materialize(ctx context.Context, source, dst string, b *budget, depth int) error {
	if depth > maxIndirections {
		return fmt.Errorf("too many indirections resolving %s (runs:/ and models:/ pointing at each other?)", source)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	scheme, rest, hasScheme := strings.Cut(source, ":")
	if !hasScheme || len(scheme) == 1 || strings.ContainsAny(scheme, "/\\") { // plain path (or C:\ style)
		return f.fromLocal(source, dst, b)
	}
	switch strings.ToLower(scheme) {
	case "file":
		u, err := url.Parse(source)
		if err != nil {
			return fmt.Errorf("parse %s: %w", source, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return fmt.Errorf("file URI %s names host %q: only local files are supported", source, u.Host)
		}
		return f.fromLocal(u.Path, dst, b)
	case "mlflow-artifacts":
		return f.fromMLflowArtifacts(ctx, source, dst, b)
	case "runs":
		uri, err := f.resolveRun(ctx, rest)
		if err != nil {
			return err
		}
		f.log.Debug("resolved run artifact", "source", source, "uri", uri)
		return f.materialize(ctx, uri, dst, b, depth+1)
	case "models":
		uri, err := f.resolveModel(ctx, rest)
		if err != nil {
			return err
		}
		f.log.Debug("resolved model artifact", "source", source, "uri", uri)
		return f.materialize(ctx, uri, dst, b, depth+1)
	case "s3", "s3a", "s3n":
		return f.fromS3(ctx, source, dst, b)
	case "arn":
		if IsModelPackageARN(source) {
			return f.fromModelPackage(ctx, source, dst, b, depth)
		}
		return fmt.Errorf("unsupported artifact source %s: of ARNs, only SageMaker model package versions are", source)
	default:
		return fmt.Errorf("unsupported artifact source scheme %q in %s: use a local path, file://, mlflow-artifacts:/, runs:/, models:/ or s3://", scheme, source)
	}
}

// extractSingleArchive replaces a tree that holds nothing but one .tar.gz
// file with the archive's contents.
func (f *Fetcher) extractSingleArchive(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(ents) != 1 || !ents[0].Type().IsRegular() || !IsArchive(ents[0].Name()) {
		return nil
	}
	archive := filepath.Join(dir, ents[0].Name())
	out := dir + ".x"
	if err := os.Mkdir(out, 0o755); err != nil {
		return err
	}
	if err := extractFile(archive, out, f.opts.Limits); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(out, dir)
}

func extractFile(archive, dst string, lim Limits) error {
	a, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := ExtractTarGz(a, dst, lim); err != nil {
		return fmt.Errorf("extract %s: %w", filepath.Base(archive), err)
	}
	return nil
}

// ensureDir creates dst for a tree download.
func ensureDir(dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

// staleAfter is how old a temporary fetch directory must be before it is
// taken for the leftover of a Bridge that died while fetching.
const staleAfter = time.Hour

// removeStale removes leftover temporary directories with prefix in dir.
func removeStale(dir, prefix string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleAfter {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}
