package schedule

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/monitor"
	"github.com/bridgeops/bridge/internal/monitor/source"
)

// The operations behind bridge monitor run and bridge monitor schedule:
// checking a spec given on the command line, creating a schedule, and
// the tables they print.

// Resolve fills the capture location with defaultCapture when unset and
// checks what the spec needs before it runs or is stored.
func (s *Spec) Resolve(defaultCapture string) error {
	if s.Capture == "" {
		s.Capture = defaultCapture
	}
	if s.Type == "" {
		return errors.New("pass --type data-quality or --type model-quality")
	}
	if s.MinRecords < 0 {
		return errors.New("--min-records must not be negative")
	}
	return s.Offsets().Validate()
}

// OneOffWindow is the window of a single run: [start, end) given as RFC 3339
// times (open when empty), or, with offsets, relative to nowFlag (default
// clock). The two ways exclude each other.
func (s Spec) OneOffWindow(startFlag, endFlag, nowFlag string, clock time.Time) (start, end time.Time, err error) {
	if start, err = monitor.ParseTime("start", startFlag); err != nil {
		return
	}
	if end, err = monitor.ParseTime("end", endFlag); err != nil {
		return
	}
	off := s.Offsets()
	if off.IsZero() {
		if nowFlag != "" {
			return start, end, errors.New("--now only applies with --start-offset/--end-offset")
		}
		return start, end, nil
	}
	if startFlag != "" || endFlag != "" {
		return start, end, errors.New("--start/--end and --start-offset/--end-offset exclude each other: offsets are relative to --now")
	}
	now := clock
	if nowFlag != "" {
		if now, err = monitor.ParseTime("now", nowFlag); err != nil {
			return
		}
	}
	// The default window is everything before now.
	return off.Window(now, time.Time{}, now)
}

// CreateChecked stores a new schedule after making its local paths absolute
// (bridge run may start elsewhere), validating it, refusing an existing name
// and, unless the spec allows a missing endpoint, checking that the capture
// location (read with aws) holds the endpoint (a typo would monitor
// nothing).
func (st *Store) CreateChecked(ctx context.Context, sc Schedule, aws config.AWSSettings) (Schedule, error) {
	sp := &sc.Spec
	for _, p := range []*string{&sp.Capture, &sp.GroundTruth, &sp.Baseline, &sp.BaselineStatistics, &sp.BaselineConstraints, &sp.Output} {
		if *p != "" && !strings.HasPrefix(*p, "s3://") {
			abs, err := filepath.Abs(*p)
			if err != nil {
				return sc, err
			}
			*p = abs
		}
	}
	if err := sc.Validate(); err != nil {
		return sc, err
	}
	if _, err := st.Get(ctx, sc.Name); err == nil {
		return sc, fmt.Errorf("monitoring schedule %s exists already: delete it first (bridge monitor schedule delete %s)", sc.Name, sc.Name)
	}
	if !sp.AllowMissing {
		capStore, err := source.Open(ctx, sp.Capture, aws)
		if err != nil {
			return sc, err
		}
		if err := monitor.CheckEndpoint(ctx, capStore, sp.Endpoint); err != nil {
			return sc, err
		}
	}
	return sc, st.Create(ctx, sc)
}

// WriteSchedules writes schedules as a table.
func WriteSchedules(w io.Writer, all []Schedule) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCRON\tTYPE\tENDPOINT\tBASELINE\tOUTPUT")
	for _, sc := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", sc.Name, sc.Cron, sc.Spec.Type, sc.Spec.Endpoint, sc.Spec.Baseline, sc.Spec.Output)
	}
	return tw.Flush()
}

// WriteExecutions writes executions as a table, an error in place of the
// output directory of a failed one.
func WriteExecutions(w io.Writer, ex []Execution) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tWINDOW START\tWINDOW END\tSTATUS\tRECORDS\tVIOLATIONS\tOUTPUT")
	for _, e := range ex {
		out := e.Output
		if e.Error != "" {
			out = "error: " + e.Error
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%s\n", e.ID, e.WindowStart.Format(time.RFC3339), e.WindowEnd.Format(time.RFC3339), e.Status, e.Records, e.Violations, out)
	}
	return tw.Flush()
}
