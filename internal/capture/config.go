package capture

import (
	"fmt"
	"strconv"
	"strings"
)

// EndpointConfig is the capture setting of one endpoint.
type EndpointConfig struct {
	Enabled bool
	// SamplingPercent is the share of invocations captured, 0-100.
	SamplingPercent float64
	// Input and Output select the halves captured.
	Input, Output bool
}

// DefaultEndpointConfig captures everything, both halves.
func DefaultEndpointConfig() EndpointConfig {
	return EndpointConfig{Enabled: true, SamplingPercent: 100, Input: true, Output: true}
}

// ParseSpec applies a comma-separated capture spec to c: a sampling
// percentage ("50", "12.5%"), "on", "off", "input", "output" or "both".
func (c EndpointConfig) ParseSpec(spec string) (EndpointConfig, error) {
	for _, item := range strings.Split(spec, ",") {
		item = strings.ToLower(strings.TrimSpace(item))
		switch item {
		case "":
		case "on", "true":
			c.Enabled = true
		case "off", "false":
			c.Enabled = false
		case "input":
			c.Input, c.Output = true, false
		case "output":
			c.Input, c.Output = false, true
		case "both":
			c.Input, c.Output = true, true
		default:
			p, err := strconv.ParseFloat(strings.TrimSuffix(item, "%"), 64)
			if err != nil || p < 0 || p > 100 {
				return c, fmt.Errorf("capture spec %q: want a percentage 0-100, on, off, input, output or both", item)
			}
			c.SamplingPercent = p
			c.Enabled = p > 0
		}
	}
	return c, nil
}

// ParseOverrides parses per-endpoint overrides "NAME=SPEC" (SPEC as for
// ParseSpec) on top of def, e.g. "brdg-churn-Production=50,input".
func ParseOverrides(def EndpointConfig, items []string) (map[string]EndpointConfig, error) {
	out := map[string]EndpointConfig{}
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" {
			continue
		}
		name, spec, ok := strings.Cut(it, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("capture endpoint override %q: want NAME=SPEC, e.g. brdg-churn-Production=50", it)
		}
		c, err := def.ParseSpec(spec)
		if err != nil {
			return nil, fmt.Errorf("capture endpoint override %s: %w", name, err)
		}
		out[name] = c
	}
	return out, nil
}
