package monitor

import (
	"fmt"
	"io"
	"time"
)

// WriteText writes the report for people: counts, window, skipped input,
// violations and the files written.
func (rep *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "%s of %s: %d capture records in %d files, %d rows evaluated\n", rep.Type, rep.Endpoint, rep.Records, rep.Files, rep.Rows)
	if rep.Start != nil || rep.End != nil {
		fmt.Fprintf(w, "window: %s to %s\n", fmtWindowEnd(rep.Start), fmtWindowEnd(rep.End))
	}
	if rep.Malformed+rep.BadPayload > 0 {
		fmt.Fprintf(w, "skipped: %d malformed lines, %d unparseable payloads\n", rep.Malformed, rep.BadPayload)
	}
	if rep.Type == ModelQuality {
		fmt.Fprintf(w, "ground truth: %d records (%d malformed lines); %d captured records without ground truth\n",
			rep.GroundTruthRecords, rep.MalformedGroundTruth, rep.Unmatched)
	}
	if rep.Status == StatusNoData {
		fmt.Fprintf(w, "%s: nothing to check in this window (no violations, no metrics)\n", rep.Status)
	} else if len(rep.Violations) == 0 {
		fmt.Fprintln(w, "no violations")
	} else {
		fmt.Fprintf(w, "%d violations:\n", len(rep.Violations))
		for _, v := range rep.Violations {
			name := v.FeatureName
			if name == "" {
				name = v.MetricName
			}
			fmt.Fprintf(w, "  %s %s: %s\n", name, v.ConstraintCheckType, v.Description)
		}
	}
	if rep.StatisticsPath != "" {
		fmt.Fprintf(w, "written: %s, %s\n", rep.StatisticsPath, rep.ViolationsPath)
	} else {
		fmt.Fprintf(w, "written: %s\n", rep.ViolationsPath)
	}
}

func fmtWindowEnd(t *time.Time) string {
	if t == nil {
		return "(open)"
	}
	return t.Format(time.RFC3339)
}

// ParseTime parses an RFC 3339 time given as option name; "" is the zero
// time.
func ParseTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s %q: want an RFC 3339 time such as 2026-05-01T10:00:00Z", name, v)
	}
	return t, nil
}
