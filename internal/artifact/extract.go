package artifact

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Limits bound what one artifact may hold once downloaded or extracted.
type Limits struct {
	// MaxBytes is the largest total size of the files of one artifact
	// (after decompression). Zero means DefaultMaxBytes.
	MaxBytes int64
	// MaxFiles is the largest number of entries (files, directories, links)
	// of one artifact. Zero means DefaultMaxFiles.
	MaxFiles int
}

// Default limits of an artifact.
const (
	DefaultMaxBytes = 2 << 30 // 2 GiB
	DefaultMaxFiles = 20000
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	return l
}

// ErrUnsafeArchive is wrapped by every error that refuses an archive entry
// for safety (path traversal, absolute path, link escaping the root, device
// file, size or file-count limit).
var ErrUnsafeArchive = errors.New("unsafe archive")

// budget counts bytes and entries against Limits.
type budget struct {
	lim   Limits
	bytes int64
	files int
}

func (b *budget) addFile() error {
	b.files++
	if b.files > b.lim.MaxFiles {
		return fmt.Errorf("%w: more than %d entries (raise the artifact file limit if this model is legitimate)", ErrUnsafeArchive, b.lim.MaxFiles)
	}
	return nil
}

func (b *budget) errTooBig() error {
	return fmt.Errorf("%w: larger than %d bytes (raise the artifact size limit if this model is legitimate)", ErrUnsafeArchive, b.lim.MaxBytes)
}

// limitedWriter fails once the budget's byte limit is passed.
type limitedWriter struct {
	w io.Writer
	b *budget
}

func (lw limitedWriter) Write(p []byte) (int, error) {
	if lw.b.bytes+int64(len(p)) > lw.b.lim.MaxBytes {
		return 0, lw.b.errTooBig()
	}
	n, err := lw.w.Write(p)
	lw.b.bytes += int64(n)
	return n, err
}

// IsArchive reports whether a file name names a gzip-compressed tarball.
func IsArchive(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".tar.gz") || strings.HasSuffix(n, ".tgz")
}

// ExtractTarGz extracts a gzip-compressed tar stream into dir (which must
// exist and should be empty). It refuses, with an error wrapping
// ErrUnsafeArchive: absolute names, names with ".." components, entries
// written through a symbolic link, symbolic and hard links that resolve
// outside dir, device files and FIFOs, and archives over the limits. On error
// dir may hold a partial tree: the caller removes it.
func ExtractTarGz(r io.Reader, dir string, lim Limits) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("read archive: %w (is it a .tar.gz file?)", err)
	}
	defer zr.Close()
	return extractTar(tar.NewReader(zr), dir, &budget{lim: lim.withDefaults()})
}

func extractTar(tr *tar.Reader, dir string, b *budget) error {
	root, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	var links []string // symlinks created, checked once everything is in place
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		rel, err := entryPath(h.Name)
		if err != nil {
			return err
		}
		if rel == "" { // "." or "./": the root itself
			continue
		}
		if err := b.addFile(); err != nil {
			return err
		}
		dst := filepath.Join(root, filepath.FromSlash(rel))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := mkdirInRoot(root, rel); err != nil {
				return err
			}
		case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
			if h.Size > b.lim.MaxBytes-b.bytes {
				return b.errTooBig()
			}
			if err := prepareEntry(root, rel); err != nil {
				return err
			}
			if err := writeFile(dst, tr, fileMode(h.Mode), b); err != nil {
				return fmt.Errorf("extract %s: %w", h.Name, err)
			}
		case tar.TypeSymlink:
			if err := checkLinkTarget(rel, h.Linkname, false); err != nil {
				return err
			}
			if err := prepareEntry(root, rel); err != nil {
				return err
			}
			if err := os.Symlink(h.Linkname, dst); err != nil {
				return fmt.Errorf("extract %s: %w", h.Name, err)
			}
			links = append(links, dst)
		case tar.TypeLink:
			if err := checkLinkTarget(rel, h.Linkname, true); err != nil {
				return err
			}
			target, _ := entryPath(h.Linkname)
			src := filepath.Join(root, filepath.FromSlash(target))
			if err := throughNoSymlink(root, target); err != nil {
				return err
			}
			fi, err := os.Lstat(src)
			if err != nil || !fi.Mode().IsRegular() {
				return fmt.Errorf("%w: hard link %s points to %s, which is not a regular file extracted before it", ErrUnsafeArchive, h.Name, h.Linkname)
			}
			if err := prepareEntry(root, rel); err != nil {
				return err
			}
			if err := os.Link(src, dst); err != nil {
				return fmt.Errorf("extract %s: %w", h.Name, err)
			}
		case tar.TypeXGlobalHeader:
			// Metadata only.
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			return fmt.Errorf("%w: %s is a device file or FIFO", ErrUnsafeArchive, h.Name)
		default:
			return fmt.Errorf("%w: %s has unsupported entry type %q", ErrUnsafeArchive, h.Name, h.Typeflag)
		}
	}
	// Links are checked again on disk, following every link on the way, so
	// that chains of individually harmless links cannot leave the root.
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	for _, l := range links {
		resolved, err := filepath.EvalSymlinks(l)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // dangling but inside: harmless
			}
			return fmt.Errorf("%w: symlink %s: %v", ErrUnsafeArchive, l, err)
		}
		if !within(realRoot, resolved) {
			rel, _ := filepath.Rel(root, l)
			return fmt.Errorf("%w: symlink %s resolves outside the archive root", ErrUnsafeArchive, rel)
		}
	}
	return nil
}

// entryPath validates an archive entry name and returns it cleaned, relative
// and slash-separated ("" for the root itself).
func entryPath(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: entry with an empty name", ErrUnsafeArchive)
	}
	if strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || filepath.IsAbs(name) || (len(name) > 1 && name[1] == ':') {
		return "", fmt.Errorf("%w: entry %q has an absolute path", ErrUnsafeArchive, name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("%w: entry %q leaves the archive root (path traversal)", ErrUnsafeArchive, name)
		}
	}
	clean := path.Clean(name)
	if clean == "." {
		return "", nil
	}
	return clean, nil
}

// checkLinkTarget refuses link targets that leave the root lexically.
// Symlink targets are relative to the link's directory; hard-link targets
// are archive names.
func checkLinkTarget(rel, target string, hard bool) error {
	kind := "symlink"
	if hard {
		kind = "hard link"
	}
	if target == "" || strings.HasPrefix(target, "/") || filepath.IsAbs(target) {
		return fmt.Errorf("%w: %s %s points to absolute path %q", ErrUnsafeArchive, kind, rel, target)
	}
	joined := target
	if !hard {
		joined = path.Join(path.Dir(rel), target)
	}
	clean := path.Clean(joined)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return fmt.Errorf("%w: %s %s points outside the archive root (%q)", ErrUnsafeArchive, kind, rel, target)
	}
	return nil
}

// prepareEntry creates rel's parent directories (refusing to pass through a
// symlink) and removes a previous regular file at rel.
func prepareEntry(root, rel string) error {
	if dir := path.Dir(rel); dir != "." {
		if err := mkdirInRoot(root, dir); err != nil {
			return err
		}
	}
	dst := filepath.Join(root, filepath.FromSlash(rel))
	fi, err := os.Lstat(dst)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("%w: entry %s replaces a directory", ErrUnsafeArchive, rel)
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%w: entry %s replaces a symlink", ErrUnsafeArchive, rel)
	}
	return os.Remove(dst)
}

// mkdirInRoot creates root/rel and its parents; an existing component that is
// a symlink or a file is refused.
func mkdirInRoot(root, rel string) error {
	cur := root
	for _, part := range strings.Split(rel, "/") {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			if err := os.Mkdir(cur, 0o755); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%w: entry %s goes through a symlink", ErrUnsafeArchive, rel)
		}
		if !fi.IsDir() {
			return fmt.Errorf("%w: entry %s goes through a file", ErrUnsafeArchive, rel)
		}
	}
	return nil
}

// throughNoSymlink refuses paths whose directories include a symlink.
func throughNoSymlink(root, rel string) error {
	cur := root
	parts := strings.Split(rel, "/")
	for _, part := range parts[:len(parts)-1] {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if err != nil {
			return fmt.Errorf("%w: link target %s: %v", ErrUnsafeArchive, rel, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%w: link target %s goes through a symlink", ErrUnsafeArchive, rel)
		}
	}
	return nil
}

func writeFile(dst string, r io.Reader, mode fs.FileMode, b *budget) error {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = io.Copy(limitedWriter{f, b}, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// fileMode keeps only the permission bits that matter: executable or not.
func fileMode(m int64) fs.FileMode {
	if m&0o111 != 0 {
		return 0o755
	}
	return 0o644
}

// within reports whether p is root or below it (both absolute, clean).
func within(root, p string) bool {
	if p == root {
		return true
	}
	return strings.HasPrefix(p, strings.TrimSuffix(root, string(filepath.Separator))+string(filepath.Separator))
}
