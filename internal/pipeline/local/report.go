package local

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// WriteExecutions writes bridge pipeline executions' table, newest first
// as given.
func WriteExecutions(w io.Writer, list []Execution) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EXECUTION\tPIPELINE\tSTATUS\tSTARTED\tDURATION")
	for _, e := range list {
		d := duration(e.Started, e.Finished, 100*time.Millisecond)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.ID, e.Pipeline, e.Status, e.Started.Format(time.RFC3339), d)
	}
	return tw.Flush()
}

// WriteExecution writes bridge pipeline describe's text: the execution,
// its parameters and a table of its steps.
func WriteExecution(w io.Writer, e Execution) error {
	fmt.Fprintf(w, "Execution:  %s\nPipeline:   %s\nDefinition: %s\nStatus:     %s\nStarted:    %s\n", e.ID, e.Pipeline, e.Definition, e.Status, e.Started.Format(time.RFC3339))
	if e.FailureReason != "" {
		fmt.Fprintf(w, "Reason:     %s\n", e.FailureReason)
	}
	pb, _ := json.Marshal(e.Parameters)
	fmt.Fprintf(w, "Parameters: %s\n\n", pb)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tTYPE\tSTATUS\tDURATION\tCACHE\tOUTCOME\tREASON")
	for _, s := range e.Steps {
		d := duration(s.Started, s.Finished, 10*time.Millisecond)
		cache := "-"
		if s.CacheHit {
			cache = "hit (" + s.CachedFrom + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Type, s.Status, d, cache, dash(s.Outcome), dash(firstLine(s.FailureReason)))
	}
	return tw.Flush()
}

// duration is how long something ran, or "-" while it runs.
func duration(start, end time.Time, round time.Duration) string {
	if end.IsZero() {
		return "-"
	}
	return end.Sub(start).Round(round).String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// StepLogPath is the log file of the execution's step; the error says why
// there is none (a cache hit names the execution that has it).
func StepLogPath(e Execution, step string) (string, error) {
	for _, s := range e.Steps {
		if s.Name != step {
			continue
		}
		if s.LogPath == "" {
			if s.CacheHit {
				return "", fmt.Errorf("step %s was a cache hit: its log is in execution %s (bridge pipeline logs %s %s)", s.Name, s.CachedFrom, s.CachedFrom, s.Name)
			}
			return "", fmt.Errorf("step %s (%s) runs no command and has no log", s.Name, s.Type)
		}
		return s.LogPath, nil
	}
	names := make([]string, 0, len(e.Steps))
	for _, s := range e.Steps {
		names = append(names, s.Name)
	}
	return "", fmt.Errorf("execution %s has no step %q (steps: %s)", e.ID, step, strings.Join(names, ", "))
}

// CloseAbandoned marks an execution whose process died without recording
// its end (killed with SIGKILL, machine restarted) Stopped; it reports
// whether it did.
func CloseAbandoned(ctx context.Context, hist *History, e *Execution) bool {
	if (e.Status != StatusExecuting && e.Status != StatusStopping) || ProcessAlive(e.PID) {
		return false
	}
	const reason = "the process running it ended without recording the end"
	if err := hist.MarkAbandoned(ctx, e.ID, reason); err != nil {
		return false
	}
	e.Status, e.FailureReason = StatusStopped, reason
	return true
}

// ProcessAlive reports whether pid is a running bridge process.
func ProcessAlive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err != nil || strings.Contains(string(b), "pipeline")
}
