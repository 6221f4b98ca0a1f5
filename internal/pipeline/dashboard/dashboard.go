// Package dashboard shows the local pipeline executor's history (the
// pipeline_* tables of registry.db) on the dashboard's Pipelines page.
package dashboard

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bridgeops/bridge/internal/pipeline"
	"github.com/bridgeops/bridge/internal/pipeline/local"
	"github.com/bridgeops/bridge/internal/ui"
)

// DefaultLogTail is how much of the end of a step's log the page shows.
const DefaultLogTail = 16 << 10

// Source implements ui.Pipelines on a registry database.
type Source struct {
	db *sql.DB
	// LogTail is how many bytes of the end of each step's log are shown.
	LogTail int64
	// Alive, when set, says whether the process that records a running
	// execution still runs; executions whose process is gone show as
	// Stopped (the history is not changed).
	Alive func(pid int) bool

	mu    sync.Mutex
	hist  *local.History
	graph map[string]cachedGraph // definition path → its dependencies
}

type cachedGraph struct {
	mod   time.Time
	steps []defStep
}

type defStep struct {
	name, typ string
	deps      []string
}

// New reads the history in db. The pipeline tables are made on first use,
// so a home where no pipeline has run yet shows an empty page.
func New(db *sql.DB) *Source {
	return &Source{db: db, LogTail: DefaultLogTail, graph: map[string]cachedGraph{}}
}

func (s *Source) history(ctx context.Context) (*local.History, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hist == nil {
		h, err := local.OpenHistory(ctx, s.db)
		if err != nil {
			return nil, err
		}
		s.hist = h
	}
	return s.hist, nil
}

// PipelineExecutions returns the newest executions with their steps.
func (s *Source) PipelineExecutions(ctx context.Context, limit int) ([]ui.PipelineExecution, error) {
	h, err := s.history(ctx)
	if err != nil {
		return nil, err
	}
	list, err := h.Executions(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ui.PipelineExecution, 0, len(list))
	for _, item := range list {
		e, err := h.Execution(ctx, item.ID)
		if err != nil {
			return out, err
		}
		out = append(out, s.view(ctx, h, e))
	}
	return out, nil
}

func (s *Source) view(ctx context.Context, h *local.History, e local.Execution) ui.PipelineExecution {
	v := ui.PipelineExecution{ID: e.ID, Pipeline: e.Pipeline, Status: e.Status, Started: e.Started, Finished: e.Finished}
	running := e.Status == local.StatusExecuting || e.Status == local.StatusStopping
	if running && s.Alive != nil && !s.Alive(e.PID) {
		v.Status = local.StatusStopped
	}
	def := s.definition(e.Definition)
	deps := map[string][]string{}
	for _, d := range def {
		deps[d.name] = d.deps
	}
	seen := map[string]bool{}
	for _, r := range e.Steps {
		seen[r.Name] = true
		st := ui.PipelineStep{Name: r.Name, Type: r.Type, Status: r.Status, DependsOn: deps[r.Name],
			Started: r.Started, Finished: r.Finished, CacheHit: r.CacheHit, Condition: r.Outcome, Error: r.FailureReason}
		switch {
		case r.LogPath != "":
			st.Log = s.tail(r.LogPath)
		case r.CacheHit && r.CachedFrom != "":
			st.Log = s.cachedLog(ctx, h, r.CachedFrom, r.Name)
		}
		v.Steps = append(v.Steps, st)
	}
	// Steps of the definition that did not run (the branch a condition did
	// not take, steps after a failure) are drawn without a status.
	for _, d := range def {
		if !seen[d.name] {
			v.Steps = append(v.Steps, ui.PipelineStep{Name: d.name, Type: d.typ, DependsOn: d.deps})
		}
	}
	return v
}

// cachedLog is the log of the run a cache hit reused.
func (s *Source) cachedLog(ctx context.Context, h *local.History, execID, step string) string {
	src, err := h.Execution(ctx, execID)
	if err != nil {
		return ""
	}
	for _, r := range src.Steps {
		if r.Name == step && r.LogPath != "" {
			if t := s.tail(r.LogPath); t != "" {
				return "(cache hit: log of execution " + execID + ")\n" + t
			}
		}
	}
	return ""
}

// tail reads the end of a log; a missing or unreadable log is said so.
func (s *Source) tail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(log unavailable: %v)", err)
	}
	defer f.Close()
	n := s.LogTail
	if n <= 0 {
		n = DefaultLogTail
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(log unavailable: %v)", err)
	}
	prefix := ""
	if fi.Size() > n {
		if _, err := f.Seek(fi.Size()-n, io.SeekStart); err != nil {
			return fmt.Sprintf("(log unavailable: %v)", err)
		}
		prefix = fmt.Sprintf("… (last %d of %d bytes)\n", n, fi.Size())
	}
	b, err := io.ReadAll(io.LimitReader(f, n))
	if err != nil {
		return fmt.Sprintf("(log unavailable: %v)", err)
	}
	text := string(b)
	if prefix != "" {
		if i := strings.IndexByte(text, '\n'); i >= 0 && i < len(text)-1 {
			text = text[i+1:] // start at a whole line
		}
	}
	return prefix + text
}

// definition reads an execution's definition for its step graph; a
// definition that is gone or no longer parses gives no graph (the steps
// are still listed).
func (s *Source) definition(path string) []defStep {
	if path == "" || !filepath.IsAbs(path) {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	c, ok := s.graph[path]
	s.mu.Unlock()
	if ok && c.mod.Equal(fi.ModTime()) {
		return c.steps
	}
	steps := parseSteps(path)
	s.mu.Lock()
	s.graph[path] = cachedGraph{mod: fi.ModTime(), steps: steps}
	s.mu.Unlock()
	return steps
}

func parseSteps(path string) []defStep {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".yaml" || ext == ".yml" {
		if data, err = pipeline.CompileYAML(data, path); err != nil {
			return nil
		}
	}
	def, err := pipeline.Parse(data, path)
	if err != nil {
		return nil
	}
	g, err := def.Graph()
	if err != nil {
		return nil
	}
	out := make([]defStep, 0, len(g.Order))
	for _, name := range g.Order {
		st := def.Step(name)
		d := defStep{name: name}
		if st != nil {
			d.typ = st.Type
		}
		seen := map[string]bool{}
		for _, e := range g.Deps[name] {
			if !seen[e.From] {
				seen[e.From] = true
				d.deps = append(d.deps, e.From)
			}
		}
		out = append(out, d)
	}
	return out
}
