package schedule

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/monitor"
)

func TestRunOnce(t *testing.T) {
	ctx := context.Background()
	st, err := OpenStore(ctx, openDB(t))
	if err != nil {
		t.Fatal(err)
	}
	ok := sched("hourly", "0 * * * *")
	ok.Spec.Output = t.TempDir()
	broken := sched("broken", "0 * * * *")
	broken.Spec.Output = t.TempDir()
	for _, sc := range []Schedule{ok, broken} {
		if err := st.Create(ctx, sc); err != nil {
			t.Fatal(err)
		}
	}
	var jobs []monitor.Job
	r := &Runner{Store: st, Run: func(ctx context.Context, j monitor.Job) (*monitor.Report, error) {
		jobs = append(jobs, j)
		if strings.Contains(j.Output, broken.Spec.Output) {
			return nil, errors.New("capture unreadable")
		}
		return &monitor.Report{Records: 3}, nil
	}}
	clock := time.Date(2026, 5, 1, 12, 30, 0, 0, time.UTC)
	tests := []struct {
		name, sched, now string
		wantStart        time.Time
		wantErr          string
		wantOut          string
	}{
		{"clock", "hourly", "", time.Date(2026, 5, 1, 11, 0, 0, 0, time.UTC), "", StatusCompleted},
		{"--now", "hourly", "2026-05-01T09:10:00Z", time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC), "", StatusCompleted},
		{"failed execution is printed", "broken", "", time.Date(2026, 5, 1, 11, 0, 0, 0, time.UTC), "capture unreadable", StatusFailed},
		{"bad --now", "hourly", "yesterday", time.Time{}, "now", ""},
		{"unknown schedule", "nope", "", time.Time{}, "nope", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jobs = nil
			var out bytes.Buffer
			err := r.RunOnce(ctx, &out, tt.sched, tt.now, clock)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if tt.wantStart.IsZero() {
				if len(jobs) != 0 || out.Len() != 0 {
					t.Fatalf("bad input ran %d jobs, printed %q", len(jobs), out.String())
				}
				return
			}
			if len(jobs) != 1 || !jobs[0].Start.Equal(tt.wantStart) || jobs[0].End.Sub(jobs[0].Start) != time.Hour {
				t.Fatalf("jobs %+v, want one hour from %v", jobs, tt.wantStart)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Fatalf("output %q lacks %q", out.String(), tt.wantOut)
			}
		})
	}
}

func TestPrintExecutions(t *testing.T) {
	ctx := context.Background()
	st, err := OpenStore(ctx, openDB(t))
	if err != nil {
		t.Fatal(err)
	}
	sc := sched("hourly", "0 * * * *")
	sc.Spec.Output = t.TempDir()
	if err := st.Create(ctx, sc); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := st.PrintExecutions(ctx, &out, "hourly", 0, true); err != nil || strings.TrimSpace(out.String()) != "[]" {
		t.Fatalf("no executions as JSON: %v, %q", err, out.String())
	}
	r := &Runner{Store: st, Run: func(ctx context.Context, j monitor.Job) (*monitor.Report, error) {
		return &monitor.Report{Records: 3}, nil
	}}
	clock := time.Date(2026, 5, 1, 12, 30, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		if err := r.RunOnce(ctx, io.Discard, "hourly", "", clock.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	if err := st.PrintExecutions(ctx, &out, "hourly", 2, false); err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(out.String(), StatusCompleted); rows != 2 {
		t.Fatalf("--limit 2 printed %d executions:\n%s", rows, out.String())
	}
	out.Reset()
	if err := st.PrintExecutions(ctx, &out, "nope", 0, false); err == nil || !strings.Contains(err.Error(), "nope") || out.Len() != 0 {
		t.Fatalf("unknown schedule: %v, %q", err, out.String())
	}
}
