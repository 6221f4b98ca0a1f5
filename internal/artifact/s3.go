package artifact

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bridgeops/bridge/internal/config"
)

// S3Options configure s3:// sources (S3OptionsFrom makes them from
// Bridge's configuration).
type S3Options struct {
	// EndpointURL is an S3-compatible server (MinIO); empty means AWS
	// itself. A custom endpoint uses path-style URLs
	// (http://host/bucket/key).
	EndpointURL string
	// Region is the bucket's region; empty means the AWS SDK's
	// configuration (profile), else us-east-1.
	Region string
	// Client, when set, is used as is instead of one built from the AWS
	// configuration (credentials chain, profile, ...).
	Client *s3.Client
}

// S3OptionsFrom returns the S3 options of the typed AWS section: the
// endpoint is MLFLOW_S3_ENDPOINT_URL, else AWS_ENDPOINT_URL_S3, else
// AWS_ENDPOINT_URL; the region AWS_REGION, else AWS_DEFAULT_REGION.
func S3OptionsFrom(a config.AWSSettings) S3Options {
	return S3Options{EndpointURL: firstNonEmpty(a.ArtifactS3EndpointURL, a.S3Endpoint()), Region: a.Region}
}

// s3API is what s3:// sources need from the S3 client.
type s3API interface {
	s3.ListObjectsV2APIClient
	manager.DownloadAPIClient
}

func (f *Fetcher) s3Client(ctx context.Context) (s3API, error) {
	f.s3once.Do(func() {
		if f.opts.S3.Client != nil {
			f.s3 = f.opts.S3.Client
			return
		}
		cfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			f.s3err = fmt.Errorf("load AWS configuration for s3:// sources: %w", err)
			return
		}
		if f.opts.S3.Region != "" {
			cfg.Region = f.opts.S3.Region
		}
		if cfg.Region == "" {
			cfg.Region = "us-east-1"
		}
		endpoint := f.opts.S3.EndpointURL
		f.s3 = s3.NewFromConfig(cfg, func(o *s3.Options) {
			if endpoint != "" {
				o.BaseEndpoint = aws.String(endpoint)
				o.UsePathStyle = true
			}
		})
	})
	return f.s3, f.s3err
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

type s3Object struct {
	key  string
	size int64
}

// fromS3 downloads s3://BUCKET/KEY: the object KEY, or every object below
// KEY/ as a tree.
func (f *Fetcher) fromS3(ctx context.Context, source, dst string, b *budget) error {
	u, err := url.Parse(source)
	if err != nil {
		return fmt.Errorf("parse %s: %w", source, err)
	}
	bucket, key := u.Host, strings.Trim(u.Path, "/")
	if bucket == "" {
		return fmt.Errorf("%s: want s3://bucket/key", source)
	}
	client, err := f.s3Client(ctx)
	if err != nil {
		return err
	}
	prefix := key
	if key != "" {
		prefix = key + "/"
	}
	var single *s3Object
	var objs []s3Object
	pager := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(key)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list %s: %w (check the bucket name, credentials and MLFLOW_S3_ENDPOINT_URL)", source, err)
		}
		for _, o := range page.Contents {
			k, size := aws.ToString(o.Key), aws.ToInt64(o.Size)
			switch {
			case k == key && key != "":
				single = &s3Object{k, size}
			case strings.HasPrefix(k, prefix) && !strings.HasSuffix(k, "/"):
				objs = append(objs, s3Object{k, size})
				if err := b.addFile(); err != nil {
					return err
				}
			}
		}
	}
	if err := ensureDir(dst); err != nil {
		return err
	}
	if len(objs) == 0 {
		if single == nil {
			return fmt.Errorf("%s: no such object or prefix", source)
		}
		if err := b.addFile(); err != nil {
			return err
		}
		return f.s3Download(ctx, client, bucket, *single, filepath.Join(dst, path.Base(key)), b)
	}
	for _, o := range objs {
		rel, err := entryPath(strings.TrimPrefix(o.key, prefix))
		if err != nil || rel == "" {
			return fmt.Errorf("%s: refusing object key %q: %v", source, o.key, err)
		}
		if dir := path.Dir(rel); dir != "." {
			if err := mkdirInRoot(dst, dir); err != nil {
				return err
			}
		}
		if err := f.s3Download(ctx, client, bucket, o, filepath.Join(dst, filepath.FromSlash(rel)), b); err != nil {
			return err
		}
	}
	return nil
}

func (f *Fetcher) s3Download(ctx context.Context, client s3API, bucket string, o s3Object, out string, b *budget) error {
	if o.size > b.lim.MaxBytes-b.bytes {
		return b.errTooBig()
	}
	file, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	n, err := manager.NewDownloader(client).Download(ctx, file, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.key)})
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download s3://%s/%s: %w", bucket, o.key, err)
	}
	if n != o.size {
		return fmt.Errorf("download s3://%s/%s: got %d bytes, want %d (interrupted download?)", bucket, o.key, n, o.size)
	}
	b.bytes += n
	return nil
}
