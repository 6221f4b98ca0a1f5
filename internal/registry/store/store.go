// Package store is Bridge's embedded model registry: registered models,
// model versions, stages, aliases and tags in one SQLite file
// (<home>/registry.db) through modernc.org/sqlite, without cgo.
//
// The database runs in WAL mode with foreign keys on and a busy timeout.
// Every change is one transaction started with BEGIN IMMEDIATE and serialised
// inside the process, so concurrent writers never lose an update and version
// numbers are assigned per model without gaps or duplicates; a crash leaves
// the last committed state. Schema changes are versioned migrations.
//
// *Store implements registry.Registry and registry.Notifier: the reconcile
// loop reads it in-process and wakes up after every committed change.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/bridgeops/bridge/internal/registry"
	"github.com/bridgeops/bridge/internal/registry/mlflowerr"
)

// FileName is the name of the registry database inside Bridge's home.
const FileName = "registry.db"

// ArtifactsDir is the name of the artifact store directory inside Bridge's home.
const ArtifactsDir = "artifacts"

// Store is the embedded registry. It is safe for concurrent use.
type Store struct {
	db       *sql.DB
	home     string
	mu       sync.Mutex // serialises this process's write transactions
	changes  chan struct{}
	now      func() time.Time
	closeErr error
	once     sync.Once

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared statements of the hot write path

	cacheMu sync.Mutex    // guards cache
	cache   *versionCache // Versions' last result, nil before the first call

	seen      atomic.Int64 // highest change counter already notified
	watchOnce sync.Once
	stop      chan struct{}
	watchDone chan struct{}
}

// PollInterval is how often the store looks for changes committed by other
// processes sharing the database file (bridge registry serve next to bridge
// run). Changes made through this Store notify at once.
var PollInterval = 500 * time.Millisecond

var (
	_ registry.Registry = (*Store)(nil)
	_ registry.Notifier = (*Store)(nil)
)

// Open opens (creating if needed) the registry in home: the directory, the
// database file <home>/registry.db and its schema.
func Open(ctx context.Context, home string) (*Store, error) {
	if home == "" {
		return nil, errors.New("open registry: empty home directory (set BRIDGE_HOME or --home)")
	}
	abs, err := filepath.Abs(home)
	if err != nil {
		return nil, fmt.Errorf("open registry in %s: %w", home, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("open registry: create home %s: %w", abs, err)
	}
	path := filepath.Join(abs, FileName)
	db, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return nil, fmt.Errorf("open registry %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(0)
	s := &Store{db: db, home: abs, changes: make(chan struct{}, 1), now: time.Now, stop: make(chan struct{}), watchDone: make(chan struct{})}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open registry %s: %w", path, err)
	}
	seq, err := s.changeSeq(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open registry %s: %w", path, err)
	}
	s.seen.Store(seq)
	return s, nil
}

// DB returns the database handle, for packages that keep their own tables
// in the same file. Transactions begun on it without ReadOnly start with
// BEGIN IMMEDIATE. Do not close it: Close does.
func (s *Store) DB() *sql.DB { return s.db }

// Home returns the absolute home directory the store was opened in.
func (s *Store) Home() string { return s.home }

// ArtifactRoot returns the directory of the artifact store,
// <home>/artifacts, where mlflow-artifacts:/ sources live.
func (s *Store) ArtifactRoot() string { return filepath.Join(s.home, ArtifactsDir) }

// Close stops watching for changes and closes the database. It is safe to
// call more than once.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.stmtMu.Lock()
		for _, st := range s.stmts {
			st.Close()
		}
		s.stmts = nil
		s.stmtMu.Unlock()
		close(s.stop)
		s.watchOnce.Do(func() { close(s.watchDone) }) // never started
		<-s.watchDone
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// Changes receives a value after every committed change (coalesced: one
// pending value at most; writers never block on it): at once for changes
// made through this Store, within PollInterval for changes committed by
// other processes on the same file.
func (s *Store) Changes() <-chan struct{} {
	s.watchOnce.Do(func() { go s.watch() })
	return s.changes
}

func (s *Store) changeSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.db.QueryRowContext(ctx, `SELECT seq FROM registry_meta WHERE id = 1`).Scan(&seq)
	return seq, err
}

// watch polls the change counter for commits of other processes.
func (s *Store) watch() {
	defer close(s.watchDone)
	t := time.NewTicker(PollInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		seq, err := s.changeSeq(ctx)
		cancel()
		if err != nil {
			continue // the next tick tries again; writes keep notifying directly
		}
		if old := s.seen.Load(); seq > old && s.seen.CompareAndSwap(old, seq) {
			s.notify()
		}
	}
}

func (s *Store) notify() {
	select {
	case s.changes <- struct{}{}:
	default:
	}
}

func (s *Store) nowMS() int64 { return s.now().UnixMilli() }

// write runs fn in one write transaction and notifies watchers after commit.
func (s *Store) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", op, err)
	}
	// Bump the change counter first: triggers stamp the models the
	// transaction touches with its new value.
	var seq int64
	bump, err := s.prepared(ctx, tx, `UPDATE registry_meta SET seq = seq + 1 WHERE id = 1 RETURNING seq`)
	if err == nil {
		err = bump.QueryRowContext(ctx).Scan(&seq)
	}
	if err != nil {
		tx.Rollback()
		return fmt.Errorf("%s: count change: %w", op, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		if mlflowerr.Code(err) != "" {
			return err
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", op, err)
	}
	for old := s.seen.Load(); seq > old && !s.seen.CompareAndSwap(old, seq); old = s.seen.Load() {
	}
	s.notify()
	return nil
}

// read runs fn in a read-only transaction: one consistent snapshot.
func (s *Store) read(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("%s: begin: %w", op, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		if mlflowerr.Code(err) != "" {
			return err
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// prepared returns query prepared for tx. Statements are prepared once
// per connection and kept (SQLite compiles triggers into every statement
// that fires them, so preparing is a large part of a small write).
func (s *Store) prepared(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	st, ok := s.stmts[query]
	if !ok {
		var err error
		if st, err = s.db.PrepareContext(ctx, query); err != nil {
			s.stmtMu.Unlock()
			return nil, err
		}
		if s.stmts == nil {
			s.stmts = map[string]*sql.Stmt{}
		}
		s.stmts[query] = st
	}
	s.stmtMu.Unlock()
	return tx.StmtContext(ctx, st), nil
}

func placeholders(n int) string {
	if n == 0 {
		return ""
	}
	return strings.Repeat("?,", n-1) + "?"
}

// DSN is the modernc.org/sqlite connection string Bridge opens a registry
// database file with (an absolute path): WAL, a busy timeout, foreign keys,
// and transactions that take the write lock at BEGIN. Every opener of
// registry.db (the store, the monitor's tables) uses it.
func DSN(path string) string {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)", "wal_autocheckpoint(4000)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}
