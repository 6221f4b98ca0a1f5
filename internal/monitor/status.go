package monitor

// Outcomes of a run that completed (SageMaker's monitoring execution
// statuses, plus CompletedWithNoData for a window with nothing to check).
const (
	StatusCompleted  = "Completed"
	StatusViolations = "CompletedWithViolations"
	// StatusNoData is a window with no rows to evaluate (no captured
	// requests, no ground truth merged yet, or fewer than Job.MinRecords):
	// it raises no violations and reports no metric values.
	StatusNoData = "CompletedWithNoData"
)
