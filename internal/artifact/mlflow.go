package artifact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// mlflowClient makes the few MLflow REST calls that resolve artifact URIs:
// runs/get, model-versions/get-download-uri, aliases and latest versions,
// and the artifact proxy's list and download.
type mlflowClient struct {
	base  string // tracking server URL without trailing slash
	token string
	http  *http.Client
}

// errNotFound marks 404 answers.
var errNotFound = errors.New("not found")

func (c *mlflowClient) configured() error {
	if c.base == "" {
		return errors.New("no MLflow server configured to resolve it: set BRIDGE_MLFLOW_URI")
	}
	return nil
}

// do sends a request to base+p and returns the response when it is 200.
func (c *mlflowClient) do(ctx context.Context, method, base, p string, q url.Values, body any) (*http.Response, error) {
	u := base + p
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, p, err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var e struct {
		Code    string `json:"error_code"`
		Message string `json:"message"`
	}
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &e) == nil && e.Message != "" {
		msg = e.Code + ": " + e.Message
	}
	err = fmt.Errorf("%s %s: HTTP %d: %s", method, p, resp.StatusCode, msg)
	if resp.StatusCode == http.StatusNotFound || e.Code == "RESOURCE_DOES_NOT_EXIST" {
		err = fmt.Errorf("%w: %w", errNotFound, err)
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		err = fmt.Errorf("%w (check BRIDGE_REGISTRY_TOKEN)", err)
	}
	return nil, err
}

func (c *mlflowClient) getJSON(ctx context.Context, method, p string, q url.Values, body, out any) error {
	resp, err := c.do(ctx, method, c.base, p, q, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, p, err)
	}
	return nil
}

// resolveRun turns the part of a runs:/ URI after the colon into the URI of
// the artifact below the run's artifact root.
func (f *Fetcher) resolveRun(ctx context.Context, rest string) (string, error) {
	runID, sub, _ := strings.Cut(strings.TrimLeft(rest, "/"), "/")
	if runID == "" {
		return "", fmt.Errorf("runs:%s: want runs:/<run_id>/<path>", rest)
	}
	if err := f.api.configured(); err != nil {
		return "", fmt.Errorf("runs:%s: %w", rest, err)
	}
	var out struct {
		Run struct {
			Info struct {
				ArtifactURI string `json:"artifact_uri"`
			} `json:"info"`
		} `json:"run"`
	}
	if err := f.api.getJSON(ctx, http.MethodGet, "/api/2.0/mlflow/runs/get", url.Values{"run_id": {runID}}, nil, &out); err != nil {
		return "", fmt.Errorf("resolve run %s: %w", runID, err)
	}
	root := out.Run.Info.ArtifactURI
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
// (/NAME/VERSION, /NAME/STAGE or /NAME@ALIAS) into the version's download URI.
func (f *Fetcher) resolveModel(ctx context.Context, rest string) (string, error) {
	spec := strings.Trim(rest, "/")
	if err := f.api.configured(); err != nil {
		return "", fmt.Errorf("models:%s: %w", rest, err)
	}
	var name, version string
	if n, alias, ok := strings.Cut(spec, "@"); ok && !strings.Contains(alias, "/") {
		var out struct {
			MV struct {
				Version string `json:"version"`
			} `json:"model_version"`
		}
		if err := f.api.getJSON(ctx, http.MethodGet, "/api/2.0/mlflow/registered-models/alias", url.Values{"name": {n}, "alias": {alias}}, nil, &out); err != nil {
			return "", fmt.Errorf("resolve models:/%s: %w", spec, err)
		}
		name, version = n, out.MV.Version
	} else {
		i := strings.LastIndex(spec, "/")
		if i <= 0 || i == len(spec)-1 {
			return "", fmt.Errorf("models:%s: want models:/<name>/<version>, models:/<name>/<stage> or models:/<name>@<alias>", rest)
		}
		name, version = spec[:i], spec[i+1:]
		if _, err := strconv.Atoi(version); err != nil {
			var out struct {
				MVs []struct {
					Version string `json:"version"`
				} `json:"model_versions"`
			}
			body := map[string]any{"name": name, "stages": []string{version}}
			if err := f.api.getJSON(ctx, http.MethodPost, "/api/2.0/mlflow/registered-models/get-latest-versions", nil, body, &out); err != nil {
				return "", fmt.Errorf("resolve models:/%s: %w", spec, err)
			}
			if len(out.MVs) == 0 {
				return "", fmt.Errorf("resolve models:/%s: no version of %s is in stage %s", spec, name, version)
			}
			version = out.MVs[0].Version
		}
	}
	var out struct {
		ArtifactURI string `json:"artifact_uri"`
	}
	if err := f.api.getJSON(ctx, http.MethodGet, "/api/2.0/mlflow/model-versions/get-download-uri", url.Values{"name": {name}, "version": {version}}, nil, &out); err != nil {
		return "", fmt.Errorf("resolve models:/%s: %w", spec, err)
	}
	if out.ArtifactURI == "" {
		return "", fmt.Errorf("resolve models:/%s: the server reports no artifact_uri", spec)
	}
	return out.ArtifactURI, nil
}

// fromMLflowArtifacts fetches mlflow-artifacts:/PATH (or
// mlflow-artifacts://HOST/PATH) from LocalArtifactRoot or through the
// artifact proxy API.
func (f *Fetcher) fromMLflowArtifacts(ctx context.Context, source, dst string, b *budget) error {
	u, err := url.Parse(source)
	if err != nil {
		return fmt.Errorf("parse %s: %w", source, err)
	}
	p := strings.Trim(path.Clean("/"+u.Path), "/")
	if f.opts.LocalArtifactRoot != "" && u.Host == "" {
		return f.fromLocal(filepath.Join(f.opts.LocalArtifactRoot, filepath.FromSlash(p)), dst, b)
	}
	base := f.api.base
	if u.Host != "" {
		scheme := "http"
		if tu, err := url.Parse(base); err == nil && tu.Scheme != "" {
			scheme = tu.Scheme
		}
		base = scheme + "://" + u.Host
	} else if err := f.api.configured(); err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	if err := ensureDir(dst); err != nil {
		return err
	}
	n, err := f.downloadTree(ctx, base, p, dst, b)
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
	if err := f.downloadFile(ctx, base, p, filepath.Join(dst, name), -1, b); err != nil {
		if errors.Is(err, errNotFound) {
			return fmt.Errorf("artifact %s not found on %s", source, base)
		}
		return err
	}
	return nil
}

type artifactFile struct {
	Path     string `json:"path"`
	IsDir    bool   `json:"is_dir"`
	FileSize string `json:"file_size"`
}

// downloadTree downloads every file below p into dst and returns how many
// entries it found.
func (f *Fetcher) downloadTree(ctx context.Context, base, p, dst string, b *budget) (int, error) {
	var list struct {
		Files []artifactFile `json:"files"`
	}
	resp, err := f.api.do(ctx, http.MethodGet, base, "/api/2.0/mlflow-artifacts/artifacts", url.Values{"path": {p}}, nil)
	if err != nil {
		return 0, fmt.Errorf("list artifacts %s: %w", p, err)
	}
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil {
		return 0, fmt.Errorf("list artifacts %s: decode answer: %w", p, err)
	}
	for _, fi := range list.Files {
		name := path.Base(fi.Path) // the server lists names relative to p
		if name == "" || name == "." || name == ".." || name == "/" || strings.Contains(name, "\\") {
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
			if _, err := f.downloadTree(ctx, base, child, out, b); err != nil {
				return 0, err
			}
			continue
		}
		size := int64(-1)
		if fi.FileSize != "" {
			if n, err := strconv.ParseInt(fi.FileSize, 10, 64); err == nil {
				size = n
			}
		}
		if err := f.downloadFile(ctx, base, child, out, size, b); err != nil {
			return 0, err
		}
	}
	return len(list.Files), nil
}

// downloadFile downloads one artifact file to out and checks its size
// against want (when known) and the Content-Length.
func (f *Fetcher) downloadFile(ctx context.Context, base, p, out string, want int64, b *budget) error {
	if want > b.lim.MaxBytes-b.bytes {
		return b.errTooBig()
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	resp, err := f.api.do(ctx, http.MethodGet, base, "/api/2.0/mlflow-artifacts/artifacts/"+strings.Join(segs, "/"), nil, nil)
	if err != nil {
		return fmt.Errorf("download artifact %s: %w", p, err)
	}
	defer resp.Body.Close()
	if want < 0 {
		want = resp.ContentLength
	}
	before := b.bytes
	if err := writeFile(out, resp.Body, 0o644, b); err != nil {
		return fmt.Errorf("download artifact %s: %w", p, err)
	}
	if got := b.bytes - before; want >= 0 && got != want {
		return fmt.Errorf("download artifact %s: got %d bytes, want %d (interrupted download?)", p, got, want)
	}
	return nil
}
