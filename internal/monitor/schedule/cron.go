package schedule

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// parser accepts standard five-field cron expressions, an optional leading
// seconds field for schedules finer than a minute, and descriptors such as
// @hourly and @every 10m.
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parse parses a cron expression: standard cron (see parser), or AWS's
// cron(0 * ? * * *) and rate(1 hour) as SageMaker schedules spell them.
func Parse(expr string) (cron.Schedule, error) {
	std, isAWS, err := fromAWS(expr)
	if err != nil {
		return nil, err
	}
	if !isAWS {
		std = expr
	}
	s, err := parser.Parse(std)
	if err != nil {
		return nil, fmt.Errorf("cron expression %q: %w (e.g. \"0 * * * *\" or cron(0 * ? * * *) for hourly, \"*/5 * * * *\" every five minutes, \"*/30 * * * * *\" every 30 s)", expr, err)
	}
	return s, nil
}

// Window returns the window an activation at or before now covers: from
// the activation before it to it, i.e. the interval that just ended.
func Window(s cron.Schedule, now time.Time) (start, end time.Time) {
	// Find the latest activation <= now by stepping from far enough back.
	period := s.Next(s.Next(now)).Sub(s.Next(now))
	if period <= 0 {
		period = time.Hour
	}
	t := s.Next(now.Add(-3 * period))
	prev := t
	for !t.After(now) {
		prev, t = t, s.Next(t)
	}
	end = prev
	if end.After(now) {
		end = now
	}
	// The activation before end.
	p := s.Next(end.Add(-3 * period))
	start = p
	for p.Before(end) {
		start, p = p, s.Next(p)
	}
	if !start.Before(end) {
		start = end.Add(-period)
	}
	return start, end
}
