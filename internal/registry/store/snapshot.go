package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
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
	// Each version comes packed in one text column, and the tags of each
	// version in another: the pure-Go driver's cost is per column read, and
	// this halves the work of a full read (see packedReader).
	if err := eachRow(ctx, tx, `SELECT model_id || ',' || version || ',' || created_ms || ',' || updated_ms || ',' ||
		octet_length(source) || ':' || source || octet_length(run_id) || ':' || run_id ||
		octet_length(description) || ':' || description || stage
		FROM model_versions`+where+` ORDER BY model_id, version`, args, func(r *sql.Rows) error {
		var row string
		if err := r.Scan(&row); err != nil {
			return err
		}
		p := packedReader{s: row}
		k := vkey{mid: p.int(), ver: int(p.int())}
		c, u := p.int(), p.int()
		v := model.ModelVersion{Name: names[k.mid], Version: k.ver, Source: p.str(), RunID: p.str(), Description: p.str(), Stage: p.rest(),
			Created: time.UnixMilli(c), Updated: time.UnixMilli(u)}
		if p.err != nil {
			return fmt.Errorf("read version row: %w", p.err)
		}
		out = append(out, v)
		keys = append(keys, k)
		return nil
	}); err != nil {
		return nil, err
	}
	i := 0 // merge cursor: tags come in the same (model_id, version) order
	if err := eachRow(ctx, tx, `SELECT model_id || ',' || version || ',' ||
		group_concat(octet_length(key) || ':' || key || octet_length(value) || ':' || value, '')
		FROM model_version_tags`+where+` GROUP BY model_id, version ORDER BY model_id, version`, args, func(r *sql.Rows) error {
		var row string
		if err := r.Scan(&row); err != nil {
			return err
		}
		p := packedReader{s: row}
		k := vkey{mid: p.int(), ver: int(p.int())}
		tags := make(map[string]string, 4)
		for p.err == nil && p.s != "" {
			key := p.str()
			tags[key] = p.str()
		}
		if p.err != nil {
			return fmt.Errorf("read tag row: %w", p.err)
		}
		for i < len(keys) && cmpKey(keys[i], k) < 0 {
			i++
		}
		if i < len(keys) && keys[i] == k {
			out[i].Tags = tags
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

// packedReader reads rows packed by SQL as comma-terminated integers and
// length-prefixed strings ("<bytes>:<text>"), which stay unambiguous
// whatever the text holds.
type packedReader struct {
	s   string
	err error
}

func (p *packedReader) fail() {
	if p.err == nil {
		p.err = fmt.Errorf("malformed packed row")
	}
	p.s = ""
}

// int reads an integer terminated by a comma.
func (p *packedReader) int() int64 {
	i := strings.IndexByte(p.s, ',')
	if i < 0 {
		p.fail()
		return 0
	}
	n, err := strconv.ParseInt(p.s[:i], 10, 64)
	if err != nil {
		p.fail()
		return 0
	}
	p.s = p.s[i+1:]
	return n
}

// str reads a length-prefixed string.
func (p *packedReader) str() string {
	i := strings.IndexByte(p.s, ':')
	if i < 1 {
		p.fail()
		return ""
	}
	n, err := strconv.Atoi(p.s[:i])
	if err != nil || n < 0 || i+1+n > len(p.s) {
		p.fail()
		return ""
	}
	v := p.s[i+1 : i+1+n]
	p.s = p.s[i+1+n:]
	return v
}

// rest returns what is left.
func (p *packedReader) rest() string {
	v := p.s
	p.s = ""
	return v
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
