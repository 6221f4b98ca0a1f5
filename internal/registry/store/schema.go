package store

import (
	"context"
	"fmt"
	"strings"
)

// migrations are applied in order; migrations[i] brings the schema from
// version i to i+1. Never edit a released migration: append a new one.
var migrations = []string{
	// 1: registered models, versions, tags, aliases.
	`
CREATE TABLE registered_models (
	id           INTEGER PRIMARY KEY,
	name         TEXT    NOT NULL UNIQUE,
	description  TEXT    NOT NULL DEFAULT '',
	created_ms   INTEGER NOT NULL,
	updated_ms   INTEGER NOT NULL,
	last_version INTEGER NOT NULL DEFAULT 0 -- highest version number ever assigned
);
CREATE TABLE registered_model_tags (
	model_id INTEGER NOT NULL REFERENCES registered_models(id) ON DELETE CASCADE,
	key      TEXT    NOT NULL,
	value    TEXT    NOT NULL,
	PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
CREATE TABLE model_versions (
	model_id    INTEGER NOT NULL REFERENCES registered_models(id) ON DELETE CASCADE,
	version     INTEGER NOT NULL,
	source      TEXT    NOT NULL,
	run_id      TEXT    NOT NULL DEFAULT '',
	run_link    TEXT    NOT NULL DEFAULT '',
	description TEXT    NOT NULL DEFAULT '',
	stage       TEXT    NOT NULL DEFAULT 'None',
	status      TEXT    NOT NULL DEFAULT 'READY',
	created_ms  INTEGER NOT NULL,
	updated_ms  INTEGER NOT NULL,
	PRIMARY KEY (model_id, version)
) WITHOUT ROWID;
CREATE INDEX model_versions_stage ON model_versions(model_id, stage, version);
CREATE INDEX model_versions_run_id ON model_versions(run_id);
CREATE TABLE model_version_tags (
	model_id INTEGER NOT NULL,
	version  INTEGER NOT NULL,
	key      TEXT    NOT NULL,
	value    TEXT    NOT NULL,
	PRIMARY KEY (model_id, version, key),
	FOREIGN KEY (model_id, version) REFERENCES model_versions(model_id, version) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE registered_model_aliases (
	model_id INTEGER NOT NULL,
	alias    TEXT    NOT NULL,
	version  INTEGER NOT NULL,
	PRIMARY KEY (model_id, alias),
	FOREIGN KEY (model_id, version) REFERENCES model_versions(model_id, version) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX registered_model_aliases_version ON registered_model_aliases(model_id, version);
`,
	// 2: a change counter every write transaction bumps, so processes
	// sharing the file see each other's changes.
	`
CREATE TABLE registry_meta (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	seq INTEGER NOT NULL
);
INSERT INTO registry_meta(id, seq) VALUES (1, 0);
`,
	// 3: each model records the change counter of the last write that
	// touched its versions, tags, aliases or name, so Versions re-reads only
	// the models that changed. Every write transaction bumps the counter
	// first; triggers stamp the models it touches.
	touchTriggers(),
}

// touchTriggers is migration 3's SQL: the change_seq column and the
// triggers that stamp a model when its versions, version tags or aliases
// are inserted, updated or deleted, or when it is renamed. It writes the
// released migration's text byte for byte; like any released migration, it
// must not change.
func touchTriggers() string {
	const stamp = "\tUPDATE registered_models SET change_seq = (SELECT seq FROM registry_meta WHERE id = 1) WHERE id = %s;\nEND;\n"
	var b strings.Builder
	b.WriteString("\nALTER TABLE registered_models ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;\n")
	for _, table := range []string{"model_versions", "model_version_tags", "registered_model_aliases"} {
		for _, event := range []string{"INSERT", "UPDATE", "DELETE"} {
			row := "NEW"
			if event == "DELETE" {
				row = "OLD"
			}
			fmt.Fprintf(&b, "CREATE TRIGGER %s_%s_touch AFTER %s ON %s BEGIN\n", table, strings.ToLower(event), event, table)
			fmt.Fprintf(&b, stamp, row+".model_id")
		}
	}
	b.WriteString("CREATE TRIGGER registered_models_rename_touch AFTER UPDATE OF name ON registered_models BEGIN\n")
	fmt.Fprintf(&b, stamp, "NEW.id")
	return b.String()
}

// SchemaVersion is the schema version this build of Bridge writes.
var SchemaVersion = len(migrations)

// migrate brings the schema up to date in one transaction per migration.
// The registry keeps its schema version in its own table, because other
// packages keep their tables in the same file.
func (s *Store) migrate(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS registry_schema (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema table: %w", err)
	}
	for {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate: begin: %w", err)
		}
		var v int
		err = tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM registry_schema`).Scan(&v)
		if err != nil {
			tx.Rollback()
			return fmt.Errorf("read schema version: %w", err)
		}
		if v > len(migrations) {
			tx.Rollback()
			return fmt.Errorf("registry schema version %d is newer than this Bridge (%d): upgrade Bridge", v, len(migrations))
		}
		if v == len(migrations) {
			return tx.Rollback()
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate registry schema to version %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM registry_schema`); err != nil {
			tx.Rollback()
			return fmt.Errorf("record schema version %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO registry_schema(version) VALUES (?)`, v+1); err != nil {
			tx.Rollback()
			return fmt.Errorf("record schema version %d: %w", v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate registry schema to version %d: commit: %w", v+1, err)
		}
	}
}
