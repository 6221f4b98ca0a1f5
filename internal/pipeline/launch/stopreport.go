package launch

import (
	"context"
	"fmt"
	"io"
)

// StopAndReport is bridge pipeline stop: it stops the running execution id
// (Stop) and says on out how it ended, or that its process was gone and it
// is now marked Stopped.
func (h *History) StopAndReport(ctx context.Context, out io.Writer, id string) error {
	st, gone, err := h.Stop(ctx, id)
	switch {
	case err != nil:
		return err
	case gone:
		fmt.Fprintf(out, "Execution %s: its process is gone; marked Stopped\n", id)
	default:
		fmt.Fprintf(out, "Execution %s %s\n", id, st)
	}
	return nil
}
