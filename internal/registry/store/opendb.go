package store

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
)

// OpenDB opens <home>/registry.db as a plain database, without the
// registry's schema: for the tables of other parts (monitoring schedules)
// when bridge run follows an external registry. It creates home.
func OpenDB(home string) (*sql.DB, error) {
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", home, err)
	}
	path, err := filepath.Abs(filepath.Join(home, FileName))
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}
