package mlflowapi

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"sort"
	"strings"
	"syscall"

	"github.com/bridgeops/bridge/internal/registry/mlflow"
	"github.com/bridgeops/bridge/internal/registry/mlflowerr"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// uploadPrefix marks files being uploaded; they are renamed into place when
// complete and never listed.
const uploadPrefix = ".bridge-upload-"

// serveArtifacts serves MLflow's artifact proxy API on the local artifact
// root. Every file access goes through os.Root, so neither "..", absolute
// paths nor symbolic links can reach outside the root.
func (s *server) serveArtifacts(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, artifactsPath), ajaxArtif)
	if rest == "" { // the collection itself: list
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			s.writeError(w, r, &apiError{status: http.StatusMethodNotAllowed, code: "BAD_REQUEST", msg: "List artifacts with GET " + artifactsPath + "?path=DIR."})
			return
		}
		s.listArtifacts(w, r)
		return
	}
	rest = strings.TrimPrefix(rest, "/")
	if strings.HasPrefix(rest, "/") {
		s.writeError(w, r, invalid("Invalid path: "+rest+" (absolute paths are not allowed)"))
		return
	}
	rel, err := store.CleanArtifactPath(rest)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if rel == "" {
		s.writeError(w, r, invalid("Invalid path: the artifact root itself is not a file"))
		return
	}
	if err := os.MkdirAll(s.opt.ArtifactRoot, 0o755); err != nil {
		s.writeError(w, r, fmt.Errorf("create artifact root: %w", err))
		return
	}
	root, err := os.OpenRoot(s.opt.ArtifactRoot)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("open artifact root: %w", err))
		return
	}
	defer root.Close()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.download(w, r, root, rel)
	case http.MethodPut:
		s.upload(w, r, root, rel)
	case http.MethodDelete:
		if err := root.RemoveAll(rel); err != nil {
			s.writeError(w, r, fsError(rel, err))
			return
		}
		writeJSON(w, http.StatusOK, empty{})
	default:
		w.Header().Set("Allow", "GET, PUT, DELETE")
		s.writeError(w, r, &apiError{status: http.StatusMethodNotAllowed, code: "BAD_REQUEST", msg: "Artifacts support GET (download), PUT (upload) and DELETE."})
	}
}

// fsError maps file system errors to MLflow errors without revealing
// server paths.
func fsError(rel string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &store.Error{Code: mlflowerr.NotFound, Message: "Artifact " + rel + " does not exist."}
	case errors.Is(err, syscall.EISDIR), errors.Is(err, syscall.ENOTDIR), errors.Is(err, fs.ErrExist):
		return invalid("Invalid path: " + rel + " conflicts with an existing file or directory.")
	case strings.Contains(err.Error(), "escapes") || errors.Is(err, syscall.ELOOP):
		return invalid("Invalid path: " + rel + " leads outside the artifact root.")
	}
	return fmt.Errorf("artifact %s: %w", rel, err)
}

func (s *server) download(w http.ResponseWriter, r *http.Request, root *os.Root, rel string) {
	f, err := root.Open(rel)
	if err != nil {
		s.writeError(w, r, fsError(rel, err))
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.writeError(w, r, fsError(rel, err))
		return
	}
	if fi.IsDir() {
		s.writeError(w, r, invalid("Invalid path: "+rel+" is a directory; list it with GET "+artifactsPath+"?path="+rel))
		return
	}
	if strings.HasPrefix(path.Base(rel), uploadPrefix) {
		s.writeError(w, r, fsError(rel, fs.ErrNotExist))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, path.Base(rel), fi.ModTime(), f)
}

// upload writes the body to a temporary file next to the target and renames
// it into place: readers see the old file or the whole new one, and a failed
// or oversized upload leaves nothing behind.
func (s *server) upload(w http.ResponseWriter, r *http.Request, root *os.Root, rel string) {
	if strings.HasPrefix(path.Base(rel), uploadPrefix) {
		s.writeError(w, r, invalid("Invalid path: names starting with "+uploadPrefix+" are reserved"))
		return
	}
	if dir := path.Dir(rel); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			s.writeError(w, r, fsError(rel, err))
			return
		}
	}
	if fi, err := root.Stat(rel); err == nil && fi.IsDir() {
		s.writeError(w, r, invalid("Invalid path: "+rel+" is a directory"))
		return
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.writeError(w, r, fsError(rel, err))
		return
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := path.Join(path.Dir(rel), uploadPrefix+hex.EncodeToString(rnd[:]))
	f, err := root.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		s.writeError(w, r, fsError(rel, err))
		return
	}
	_, err = io.Copy(f, http.MaxBytesReader(w, r.Body, s.opt.MaxArtifactBytes))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, rel)
	}
	if err != nil {
		root.Remove(tmp)
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			s.writeError(w, r, &apiError{status: http.StatusRequestEntityTooLarge, code: mlflowerr.Invalid,
				msg: fmt.Sprintf("Artifact %s exceeds the limit of %d bytes.", rel, s.opt.MaxArtifactBytes)})
		case r.Context().Err() != nil:
			s.writeError(w, r, fmt.Errorf("upload %s: %w", rel, r.Context().Err()))
		default:
			s.writeError(w, r, fsError(rel, err))
		}
		return
	}
	writeJSON(w, http.StatusOK, empty{})
}

// listArtifacts answers GET .../artifacts?path=DIR with the entries of DIR:
// names, is_dir, and file_size for files. A missing directory is empty.
func (s *server) listArtifacts(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Query().Get("path")
	if strings.HasPrefix(p, "/") {
		s.writeError(w, r, invalid("Invalid path: "+p+" (absolute paths are not allowed)"))
		return
	}
	rel, err := store.CleanArtifactPath(p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if rel == "" {
		rel = "."
	}
	out := mlflow.ListArtifactsResponse{}
	root, err := os.OpenRoot(s.opt.ArtifactRoot)
	if errors.Is(err, fs.ErrNotExist) {
		writeJSON(w, http.StatusOK, out)
		return
	}
	if err != nil {
		s.writeError(w, r, fmt.Errorf("open artifact root: %w", err))
		return
	}
	defer root.Close()
	d, err := root.Open(rel)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		writeJSON(w, http.StatusOK, out)
		return
	}
	if err != nil {
		s.writeError(w, r, fsError(rel, err))
		return
	}
	defer d.Close()
	if fi, err := d.Stat(); err != nil || !fi.IsDir() {
		writeJSON(w, http.StatusOK, out)
		return
	}
	entries, err := d.ReadDir(-1)
	if err != nil {
		s.writeError(w, r, fsError(rel, err))
		return
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), uploadPrefix) {
			continue
		}
		// Stat through the root: symbolic links are followed only when they
		// stay inside it; others are not listed.
		fi, err := root.Stat(path.Join(rel, e.Name()))
		if err != nil {
			continue
		}
		info := mlflow.FileInfo{Path: e.Name(), IsDir: fi.IsDir()}
		if !fi.IsDir() {
			info.FileSize = mlflow.Int64(fi.Size())
		}
		out.Files = append(out.Files, info)
	}
	writeJSON(w, http.StatusOK, out)
}
