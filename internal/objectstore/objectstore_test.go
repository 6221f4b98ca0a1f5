package objectstore

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The S3 API and the documented layout ($BRIDGE_HOME/s3/<bucket>/<key>)
// are the same objects: what one side writes the other reads.
func TestServerMatchesLayout(t *testing.T) {
	home := t.TempDir()
	srv, err := Serve(home, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	ctx := context.Background()
	cl := s3.New(s3.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})

	// Written as a file, read over the API.
	direct := filepath.Join(home, "s3", "data-bucket", "in", "pairs.csv")
	if err := os.MkdirAll(filepath.Dir(direct), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(direct, []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("data-bucket"), Key: aws.String("in/pairs.csv")}); err != nil {
		t.Fatalf("head: %v", err)
	}
	got, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data-bucket"), Key: aws.String("in/pairs.csv")})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	b, _ := io.ReadAll(got.Body)
	if string(b) != "a,b\n1,2\n" {
		t.Fatalf("get = %q", b)
	}
	list, err := cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("data-bucket"), Prefix: aws.String("in/")})
	if err != nil || len(list.Contents) != 1 || *list.Contents[0].Key != "in/pairs.csv" {
		t.Fatalf("list = %+v, %v", list, err)
	}

	// Written over the API, read as a file and through the Store.
	if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data-bucket"), Key: aws.String("out/x/model.bin"), Body: bytes.NewReader([]byte("model"))}); err != nil {
		t.Fatalf("put: %v", err)
	}
	b, err = os.ReadFile(filepath.Join(home, "s3", "data-bucket", "out", "x", "model.bin"))
	if err != nil || string(b) != "model" {
		t.Fatalf("file = %q, %v", b, err)
	}
	objs, err := New(home).List("s3://data-bucket/out/")
	if err != nil || len(objs) != 1 || objs[0].Key != "out/x/model.bin" {
		t.Fatalf("store list = %+v, %v", objs, err)
	}
	dst := t.TempDir()
	if err := New(home).Download("s3://data-bucket/out", dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "x", "model.bin")); string(b) != "model" {
		t.Fatalf("download = %q", b)
	}
}

func TestParseURIRejectsBadInput(t *testing.T) {
	for _, u := range []string{"http://x/y", "s3://", "s3://AB/x", "s3://bucket/../etc", "s3://bucket/a/./b"} {
		if _, _, err := ParseURI(u); err == nil {
			t.Errorf("ParseURI(%q): want an error", u)
		}
	}
	if err := New(t.TempDir()).Download("s3://bucket/missing", t.TempDir()); err == nil {
		t.Error("download of a missing prefix: want an error")
	}
}
