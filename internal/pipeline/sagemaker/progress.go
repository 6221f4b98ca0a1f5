package sagemaker

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// TextProgress prints events for people: one line per step change, in
// the statuses SageMaker reports (Starting, Executing, Succeeded, Failed,
// Stopping, Stopped), with the failure reason of a failed step.
func TextProgress(w io.Writer) func(Event) {
	return func(e Event) {
		switch e.Kind {
		case EventBucketCreated:
			fmt.Fprintf(w, "created bucket s3://%s\n", e.Bucket)
		case EventUploaded:
			u := e.Upload
			verb := "uploaded"
			if u.Skipped {
				verb = "unchanged"
			}
			fmt.Fprintf(w, "%s %s (step %s) -> %s\n", verb, u.LocalPath, u.Step, u.S3URI)
		case EventPipelineCreated:
			fmt.Fprintf(w, "created pipeline %s\n", e.Pipeline)
		case EventPipelineUpdated:
			fmt.Fprintf(w, "updated pipeline %s\n", e.Pipeline)
		case EventStarted:
			fmt.Fprintf(w, "started execution %s\n", e.Execution)
		case EventStep:
			s := e.Step
			line := fmt.Sprintf("  %-28s %-10s", s.Name, s.Status)
			switch {
			case s.FailureReason != "":
				line += " " + s.FailureReason
			case s.Condition != "":
				line += " condition " + s.Condition
			case s.Status == "Succeeded" && s.StartTime != nil && s.EndTime != nil:
				line += " " + s.EndTime.Sub(*s.StartTime).Round(time.Second).String()
			case s.Status == "Executing" && s.Job != "":
				line += " " + s.Job
			}
			fmt.Fprintln(w, strings.TrimRight(line, " "))
		case EventStopping:
			fmt.Fprintf(w, "interrupted: stopping execution %s\n", e.Execution)
		case EventEnded:
			if e.Reason != "" {
				fmt.Fprintf(w, "execution %s: %s\n", e.Status, e.Reason)
			} else {
				fmt.Fprintf(w, "execution %s\n", e.Status)
			}
		}
	}
}
