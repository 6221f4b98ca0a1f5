package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/bridgeops/bridge/internal/capture"
)

// CaptureDir reads captured invocations from a local data-capture root
// (<root>/<endpoint>/<variant>/YYYY/MM/DD/HH/*.jsonl).
type CaptureDir struct {
	Root string
}

// maxShown bounds a payload as shown on a page.
const maxShown = 2048

// tailBytes is how much of a capture file's end is read.
const tailBytes = 256 << 10

// Recent returns up to n of the endpoint's newest captured invocations,
// newest first.
func (c CaptureDir) Recent(ctx context.Context, endpoint string, n int) ([]Captured, error) {
	if endpoint == "" || strings.ContainsAny(endpoint, `/\`) || endpoint == "." || endpoint == ".." {
		return nil, fmt.Errorf("endpoint name %q", endpoint)
	}
	root := filepath.Join(c.Root, endpoint)
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".jsonl") {
			files = append(files, p)
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list captures of %s: %w", endpoint, err)
	}
	// Newest first: the hour path, then the file name (which starts with
	// the time it was opened).
	sort.Slice(files, func(i, j int) bool {
		a, b := hourKey(root, files[i]), hourKey(root, files[j])
		if a != b {
			return a > b
		}
		return files[i] > files[j]
	})
	var out []Captured
	for _, f := range files {
		if len(out) >= n || ctx.Err() != nil {
			break
		}
		evs, err := tail(f, n-len(out))
		if err != nil {
			return out, err
		}
		rel, _ := filepath.Rel(root, f)
		variant, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
		for i := range evs {
			evs[i].Variant = variant
		}
		out = append(out, evs...)
	}
	return out, nil
}

// hourKey is a file's YYYY/MM/DD/HH part, whatever its variant.
func hourKey(root, p string) string {
	rel, _ := filepath.Rel(root, p)
	parts := strings.Split(filepath.ToSlash(rel), "/")
	if len(parts) < 6 {
		return ""
	}
	return strings.Join(parts[1:5], "/")
}

// tail parses up to n events from the end of a capture file, newest first.
func tail(path string, n int) ([]Captured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read captures: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read captures: %w", err)
	}
	off := max(st.Size()-tailBytes, 0)
	b, err := io.ReadAll(io.NewSectionReader(f, off, st.Size()-off))
	if err != nil {
		return nil, fmt.Errorf("read captures %s: %w", path, err)
	}
	if off > 0 { // drop the partial first line
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	lines := bytes.Split(b, []byte{'\n'})
	var out []Captured
	var ev capture.Event
	for i := len(lines) - 1; i >= 0 && len(out) < n; i-- {
		if len(bytes.TrimSpace(lines[i])) == 0 {
			continue
		}
		if capture.ParseLine(lines[i], &ev) != nil {
			continue // a line being written, or not a record
		}
		c := Captured{Time: ev.InferenceTime, EventID: ev.EventID}
		if ev.Input != nil {
			c.Input, c.InputContentType = shown(ev.Input.Data), ev.Input.ContentType
		}
		if ev.Output != nil {
			c.Output, c.OutputContentType = shown(ev.Output.Data), ev.Output.ContentType
		}
		out = append(out, c)
	}
	return out, nil
}

// shown is a payload as text, cut to maxShown bytes; binary payloads are
// described, not shown.
func shown(b []byte) string {
	cut := len(b) > maxShown
	if cut {
		b = b[:maxShown]
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
	}
	if !utf8.Valid(b) {
		return fmt.Sprintf("(%d bytes of binary data)", len(b))
	}
	s := string(b)
	if cut {
		s += " …"
	}
	return s
}
