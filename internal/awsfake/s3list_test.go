package awsfake_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bridgeops/bridge/internal/awsfake"
)

// ListObjectsV2 with a delimiter rolls keys up into CommonPrefixes, each
// counting once against MaxKeys, across continuation tokens.
func TestS3ListObjectsV2Delimiter(t *testing.T) {
	_, c := start(t, awsfake.Options{}, "us-east-1")
	ctx := context.Background()
	if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bk-delim")}); err != nil {
		t.Fatal(err)
	}
	keys := []string{"cap/ep-a/v1/2026/05/01/10/a.jsonl", "cap/ep-a/v1/2026/05/01/11/b.jsonl", "cap/ep-a/v2/2026/05/01/10/c.jsonl",
		"cap/ep-b/v1/2026/05/01/10/d.jsonl", "cap/ep-c/x.jsonl", "cap/readme.txt", "other/z"}
	for _, k := range keys {
		if _, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bk-delim"), Key: aws.String(k), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		prefix, delim string
		maxKeys       int32
		wantPrefixes  string
		wantKeys      string
		wantPages     int
	}{
		{"cap/", "/", 1000, "cap/ep-a/,cap/ep-b/,cap/ep-c/", "cap/readme.txt", 1},
		{"cap/", "/", 1, "cap/ep-a/,cap/ep-b/,cap/ep-c/", "cap/readme.txt", 4},
		{"cap/ep-a/", "/", 1000, "cap/ep-a/v1/,cap/ep-a/v2/", "", 1},
		{"", "/", 1000, "cap/,other/", "", 1},
		{"cap/ep-a/v1/2026/05/01/", "/", 1000, "cap/ep-a/v1/2026/05/01/10/,cap/ep-a/v1/2026/05/01/11/", "", 1},
		{"cap/ep-b/", "", 1000, "", "cap/ep-b/v1/2026/05/01/10/d.jsonl", 1},
	}
	for _, tc := range cases {
		in := &s3.ListObjectsV2Input{Bucket: aws.String("bk-delim"), Prefix: aws.String(tc.prefix), MaxKeys: aws.Int32(tc.maxKeys)}
		if tc.delim != "" {
			in.Delimiter = aws.String(tc.delim)
		}
		p := s3.NewListObjectsV2Paginator(c.s3, in)
		var prefixes, got []string
		pages := 0
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if n := len(page.CommonPrefixes) + len(page.Contents); int32(n) != aws.ToInt32(page.KeyCount) || int32(n) > tc.maxKeys {
				t.Errorf("%q: page of %d entries says KeyCount %d", tc.prefix, n, aws.ToInt32(page.KeyCount))
			}
			for _, cp := range page.CommonPrefixes {
				prefixes = append(prefixes, aws.ToString(cp.Prefix))
			}
			for _, o := range page.Contents {
				got = append(got, aws.ToString(o.Key))
			}
		}
		if strings.Join(prefixes, ",") != tc.wantPrefixes || strings.Join(got, ",") != tc.wantKeys || pages != tc.wantPages {
			t.Errorf("prefix %q delimiter %q max %d: prefixes %v keys %v in %d pages; want %s / %s in %d",
				tc.prefix, tc.delim, tc.maxKeys, prefixes, got, pages, tc.wantPrefixes, tc.wantKeys, tc.wantPages)
		}
	}
}
