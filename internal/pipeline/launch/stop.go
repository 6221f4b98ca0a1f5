package launch

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/bridgeops/bridge/internal/pipeline/local"
)

// StopTimeout bounds how long Stop waits for an execution to end.
const StopTimeout = 30 * time.Second

// Stop stops the running execution id: SIGTERM to the process running it
// (which kills its steps and records it Stopped), then waits until the
// history says it ended and returns how it did. An execution whose
// process is gone is marked Stopped at once (gone is then true).
func (h *History) Stop(ctx context.Context, id string) (status string, gone bool, err error) {
	e, err := h.Execution(ctx, id)
	if err != nil {
		return "", false, err
	}
	if e.Status != local.StatusExecuting && e.Status != local.StatusStopping {
		return "", false, fmt.Errorf("execution %s is %s, not running", e.ID, e.Status)
	}
	if !local.ProcessAlive(e.PID) {
		if err := h.MarkAbandoned(ctx, e.ID, "the process running it is gone"); err != nil {
			return "", false, err
		}
		return local.StatusStopped, true, nil
	}
	if err := h.MarkStopping(ctx, e.ID); err != nil {
		return "", false, err
	}
	if err := syscall.Kill(e.PID, syscall.SIGTERM); err != nil {
		return "", false, fmt.Errorf("stop execution %s (pid %d): %w", e.ID, e.PID, err)
	}
	deadline := time.Now().Add(StopTimeout)
	for time.Now().Before(deadline) {
		cur, err := h.Execution(ctx, e.ID)
		if err == nil && cur.Status != local.StatusExecuting && cur.Status != local.StatusStopping {
			return cur.Status, false, nil
		}
		select {
		case <-ctx.Done():
			return "", false, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return "", false, errors.New("the execution did not stop within 30s")
}
