// Package serving defines model runtimes: how a model directory (an MLflow
// model: a folder with an MLmodel file) becomes something that answers
// invocations. Native flavors run in-process; Python flavors run in a
// subprocess (serving/python). A Runtimes set maps flavor names to
// runtimes.
package serving

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"gopkg.in/yaml.v3"
)

// Model is a loaded model version.
type Model interface {
	// ServeHTTP answers one invocation (the body of POST .../invocations,
	// MLflow scoring protocol). The router has already bounded the body.
	http.Handler
	// Ping reports whether the model is ready to answer.
	Ping(ctx context.Context) error
	// Close releases the model (stops its server process, if any).
	Close(ctx context.Context) error
}

// Stater is implemented by models whose health changes over their life
// (a Python server that crashed and is restarting); bridge status shows it.
type Stater interface {
	State() string
}

// LoadSpec says which version to load from where.
type LoadSpec struct {
	Name    string // registered model name
	Version int
	Dir     string // model root: holds MLmodel
	LogDir  string // where subprocess runtimes write stdout/stderr
}

// Runtime loads models of the flavors it supports.
type Runtime interface {
	Load(ctx context.Context, spec LoadSpec, mlmodel MLmodel) (Model, error)
}

// MLmodel is the parsed MLmodel file of an MLflow model directory.
type MLmodel struct {
	ArtifactPath string                    `yaml:"artifact_path,omitempty"`
	Flavors      map[string]map[string]any `yaml:"flavors"`
	RunID        string                    `yaml:"run_id,omitempty"`
	ModelUUID    string                    `yaml:"model_uuid,omitempty"`
	Signature    map[string]any            `yaml:"signature,omitempty"`
}

// ReadMLmodel parses dir/MLmodel.
func ReadMLmodel(dir string) (MLmodel, error) {
	var m MLmodel
	b, err := os.ReadFile(filepath.Join(dir, "MLmodel"))
	if err != nil {
		return m, fmt.Errorf("read MLmodel: %w (a model directory must hold an MLmodel file)", err)
	}
	if err := yaml.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("parse %s: %w", filepath.Join(dir, "MLmodel"), err)
	}
	if len(m.Flavors) == 0 {
		return m, fmt.Errorf("%s names no flavors", filepath.Join(dir, "MLmodel"))
	}
	return m, nil
}

type registration struct {
	flavor   string
	priority int
	rt       Runtime
}

// Runtimes maps flavors to the runtimes that serve them. Each process (or
// test) builds its own set (see package serving/runtimes): there is no
// process-wide registry. The zero value is an empty set, safe for
// concurrent use.
type Runtimes struct {
	mu   sync.Mutex
	regs []registration
}

// Register makes a runtime available for a flavor. When a model has several
// flavors, the runtime with the lowest priority number wins (native runtimes
// register with 0, Python with 100).
func (s *Runtimes) Register(flavor string, priority int, rt Runtime) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.regs = append(s.regs, registration{flavor, priority, rt})
}

// Load reads dir's MLmodel and loads it with the best runtime of the set.
func (s *Runtimes) Load(ctx context.Context, spec LoadSpec) (Model, error) {
	mm, err := ReadMLmodel(spec.Dir)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	var best *registration
	for i := range s.regs {
		r := &s.regs[i]
		if _, ok := mm.Flavors[r.flavor]; ok && (best == nil || r.priority < best.priority) {
			best = r
		}
	}
	var rt Runtime
	if best != nil {
		rt = best.rt
	}
	s.mu.Unlock()
	if rt == nil {
		names := make([]string, 0, len(mm.Flavors))
		for f := range mm.Flavors {
			names = append(names, f)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("no runtime for flavors %v of %s/%d", names, spec.Name, spec.Version)
	}
	return rt.Load(ctx, spec, mm)
}

// RuntimeNamer is implemented by models that say which runtime serves them
// ("native", "python"); bridge status shows it.
type RuntimeNamer interface {
	Runtime() string
}
