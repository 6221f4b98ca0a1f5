package python

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/bridgeops/bridge/internal/serving"
)

// Interpreter returns the Python interpreter a model's server would run
// with (building its virtualenv first when BRIDGE_ENV_MANAGER asks for
// one) and the extra environment variables it needs, so that other
// runtimes can run helper scripts in the model's own environment.
func (r *Runtime) Interpreter(ctx context.Context, spec serving.LoadSpec) (string, []string, error) {
	opts, err := r.opts.resolved(spec)
	if err != nil {
		return "", nil, err
	}
	dir, err := filepath.Abs(spec.Dir)
	if err != nil {
		return "", nil, fmt.Errorf("model directory: %w", err)
	}
	env, err := r.environment(ctx, opts, dir)
	if err != nil {
		return "", nil, err
	}
	return env.python, env.env, nil
}

// Runtime names the runtime serving the model, for bridge status.
func (m *model) Runtime() string { return "python" }
