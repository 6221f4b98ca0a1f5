package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestOneOffWindow(t *testing.T) {
	clock := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name               string
		startOff, endOff   string
		start, end, now    string
		wantStart, wantEnd time.Time
		wantErr            string
	}{
		{name: "open", wantStart: time.Time{}, wantEnd: time.Time{}},
		{name: "absolute", start: "2026-05-01T10:00:00Z", end: "2026-05-01T11:00:00Z",
			wantStart: clock.Add(-2 * time.Hour), wantEnd: clock.Add(-time.Hour)},
		{name: "offsets from the clock", startOff: "-PT2H", endOff: "-PT1H", wantStart: clock.Add(-2 * time.Hour), wantEnd: clock.Add(-time.Hour)},
		{name: "offsets from --now", startOff: "-PT1H", endOff: "-PT0H", now: "2026-05-01T06:00:00Z",
			wantStart: clock.Add(-7 * time.Hour), wantEnd: clock.Add(-6 * time.Hour)},
		{name: "bad time", start: "yesterday", wantErr: `--start "yesterday"`},
		{name: "both ways", startOff: "-PT1H", start: "2026-05-01T10:00:00Z", wantErr: "exclude each other"},
		{name: "now without offsets", now: "2026-05-01T06:00:00Z", wantErr: "--now only applies"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := Spec{StartOffset: c.startOff, EndOffset: c.endOff}
			start, end, err := s.OneOffWindow(c.start, c.end, c.now, clock)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || !start.Equal(c.wantStart) || !end.Equal(c.wantEnd) {
				t.Fatalf("= [%s, %s), %v; want [%s, %s)", start, end, err, c.wantStart, c.wantEnd)
			}
		})
	}
}
