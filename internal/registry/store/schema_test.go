package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

func TestMigrationsUpgradeOlderSchema(t *testing.T) {
	home := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(home, FileName))
	if err != nil {
		t.Fatal(err)
	}
	// A registry written by a Bridge that knew only the first migration.
	for _, q := range []string{
		`CREATE TABLE registry_schema (version INTEGER NOT NULL)`,
		migrations[0],
		`INSERT INTO registry_schema(version) VALUES (1)`,
		`INSERT INTO registered_models(id, name, created_ms, updated_ms, last_version) VALUES (1, 'old', 1, 1, 2)`,
		`INSERT INTO model_versions(model_id, version, source, created_ms, updated_ms) VALUES (1, 2, 's3://b/k', 1, 1)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	ctx := context.Background()
	s, err := Open(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	vs, err := s.Versions(ctx)
	if err != nil || len(vs) != 1 || vs[0].Name != "old" || vs[0].Version != 2 {
		t.Fatalf("after migration: %+v, %v", vs, err)
	}
	if v, err := s.CreateModelVersion(ctx, VersionSpec{Name: "old", Source: "x"}); err != nil || v.Version != 3 {
		t.Fatalf("create after migration: %+v, %v", v, err)
	}
	var version int
	if err := s.DB().QueryRow(`SELECT version FROM registry_schema`).Scan(&version); err != nil || version != SchemaVersion {
		t.Fatalf("schema version %d, %v; want %d", version, err, SchemaVersion)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	home := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(`UPDATE registry_schema SET version = 99`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, home); err == nil || !strings.Contains(err.Error(), "upgrade Bridge") {
		t.Fatalf("open of a newer schema: %v", err)
	}
}
