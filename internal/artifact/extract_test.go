package artifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type tarEntry struct {
	name string
	typ  byte
	body string
	link string
	size int64 // for zero-filled bodies (size bombs); body is ignored when set
}

func makeTarGz(t testing.TB, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644}
		if e.typ == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeDir {
			h.Mode = 0o755
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
			if e.size > 0 {
				h.Size = e.size
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if e.size > 0 {
				chunk := make([]byte, 1<<16)
				for left := e.size; left > 0; {
					n := min(left, int64(len(chunk)))
					if _, err := tw.Write(chunk[:n]); err != nil {
						t.Fatal(err)
					}
					left -= n
				}
			} else if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExtractTarGzRefusesUnsafeArchives(t *testing.T) {
	small := Limits{MaxBytes: 1 << 20, MaxFiles: 50}
	many := make([]tarEntry, 60)
	for i := range many {
		many[i] = tarEntry{name: "f" + strings.Repeat("x", i), body: "x"}
	}
	tests := []struct {
		name    string
		entries []tarEntry
		lim     Limits
		want    string
	}{
		{"path traversal", []tarEntry{{name: "model/../../evil", body: "x"}}, small, "path traversal"},
		{"leading dotdot", []tarEntry{{name: "../evil", body: "x"}}, small, "path traversal"},
		{"absolute path", []tarEntry{{name: "/tmp/evil", body: "x"}}, small, "absolute path"},
		{"symlink to absolute", []tarEntry{{name: "l", typ: tar.TypeSymlink, link: "/etc/passwd"}}, small, "absolute path"},
		{"symlink escaping", []tarEntry{{name: "a/l", typ: tar.TypeSymlink, link: "../../etc"}}, small, "outside the archive root"},
		{"symlink chain escaping", []tarEntry{
			{name: "b", typ: tar.TypeSymlink, link: "."},
			{name: "d/x", body: "x"},
			{name: "d/a", typ: tar.TypeSymlink, link: "../b/.."},
		}, small, "resolves outside"},
		{"write through symlink", []tarEntry{
			{name: "sub", typ: tar.TypeSymlink, link: "."},
			{name: "sub/x", body: "x"},
		}, small, "through a symlink"},
		{"hard link escaping", []tarEntry{{name: "h", typ: tar.TypeLink, link: "../outside"}}, small, "outside the archive root"},
		{"hard link to nothing", []tarEntry{{name: "h", typ: tar.TypeLink, link: "missing"}}, small, "not a regular file"},
		{"character device", []tarEntry{{name: "dev", typ: tar.TypeChar}}, small, "device file"},
		{"fifo", []tarEntry{{name: "fifo", typ: tar.TypeFifo}}, small, "device file"},
		{"size bomb", []tarEntry{{name: "zeros", size: 3 << 20}}, small, "larger than"},
		{"size bomb over several files", []tarEntry{{name: "a", size: 600 << 10}, {name: "b", size: 600 << 10}}, small, "larger than"},
		{"too many files", many, small, "more than 50 entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "root")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			err := ExtractTarGz(bytes.NewReader(makeTarGz(t, tt.entries)), dir, tt.lim)
			if err == nil {
				t.Fatal("extraction succeeded, want it refused")
			}
			if !errors.Is(err, ErrUnsafeArchive) {
				t.Errorf("error %v does not wrap ErrUnsafeArchive", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to mention %q", err, tt.want)
			}
			// Nothing may have been written next to the root.
			ents, _ := os.ReadDir(parent)
			if len(ents) != 1 {
				t.Errorf("extraction wrote outside the root: %v", ents)
			}
		})
	}
}

func TestExtractTarGzKeepsSafeArchives(t *testing.T) {
	dir := t.TempDir()
	data := makeTarGz(t, []tarEntry{
		{name: "./", typ: tar.TypeDir},
		{name: "model/", typ: tar.TypeDir},
		{name: "model/MLmodel", body: "flavors: {}\n"},
		{name: "model/data/weights.bin", body: "0123456789"},
		{name: "model/current", typ: tar.TypeSymlink, link: "data/weights.bin"},
		{name: "model/copy.bin", typ: tar.TypeLink, link: "model/data/weights.bin"},
		{name: "model/MLmodel", body: "flavors: {sklearn: {}}\n"}, // later entries win, like tar
	})
	if err := ExtractTarGz(bytes.NewReader(data), dir, Limits{}); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{
		"model/MLmodel":          "flavors: {sklearn: {}}\n",
		"model/data/weights.bin": "0123456789",
		"model/current":          "0123456789",
		"model/copy.bin":         "0123456789",
	} {
		got, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
}

func TestExtractTarGzRejectsNonGzip(t *testing.T) {
	err := ExtractTarGz(strings.NewReader("not an archive"), t.TempDir(), Limits{})
	if err == nil || !strings.Contains(err.Error(), "tar.gz") {
		t.Fatalf("err = %v, want a hint that the file is not a .tar.gz", err)
	}
}
