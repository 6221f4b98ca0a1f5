package mlflow

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/bridgeops/bridge/internal/registry/mlflowerr"
)

// ArtifactPath returns the artifact-store path of an mlflow-artifacts URI:
// mlflow-artifacts:/a/b and mlflow-artifacts://host:port/a/b both give "a/b".
// Paths with ".." segments are rejected.
func ArtifactPath(uri string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("artifact URI %q: %w", uri, err)
	}
	if u.Scheme != "mlflow-artifacts" {
		return "", fmt.Errorf("artifact URI %q: want the mlflow-artifacts: scheme", uri)
	}
	return cleanRel(u.Path)
}

// cleanRel checks a relative artifact path and returns it without leading
// or duplicate slashes.
func cleanRel(p string) (string, error) {
	var parts []string
	for _, seg := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		switch seg {
		case "", ".":
			continue
		case "..":
			return "", fmt.Errorf("artifact path %q: '..' is not allowed", p)
		}
		if strings.ContainsAny(seg, "\x00\\") {
			return "", fmt.Errorf("artifact path %q: invalid character", p)
		}
		parts = append(parts, seg)
	}
	return strings.Join(parts, "/"), nil
}

func escapeRel(rel string) string {
	segs := strings.Split(rel, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func (c *Client) artifactRequest(ctx context.Context, method, rel string, body io.Reader) (*http.Request, error) {
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	rel, err := cleanRel(rel)
	if err != nil {
		return nil, err
	}
	if rel == "" {
		return nil, fmt.Errorf("%s artifact: empty path", method)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(ArtifactsPrefix+"/"+escapeRel(rel), nil), body)
	if err != nil {
		return nil, err
	}
	c.authorize(req)
	return req, nil
}

// UploadArtifact stores r at path in the server's artifact store (PUT).
// size is the body length, or -1 if unknown.
func (c *Client) UploadArtifact(ctx context.Context, path string, r io.Reader, size int64) error {
	req, err := c.artifactRequest(ctx, http.MethodPut, path, r)
	if err != nil {
		return err
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("upload artifact %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return readError(resp, http.MethodPut, req.URL.Path)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return nil
}

// DownloadArtifact opens the file at path in the server's artifact store.
// The caller closes the reader.
func (c *Client) DownloadArtifact(ctx context.Context, path string) (io.ReadCloser, error) {
	req, err := c.artifactRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download artifact %s: %w", path, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, readError(resp, http.MethodGet, req.URL.Path)
	}
	return resp.Body, nil
}

// DeleteArtifact removes a file or directory from the artifact store.
func (c *Client) DeleteArtifact(ctx context.Context, path string) error {
	req, err := c.artifactRequest(ctx, http.MethodDelete, path, nil)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("delete artifact %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return readError(resp, http.MethodDelete, req.URL.Path)
	}
	return nil
}

// ListArtifacts lists the directory at path ("" is the root). Entries'
// Path is their name within that directory; a missing directory is empty.
func (c *Client) ListArtifacts(ctx context.Context, path string) ([]FileInfo, error) {
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	rel, err := cleanRel(path)
	if err != nil {
		return nil, err
	}
	var q url.Values
	if rel != "" {
		q = url.Values{"path": {rel}}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint(ArtifactsPrefix, q), nil)
	if err != nil {
		return nil, err
	}
	c.authorize(req)
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("list artifacts %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, readError(resp, http.MethodGet, ArtifactsPrefix)
	}
	var out ListArtifactsResponse
	if err := decodeJSON(resp.Body, &out); err != nil {
		return nil, fmt.Errorf("list artifacts %s: %w", path, err)
	}
	// Entries are names within the directory; MLflow servers before 2.0
	// returned paths relative to the root: keep the last segment.
	for i := range out.Files {
		out.Files[i].Path = pathBase(out.Files[i].Path)
	}
	return out.Files, nil
}

func pathBase(p string) string {
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

// UploadDir uploads every regular file under localDir to dest in the
// artifact store, keeping the tree. Symbolic links to regular files are
// uploaded as files; other special files are an error.
func (c *Client) UploadDir(ctx context.Context, localDir, dest string) error {
	dest, err := cleanRel(dest)
	if err != nil {
		return err
	}
	n := 0
	err = filepath.WalkDir(localDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(localDir, p)
		if err != nil {
			return err
		}
		fi, err := os.Stat(p) // follows symlinks
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("upload %s: not a regular file", p)
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		n++
		return c.UploadArtifact(ctx, path.Join(dest, filepath.ToSlash(rel)), f, fi.Size())
	})
	if err != nil {
		return fmt.Errorf("upload %s to %s: %w", localDir, dest, err)
	}
	if n == 0 {
		return fmt.Errorf("upload %s: no files", localDir)
	}
	return nil
}

// DownloadDir downloads the artifact directory at path, recursively, into
// localDir (created if needed). Every file is written to a temporary name
// and renamed, so no partially written file is left under its real name.
// Entry names from the server are checked: none can escape localDir.
func (c *Client) DownloadDir(ctx context.Context, path, localDir string) error {
	rel, err := cleanRel(path)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(localDir, 0o755); err != nil {
		return err
	}
	entries, err := c.ListArtifacts(ctx, rel)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return &Error{StatusCode: http.StatusNotFound, Code: mlflowerr.NotFound, Message: fmt.Sprintf("no artifacts under %q", rel), Method: http.MethodGet, Path: ArtifactsPrefix}
	}
	for _, e := range entries {
		name := e.Path
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
			return fmt.Errorf("download %s: server sent an invalid entry name %q", rel, name)
		}
		child := name
		if rel != "" {
			child = rel + "/" + name
		}
		target := filepath.Join(localDir, name)
		if e.IsDir {
			if err := c.DownloadDir(ctx, child, target); err != nil && !IsNotFound(err) {
				return err
			}
			continue
		}
		if err := c.downloadFile(ctx, child, target); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) downloadFile(ctx context.Context, rel, target string) error {
	body, err := c.DownloadArtifact(ctx, rel)
	if err != nil {
		return err
	}
	defer body.Close()
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := target + ".part-" + hex.EncodeToString(rnd[:])
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, target)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("download artifact %s: %w", rel, err)
	}
	return nil
}
