package pipeline

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// The progress every executor prints for people, one line per step change:
//
//	   12.3s  TrainSTSModel                      Training       Succeeded (cache hit)
//	          reason of a step that did not succeed, indented
//	Execution 3k9x0q1m2abc Succeeded in 40.2s
//
// and its exit status: 0 Succeeded, 1 Failed, 2 Stopped.

// WriteStepLine writes one step change: the time since the run started,
// the step, its type, its status with an optional detail in parentheses,
// and the reason below it when the step did not succeed.
func WriteStepLine(w io.Writer, elapsed time.Duration, step, typ, status, detail, reason string) {
	if detail != "" {
		status += " (" + detail + ")"
	}
	fmt.Fprintf(w, "%7.1fs  %-34s %-14s %s\n", elapsed.Seconds(), step, typ, status)
	if reason != "" && !strings.HasPrefix(status, "Succeeded") {
		fmt.Fprintf(w, "          %s\n", strings.ReplaceAll(reason, "\n", "\n          "))
	}
}

// WriteSummary writes the line that ends a run.
func WriteSummary(w io.Writer, id, status string, took time.Duration, reason string) {
	fmt.Fprintf(w, "Execution %s %s in %.1fs", id, status, took.Seconds())
	if reason != "" && status != "Succeeded" {
		l, _, _ := strings.Cut(reason, "\n")
		fmt.Fprintf(w, ": %s", l)
	}
	fmt.Fprintln(w)
}

// ExitCode is the exit status of a run that ended in status: 0 Succeeded,
// 2 Stopped, 1 anything else (Failed, CompletedWithFailures).
func ExitCode(status string) int {
	switch status {
	case "Succeeded":
		return 0
	case "Stopped":
		return 2
	}
	return 1
}
