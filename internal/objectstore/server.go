package objectstore

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/spf13/afero"
)

// MetaDir is the directory under BRIDGE_HOME where the S3 server keeps
// object metadata (content types, user metadata) beside the plain files.
const MetaDir = "s3-metadata"

// Server serves a Store over the S3 REST API (path-style addressing) on
// loopback, through gofakes3 with a filesystem backend whose bucket
// directories are the Store's.
type Server struct {
	URL string
	srv *http.Server
	ln  net.Listener
}

// Serve starts the S3 API for the store of home on addr (127.0.0.1:0 picks a
// free port). Close stops it.
func Serve(home, addr string) (*Server, error) {
	root := filepath.Join(home, Dir)
	meta := filepath.Join(home, MetaDir)
	for _, d := range []string{root, meta} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("object store: %w", err)
		}
	}
	bucketsFs := &bucketsDirFs{Fs: afero.NewBasePathFs(afero.NewOsFs(), root)}
	backend, err := s3afero.MultiBucket(bucketsFs, s3afero.MultiWithMetaFs(afero.NewBasePathFs(afero.NewOsFs(), meta)))
	if err != nil {
		return nil, fmt.Errorf("object store: %w", err)
	}
	faker := gofakes3.New(&layoutBackend{MultiBucketBackend: backend, store: &Store{root: root}, meta: meta}, gofakes3.WithAutoBucket(true), gofakes3.WithoutVersioning(),
		gofakes3.WithLogger(gofakes3.DiscardLog()), gofakes3.WithTimeSkewLimit(0))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("object store: listen %s: %w", addr, err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), ln: ln,
		srv: &http.Server{Handler: faker.Server(), ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("object store server", "err", err)
		}
	}()
	return s, nil
}

// Close stops the server.
func (s *Server) Close(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// bucketsDirFs maps s3afero's "buckets/<bucket>/<key>" layout onto
// "<bucket>/<key>", so the buckets are the store's own directories.
type bucketsDirFs struct{ afero.Fs }

func (f *bucketsDirFs) p(name string) string {
	clean := strings.TrimLeft(filepath.ToSlash(name), "/")
	if clean == "buckets" {
		return "/"
	}
	if rest, ok := strings.CutPrefix(clean, "buckets/"); ok {
		return "/" + rest
	}
	return "/" + clean
}

func (f *bucketsDirFs) Create(name string) (afero.File, error) { return f.Fs.Create(f.p(name)) }
func (f *bucketsDirFs) Mkdir(name string, perm os.FileMode) error {
	return f.Fs.Mkdir(f.p(name), perm)
}
func (f *bucketsDirFs) MkdirAll(name string, perm os.FileMode) error {
	return f.Fs.MkdirAll(f.p(name), perm)
}
func (f *bucketsDirFs) Open(name string) (afero.File, error) { return f.Fs.Open(f.p(name)) }
func (f *bucketsDirFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	return f.Fs.OpenFile(f.p(name), flag, perm)
}
func (f *bucketsDirFs) Remove(name string) error    { return f.Fs.Remove(f.p(name)) }
func (f *bucketsDirFs) RemoveAll(name string) error { return f.Fs.RemoveAll(f.p(name)) }
func (f *bucketsDirFs) Rename(o, n string) error    { return f.Fs.Rename(f.p(o), f.p(n)) }
func (f *bucketsDirFs) Stat(name string) (os.FileInfo, error) {
	return f.Fs.Stat(f.p(name))
}
func (f *bucketsDirFs) Chmod(name string, mode os.FileMode) error {
	return f.Fs.Chmod(f.p(name), mode)
}
func (f *bucketsDirFs) Chown(name string, uid, gid int) error {
	return f.Fs.Chown(f.p(name), uid, gid)
}
func (f *bucketsDirFs) Chtimes(name string, a, m time.Time) error {
	return f.Fs.Chtimes(f.p(name), a, m)
}

// layoutBackend lets the S3 API serve objects that were written straight
// into the layout (by pipeline steps, or by hand): before reading, it
// records the metadata s3afero keeps for objects it wrote itself (size,
// modification time, MD5), which it cannot compute for files it did not.
type layoutBackend struct {
	*s3afero.MultiBucketBackend
	store *Store
	meta  string
}

// metaFile mirrors s3afero's metadata path: <bucket>/<key with / as _>-<fnv128a(key)>.
func (b *layoutBackend) metaFile(bucket, key string) string {
	h := fnv.New128a()
	h.Write([]byte(key))
	name := strings.NewReplacer("/", "_", "\\", "_").Replace(key) + "-" + hex.EncodeToString(h.Sum(nil))
	return filepath.Join(b.meta, bucket, name)
}

func (b *layoutBackend) ensure(bucket, key string) {
	p := filepath.Join(b.store.root, bucket, filepath.FromSlash(key))
	st, err := os.Stat(p)
	if err != nil || st.IsDir() {
		return
	}
	mf := b.metaFile(bucket, key)
	var m s3afero.Metadata
	if raw, err := os.ReadFile(mf); err == nil && json.Unmarshal(raw, &m) == nil && len(m.Hash) > 0 && m.Size == st.Size() && m.ModTime.Equal(st.ModTime()) {
		return
	}
	f, err := os.Open(p)
	if err != nil {
		return
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return
	}
	m.Size, m.ModTime, m.Hash = st.Size(), st.ModTime(), h.Sum(nil)
	raw, _ := json.Marshal(m)
	if os.MkdirAll(filepath.Dir(mf), 0o755) == nil {
		_ = os.WriteFile(mf, raw, 0o644)
	}
}

func (b *layoutBackend) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	b.ensure(bucket, key)
	return b.MultiBucketBackend.HeadObject(bucket, key)
}

func (b *layoutBackend) GetObject(bucket, key string, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	b.ensure(bucket, key)
	return b.MultiBucketBackend.GetObject(bucket, key, rng)
}

func (b *layoutBackend) ListBucket(bucket string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	pre := ""
	if prefix != nil && prefix.HasPrefix {
		pre = prefix.Prefix
	}
	if objs, err := b.store.List("s3://" + bucket + "/" + pre); err == nil {
		for _, o := range objs {
			b.ensure(bucket, o.Key)
		}
	}
	return b.MultiBucketBackend.ListBucket(bucket, prefix, page)
}
