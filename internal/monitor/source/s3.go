package source

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	bridgeconfig "github.com/bridgeops/bridge/internal/config"
)

// S3 is a store under an S3 prefix.
type S3 struct {
	Client *s3.Client
	Bucket string
	Prefix string // without leading or trailing slash
}

// OpenS3 opens s3://bucket/prefix with the default AWS configuration
// (credentials chain) and Bridge's AWS settings (region; path-style
// addressing when an S3-compatible endpoint is set).
func OpenS3(ctx context.Context, location string, env bridgeconfig.AWSSettings) (*S3, error) {
	u, err := url.Parse(location)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("%q: want s3://bucket/prefix", location)
	}
	opts := []func(*config.LoadOptions) error{}
	if env.Region != "" {
		opts = append(opts, config.WithRegion(env.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration for %s: %w", location, err)
	}
	if cfg.Region == "" {
		cfg.Region = "eu-west-1"
	}
	custom := env.S3Endpoint() != ""
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if custom {
			o.UsePathStyle = true
		}
	})
	return &S3{Client: client, Bucket: u.Host, Prefix: strings.Trim(u.Path, "/")}, nil
}

// String implements Store.
func (s *S3) String() string { return "s3://" + s.Bucket + "/" + s.Prefix }

func (s *S3) full(key string) string {
	if s.Prefix == "" {
		return strings.TrimPrefix(key, "/")
	}
	if key == "" {
		return s.Prefix + "/"
	}
	return s.Prefix + "/" + strings.TrimPrefix(key, "/")
}

// List implements Store with ListObjectsV2, following continuation tokens.
func (s *S3) List(ctx context.Context, prefix string) ([]Object, error) {
	full := s.full(prefix)
	if prefix != "" && !strings.HasSuffix(full, "/") {
		full += "/"
	}
	var out []Object
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(full)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", s.Bucket, full, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if s.Prefix != "" {
				key = strings.TrimPrefix(key, s.Prefix+"/")
			}
			out = append(out, Object{Key: key, Size: aws.ToInt64(o.Size)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// ListDirs implements DirLister with ListObjectsV2's common prefixes.
func (s *S3) ListDirs(ctx context.Context, prefix string) ([]string, error) {
	full := s.full(prefix)
	if full != "" && !strings.HasSuffix(full, "/") {
		full += "/"
	}
	var out []string
	seen := map[string]bool{}
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(full), Delimiter: aws.String("/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", s.Bucket, full, err)
		}
		for _, cp := range page.CommonPrefixes {
			name := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), full), "/")
			if name != "" && !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	return out, nil
}

// Open implements Store with GetObject.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(s.full(key))})
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", s.Bucket, s.full(key), err)
	}
	return out.Body, nil
}

// Put implements Store with PutObject.
func (s *S3) Put(ctx context.Context, key string, body []byte) error {
	_, err := s.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(s.full(key)), Body: bytes.NewReader(body),
		ContentType: aws.String("application/jsonlines"),
	})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", s.Bucket, s.full(key), err)
	}
	return nil
}
