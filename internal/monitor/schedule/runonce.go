package schedule

// This file holds the bodies of bridge monitor schedule run and bridge
// monitor executions.

import (
	"context"
	"io"
	"time"

	"github.com/bridgeops/bridge/internal/cliout"
	"github.com/bridgeops/bridge/internal/monitor"
)

// RunOnce executes the stored schedule name once, as bridge run would at
// its latest activation at or before nowFlag (RFC 3339; empty: clock),
// records the execution and writes it to w as a table. A failed execution
// is written too, and its error returned.
func (r *Runner) RunOnce(ctx context.Context, w io.Writer, name, nowFlag string, clock time.Time) error {
	sc, err := r.Store.Get(ctx, name)
	if err != nil {
		return err
	}
	now := clock
	if nowFlag != "" {
		if now, err = monitor.ParseTime("now", nowFlag); err != nil {
			return err
		}
	}
	e, err := r.Execute(ctx, sc, now)
	if e != nil {
		WriteExecutions(w, []Execution{*e})
	}
	return err
}

// PrintExecutions writes the executions of the stored schedule name,
// newest first and at most limit of them (0: all), as a table or, with
// asJSON, a JSON list. An unknown schedule is an error, not an empty list.
func (st *Store) PrintExecutions(ctx context.Context, w io.Writer, name string, limit int, asJSON bool) error {
	if _, err := st.Get(ctx, name); err != nil {
		return err
	}
	ex, err := st.Executions(ctx, name, limit)
	if err != nil {
		return err
	}
	return cliout.PrintList(w, asJSON, ex, WriteExecutions)
}
