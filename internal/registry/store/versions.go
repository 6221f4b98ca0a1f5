package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/registry/mlflowerr"
)

// VersionSpec describes a new model version.
type VersionSpec struct {
	Name        string
	Source      string // artifact URI
	RunID       string
	RunLink     string
	Description string
	Tags        map[string]string
}

type vkey struct {
	mid int64
	ver int
}

const versionCols = `v.model_id, m.name, v.version, v.source, v.run_id, v.run_link, v.description, v.stage, v.status, v.created_ms, v.updated_ms`

// queryVersions loads versions (joined with their model) matching join/where,
// then their tags and aliases with one query each for the whole result.
// limit < 0 means no limit.
func queryVersions(ctx context.Context, q queryer, where string, args []any, order string, limit, offset int) ([]ModelVersion, []vkey, error) {
	if order == "" {
		order = "m.name ASC, v.version DESC"
	}
	rows, err := q.QueryContext(ctx, `SELECT `+versionCols+` FROM model_versions v JOIN registered_models m ON m.id = v.model_id `+
		where+` ORDER BY `+order+` LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	n := limit // a guess: most searches return far fewer than their limit
	if n < 0 || n > 128 {
		n = 128
	}
	out := make([]ModelVersion, 0, n)
	keys := make([]vkey, 0, n)
	for rows.Next() {
		var v ModelVersion
		var k vkey
		var c, u int64
		if err := rows.Scan(&k.mid, &v.Name, &v.Version, &v.Source, &v.RunID, &v.RunLink, &v.Description, &v.Stage, &v.Status, &c, &u); err != nil {
			return nil, nil, err
		}
		k.ver = v.Version
		v.Created, v.Updated = time.UnixMilli(c), time.UnixMilli(u)
		out = append(out, v)
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	rows.Close()
	if err := attachVersionDetails(ctx, q, out, keys, len(out) > 2000); err != nil {
		return nil, nil, err
	}
	return out, keys, nil
}

// attachVersionDetails fills tags and aliases of vs. With all set it reads
// every tag and alias (cheaper than a long IN list for large results).
func attachVersionDetails(ctx context.Context, q queryer, vs []ModelVersion, keys []vkey, all bool) error {
	if len(vs) == 0 {
		return nil
	}
	idx := make(map[vkey]int, len(vs))
	seen := map[int64]bool{}
	var mids []any
	for i, k := range keys {
		idx[k] = i
		if !seen[k.mid] {
			seen[k.mid] = true
			mids = append(mids, k.mid)
		}
	}
	// Few versions: look them up by key. Many: read their models' rows (or
	// every row), cheaper than a long list of keys.
	where, args := "", []any(nil)
	switch {
	case len(keys) <= 500:
		var b strings.Builder
		for i, k := range keys {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("(?,?)")
			args = append(args, k.mid, k.ver)
		}
		where = ` WHERE (model_id, version) IN (VALUES ` + b.String() + `)`
	case !all:
		where, args = ` WHERE model_id IN (`+placeholders(len(mids))+`)`, mids
	}
	if err := eachRow(ctx, q, `SELECT model_id, version, key, value FROM model_version_tags`+where, args, func(r *sql.Rows) error {
		var k vkey
		var key, val string
		if err := r.Scan(&k.mid, &k.ver, &key, &val); err != nil {
			return err
		}
		if i, ok := idx[k]; ok {
			if vs[i].Tags == nil {
				vs[i].Tags = map[string]string{}
			}
			vs[i].Tags[key] = val
		}
		return nil
	}); err != nil {
		return err
	}
	if err := eachRow(ctx, q, `SELECT model_id, version, alias FROM registered_model_aliases`+where+` ORDER BY alias`, args, func(r *sql.Rows) error {
		var k vkey
		var a string
		if err := r.Scan(&k.mid, &k.ver, &a); err != nil {
			return err
		}
		if i, ok := idx[k]; ok {
			vs[i].Aliases = append(vs[i].Aliases, a)
		}
		return nil
	}); err != nil {
		return err
	}
	return nil
}

func getVersion(ctx context.Context, q queryer, name string, version int) (ModelVersion, error) {
	vs, _, err := queryVersions(ctx, q, `WHERE m.name = ? AND v.version = ?`, []any{name, version}, "", 1, 0)
	if err != nil {
		return ModelVersion{}, err
	}
	if len(vs) == 0 {
		if _, err := modelID(ctx, q, name); err != nil {
			return ModelVersion{}, err
		}
		return ModelVersion{}, versionNotFound(name, version)
	}
	return vs[0], nil
}

// versionRow returns the model id of an existing version.
func versionRow(ctx context.Context, q queryer, name string, version int) (int64, error) {
	id, err := modelID(ctx, q, name)
	if err != nil {
		return 0, err
	}
	var one int
	err = q.QueryRowContext(ctx, `SELECT 1 FROM model_versions WHERE model_id = ? AND version = ?`, id, version).Scan(&one)
	if err == sql.ErrNoRows {
		return 0, versionNotFound(name, version)
	}
	return id, err
}

// CreateModelVersion registers a new version of an existing model. Its
// number is the model's highest number ever assigned plus one, allocated in
// the write transaction: concurrent creations get distinct numbers, and
// numbers of deleted versions are never reused.
func (s *Store) CreateModelVersion(ctx context.Context, spec VersionSpec) (ModelVersion, error) {
	if err := ValidateModelName("name", spec.Name); err != nil {
		return ModelVersion{}, err
	}
	if spec.Source == "" {
		return ModelVersion{}, invalidf("Missing value for required parameter 'source'.")
	}
	if len(spec.Source) > 65535 || len(spec.RunID) > 256 || len(spec.RunLink) > 65535 {
		return ModelVersion{}, invalidf("'source', 'run_id' or 'run_link' exceeds its maximum length")
	}
	if err := validateDescription(spec.Description); err != nil {
		return ModelVersion{}, err
	}
	if err := validateTags(spec.Tags); err != nil {
		return ModelVersion{}, err
	}
	var out ModelVersion
	err := s.write(ctx, "create model version of "+spec.Name, func(tx *sql.Tx) error {
		now := s.nowMS()
		var id int64
		var ver int
		next, err := s.prepared(ctx, tx, `UPDATE registered_models SET last_version = last_version + 1, updated_ms = ?
			WHERE name = ? RETURNING id, last_version`)
		if err != nil {
			return err
		}
		err = next.QueryRowContext(ctx, now, spec.Name).Scan(&id, &ver)
		if err == sql.ErrNoRows {
			return modelNotFound(spec.Name)
		}
		if err != nil {
			return err
		}
		insert, err := s.prepared(ctx, tx, `INSERT INTO model_versions(model_id, version, source, run_id, run_link, description, stage, status, created_ms, updated_ms)
			VALUES (?,?,?,?,?,?,?,?,?,?)`)
		if err != nil {
			return err
		}
		if _, err := insert.ExecContext(ctx, id, ver, spec.Source, spec.RunID, spec.RunLink, spec.Description, model.StageNone, "READY", now, now); err != nil {
			return err
		}
		if len(spec.Tags) > 0 {
			tag, err := s.prepared(ctx, tx, `INSERT INTO model_version_tags(model_id, version, key, value) VALUES (?,?,?,?)`)
			if err != nil {
				return err
			}
			for k, v := range spec.Tags {
				if _, err := tag.ExecContext(ctx, id, ver, k, v); err != nil {
					return err
				}
			}
		}
		out = ModelVersion{
			ModelVersion: model.ModelVersion{Name: spec.Name, Version: ver, Source: spec.Source, RunID: spec.RunID, Stage: model.StageNone,
				Description: spec.Description, Created: time.UnixMilli(now), Updated: time.UnixMilli(now)},
			RunLink: spec.RunLink, Status: "READY",
		}
		if len(spec.Tags) > 0 {
			out.Tags = make(map[string]string, len(spec.Tags))
			for k, v := range spec.Tags {
				out.Tags[k] = v
			}
		}
		return nil
	})
	return out, err
}

// GetModelVersion returns one version with its tags and aliases.
func (s *Store) GetModelVersion(ctx context.Context, name string, version int) (ModelVersion, error) {
	if err := ValidateModelName("name", name); err != nil {
		return ModelVersion{}, err
	}
	if err := validateVersion(version); err != nil {
		return ModelVersion{}, err
	}
	var out ModelVersion
	err := s.read(ctx, "get model version", func(tx *sql.Tx) (err error) {
		out, err = getVersion(ctx, tx, name, version)
		return err
	})
	return out, err
}

// UpdateModelVersion sets a version's description.
func (s *Store) UpdateModelVersion(ctx context.Context, name string, version int, description string) (ModelVersion, error) {
	if err := ValidateModelName("name", name); err != nil {
		return ModelVersion{}, err
	}
	if err := validateVersion(version); err != nil {
		return ModelVersion{}, err
	}
	if err := validateDescription(description); err != nil {
		return ModelVersion{}, err
	}
	var out ModelVersion
	err := s.write(ctx, "update model version", func(tx *sql.Tx) error {
		id, err := versionRow(ctx, tx, name, version)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE model_versions SET description = ?, updated_ms = ? WHERE model_id = ? AND version = ?`,
			description, s.nowMS(), id, version); err != nil {
			return err
		}
		out, err = getVersion(ctx, tx, name, version)
		return err
	})
	return out, err
}

// DeleteModelVersion deletes a version, its tags and the aliases pointing to it.
func (s *Store) DeleteModelVersion(ctx context.Context, name string, version int) error {
	if err := ValidateModelName("name", name); err != nil {
		return err
	}
	if err := validateVersion(version); err != nil {
		return err
	}
	return s.write(ctx, "delete model version", func(tx *sql.Tx) error {
		id, err := versionRow(ctx, tx, name, version)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM model_versions WHERE model_id = ? AND version = ?`, id, version); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE registered_models SET updated_ms = ? WHERE id = ?`, s.nowMS(), id)
		return err
	})
}

// TransitionStage moves a version to a stage (any case: "production" is
// Production). With archiveExisting, every other version in that stage moves
// to Archived in the same transaction; only Staging and Production allow it.
func (s *Store) TransitionStage(ctx context.Context, name string, version int, stage string, archiveExisting bool) (ModelVersion, error) {
	if err := ValidateModelName("name", name); err != nil {
		return ModelVersion{}, err
	}
	if err := validateVersion(version); err != nil {
		return ModelVersion{}, err
	}
	stage, err := CanonicalStage(stage)
	if err != nil {
		return ModelVersion{}, err
	}
	if archiveExisting && stage != model.StageStaging && stage != model.StageProduction {
		return ModelVersion{}, invalidf("Model version transition cannot archive existing model versions because '%s' is not an Active stage. Valid stages are Staging, Production", stage)
	}
	var out ModelVersion
	err = s.write(ctx, "transition model version stage", func(tx *sql.Tx) error {
		id, err := versionRow(ctx, tx, name, version)
		if err != nil {
			return err
		}
		now := s.nowMS()
		if archiveExisting {
			if _, err := tx.ExecContext(ctx, `UPDATE model_versions SET stage = ?, updated_ms = ? WHERE model_id = ? AND stage = ? AND version != ?`,
				model.StageArchived, now, id, stage, version); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE model_versions SET stage = ?, updated_ms = ? WHERE model_id = ? AND version = ?`,
			stage, now, id, version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE registered_models SET updated_ms = ? WHERE id = ?`, now, id); err != nil {
			return err
		}
		out, err = getVersion(ctx, tx, name, version)
		return err
	})
	return out, err
}

// LatestVersions returns the newest version of each given stage (of every
// stage when stages is empty), sorted by stage.
func (s *Store) LatestVersions(ctx context.Context, name string, stages []string) ([]ModelVersion, error) {
	if err := ValidateModelName("name", name); err != nil {
		return nil, err
	}
	canon := make([]any, 0, len(stages))
	dup := map[string]bool{}
	for _, st := range stages {
		c, err := CanonicalStage(st)
		if err != nil {
			return nil, err
		}
		if !dup[c] {
			dup[c] = true
			canon = append(canon, c)
		}
	}
	var out []ModelVersion
	err := s.read(ctx, "get latest versions of "+name, func(tx *sql.Tx) error {
		id, err := modelID(ctx, tx, name)
		if err != nil {
			return err
		}
		join, args := latestJoin("(?)", []any{id}, canon)
		out, _, err = queryVersions(ctx, tx, join, args, "v.stage ASC", -1, 0)
		return err
	})
	return out, err
}

// SearchModelVersions lists versions matching an MLflow filter on name,
// run_id, version_number and tags.<key>, ordered by name, version_number or
// timestamps (ties: name ASC, version DESC).
func (s *Store) SearchModelVersions(ctx context.Context, q Search) (versions []ModelVersion, more bool, err error) {
	conds, err := ParseFilter(q.Filter)
	if err != nil {
		return nil, false, err
	}
	where, args, err := whereClause(conds, map[string]string{"name": "m.name", "run_id": "v.run_id", "version_number": "v.version",
		"source_path": "v.source", "current_stage": "v.stage"}, "model_version_tags t WHERE t.model_id = v.model_id AND t.version = v.version")
	if err != nil {
		return nil, false, err
	}
	orders, err := ParseOrderBy(q.OrderBy, "name", "version_number", "creation_timestamp", "last_updated_timestamp")
	if err != nil {
		return nil, false, err
	}
	order := orderClause(orders, map[string]string{"name": "m.name", "version_number": "v.version",
		"creation_timestamp": "v.created_ms", "last_updated_timestamp": "v.updated_ms"}, "m.name ASC, v.version DESC")
	if q.Limit < 1 {
		return nil, false, invalidf("max_results must be a positive integer, got %d", q.Limit)
	}
	err = s.read(ctx, "search model versions", func(tx *sql.Tx) error {
		versions, _, err = queryVersions(ctx, tx, where, args, order, q.Limit+1, q.Offset)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if len(versions) > q.Limit {
		return versions[:q.Limit], true, nil
	}
	return versions, false, nil
}

// SetModelVersionTag sets (or replaces) a tag on a version.
func (s *Store) SetModelVersionTag(ctx context.Context, name string, version int, key, value string) error {
	if err := ValidateModelName("name", name); err != nil {
		return err
	}
	if err := validateVersion(version); err != nil {
		return err
	}
	if err := ValidateTag(key, value); err != nil {
		return err
	}
	return s.write(ctx, "set model version tag", func(tx *sql.Tx) error {
		id, err := versionRow(ctx, tx, name, version)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO model_version_tags(model_id, version, key, value) VALUES (?,?,?,?)
			ON CONFLICT(model_id, version, key) DO UPDATE SET value = excluded.value`, id, version, key, value)
		return err
	})
}

// DeleteModelVersionTag removes a tag from a version; a missing tag is not
// an error, a missing version is.
func (s *Store) DeleteModelVersionTag(ctx context.Context, name string, version int, key string) error {
	if err := ValidateModelName("name", name); err != nil {
		return err
	}
	if err := validateVersion(version); err != nil {
		return err
	}
	if key == "" {
		return invalidf("Missing value for required parameter 'key'.")
	}
	return s.write(ctx, "delete model version tag", func(tx *sql.Tx) error {
		id, err := versionRow(ctx, tx, name, version)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM model_version_tags WHERE model_id = ? AND version = ? AND key = ?`, id, version, key)
		return err
	})
}

// SetAlias points a model's alias at a version, moving it if it exists.
func (s *Store) SetAlias(ctx context.Context, name, alias string, version int) error {
	if err := ValidateModelName("name", name); err != nil {
		return err
	}
	if err := ValidateAlias(alias); err != nil {
		return err
	}
	if err := validateVersion(version); err != nil {
		return err
	}
	return s.write(ctx, "set alias", func(tx *sql.Tx) error {
		id, err := versionRow(ctx, tx, name, version)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO registered_model_aliases(model_id, alias, version) VALUES (?,?,?)
			ON CONFLICT(model_id, alias) DO UPDATE SET version = excluded.version`, id, alias, version); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE registered_models SET updated_ms = ? WHERE id = ?`, s.nowMS(), id)
		return err
	})
}

// DeleteAlias removes an alias; a missing alias is not an error, a missing
// model is.
func (s *Store) DeleteAlias(ctx context.Context, name, alias string) error {
	if err := ValidateModelName("name", name); err != nil {
		return err
	}
	if alias == "" {
		return invalidf("Missing value for required parameter 'alias'.")
	}
	return s.write(ctx, "delete alias", func(tx *sql.Tx) error {
		id, err := modelID(ctx, tx, name)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM registered_model_aliases WHERE model_id = ? AND alias = ?`, id, alias)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			_, err = tx.ExecContext(ctx, `UPDATE registered_models SET updated_ms = ? WHERE id = ?`, s.nowMS(), id)
		}
		return err
	})
}

// VersionByAlias returns the version an alias points to.
func (s *Store) VersionByAlias(ctx context.Context, name, alias string) (ModelVersion, error) {
	if err := ValidateModelName("name", name); err != nil {
		return ModelVersion{}, err
	}
	if alias == "" {
		return ModelVersion{}, invalidf("Missing value for required parameter 'alias'.")
	}
	var out ModelVersion
	err := s.read(ctx, "get version by alias", func(tx *sql.Tx) error {
		id, err := modelID(ctx, tx, name)
		if err != nil {
			return err
		}
		var v int
		err = tx.QueryRowContext(ctx, `SELECT version FROM registered_model_aliases WHERE model_id = ? AND alias = ?`, id, alias).Scan(&v)
		if err == sql.ErrNoRows {
			return &Error{Code: mlflowerr.NotFound, Message: fmt.Sprintf("Registered model alias %s not found.", alias)}
		}
		if err != nil {
			return err
		}
		out, err = getVersion(ctx, tx, name, v)
		return err
	})
	return out, err
}

// copyVersions copies vs deeply enough that callers may change the result.
func copyVersions(vs []model.ModelVersion) []model.ModelVersion {
	out := make([]model.ModelVersion, len(vs))
	copy(out, vs)
	for i := range out {
		if out[i].Tags != nil {
			out[i].Tags = maps.Clone(out[i].Tags)
		}
		if out[i].Aliases != nil {
			out[i].Aliases = slices.Clone(out[i].Aliases)
		}
	}
	return out
}

// DownloadURI returns where a version's artifact is. A source in the
// embedded artifact store (mlflow-artifacts:/PATH) resolves to a file:// URI
// under ArtifactRoot, so in-process readers need no server.
func (s *Store) DownloadURI(ctx context.Context, ref model.VersionRef) (string, error) {
	v, err := s.GetModelVersion(ctx, ref.Model, ref.Version)
	if err != nil {
		return "", err
	}
	return ResolveSource(s.ArtifactRoot(), v.Source)
}

// ResolveSource maps an mlflow-artifacts:/PATH (or mlflow-artifacts://HOST/PATH)
// source to a file:// URI under root; other sources are returned unchanged.
// A path that would leave root is an error.
func ResolveSource(root, source string) (string, error) {
	if !strings.HasPrefix(source, "mlflow-artifacts:") {
		return source, nil
	}
	u, err := url.Parse(source)
	if err != nil {
		return "", invalidf("invalid artifact URI %q: %v", source, err)
	}
	rel, err := CleanArtifactPath(u.Path)
	if err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(root, filepath.FromSlash(rel)))}).String(), nil
}

// CleanArtifactPath checks a path relative to the artifact root and returns
// it cleaned ("" is the root). Like MLflow, it rejects rather than
// normalises: ".." segments, NUL bytes and backslashes are invalid. One
// leading slash is allowed (mlflow-artifacts:/a/b has path /a/b).
func CleanArtifactPath(p string) (string, error) {
	p = strings.TrimPrefix(p, "/")
	if strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\x00\\") {
		return "", invalidf("Invalid path: %s", p)
	}
	var parts []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
			continue
		case "..":
			return "", invalidf("Invalid path: %s", p)
		}
		parts = append(parts, seg)
	}
	return strings.Join(parts, "/"), nil
}

// SetVersionTag implements registry.Registry.
func (s *Store) SetVersionTag(ctx context.Context, ref model.VersionRef, key, value string) error {
	return s.SetModelVersionTag(ctx, ref.Model, ref.Version, key, value)
}

// DeleteVersionTag implements registry.Registry: a missing tag is not an error.
func (s *Store) DeleteVersionTag(ctx context.Context, ref model.VersionRef, key string) error {
	return s.DeleteModelVersionTag(ctx, ref.Model, ref.Version, key)
}
