package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/registry/mlflowerr"
)

// RegisteredModel is a registered model with its tags, aliases and the
// newest version of each stage.
type RegisteredModel struct {
	Name        string
	Description string
	Created     time.Time
	Updated     time.Time
	Tags        map[string]string
	Aliases     map[string]int // alias → version
	// LatestVersions holds the newest version of each stage, sorted by stage.
	LatestVersions []ModelVersion
}

// ModelVersion is a model version as the store keeps it.
type ModelVersion struct {
	model.ModelVersion
	RunLink string
	Status  string // always READY: versions are registered synchronously
}

// Search selects, orders and pages search results.
type Search struct {
	Filter  string   // MLflow filter, see ParseFilter
	OrderBy []string // MLflow order_by entries
	Offset  int
	Limit   int // > 0
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func modelID(ctx context.Context, q queryer, name string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM registered_models WHERE name = ?`, name).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, modelNotFound(name)
	}
	return id, err
}

func validateTags(tags map[string]string) error {
	for k, v := range tags {
		if err := ValidateTag(k, v); err != nil {
			return err
		}
	}
	return nil
}

// CreateRegisteredModel creates a model; RESOURCE_ALREADY_EXISTS if the
// name is taken.
func (s *Store) CreateRegisteredModel(ctx context.Context, name, description string, tags map[string]string) (RegisteredModel, error) {
	if err := ValidateModelName("name", name); err != nil {
		return RegisteredModel{}, err
	}
	if err := validateDescription(description); err != nil {
		return RegisteredModel{}, err
	}
	if err := validateTags(tags); err != nil {
		return RegisteredModel{}, err
	}
	var out RegisteredModel
	err := s.write(ctx, "create registered model "+name, func(tx *sql.Tx) error {
		if _, err := modelID(ctx, tx, name); err == nil {
			return &Error{Code: mlflowerr.AlreadyExists, Message: fmt.Sprintf("Registered Model (name=%s) already exists.", name)}
		} else if !mlflowerr.IsNotFound(err) {
			return err
		}
		now := s.nowMS()
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO registered_models(name, description, created_ms, updated_ms) VALUES (?,?,?,?) RETURNING id`,
			name, description, now, now).Scan(&id)
		if err != nil {
			return err
		}
		for k, v := range tags {
			if _, err := tx.ExecContext(ctx, `INSERT INTO registered_model_tags(model_id, key, value) VALUES (?,?,?)`, id, k, v); err != nil {
				return err
			}
		}
		out, err = getModel(ctx, tx, name)
		return err
	})
	return out, err
}

// GetRegisteredModel returns a model with its tags, aliases and latest versions.
func (s *Store) GetRegisteredModel(ctx context.Context, name string) (RegisteredModel, error) {
	if err := ValidateModelName("name", name); err != nil {
		return RegisteredModel{}, err
	}
	var out RegisteredModel
	err := s.read(ctx, "get registered model "+name, func(tx *sql.Tx) (err error) {
		out, err = getModel(ctx, tx, name)
		return err
	})
	return out, err
}

func getModel(ctx context.Context, q queryer, name string) (RegisteredModel, error) {
	ms, err := queryModels(ctx, q, `WHERE m.name = ?`, []any{name}, "", 1, 0)
	if err != nil {
		return RegisteredModel{}, err
	}
	if len(ms) == 0 {
		return RegisteredModel{}, modelNotFound(name)
	}
	return ms[0], nil
}

// queryModels loads models matching where, then their tags, aliases and
// latest versions with one query each for the whole page.
func queryModels(ctx context.Context, q queryer, where string, args []any, order string, limit, offset int) ([]RegisteredModel, error) {
	if order == "" {
		order = "m.name ASC"
	}
	rows, err := q.QueryContext(ctx, `SELECT m.id, m.name, m.description, m.created_ms, m.updated_ms FROM registered_models m `+
		where+` ORDER BY `+order+` LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RegisteredModel
	var ids []any
	idx := map[int64]int{}
	for rows.Next() {
		var m RegisteredModel
		var id, c, u int64
		if err := rows.Scan(&id, &m.Name, &m.Description, &c, &u); err != nil {
			return nil, err
		}
		m.Created, m.Updated = time.UnixMilli(c), time.UnixMilli(u)
		m.Tags, m.Aliases = map[string]string{}, map[string]int{}
		idx[id] = len(out)
		ids = append(ids, id)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	in := `(` + placeholders(len(ids)) + `)`
	if err := eachRow(ctx, q, `SELECT model_id, key, value FROM registered_model_tags WHERE model_id IN `+in, ids, func(r *sql.Rows) error {
		var id int64
		var k, v string
		if err := r.Scan(&id, &k, &v); err != nil {
			return err
		}
		out[idx[id]].Tags[k] = v
		return nil
	}); err != nil {
		return nil, err
	}
	if err := eachRow(ctx, q, `SELECT model_id, alias, version FROM registered_model_aliases WHERE model_id IN `+in, ids, func(r *sql.Rows) error {
		var id int64
		var a string
		var v int
		if err := r.Scan(&id, &a, &v); err != nil {
			return err
		}
		out[idx[id]].Aliases[a] = v
		return nil
	}); err != nil {
		return nil, err
	}
	join, jargs := latestJoin(in, ids, nil)
	latest, keys, err := queryVersions(ctx, q, join, jargs, "v.stage ASC", -1, 0)
	if err != nil {
		return nil, err
	}
	for i, v := range latest {
		m := &out[idx[keys[i].mid]]
		m.LatestVersions = append(m.LatestVersions, v)
	}
	return out, nil
}

// latestJoin joins queryVersions' rows to the newest version of each stage
// (of every stage when stages is empty) of the models whose ids are in
// (the "(?,?)" list in) with args ids. Each newest version is one index
// lookup on (model_id, stage, version): no scan of a model's versions.
func latestJoin(in string, ids []any, stages []any) (string, []any) {
	if len(stages) == 0 {
		stages = []any{model.StageNone, model.StageStaging, model.StageProduction, model.StageArchived}
	}
	var st []string
	args := make([]any, 0, len(stages)+len(ids))
	for _, s := range stages {
		st = append(st, "SELECT ? AS st")
		args = append(args, s)
	}
	args = append(args, ids...)
	return `JOIN (SELECT i.id AS lm, (SELECT MAX(x.version) FROM model_versions x WHERE x.model_id = i.id AND x.stage = s.st) AS lv
		FROM (` + strings.Join(st, " UNION ALL ") + `) s, registered_models i WHERE i.id IN ` + in + `) l
		ON l.lm = v.model_id AND l.lv = v.version`, args
}

func eachRow(ctx context.Context, q queryer, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// RenameRegisteredModel renames a model; its versions, tags and aliases follow.
func (s *Store) RenameRegisteredModel(ctx context.Context, name, newName string) (RegisteredModel, error) {
	if err := ValidateModelName("name", name); err != nil {
		return RegisteredModel{}, err
	}
	if err := ValidateModelName("new_name", newName); err != nil {
		return RegisteredModel{}, err
	}
	var out RegisteredModel
	err := s.write(ctx, "rename registered model "+name, func(tx *sql.Tx) error {
		id, err := modelID(ctx, tx, name)
		if err != nil {
			return err
		}
		if newName != name {
			if _, err := modelID(ctx, tx, newName); err == nil {
				return &Error{Code: mlflowerr.AlreadyExists, Message: fmt.Sprintf("Registered Model (name=%s) already exists.", newName)}
			} else if !mlflowerr.IsNotFound(err) {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE registered_models SET name = ?, updated_ms = ? WHERE id = ?`, newName, s.nowMS(), id); err != nil {
			return err
		}
		out, err = getModel(ctx, tx, newName)
		return err
	})
	return out, err
}

// UpdateRegisteredModel sets a model's description.
func (s *Store) UpdateRegisteredModel(ctx context.Context, name, description string) (RegisteredModel, error) {
	if err := ValidateModelName("name", name); err != nil {
		return RegisteredModel{}, err
	}
	if err := validateDescription(description); err != nil {
		return RegisteredModel{}, err
	}
	var out RegisteredModel
	err := s.write(ctx, "update registered model "+name, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE registered_models SET description = ?, updated_ms = ? WHERE name = ?`, description, s.nowMS(), name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return modelNotFound(name)
		}
		out, err = getModel(ctx, tx, name)
		return err
	})
	return out, err
}

// DeleteRegisteredModel deletes a model with all its versions, tags and aliases.
func (s *Store) DeleteRegisteredModel(ctx context.Context, name string) error {
	if err := ValidateModelName("name", name); err != nil {
		return err
	}
	return s.write(ctx, "delete registered model "+name, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM registered_models WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return modelNotFound(name)
		}
		return nil
	})
}

// SetRegisteredModelTag sets (or replaces) a tag on a model.
func (s *Store) SetRegisteredModelTag(ctx context.Context, name, key, value string) error {
	if err := ValidateModelName("name", name); err != nil {
		return err
	}
	if err := ValidateTag(key, value); err != nil {
		return err
	}
	return s.write(ctx, "set tag on registered model "+name, func(tx *sql.Tx) error {
		id, err := modelID(ctx, tx, name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO registered_model_tags(model_id, key, value) VALUES (?,?,?)
			ON CONFLICT(model_id, key) DO UPDATE SET value = excluded.value`, id, key, value); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE registered_models SET updated_ms = ? WHERE id = ?`, s.nowMS(), id)
		return err
	})
}

// DeleteRegisteredModelTag removes a tag from a model; a missing tag is not
// an error, a missing model is.
func (s *Store) DeleteRegisteredModelTag(ctx context.Context, name, key string) error {
	if err := ValidateModelName("name", name); err != nil {
		return err
	}
	if key == "" {
		return invalidf("Missing value for required parameter 'key'.")
	}
	return s.write(ctx, "delete tag of registered model "+name, func(tx *sql.Tx) error {
		id, err := modelID(ctx, tx, name)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM registered_model_tags WHERE model_id = ? AND key = ?`, id, key)
		return err
	})
}

// SearchRegisteredModels lists models matching an MLflow filter on name
// (=, !=, LIKE, ILIKE) and tags.<key>, ordered by name or timestamps (ties
// by name ASC). more reports whether another page follows.
func (s *Store) SearchRegisteredModels(ctx context.Context, q Search) (models []RegisteredModel, more bool, err error) {
	conds, err := ParseFilter(q.Filter)
	if err != nil {
		return nil, false, err
	}
	where, args, err := whereClause(conds, map[string]string{"name": "m.name"}, "registered_model_tags t WHERE t.model_id = m.id")
	if err != nil {
		return nil, false, err
	}
	orders, err := ParseOrderBy(q.OrderBy, "name", "last_updated_timestamp", "creation_timestamp")
	if err != nil {
		return nil, false, err
	}
	order := orderClause(orders, map[string]string{"name": "m.name", "last_updated_timestamp": "m.updated_ms", "creation_timestamp": "m.created_ms"}, "m.name ASC")
	if q.Limit < 1 {
		return nil, false, invalidf("max_results must be a positive integer, got %d", q.Limit)
	}
	err = s.read(ctx, "search registered models", func(tx *sql.Tx) error {
		models, err = queryModels(ctx, tx, where, args, order, q.Limit+1, q.Offset)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if len(models) > q.Limit {
		return models[:q.Limit], true, nil
	}
	return models, false, nil
}

// whereClause turns filter conditions into SQL. cols maps attributes to
// columns; tagFrom is the FROM/WHERE of the tag subquery ("tags.k" filters).
func whereClause(conds []Cond, cols map[string]string, tagFrom string) (string, []any, error) {
	if len(conds) == 0 {
		return "", nil, nil
	}
	var parts []string
	var args []any
	for _, c := range conds {
		var col string
		switch c.Attr {
		case "tags":
			col = "t.value"
		case "version_number":
			if cols[c.Attr] == "" {
				return "", nil, invalidf("Invalid attribute key '%s' specified. Valid keys are %s.", c.Attr, validKeys(cols))
			}
			col = cols[c.Attr]
			switch c.Op {
			case "=", "!=", "<", "<=", ">", ">=", "IN", "NOT IN":
			default:
				return "", nil, invalidf("Invalid comparator '%s' for version_number: use =, !=, <, <=, >, >=, IN or NOT IN.", c.Op)
			}
		default:
			col = cols[c.Attr]
			if col == "" {
				return "", nil, invalidf("Invalid attribute key '%s' specified. Valid keys are %s.", c.Attr, validKeys(cols))
			}
		}
		var expr string
		switch c.Op {
		case "=", "!=":
			expr = col + " " + c.Op + " ?"
			args = append(args, c.Values[0])
		case "<", "<=", ">", ">=":
			if c.Attr != "version_number" {
				return "", nil, invalidf("Invalid comparator '%s' for %s: use =, !=, LIKE, ILIKE or IN.", c.Op, c.Attr)
			}
			expr = col + " " + c.Op + " ?"
			args = append(args, c.Values[0])
		case "LIKE":
			// MLflow's LIKE is case-sensitive; SQLite's is not: use GLOB.
			expr = col + " GLOB ?"
			args = append(args, likeToGlob(c.Values[0]))
		case "ILIKE":
			expr = col + ` LIKE ? ESCAPE '\'`
			args = append(args, c.Values[0])
		case "IN", "NOT IN":
			expr = col + " " + c.Op + " (" + placeholders(len(c.Values)) + ")"
			for _, v := range c.Values {
				args = append(args, v)
			}
		default:
			return "", nil, invalidf("Invalid comparator '%s'.", c.Op)
		}
		if c.Attr == "version_number" {
			for i := len(args) - len(c.Values); i < len(args); i++ {
				var n int
				if _, err := fmt.Sscan(args[i].(string), &n); err != nil {
					return "", nil, invalidf("Invalid version_number value '%v': want an integer.", args[i])
				}
				args[i] = n
			}
		}
		if c.Attr == "tags" {
			expr = "EXISTS (SELECT 1 FROM " + tagFrom + " AND t.key = ? AND " + expr + ")"
			args = append(args[:len(args)-len(c.Values)], append([]any{c.Key}, args[len(args)-len(c.Values):]...)...)
		}
		parts = append(parts, expr)
	}
	return "WHERE " + strings.Join(parts, " AND "), args, nil
}

func validKeys(cols map[string]string) string {
	var ks []string
	for k := range cols {
		ks = append(ks, k)
	}
	ks = append(ks, "tags.<key>")
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// likeToGlob converts an SQL LIKE pattern (% and _ wildcards, \ escapes) to
// an SQLite GLOB pattern, which is case-sensitive.
func likeToGlob(p string) string {
	var b strings.Builder
	r := []rune(p)
	for i := 0; i < len(r); i++ {
		switch c := r[i]; c {
		case '%':
			b.WriteByte('*')
		case '_':
			b.WriteByte('?')
		case '*', '?', '[':
			b.WriteByte('[')
			b.WriteRune(c)
			b.WriteByte(']')
		case '\\':
			if i+1 < len(r) {
				i++
				switch r[i] {
				case '*', '?', '[':
					b.WriteByte('[')
					b.WriteRune(r[i])
					b.WriteByte(']')
				default:
					b.WriteRune(r[i])
				}
			} else {
				b.WriteRune(c)
			}
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func orderClause(orders []Order, cols map[string]string, tiebreak string) string {
	var parts []string
	for _, o := range orders {
		dir := " ASC"
		if o.Desc {
			dir = " DESC"
		}
		parts = append(parts, cols[o.Column]+dir)
	}
	parts = append(parts, tiebreak)
	return strings.Join(parts, ", ")
}
