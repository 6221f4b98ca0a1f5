package artifact

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bridgeops/bridge/internal/registry/mlflow"
)

// api returns the client of the MLflow server that resolves runs:/,
// models:/ and mlflow-artifacts:/ sources.
func (f *Fetcher) api() (*mlflow.Client, error) {
	if f.mlflow == nil {
		return nil, errors.New("no MLflow server configured to resolve it: set BRIDGE_MLFLOW_URI")
	}
	return f.mlflow, nil
}

// resolveRun turns the part of a runs:/ URI after the colon into the URI of
// the artifact below the run's artifact root.
func (f *Fetcher) resolveRun(ctx context.Context, rest string) (string, error) {
	runID, sub, _ := strings.Cut(strings.TrimLeft(rest, "/"), "/")
	if runID == "" {
		return "", fmt.Errorf("runs:%s: want runs:/<run_id>/<path>", rest)
	}
	api, err := f.api()
	if err != nil {
		return "", fmt.Errorf("runs:%s: %w", rest, err)
	}
	run, err := api.GetRun(ctx, runID)
	if err != nil {
		return "", fmt.Errorf("resolve run %s: %w", runID, err)
	}
	root := run.Info.ArtifactURI
	if root == "" {
		return "", fmt.Errorf("resolve run %s: the server reports no artifact_uri", runID)
	}
	sub = strings.Trim(sub, "/")
	if sub == "" {
		return root, nil
	}
	return strings.TrimRight(root, "/") + "/" + sub, nil
}

// resolveModel turns the part of a models:/ URI after the colon
// (/NAME/VERSION, /NAME/STAGE or /NAME@ALIAS) into the version's download
// URI, as MLflow does.
func (f *Fetcher) resolveModel(ctx context.Context, rest string) (string, error) {
	spec := strings.Trim(rest, "/")
	api, err := f.api()
	if err != nil {
		return "", fmt.Errorf("models:%s: %w", rest, err)
	}
	var name, version string
	if n, alias, ok := strings.Cut(spec, "@"); ok && !strings.Contains(alias, "/") {
		mv, err := api.GetVersionByAlias(ctx, n, alias)
		if err != nil {
			return "", fmt.Errorf("resolve models:/%s: %w", spec, err)
		}
		name, version = n, mv.Version
	} else {
		i := strings.LastIndex(spec, "/")
		if i <= 0 || i == len(spec)-1 {
			return "", fmt.Errorf("models:%s: want models:/<name>/<version>, models:/<name>/<stage> or models:/<name>@<alias>", rest)
		}
		name, version = spec[:i], spec[i+1:]
		if _, err := strconv.Atoi(version); err != nil {
			mvs, err := api.GetLatestVersions(ctx, name, version)
			if err != nil {
				return "", fmt.Errorf("resolve models:/%s: %w", spec, err)
			}
			if len(mvs) == 0 {
				return "", fmt.Errorf("resolve models:/%s: no version of %s is in stage %s", spec, name, version)
			}
			version = mvs[0].Version
		}
	}
	v, err := strconv.Atoi(version)
	if err != nil {
		return "", fmt.Errorf("resolve models:/%s: the server answered version %q", spec, version)
	}
	uri, err := api.GetDownloadURI(ctx, name, v)
	if err != nil {
		return "", fmt.Errorf("resolve models:/%s: %w", spec, err)
	}
	if uri == "" {
		return "", fmt.Errorf("resolve models:/%s: the server reports no artifact_uri", spec)
	}
	return uri, nil
}

// fromMLflowArtifacts fetches mlflow-artifacts:/PATH (or
// mlflow-artifacts://HOST/PATH) from LocalArtifactRoot or through the
// artifact proxy API.
func (f *Fetcher) fromMLflowArtifacts(ctx context.Context, source, dst string, b *budget) error {
	u, err := url.Parse(source)
	if err != nil {
		return fmt.Errorf("parse %s: %w", source, err)
	}
	p, err := mlflow.ArtifactPath(source)
	if err != nil {
		return err
	}
	if f.opts.LocalArtifactRoot != "" && u.Host == "" {
		return f.fromLocal(filepath.Join(f.opts.LocalArtifactRoot, filepath.FromSlash(p)), dst, b)
	}
	var api *mlflow.Client
	if u.Host != "" {
		scheme := "http"
		if tu, err := url.Parse(f.opts.TrackingURI); err == nil && tu.Scheme != "" {
			scheme = tu.Scheme
		}
		api = mlflow.NewClient(scheme+"://"+u.Host, f.opts.Token, f.opts.HTTPClient)
	} else if api, err = f.api(); err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	if err := ensureDir(dst); err != nil {
		return err
	}
	n, err := downloadTree(ctx, api, p, dst, b)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	// An empty listing: the path is a single file (or nothing).
	if err := b.addFile(); err != nil {
		return err
	}
	name := path.Base(p)
	if p == "" {
		name = "artifact"
	}
	if err := downloadFile(ctx, api, p, filepath.Join(dst, name), -1, b); err != nil {
		if mlflow.IsNotFound(err) || errors.Is(err, errNotFound) {
			return fmt.Errorf("artifact %s not found on %s", source, api.BaseURL())
		}
		return err
	}
	return nil
}

// errNotFound marks a 404 answer without an MLflow error code.
var errNotFound = errors.New("not found")

// downloadTree downloads every file below p into dst and returns how many
// entries it found.
func downloadTree(ctx context.Context, api *mlflow.Client, p, dst string, b *budget) (int, error) {
	files, err := api.ListArtifacts(ctx, p)
	if err != nil {
		return 0, fmt.Errorf("list artifacts %s: %w", p, err)
	}
	for _, fi := range files {
		name := fi.Path // a name within p
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
			return 0, fmt.Errorf("list artifacts %s: refusing entry %q", p, fi.Path)
		}
		if err := b.addFile(); err != nil {
			return 0, err
		}
		child := strings.TrimPrefix(p+"/"+name, "/")
		out := filepath.Join(dst, name)
		if fi.IsDir {
			if err := os.Mkdir(out, 0o755); err != nil {
				return 0, err
			}
			if _, err := downloadTree(ctx, api, child, out, b); err != nil {
				return 0, err
			}
			continue
		}
		size := int64(-1)
		if fi.FileSize > 0 {
			size = int64(fi.FileSize)
		}
		if err := downloadFile(ctx, api, child, out, size, b); err != nil {
			return 0, err
		}
	}
	return len(files), nil
}

// downloadFile downloads one artifact file to out and checks its size
// against want (the listed size, when known).
func downloadFile(ctx context.Context, api *mlflow.Client, p, out string, want int64, b *budget) error {
	if want > b.lim.MaxBytes-b.bytes {
		return b.errTooBig()
	}
	body, err := api.DownloadArtifact(ctx, p)
	if err != nil {
		var e *mlflow.Error
		if errors.As(err, &e) && e.StatusCode == http.StatusNotFound {
			err = fmt.Errorf("%w: %w", errNotFound, err)
		}
		return fmt.Errorf("download artifact %s: %w", p, err)
	}
	defer body.Close()
	before := b.bytes
	if err := writeFile(out, body, 0o644, b); err != nil {
		return fmt.Errorf("download artifact %s: %w", p, err)
	}
	if got := b.bytes - before; want >= 0 && got != want {
		return fmt.Errorf("download artifact %s: got %d bytes, want %d (interrupted download?)", p, got, want)
	}
	return nil
}
