package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/bridgeops/bridge/internal/model"
)

// versionCache is Versions' last result: every model's versions as of the
// change counter seq.
type versionCache struct {
	seq    int64
	models map[int64]cachedModel
	all    []model.ModelVersion // every version, sorted by name then version
}

type cachedModel struct {
	name     string
	versions []model.ModelVersion // sorted by version
}

// Versions lists every version of every model with stage, aliases and tags.
//
// The result is kept under the registry's change counter: while nothing
// changed (in this process or another on the same file) a call is one
// one-row read and a copy; after a change it re-reads only the models the
// change touched (each model records the counter of its last change). A
// first or wide re-read is one read transaction of four queries, whatever
// the number of versions.
func (s *Store) Versions(ctx context.Context) ([]model.ModelVersion, error) {
	s.cacheMu.Lock()
	prev := s.cache
	s.cacheMu.Unlock()
	if prev != nil {
		if seq, err := s.changeSeq(ctx); err == nil && seq == prev.seq {
			return copyVersions(prev.all), nil
		}
	}
	var next *versionCache
	err := s.read(ctx, "list versions", func(tx *sql.Tx) (err error) {
		next, err = readVersions(ctx, tx, prev)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.cacheMu.Lock()
	if s.cache == nil || next.seq >= s.cache.seq {
		s.cache = next
	}
	s.cacheMu.Unlock()
	return copyVersions(next.all), nil
}

// readVersions reads the versions of the models changed since prev (all of
// them when prev is nil) and reuses prev for the others.
func readVersions(ctx context.Context, tx *sql.Tx, prev *versionCache) (*versionCache, error) {
	next := &versionCache{models: map[int64]cachedModel{}}
	if err := tx.QueryRowContext(ctx, `SELECT seq FROM registry_meta WHERE id = 1`).Scan(&next.seq); err != nil {
		return nil, err
	}
	type row struct {
		id      int64
		name    string
		changed int64
	}
	var models []row
	if err := eachRow(ctx, tx, `SELECT id, name, change_seq FROM registered_models`, nil, func(r *sql.Rows) error {
		var m row
		if err := r.Scan(&m.id, &m.name, &m.changed); err != nil {
			return err
		}
		models = append(models, m)
		return nil
	}); err != nil {
		return nil, err
	}
	var stale []any
	names := make(map[int64]string, len(models))
	for _, m := range models {
		names[m.id] = m.name
		old, ok := cachedModel{}, false
		if prev != nil {
			old, ok = prev.models[m.id]
		}
		if ok && m.changed <= prev.seq && old.name == m.name {
			next.models[m.id] = old
			continue
		}
		stale = append(stale, m.id)
	}
	if len(stale) > 0 {
		where := ""
		args := stale
		if len(stale) > len(models)/2 || len(stale) > 500 {
			where, args = "", nil // cheaper to read everything than a long id list
		} else {
			where = ` WHERE model_id IN (` + placeholders(len(stale)) + `)`
		}
		fresh, err := readModelVersions(ctx, tx, where, args, names)
		if err != nil {
			return nil, err
		}
		for _, id := range stale {
			id := id.(int64)
			next.models[id] = cachedModel{name: names[id], versions: fresh[id]}
		}
		if where == "" { // read everything: refresh every model
			for id, vs := range fresh {
				next.models[id] = cachedModel{name: names[id], versions: vs}
			}
		}
	}
	ids := make([]int64, 0, len(next.models))
	n := 0
	for id, m := range next.models {
		ids = append(ids, id)
		n += len(m.versions)
	}
	slices.SortFunc(ids, func(a, b int64) int { return strings.Compare(next.models[a].name, next.models[b].name) })
	next.all = make([]model.ModelVersion, 0, n)
	for _, id := range ids {
		next.all = append(next.all, next.models[id].versions...)
	}
	return next, nil
}

// readModelVersions reads the versions, tags and aliases of the models
// selected by where (a WHERE on model_id, or "" for all), by model id.
func readModelVersions(ctx context.Context, tx *sql.Tx, where string, args []any, names map[int64]string) (map[int64][]model.ModelVersion, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM model_versions`+where, args...).Scan(&n); err != nil {
		return nil, err
	}
	out := make([]model.ModelVersion, 0, n)
	keys := make([]vkey, 0, n)
	if err := eachRow(ctx, tx, `SELECT model_id, version, source, run_id, description, stage, created_ms, updated_ms
		FROM model_versions`+where+` ORDER BY model_id, version`, args, func(r *sql.Rows) error {
		var k vkey
		var v model.ModelVersion
		var c, u int64
		if err := r.Scan(&k.mid, &k.ver, &v.Source, &v.RunID, &v.Description, &v.Stage, &c, &u); err != nil {
			return err
		}
		v.Name, v.Version = names[k.mid], k.ver
		v.Created, v.Updated = time.UnixMilli(c), time.UnixMilli(u)
		out = append(out, v)
		keys = append(keys, k)
		return nil
	}); err != nil {
		return nil, err
	}
	i := 0 // merge cursor: tags come in the same (model_id, version) order
	if err := eachRow(ctx, tx, `SELECT model_id, version, key, value FROM model_version_tags`+where+` ORDER BY model_id, version, key`, args, func(r *sql.Rows) error {
		var k vkey
		var key, val string
		if err := r.Scan(&k.mid, &k.ver, &key, &val); err != nil {
			return err
		}
		for i < len(keys) && cmpKey(keys[i], k) < 0 {
			i++
		}
		if i < len(keys) && keys[i] == k {
			if out[i].Tags == nil {
				out[i].Tags = make(map[string]string, 4)
			}
			out[i].Tags[key] = val
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := eachRow(ctx, tx, `SELECT model_id, version, alias FROM registered_model_aliases`+where+` ORDER BY model_id, version, alias`, args, func(r *sql.Rows) error {
		var k vkey
		var a string
		if err := r.Scan(&k.mid, &k.ver, &a); err != nil {
			return err
		}
		if j, ok := slices.BinarySearchFunc(keys, k, cmpKey); ok {
			out[j].Aliases = append(out[j].Aliases, a)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	byModel := map[int64][]model.ModelVersion{}
	for j := 0; j < len(out); {
		k := j
		for k < len(out) && keys[k].mid == keys[j].mid {
			k++
		}
		byModel[keys[j].mid] = out[j:k:k]
		j = k
	}
	return byModel, nil
}

func cmpKey(x, y vkey) int {
	switch {
	case x.mid < y.mid:
		return -1
	case x.mid > y.mid:
		return 1
	}
	return x.ver - y.ver
}
