package tsdb

import (
	"os"
	"sync"
	"time"
)

// Follower reads a DB file another process writes (bridge run), loading
// it again when it changes, at most once per Every. A missing or unreadable
// file reads as empty; Err says why.
type Follower struct {
	Path  string
	Every time.Duration

	mu      sync.Mutex
	db      *DB
	mod     time.Time
	checked time.Time
	err     error
}

func (f *Follower) current() *DB {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.db != nil && time.Since(f.checked) < f.Every {
		return f.db
	}
	f.checked = time.Now()
	st, err := os.Stat(f.Path)
	if err != nil {
		f.err = err
		if f.db == nil {
			f.db, _ = Open(Options{})
		}
		return f.db
	}
	if f.db != nil && st.ModTime().Equal(f.mod) {
		return f.db
	}
	db, err := Open(Options{Path: f.Path})
	f.err = err
	if err != nil {
		if f.db == nil {
			f.db, _ = Open(Options{})
		}
		return f.db
	}
	f.db, f.mod = db, st.ModTime()
	return db
}

// Err is the last error reading the file.
func (f *Follower) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Series is DB.Series on the file's latest contents.
func (f *Follower) Series(k Key, r Range) ([]Point, error) { return f.current().Series(k, r) }

// Versions is DB.Versions on the file's latest contents.
func (f *Follower) Versions(model, slot string) []string { return f.current().Versions(model, slot) }

// Events is DB.Events on the file's latest contents.
func (f *Follower) Events(model, slot string) []Event { return f.current().Events(model, slot) }

// Recent is DB.Recent on the file's latest contents.
func (f *Follower) Recent(n int) []EndpointEvent { return f.current().Recent(n) }

// ModelEvents is DB.ModelEvents on the file's latest contents.
func (f *Follower) ModelEvents(model string) []EndpointEvent { return f.current().ModelEvents(model) }
