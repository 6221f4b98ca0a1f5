package artifact

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// fromLocal copies a local directory or file (an archive is extracted
// straight from disk) into dst.
func (f *Fetcher) fromLocal(p, dst string, b *budget) error {
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real // a link to the model directory: walk the directory itself
	}
	fi, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("local artifact %s does not exist", p)
		}
		return err
	}
	if err := ensureDir(dst); err != nil {
		return err
	}
	if !fi.IsDir() {
		if IsArchive(p) {
			return extractFile(p, dst, b.lim)
		}
		if err := b.addFile(); err != nil {
			return err
		}
		return copyFile(p, filepath.Join(dst, filepath.Base(p)), b)
	}
	return copyTree(p, dst, b)
}

// copyTree copies the regular files and directories of src into dst.
// Symbolic links are followed when they point at regular files; other
// special files are skipped.
func copyTree(src, dst string, b *budget) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			if err := b.addFile(); err != nil {
				return err
			}
			return os.Mkdir(out, 0o755)
		}
		if d.Type()&fs.ModeSymlink != 0 {
			fi, err := os.Stat(p)
			if err != nil || !fi.Mode().IsRegular() {
				return nil // dangling or a directory link: not part of the model
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		if err := b.addFile(); err != nil {
			return err
		}
		return copyFile(p, out, b)
	})
}

func copyFile(src, dst string, b *budget) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	return writeFile(dst, io.Reader(in), fi.Mode().Perm()|0o600, b)
}
