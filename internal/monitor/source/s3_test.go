package source

import (
	"context"
	"encoding/xml"
	"github.com/bridgeops/bridge/internal/config"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// tinyS3 serves ListObjectsV2 (with prefix, delimiter and pagination) and
// GetObject for one bucket, path-style, and counts the list calls.
type tinyS3 struct {
	mu        sync.Mutex
	objects   map[string]string
	lists     int
	delimiter bool // support delimiters; otherwise answer 501 as some S3-compatible stores do
}

type listResult struct {
	XMLName  xml.Name `xml:"ListBucketResult"`
	Contents []struct {
		Key  string
		Size int64
	}
	CommonPrefixes        []struct{ Prefix string }
	IsTruncated           bool
	NextContinuationToken string `xml:",omitempty"`
}

func (s *tinyS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)
	if len(parts) == 2 && parts[1] != "" {
		body, ok := s.objects[parts[1]]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`<Error><Code>NoSuchKey</Code></Error>`))
			return
		}
		w.Write([]byte(body))
		return
	}
	q := r.URL.Query()
	s.lists++
	delim := q.Get("delimiter")
	if delim != "" && !s.delimiter {
		w.WriteHeader(http.StatusNotImplemented)
		w.Write([]byte(`<Error><Code>NotImplemented</Code><Message>no delimiters</Message></Error>`))
		return
	}
	prefix := q.Get("prefix")
	var keys []string
	for k := range s.objects {
		if strings.HasPrefix(k, prefix) && k > q.Get("continuation-token") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var res listResult
	entries, last := 0, ""
	for _, k := range keys {
		cp := ""
		if delim != "" {
			if j := strings.Index(k[len(prefix):], delim); j >= 0 {
				cp = k[:len(prefix)+j+1]
			}
		}
		if cp != "" && cp+"\xff" == last {
			continue // rolled up into the previous common prefix
		}
		if entries == 2 { // pages of two entries exercise pagination
			res.IsTruncated, res.NextContinuationToken = true, last
			break
		}
		entries++
		if cp != "" {
			res.CommonPrefixes = append(res.CommonPrefixes, struct{ Prefix string }{cp})
			last = cp + "\xff" // the next page starts after every key under cp
			continue
		}
		res.Contents = append(res.Contents, struct {
			Key  string
			Size int64
		}{k, int64(len(s.objects[k]))})
		last = k
	}
	w.Header().Set("Content-Type", "application/xml")
	xml.NewEncoder(w).Encode(res)
}

func TestS3WindowListsOnlyItsHours(t *testing.T) {
	for _, delim := range []bool{true, false} {
		t.Run(map[bool]string{true: "delimiters", false: "no delimiter support"}[delim], func(t *testing.T) {
			fake := &tinyS3{objects: map[string]string{}, delimiter: delim}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			for k, v := range map[string]string{
				"AWS_ENDPOINT_URL": srv.URL, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
				"AWS_REGION": "eu-west-1", "AWS_EC2_METADATA_DISABLED": "true",
				"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
			} {
				t.Setenv(k, v)
			}
			// 48 hours of captures in two variants, plus ground truth.
			base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
			for h := 0; h < 48; h++ {
				hp := HourPath(base.Add(time.Duration(h) * time.Hour))
				fake.objects["dc/ep/v1/"+hp+"/a.jsonl"] = "x\n"
				fake.objects["dc/ep/v2/"+hp+"/b.jsonl"] = "y\n"
				fake.objects["gt/"+hp+"/l.jsonl"] = "z\n"
			}
			ctx := context.Background()
			st, err := OpenS3(ctx, "s3://bucket/dc", config.AWSFromEnv())
			if err != nil {
				t.Fatal(err)
			}
			fake.lists = 0
			objs, err := Window(ctx, st, "ep", base.Add(10*time.Hour), base.Add(12*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, o := range objs {
				keys = append(keys, o.Key)
			}
			want := "ep/v1/2026/05/01/10/a.jsonl ep/v1/2026/05/01/11/a.jsonl ep/v2/2026/05/01/10/b.jsonl ep/v2/2026/05/01/11/b.jsonl"
			if strings.Join(keys, " ") != want {
				t.Errorf("window: %v", keys)
			}
			// With delimiters: one call for the variants, one per variant and
			// hour; without: the listing of everything (48 pages of two
			// keys per variant), after the refused delimiter call.
			if delim && fake.lists != 1+2*2 {
				t.Errorf("%d list calls, want 5", fake.lists)
			}
			if !delim && fake.lists < 48 {
				t.Errorf("%d list calls: the fallback did not list everything", fake.lists)
			}
			gt, _ := OpenS3(ctx, "s3://bucket/gt", config.AWSFromEnv())
			objs, err = Window(ctx, gt, "", base.Add(47*time.Hour), time.Time{})
			if err != nil || len(objs) != 1 || objs[0].Key != "2026/05/02/23/l.jsonl" {
				t.Errorf("ground truth window %v %v", objs, err)
			}
		})
	}
}
