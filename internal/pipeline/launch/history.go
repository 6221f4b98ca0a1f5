package launch

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/pipeline/local"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// History is the pipeline history in the home's registry.db, as bridge
// pipeline executions, describe, logs and stop read it.
type History struct {
	*local.History
	st *store.Store
}

// OpenHistory opens the embedded store's database for the pipeline
// history; Close it after.
func OpenHistory(ctx context.Context, c config.Config) (*History, error) {
	st, err := store.Open(ctx, c.Home)
	if err != nil {
		return nil, fmt.Errorf("%w (set BRIDGE_HOME or --home to a writable directory)", err)
	}
	h, err := local.OpenHistory(ctx, st.DB())
	if err != nil {
		st.Close()
		return nil, err
	}
	return &History{History: h, st: st}, nil
}

// Close closes the database.
func (h *History) Close() error { return h.st.Close() }

// List returns at most limit executions (0: all), newest first; those
// whose process is gone are recorded Stopped first.
func (h *History) List(ctx context.Context, limit int) ([]local.Execution, error) {
	list, err := h.Executions(ctx, limit)
	if err != nil {
		return nil, err
	}
	for i := range list {
		local.CloseAbandoned(ctx, h.History, &list[i])
	}
	return list, nil
}

// Describe returns execution id with its steps, recorded Stopped first
// when its process is gone.
func (h *History) Describe(ctx context.Context, id string) (local.Execution, error) {
	e, err := h.Execution(ctx, id)
	if err != nil || !local.CloseAbandoned(ctx, h.History, &e) {
		return e, err
	}
	return h.Execution(ctx, id)
}

// CopyLog writes the log of step of execution id to w.
func (h *History) CopyLog(ctx context.Context, w io.Writer, id, step string) error {
	e, err := h.Execution(ctx, id)
	if err != nil {
		return err
	}
	path, err := local.StepLogPath(e, step)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
