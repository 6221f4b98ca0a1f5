package monitor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/config"
)

func TestAddGroundTruth(t *testing.T) {
	at := time.Date(2026, 5, 1, 10, 30, 0, 0, time.UTC)
	cases := []struct {
		name      string
		csv       string // "" : no file
		records   int
		malformed int
		wantErr   string
	}{
		{"missing file", "", 0, 0, "no such file"},
		{"no rows", "inference_id,label\n", 0, 0, "holds no inference_id,label rows"},
		{"header, rows and bad rows", "inference_id,label\na,1\nb\n,0\nc, 0 \n", 2, 2, ""},
		{"no header", "a,1\n", 1, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "labels.csv")
			if c.csv != "" {
				if err := os.WriteFile(path, []byte(c.csv), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := filepath.Join(dir, "gt")
			res, err := AddGroundTruth(t.Context(), path, out, at, config.AWSSettings{})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				if strings.Count(err.Error(), path) > 1 {
					t.Errorf("the path is repeated: %v", err)
				}
				return
			}
			if err != nil || res.Records != c.records || res.Malformed != c.malformed {
				t.Fatalf("= %+v, %v; want %d records, %d malformed", res, err, c.records, c.malformed)
			}
			if !strings.HasPrefix(res.Location, out+"/2026/05/01/10/") {
				t.Errorf("written to %s, want the hour directory of %s", res.Location, at)
			}
			b, err := os.ReadFile(res.Location)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(b), `"eventId"`); n != c.records {
				t.Errorf("%d records in the file, want %d:\n%s", n, c.records, b)
			}
		})
	}
}
