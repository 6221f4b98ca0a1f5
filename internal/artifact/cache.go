package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// manifestName is the file, next to the files/ tree of a cache entry, that
// lists every file with its size and SHA-256. A cache entry without a
// manifest that matches its files is not used.
const manifestName = "manifest.json"

// manifest describes one complete cache entry.
type manifest struct {
	Source  string          `json:"source"`
	Root    string          `json:"root"` // model root, slash-separated, relative to files/ ("" = files/ itself)
	Created time.Time       `json:"created"`
	Files   []manifestEntry `json:"files"`
}

type manifestEntry struct {
	Path   string `json:"path"` // slash-separated, relative to files/
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Link   string `json:"link,omitempty"` // symlink target, for links
}

// buildManifest walks dir and records every regular file and symlink.
func buildManifest(dir string) ([]manifestEntry, error) {
	var out []manifestEntry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir || d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out = append(out, manifestEntry{Path: rel, Link: target})
		case d.Type().IsRegular():
			size, sum, err := hashFile(p)
			if err != nil {
				return err
			}
			out = append(out, manifestEntry{Path: rel, Size: size, SHA256: sum})
		default:
			return fmt.Errorf("%s: unsupported file type %v", rel, d.Type())
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, err
}

func hashFile(p string) (int64, string, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// verify checks that every file the manifest lists is in dir with its size
// and hash. Files the manifest does not list (Python's __pycache__) are
// ignored.
func (m manifest) verify(dir string) error {
	if len(m.Files) == 0 {
		return errors.New("manifest lists no files")
	}
	for _, e := range m.Files {
		p := filepath.Join(dir, filepath.FromSlash(e.Path))
		if e.Link != "" {
			got, err := os.Readlink(p)
			if err != nil || got != e.Link {
				return fmt.Errorf("%s: symlink changed or missing", e.Path)
			}
			continue
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return fmt.Errorf("%s: %w", e.Path, err)
		}
		if !fi.Mode().IsRegular() || fi.Size() != e.Size {
			return fmt.Errorf("%s: size %d, want %d", e.Path, fi.Size(), e.Size)
		}
		_, sum, err := hashFile(p)
		if err != nil {
			return fmt.Errorf("%s: %w", e.Path, err)
		}
		if sum != e.SHA256 {
			return fmt.Errorf("%s: sha256 mismatch", e.Path)
		}
	}
	return nil
}

func readManifest(entryDir string) (manifest, error) {
	var m manifest
	b, err := os.ReadFile(filepath.Join(entryDir, manifestName))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("parse %s: %w", manifestName, err)
	}
	return m, nil
}

func writeManifest(entryDir string, m manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(entryDir, manifestName))
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// entryName is a cache directory name for a model: readable, and unique
// even for names that differ only in characters that are not kept.
func entryName(model string) string {
	var b strings.Builder
	for _, r := range model {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.TrimLeft(b.String(), ".")
	if len(s) > 64 {
		s = s[:64]
	}
	sum := sha256.Sum256([]byte(model))
	return s + "-" + hex.EncodeToString(sum[:4])
}

// findModelRoot returns the directory under dir (slash-separated, relative;
// "" for dir itself) that holds an MLmodel file, looking at dir and up to
// two levels below it.
func findModelRoot(dir string) (string, error) {
	level := []string{""}
	for depth := 0; depth <= 2; depth++ {
		var found, next []string
		for _, rel := range level {
			abs := filepath.Join(dir, filepath.FromSlash(rel))
			if fi, err := os.Stat(filepath.Join(abs, "MLmodel")); err == nil && fi.Mode().IsRegular() {
				found = append(found, rel)
				continue
			}
			ents, err := os.ReadDir(abs)
			if err != nil {
				return "", err
			}
			for _, e := range ents {
				if e.IsDir() {
					next = append(next, strings.TrimPrefix(rel+"/"+e.Name(), "/"))
				}
			}
		}
		switch len(found) {
		case 0:
			level = next
		case 1:
			return found[0], nil
		default:
			sort.Strings(found)
			return "", fmt.Errorf("artifact holds several models (%s): point the version's source at one of them", strings.Join(found, ", "))
		}
	}
	return "", errors.New("no MLmodel file in the artifact (looked two levels down): the source must be an MLflow model directory, or an archive of one")
}
