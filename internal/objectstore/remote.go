package objectstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Remote is a real S3 or S3-compatible (MinIO) endpoint used instead of the
// embedded store, with the same prefix semantics as Store.
type Remote struct {
	c *s3.Client
}

// NewRemote connects to endpoint (empty: AWS itself) with the SDK's
// standard credential chain, path-style addressing for custom endpoints.
func NewRemote(ctx context.Context, endpoint, region string) (*Remote, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration for the pipeline object store: %w", err)
	}
	if region != "" {
		cfg.Region = region
	}
	return &Remote{c: s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	})}, nil
}

// NewRemoteClient wraps an S3 client.
func NewRemoteClient(c *s3.Client) *Remote { return &Remote{c: c} }

func (r *Remote) list(ctx context.Context, uri string) (string, []types.Object, error) {
	b, prefix, err := ParseURI(uri)
	if err != nil {
		return "", nil, err
	}
	var out []types.Object
	p := s3.NewListObjectsV2Paginator(r.c, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", nil, fmt.Errorf("list %s: %w", uri, err)
		}
		out = append(out, page.Contents...)
	}
	return b, out, nil
}

// Download copies the objects under uri into dir (see Store.Download).
func (r *Remote) Download(ctx context.Context, uri, dir string) error {
	b, objs, err := r.list(ctx, uri)
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		return fmt.Errorf("%s: no such object or prefix", uri)
	}
	_, prefix, _ := ParseURI(uri)
	for _, o := range objs {
		key := aws.ToString(o.Key)
		if strings.HasSuffix(key, "/") {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(key, prefix), "/")
		if rel == "" {
			rel = path.Base(key)
		}
		if strings.Contains("/"+rel+"/", "/../") {
			return fmt.Errorf("%s: key %q escapes the prefix", uri, key)
		}
		got, err := r.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
		if err != nil {
			return fmt.Errorf("get s3://%s/%s: %w", b, key, err)
		}
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		err = writeFrom(got.Body, dst)
		got.Body.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func writeFrom(r io.Reader, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Upload copies every file under dir to uri/<relative path>.
func (r *Remote) Upload(ctx context.Context, dir, uri string) error {
	return eachUpload(dir, uri, func(src, bucket, key string) error {
		return r.put(ctx, src, bucket, key)
	})
}

func (r *Remote) put(ctx context.Context, src, bucket, key string) error {
	body, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if _, err := r.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// PutFile stores one file at uri.
func (r *Remote) PutFile(ctx context.Context, src, uri string) error {
	b, k, err := ParseURI(uri)
	if err != nil {
		return err
	}
	return r.put(ctx, src, b, k)
}

// Digest hashes the keys, sizes and ETags of the objects under uri.
func (r *Remote) Digest(ctx context.Context, uri string) (string, error) {
	_, objs, err := r.list(ctx, uri)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, o := range objs {
		fmt.Fprintf(h, "%s\x00%d\x00%s\x00", aws.ToString(o.Key), aws.ToInt64(o.Size), aws.ToString(o.ETag))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Read returns one object's content.
func (r *Remote) Read(ctx context.Context, uri string) ([]byte, error) {
	b, k, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	got, err := r.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(k)})
	if err != nil {
		var nk *types.NoSuchKey
		if errors.As(err, &nk) {
			return nil, fmt.Errorf("%s: no such object", uri)
		}
		return nil, fmt.Errorf("get %s: %w", uri, err)
	}
	defer got.Body.Close()
	return io.ReadAll(got.Body)
}
