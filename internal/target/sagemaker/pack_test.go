package sagemaker_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/target/sagemaker"
)

func TestPackModel(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		link  bool
		want  []string
		err   string
	}{
		{"files at the root", map[string]string{"MLmodel": "flavors: {}", "model.pkl": "x", "code/util.py": "pass"}, false,
			[]string{"MLmodel", "code/", "code/util.py", "model.pkl"}, ""},
		{"symbolic link refused", map[string]string{"MLmodel": "flavors: {}"}, true, nil, "only regular files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tc.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.link {
				if err := os.Symlink("/etc/passwd", filepath.Join(dir, "secret")); err != nil {
					t.Fatal(err)
				}
			}
			var buf bytes.Buffer
			err := sagemaker.PackModel(&buf, dir)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tarNames(t, buf.Bytes()); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("entries %v, want %v", got, tc.want)
			}
		})
	}
}
