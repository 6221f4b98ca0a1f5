package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// fromAWS translates an AWS schedule expression — SageMaker's and
// EventBridge's cron(Minutes Hours Day-of-month Month Day-of-week Year),
// or EventBridge's rate(N unit) — into the standard cron syntax the parser
// reads. ok is false when expr is not an AWS expression.
//
// AWS numbers days of the week 1-7 from Sunday (standard cron: 0-6); the
// year field must be * (schedules do not end); L, W and # are refused.
func fromAWS(expr string) (std string, ok bool, err error) {
	e := strings.TrimSpace(expr)
	switch {
	case strings.HasPrefix(e, "cron(") && strings.HasSuffix(e, ")"):
		fields := strings.Fields(e[len("cron(") : len(e)-1])
		if len(fields) != 6 {
			return "", true, fmt.Errorf("cron expression %q: AWS cron takes six fields (Minutes Hours Day-of-month Month Day-of-week Year), e.g. cron(0 * ? * * *)", expr)
		}
		if y := fields[5]; y != "*" && y != "?" {
			return "", true, fmt.Errorf("cron expression %q: the year field must be * (a schedule runs until deleted)", expr)
		}
		for _, f := range fields[:5] {
			if strings.ContainsAny(f, "LW#") && !isDayName(f) {
				return "", true, fmt.Errorf("cron expression %q: L, W and # are not supported", expr)
			}
		}
		if fields[2] != "?" && fields[4] != "?" {
			return "", true, fmt.Errorf("cron expression %q: AWS cron needs ? in the day-of-month or the day-of-week field", expr)
		}
		dow, err := awsDow(fields[4])
		if err != nil {
			return "", true, fmt.Errorf("cron expression %q: %w", expr, err)
		}
		return strings.Join([]string{fields[0], fields[1], fields[2], fields[3], dow}, " "), true, nil
	case strings.HasPrefix(e, "rate(") && strings.HasSuffix(e, ")"):
		parts := strings.Fields(e[len("rate(") : len(e)-1])
		if len(parts) != 2 {
			return "", true, fmt.Errorf("rate expression %q: want rate(N minutes|hours|days)", expr)
		}
		n, err := strconv.Atoi(parts[0])
		if err != nil || n <= 0 {
			return "", true, fmt.Errorf("rate expression %q: want a positive whole number, e.g. rate(1 hour)", expr)
		}
		unit := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour}[parts[1]]
		if unit == 0 || (n == 1) != !strings.HasSuffix(parts[1], "s") {
			return "", true, fmt.Errorf("rate expression %q: want rate(1 minute|hour|day) or rate(N minutes|hours|days)", expr)
		}
		return "@every " + (time.Duration(n) * unit).String(), true, nil
	}
	return "", false, nil
}

func isDayName(f string) bool {
	for _, p := range strings.FieldsFunc(f, func(r rune) bool { return r == ',' || r == '-' }) {
		switch strings.ToUpper(p) {
		case "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT":
		default:
			return false
		}
	}
	return true
}

// awsDow renumbers a day-of-week field from AWS's 1-7 (Sunday first) to
// cron's 0-6; names, * and ? pass through, step values are kept.
func awsDow(f string) (string, error) {
	var out []string
	for _, item := range strings.Split(f, ",") {
		base, step, hasStep := strings.Cut(item, "/")
		var ends []string
		for _, b := range strings.Split(base, "-") {
			n, err := strconv.Atoi(b)
			if err != nil {
				ends = append(ends, b) // *, ?, or a name
				continue
			}
			if n < 1 || n > 7 {
				return "", fmt.Errorf("day of week %d: AWS numbers days 1 (Sunday) to 7 (Saturday)", n)
			}
			ends = append(ends, strconv.Itoa(n-1))
		}
		s := strings.Join(ends, "-")
		if hasStep {
			s += "/" + step
		}
		out = append(out, s)
	}
	return strings.Join(out, ","), nil
}
