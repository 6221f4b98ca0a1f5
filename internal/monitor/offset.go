package monitor

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// offsetRE matches the ISO 8601 durations SageMaker's StartTimeOffset and
// EndTimeOffset take: -PT1H, -P1D, -P1DT12H, -PT30M, PT0H. Years and months
// have no fixed length and are refused.
var offsetRE = regexp.MustCompile(`^([+-]?)P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// ParseOffset parses an ISO 8601 duration such as -PT1H (one hour before).
func ParseOffset(s string) (time.Duration, error) {
	m := offsetRE.FindStringSubmatch(s)
	if m == nil || s == "P" || s == "-P" || s == "+P" || s[len(s)-1] == 'T' {
		return 0, fmt.Errorf("offset %q: want an ISO 8601 duration such as -PT1H, -P1D or -PT30M", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute} {
		if m[i+2] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+2], 10, 64)
		if err != nil || n > 1e6 {
			return 0, fmt.Errorf("offset %q: number out of range", s)
		}
		d += time.Duration(n) * unit
	}
	if m[6] != "" {
		f, err := strconv.ParseFloat(m[6], 64)
		if err != nil || f > 1e9 {
			return 0, fmt.Errorf("offset %q: number out of range", s)
		}
		d += time.Duration(f * float64(time.Second))
	}
	if m[1] == "-" {
		d = -d
	}
	return d, nil
}

// Offsets shift a monitoring window, as SageMaker's StartTimeOffset and
// EndTimeOffset do for late ground truth: the window of a run at time t is
// [t+Start, t+End). Empty strings leave a side unset.
type Offsets struct {
	Start, End string
}

// IsZero reports whether neither offset is set.
func (o Offsets) IsZero() bool { return o.Start == "" && o.End == "" }

// Validate checks both offsets parse and the window is not empty.
func (o Offsets) Validate() error {
	_, _, err := o.Window(time.Unix(0, 0), time.Time{}, time.Unix(0, 0))
	return err
}

// Window returns the window of a run at t whose default window is
// [defStart, t). With both offsets it is [t+start, t+end); with only a
// start offset it ends at t; with only an end offset the default window is
// shifted by it. A zero defStart (an open start) stays open when only the
// end offset is given.
func (o Offsets) Window(t, defStart, defEnd time.Time) (start, end time.Time, err error) {
	start, end = defStart, defEnd
	var so, eo time.Duration
	if o.Start != "" {
		if so, err = ParseOffset(o.Start); err != nil {
			return start, end, fmt.Errorf("--start-offset: %w", err)
		}
	}
	if o.End != "" {
		if eo, err = ParseOffset(o.End); err != nil {
			return start, end, fmt.Errorf("--end-offset: %w", err)
		}
	}
	switch {
	case o.Start != "":
		start, end = t.Add(so), t.Add(eo)
	case o.End != "":
		if !defStart.IsZero() {
			start = defStart.Add(eo)
		}
		end = defEnd.Add(eo)
	}
	if o.Start != "" && !end.After(start) {
		return start, end, fmt.Errorf("--start-offset %s is not before --end-offset %s: the window would be empty", o.Start, orZero(o.End))
	}
	return start, end, nil
}

func orZero(s string) string {
	if s == "" {
		return "PT0H"
	}
	return s
}
