package monitor

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/bridgeops/bridge/internal/monitor/source"
)

// Endpoints lists the endpoints a capture location has captures of (its
// top-level directories).
func Endpoints(ctx context.Context, s source.Store) ([]string, error) {
	var names []string
	if dl, ok := s.(source.DirLister); ok {
		dirs, err := dl.ListDirs(ctx, "")
		if err != nil {
			return nil, err
		}
		names = dirs
	} else {
		objs, err := s.List(ctx, "")
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, o := range objs {
			if first, _, ok := strings.Cut(o.Key, "/"); ok && !seen[first] {
				seen[first] = true
				names = append(names, first)
			}
		}
	}
	sort.Strings(names)
	return names, nil
}

// CheckEndpoint returns an error naming the endpoints the capture location
// has when it has never captured endpoint (a typo would otherwise monitor
// nothing, window after window).
func CheckEndpoint(ctx context.Context, s source.Store, endpoint string) error {
	names, err := Endpoints(ctx, s)
	if err != nil {
		return fmt.Errorf("list the endpoints captured in %s: %w", s, err)
	}
	for _, n := range names {
		if n == endpoint {
			return nil
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("endpoint %s has no captures: %s holds no captured endpoint (is capture on? bridge run --capture; use --allow-missing for an endpoint not deployed yet)", endpoint, s)
	}
	hint := ""
	for _, n := range names {
		if strings.EqualFold(n, endpoint) {
			hint = fmt.Sprintf(" (did you mean %s? names are case-sensitive here)", n)
		}
	}
	return fmt.Errorf("endpoint %s has no captures in %s%s; it has captures of: %s (use --allow-missing for an endpoint not deployed yet)",
		endpoint, s, hint, strings.Join(names, ", "))
}
