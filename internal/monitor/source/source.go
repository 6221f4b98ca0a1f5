// Package source lists and reads the monitor's inputs — captures and ground
// truth in SageMaker's hourly layout (…/YYYY/MM/DD/HH/<file>.jsonl) — from a
// local directory or from S3 (s3://bucket/prefix, through the AWS SDK,
// honouring AWS_ENDPOINT_URL), and writes ground truth.
package source

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bridgeops/bridge/internal/config"
)

// Object is a listed file.
type Object struct {
	Key  string // path relative to the store's root, slash-separated
	Size int64
}

// Store is a place files live.
type Store interface {
	// List returns every object under prefix (recursively), sorted by key.
	List(ctx context.Context, prefix string) ([]Object, error)
	// Open opens an object for reading.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Put writes an object.
	Put(ctx context.Context, key string, body []byte) error
	// String names the store's root for messages.
	String() string
}

// Open resolves a location — a directory, or s3://bucket/prefix (with the
// AWS settings aws) — into a store rooted there.
func Open(ctx context.Context, location string, aws config.AWSSettings) (Store, error) {
	if strings.HasPrefix(location, "s3://") {
		return OpenS3(ctx, location, aws)
	}
	if location == "" {
		return nil, errors.New("no location given: pass a directory or s3://bucket/prefix")
	}
	return Dir(location), nil
}

// Dir is a local directory store.
type Dir string

// String implements Store.
func (d Dir) String() string { return string(d) }

// List implements Store. A missing directory lists nothing.
func (d Dir) List(ctx context.Context, prefix string) ([]Object, error) {
	root := filepath.Join(string(d), filepath.FromSlash(prefix))
	var out []Object
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if e.IsDir() {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return nil // vanished
		}
		rel, err := filepath.Rel(string(d), p)
		if err != nil {
			return err
		}
		out = append(out, Object{Key: filepath.ToSlash(rel), Size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", root, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Open implements Store.
func (d Dir) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	return os.Open(filepath.Join(string(d), filepath.FromSlash(key)))
}

// Put implements Store: written to a temporary file then renamed, so
// readers never see half a file.
func (d Dir) Put(ctx context.Context, key string, body []byte) error {
	p := filepath.Join(string(d), filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(p), err)
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, body, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return os.Rename(tmp, p)
}

// HourOf returns the hour a key's YYYY/MM/DD/HH directories name.
func HourOf(key string) (time.Time, bool) {
	parts := strings.Split(key, "/")
	if len(parts) < 5 {
		return time.Time{}, false
	}
	p := parts[len(parts)-5 : len(parts)-1]
	var n [4]int
	for i, s := range p {
		v, err := strconv.Atoi(s)
		if err != nil {
			return time.Time{}, false
		}
		n[i] = v
	}
	if len(p[0]) != 4 || n[1] < 1 || n[1] > 12 || n[2] < 1 || n[2] > 31 || n[3] > 23 {
		return time.Time{}, false
	}
	return time.Date(n[0], time.Month(n[1]), n[2], n[3], 0, 0, 0, time.UTC), true
}

// HourPath is the YYYY/MM/DD/HH directory of t.
func HourPath(t time.Time) string { return t.UTC().Format("2006/01/02/15") }

// DirLister is implemented by stores that list one directory level (S3:
// common prefixes with a "/" delimiter), so a window can list only its
// hour directories instead of everything under the prefix.
type DirLister interface {
	// ListDirs returns the names of the directories directly under prefix.
	ListDirs(ctx context.Context, prefix string) ([]string, error)
}

// maxHourListing is the longest window (in hours) listed hour by hour.
const maxHourListing = 31 * 24

// Window lists the .jsonl objects under prefix whose hour directory falls
// in [start, end) (hours overlapping the window: the start hour is
// floored). A zero start or end leaves that side open. With a start, and a
// store that lists directories, only the window's hour directories are
// listed (an open end means up to the next hour).
func Window(ctx context.Context, s Store, prefix string, start, end time.Time) ([]Object, error) {
	from := start.UTC().Truncate(time.Hour)
	var all []Object
	listed := false
	if dl, ok := s.(DirLister); ok && !start.IsZero() {
		to := end
		if to.IsZero() {
			to = time.Now().Add(time.Hour)
		}
		if to.Sub(from) <= maxHourListing*time.Hour {
			objs, err := listHours(ctx, s, dl, prefix, from, to)
			if err == nil {
				all, listed = objs, true
			} else if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// Otherwise (a store without delimiter support) list it all.
		}
	}
	if !listed {
		var err error
		if all, err = s.List(ctx, prefix); err != nil {
			return nil, err
		}
	}
	var out []Object
	for _, o := range all {
		if !strings.HasSuffix(o.Key, ".jsonl") {
			continue
		}
		h, ok := HourOf(o.Key)
		if !ok {
			continue
		}
		if !start.IsZero() && h.Before(from) {
			continue
		}
		if !end.IsZero() && !h.Before(end) {
			continue
		}
		out = append(out, o)
	}
	return out, nil
}

// listHours lists the hour directories [from, to) under prefix, or under
// each of its sub-directories when these are not years (capture layouts
// have a variant level: <endpoint>/<variant>/YYYY/...).
func listHours(ctx context.Context, s Store, dl DirLister, prefix string, from, to time.Time) ([]Object, error) {
	children, err := dl.ListDirs(ctx, prefix)
	if err != nil {
		return nil, err
	}
	bases := []string{}
	years := false
	for _, c := range children {
		if len(c) == 4 && strings.Trim(c, "0123456789") == "" {
			years = true
		}
	}
	if years {
		bases = append(bases, prefix)
	} else {
		for _, c := range children {
			bases = append(bases, Join(prefix, c))
		}
	}
	var out []Object
	for _, b := range bases {
		for h := from; h.Before(to); h = h.Add(time.Hour) {
			objs, err := s.List(ctx, Join(b, HourPath(h)))
			if err != nil {
				return nil, err
			}
			out = append(out, objs...)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// ListDirs implements DirLister.
func (d Dir) ListDirs(ctx context.Context, prefix string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(string(d), filepath.FromSlash(prefix)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// Join joins a prefix and a name with a slash.
func Join(elem ...string) string {
	p := path.Join(elem...)
	return strings.TrimPrefix(p, "/")
}

// MaxLine is the longest line Lines reads; longer lines are skipped and
// reported as malformed.
const MaxLine = 64 << 20

// LineFunc handles one line; worker identifies the calling goroutine (0 to
// workers-1) so handlers can keep per-worker state without locks. line is
// only valid during the call.
type LineFunc func(worker int, line []byte)

// Lines reads every object's lines with the given number of goroutines
// (files are spread over them) and calls fn for each non-empty line. Lines
// over MaxLine are counted in tooLong and skipped.
func Lines(ctx context.Context, s Store, objs []Object, workers int, fn LineFunc) (tooLong int64, err error) {
	if workers < 1 {
		workers = 1
	}
	jobs := make(chan Object)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			br := bufio.NewReaderSize(nil, 256<<10)
			var long []byte
			for o := range jobs {
				n, err := readLines(ctx, s, o, br, &long, func(line []byte) { fn(w, line) })
				mu.Lock()
				tooLong += n
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}(w)
	}
feed:
	for _, o := range objs {
		select {
		case jobs <- o:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return tooLong, firstErr
}

func readLines(ctx context.Context, s Store, o Object, br *bufio.Reader, long *[]byte, fn func([]byte)) (int64, error) {
	rc, err := s.Open(ctx, o.Key)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, nil // removed since listed
		}
		return 0, fmt.Errorf("open %s: %w", o.Key, err)
	}
	defer rc.Close()
	br.Reset(rc)
	var tooLong int64
	skipping := false
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if !skipping {
				*long = append((*long)[:0], line...)
				if len(*long) > MaxLine {
					skipping, *long = true, (*long)[:0]
				}
			}
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				if !skipping {
					*long = append(*long, line...)
					if len(*long) > MaxLine {
						skipping, *long = true, (*long)[:0]
					}
				}
			}
			if skipping {
				tooLong++
				skipping = false
			} else {
				line = *long
			}
		}
		if l := bytes.TrimSpace(line); len(l) > 0 {
			fn(l)
		}
		if err == io.EOF {
			return tooLong, nil
		}
		if err != nil && err != bufio.ErrBufferFull {
			return tooLong, fmt.Errorf("read %s: %w", o.Key, err)
		}
	}
}
