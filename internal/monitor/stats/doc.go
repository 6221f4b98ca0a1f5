// Package stats holds the one-pass, mergeable summaries the monitor builds
// per feature: moments (Welford/Chan), a KLL quantile sketch in the layout
// SageMaker Model Monitor writes, a distinct-value counter (exact up to a
// bound, then HyperLogLog) and a top-values counter (exact up to a bound,
// then Space-Saving). Every summary has bounded memory and can be merged, so
// a window can be profiled in parallel and combined.
package stats
