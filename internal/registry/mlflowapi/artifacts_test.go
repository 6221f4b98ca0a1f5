package mlflowapi

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestArtifacts(t *testing.T) {
	s := newServer(t, Options{MaxArtifactBytes: 1 << 10})
	root := s.st.ArtifactRoot()
	art := artifactsPath
	runSteps(t, s, []step{
		{name: "list empty store", method: "GET", path: art, wantStatus: 200, absent: []string{"files"}},
		{name: "upload MLmodel", method: "PUT", path: art + "/m/abc/MLmodel", body: "flavors: {}\n", wantStatus: 200},
		{name: "upload nested", method: "PUT", path: art + "/m/abc/data/model.pkl", body: "12345", wantStatus: 200},
		{name: "upload name with space", method: "PUT", path: art + "/m/abc/my%20file.txt", body: "x", wantStatus: 200},
		{name: "list dir", method: "GET", path: art + "?path=m/abc", wantStatus: 200, want: map[string]string{
			"files[0].path": "MLmodel", "files[0].file_size": "12", "files[1].path": "data", "files[1].is_dir": "true",
			"files[2].path": "my file.txt"}, absent: []string{"files[1].file_size", "files[3]"}},
		{name: "list root", method: "GET", path: art, wantStatus: 200, want: map[string]string{"files[0].path": "m", "files[0].is_dir": "true"}},
		{name: "list missing dir", method: "GET", path: art + "?path=nope", wantStatus: 200, absent: []string{"files"}},
		{name: "list escape", method: "GET", path: art + "?path=../x", wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "list absolute", method: "GET", path: art + "?path=/etc", wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "download missing", method: "GET", path: art + "/m/abc/nope", wantStatus: 404, wantCode: "RESOURCE_DOES_NOT_EXIST"},
		{name: "download dir", method: "GET", path: art + "/m/abc/data", wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "upload dotdot", method: "PUT", path: art + "/m/../../escape", body: "x", wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "upload encoded dotdot", method: "PUT", path: art + "/m/%2e%2e/%2e%2e/escape", body: "x", wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "upload absolute", method: "PUT", path: art + "//tmp/escape", body: "x", wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "upload too large", method: "PUT", path: art + "/m/big", body: strings.Repeat("x", 2048), wantStatus: 413, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "upload over a directory", method: "PUT", path: art + "/m/abc/data", body: "x", wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "post not allowed", method: "POST", path: art + "/m/x", body: "x", wantStatus: 405, wantCode: "BAD_REQUEST"},
		{name: "delete", method: "DELETE", path: art + "/m/abc/my%20file.txt", wantStatus: 200},
		{name: "deleted", method: "GET", path: art + "/m/abc/my%20file.txt", wantStatus: 404, wantCode: "RESOURCE_DOES_NOT_EXIST"},
		{name: "ajax prefix list", method: "GET", path: "/ajax-api/2.0/mlflow-artifacts/artifacts?path=m", wantStatus: 200, want: map[string]string{"files[0].path": "abc"}},
	})
	status, _, raw := s.do(t, "GET", art+"/m/abc/data/model.pkl", nil)
	if status != 200 || string(raw) != "12345" {
		t.Fatalf("download: %d %q", status, raw)
	}
	if b, err := os.ReadFile(filepath.Join(root, "m", "abc", "MLmodel")); err != nil || string(b) != "flavors: {}\n" {
		t.Fatalf("file on disk: %q %v", b, err)
	}
	// Nothing of the refused uploads is on disk: no escape, no partial file.
	if _, err := os.Stat(filepath.Join(filepath.Dir(root), "escape")); !os.IsNotExist(err) {
		t.Fatalf("escaped upload exists: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "m"))
	for _, e := range entries {
		if e.Name() != "abc" {
			t.Fatalf("unexpected file left in artifact store: %s", e.Name())
		}
	}
}

func TestArtifactSymlinksCannotEscape(t *testing.T) {
	s := newServer(t, Options{})
	root := s.st.ArtifactRoot()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "m"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "m", "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "m", "secret-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "m", "inside"), []byte("in"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("inside", filepath.Join(root, "m", "ok-link")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path string
		status       int
	}{
		{"GET", artifactsPath + "/m/out/secret", 400},
		{"GET", artifactsPath + "/m/secret-link", 400},
		{"PUT", artifactsPath + "/m/out/planted", 400},
		{"PUT", artifactsPath + "/m/secret-link", 400},
		{"GET", artifactsPath + "/m/ok-link", 200},
	}
	for _, tt := range tests {
		var body any
		if tt.method == "PUT" {
			body = "x"
		}
		status, _, raw := s.do(t, tt.method, tt.path, body)
		if status != tt.status {
			t.Errorf("%s %s: %d %s, want %d", tt.method, tt.path, status, raw, tt.status)
		}
		if tt.method == "GET" && status == 200 && string(raw) != "in" {
			t.Errorf("%s: body %q", tt.path, raw)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "secret")); string(b) != "secret" {
		t.Fatalf("file outside the root was changed: %q", b)
	}
	if _, err := os.Stat(filepath.Join(outside, "planted")); !os.IsNotExist(err) {
		t.Fatal("upload through a symlink planted a file outside the root")
	}
	// The listing skips links that leave the root.
	status, m, raw := s.do(t, "GET", artifactsPath+"?path=m", nil)
	if status != http.StatusOK {
		t.Fatalf("list: %d %s", status, raw)
	}
	var names []string
	for _, f := range asList(m["files"]) {
		names = append(names, f.(map[string]any)["path"].(string))
	}
	if strings.Join(names, ",") != "inside,ok-link" {
		t.Fatalf("listing = %v, want the escaping links left out", names)
	}
}
