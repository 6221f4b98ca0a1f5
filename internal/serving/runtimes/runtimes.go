// Package runtimes assembles the model runtimes of one process: the native
// bridge_linear runtime, the native tree runtime and the Python runtime
// the tree runtime falls back to, each registered for its flavors in one
// serving.Runtimes set.
//
// A Set is built from the typed configuration (config.PythonSettings,
// config.NativeMode) and owns the Python model servers it starts: Stop
// leaves no child process behind. bridge run adds it to its process
// manager (internal/app) before the deploy target, so it stops after the
// target has closed its models; other commands and tests that load models
// build and stop their own. Nothing here is process-wide: two Sets share
// no state.
package runtimes

import (
	"context"
	"log/slog"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/serving"
	"github.com/bridgeops/bridge/internal/serving/native"
	"github.com/bridgeops/bridge/internal/serving/python"
	"github.com/bridgeops/bridge/internal/serving/trees"
)

// Options configure a Set.
type Options struct {
	// Python configures the Python runtime (BRIDGE_PYTHON, ...).
	Python config.PythonSettings
	// Native is BRIDGE_NATIVE: off, auto (empty) or require.
	Native config.NativeMode
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// FromConfig returns the options of Bridge's configuration.
func FromConfig(c config.Config) Options {
	return Options{Python: c.Python, Native: c.Native}
}

// Set is the model runtimes of one process. It implements the process
// manager's Runnable (Start, Stop) and loads models (Load).
type Set struct {
	serving.Runtimes
	python *python.Runtime
}

// New builds a Set: bridge_linear natively (priority 0), sklearn, xgboost
// and lightgbm with the tree runtime (50), falling back to Python (100)
// for python_function, sklearn and sagemaker_sklearn.
func New(o Options) *Set {
	po := python.OptionsFrom(o.Python)
	po.Logger = o.Logger
	return NewWith(python.New(po), o.Native, o.Logger)
}

// NewWith builds a Set around a Python runtime built by the caller (tests
// with their own interpreter or timings). The Set owns it: Stop stops it.
func NewWith(py *python.Runtime, mode config.NativeMode, log *slog.Logger) *Set {
	s := &Set{python: py}
	s.Register(native.Flavor, 0, native.Runtime{})
	tr := &trees.Runtime{Fallback: py, Python: py, Mode: mode, Logger: log}
	for _, f := range []string{trees.FlavorSklearn, trees.FlavorXGBoost, trees.FlavorLightGBM} {
		s.Register(f, trees.Priority, tr)
	}
	for _, f := range python.Flavors {
		s.Register(f, python.Priority, py)
	}
	return s
}

// Python returns the Set's Python runtime.
func (s *Set) Python() *python.Runtime { return s.python }

// Start implements the Runnable of internal/app.
func (s *Set) Start(ctx context.Context, fatal func(error)) error {
	return s.python.Start(ctx, fatal)
}

// Stop stops the Python runtime: pre-started servers and any model server
// still running are gone when it returns (see python.Runtime.Stop). Models
// loaded natively hold no process and need nothing.
func (s *Set) Stop(ctx context.Context) error {
	return s.python.Stop(ctx)
}
