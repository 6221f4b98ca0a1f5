package sagemaker

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bridgeops/bridge/internal/pipeline"
)

// TextProgress prints events for people in the same shape as the local
// executor (see pipeline.WriteStepLine): one line per step change in the
// statuses SageMaker reports (Executing, Succeeded, Failed, Stopping,
// Stopped; Starting is not shown), the job a step runs, a Condition
// step's outcome, a failed step's reason, and a summary line at the end.
// Uploads and pipeline creation are reported before the execution starts.
func TextProgress(w io.Writer, definitionPath string) func(Event) {
	start := time.Now()
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
			start = time.Now()
			fmt.Fprintf(w, "Execution %s of %s\n", ExecutionID(e.Execution), definitionPath)
		case EventStep:
			s := e.Step
			if s.Status == "Starting" {
				return
			}
			detail := ""
			switch {
			case s.Condition != "":
				detail = "outcome " + s.Condition
			case s.CachedFrom != "" && s.Status == "Succeeded":
				detail = "cache hit"
			case s.Status == "Executing" && s.Job != "":
				detail = s.Job
			}
			pipeline.WriteStepLine(w, time.Since(start), s.Name, s.Type, s.Status, detail, s.FailureReason)
		case EventStopping:
			fmt.Fprintf(w, "interrupted: stopping execution %s\n", ExecutionID(e.Execution))
		case EventEnded:
			pipeline.WriteSummary(w, ExecutionID(e.Execution), e.Status, time.Since(start), e.Reason)
		}
	}
}

// ExecutionID is the last part of an execution ARN
// (arn:aws:sagemaker:REGION:ACCOUNT:pipeline/NAME/execution/ID).
func ExecutionID(arn string) string {
	return arn[strings.LastIndex(arn, "/")+1:]
}
