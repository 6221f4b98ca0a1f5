// Package objectstore is Bridge's embedded S3: objects are plain files under
// $BRIDGE_HOME/s3/<bucket>/<key>, readable and writable directly by the
// pipeline executor and served over the S3 REST API on loopback (see
// Server) so that scripts calling boto3 themselves work.
package objectstore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Dir is the directory under BRIDGE_HOME that holds the buckets.
const Dir = "s3"

// Store is the embedded object store rooted at a directory.
type Store struct{ root string }

// New returns the store of a Bridge home: home/s3 (made absolute, so the
// paths it gives out stay valid from any working directory).
func New(home string) *Store {
	root := filepath.Join(home, Dir)
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	return &Store{root: root}
}

// Root is the directory holding one subdirectory per bucket.
func (s *Store) Root() string { return s.root }

// ParseURI splits s3://bucket/key.
func ParseURI(uri string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q is not an s3:// URI", uri)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q: missing bucket", uri)
	}
	if err := validBucket(bucket); err != nil {
		return "", "", fmt.Errorf("%q: %w", uri, err)
	}
	for _, part := range strings.Split(key, "/") {
		if part == ".." || part == "." {
			return "", "", fmt.Errorf("%q: key segments . and .. are not allowed", uri)
		}
	}
	return bucket, key, nil
}

func validBucket(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("bucket name %q: want 3 to 63 characters", b)
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return fmt.Errorf("bucket name %q: want lowercase letters, digits, dots and hyphens", b)
		}
	}
	return nil
}

// Path is the file (or, for a prefix ending in /, the directory) of an
// s3:// URI.
func (s *Store) Path(uri string) (string, error) {
	b, k, err := ParseURI(uri)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.root, b, filepath.FromSlash(k)), nil
}

// Object is one stored object.
type Object struct {
	Key  string
	Path string
	Size int64
}

// List returns the objects whose key starts with the URI's key, by key.
func (s *Store) List(uri string) ([]Object, error) {
	b, prefix, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	broot := filepath.Join(s.root, b)
	// Walk from the deepest directory the prefix names.
	dir := path.Dir(prefix)
	if strings.HasSuffix(prefix, "/") {
		dir = strings.TrimSuffix(prefix, "/")
	}
	if dir == "." {
		dir = ""
	}
	start := filepath.Join(broot, filepath.FromSlash(dir))
	var out []Object
	err = filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(broot, p)
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, Object{Key: key, Path: p, Size: info.Size()})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, err
}

// Download copies the objects under uri (an S3 prefix, as SageMaker's
// S3DataType S3Prefix) into dir, keeping the key after the prefix as the
// relative path; an object whose key is the whole prefix lands as
// dir/<base name>. It fails when nothing matches.
func (s *Store) Download(uri, dir string) error {
	objs, err := s.List(uri)
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		return fmt.Errorf("%s: no such object or prefix in the embedded object store (put files at %s/<bucket>/<key>)", uri, s.root)
	}
	_, prefix, _ := ParseURI(uri)
	for _, o := range objs {
		rel := strings.TrimPrefix(strings.TrimPrefix(o.Key, prefix), "/")
		if rel == "" {
			rel = path.Base(o.Key)
		}
		if err := CopyFile(o.Path, filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			return err
		}
	}
	return nil
}

// Upload copies every file under dir to uri/<relative path>.
func (s *Store) Upload(dir, uri string) error {
	return eachUpload(dir, uri, func(src, bucket, key string) error {
		return CopyFile(src, filepath.Join(s.root, bucket, filepath.FromSlash(key)))
	})
}

// eachUpload calls put for every file under dir with the bucket and key
// it has under uri (uri/<relative path>).
func eachUpload(dir, uri string, put func(src, bucket, key string) error) error {
	b, prefix, err := ParseURI(uri)
	if err != nil {
		return err
	}
	prefix = strings.TrimSuffix(prefix, "/")
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		return put(p, b, path.Join(prefix, filepath.ToSlash(rel)))
	})
}

// PutFile stores one file at uri.
func (s *Store) PutFile(src, uri string) error {
	p, err := s.Path(uri)
	if err != nil {
		return err
	}
	return CopyFile(src, p)
}

// Digest hashes the keys and contents of the objects under uri.
func (s *Store) Digest(uri string) (string, error) {
	objs, err := s.List(uri)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, o := range objs {
		fmt.Fprintf(h, "%s\x00%d\x00", o.Key, o.Size)
		if err := hashFile(h, o.Path); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(w io.Writer, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// DigestPath hashes a local file or directory tree (names and contents).
func DigestPath(root string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
		return hashFile(h, p)
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// CopyFile copies src to dst, creating dst's directory, through a temporary
// file renamed into place (readers never see half a file).
func CopyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".tmp-"+filepath.Base(dst)+"-*")
	if err != nil {
		return err
	}
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// CopyTree copies a directory tree (or one file) to dst.
func CopyTree(src, dst string) error {
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return CopyFile(src, filepath.Join(dst, filepath.Base(src)))
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		return CopyFile(p, filepath.Join(dst, rel))
	})
}
