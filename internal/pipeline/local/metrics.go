package local

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"time"
)

type metricDef struct {
	name string
	re   *regexp.Regexp
}

// metricDefinitions compiles AlgorithmSpecification.MetricDefinitions
// before the job runs, so a bad one fails the step at once.
func metricDefinitions(algo map[string]any) ([]metricDef, error) {
	var out []metricDef
	for i, d := range list(algo["MetricDefinitions"]) {
		field := fmt.Sprintf("Arguments.AlgorithmSpecification.MetricDefinitions[%d]", i)
		name, expr := str(obj(d)["Name"]), str(obj(d)["Regex"])
		if name == "" || expr == "" {
			return nil, fmt.Errorf("%s: want Name and Regex", field)
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("%s.Regex: %v", field, err)
		}
		if re.NumSubexp() < 1 {
			return nil, fmt.Errorf("%s.Regex %q: want a group that captures the value", field, expr)
		}
		out = append(out, metricDef{name, re})
	}
	return out, nil
}

// finalMetrics reads a training job's metrics from its log as SageMaker
// does with AlgorithmSpecification.MetricDefinitions: each definition's
// regular expression is matched against the log, its first group is the
// value, and the last value seen is the final one. The result is the
// job's FinalMetricDataList (metrics never seen are left out), so
// {"Get": "Steps.Train.FinalMetricDataList['validation:rmse'].Value"}
// resolves as on SageMaker.
func finalMetrics(defs []metricDef, logPath string, end time.Time) ([]any, error) {
	if len(defs) == 0 {
		return nil, nil
	}
	log, err := os.ReadFile(logPath)
	if err != nil {
		return nil, fmt.Errorf("read the job's log for its metrics: %w", err)
	}
	out := []any{}
	for _, d := range defs {
		var value *float64
		for _, m := range d.re.FindAllSubmatch(log, -1) {
			if f, err := strconv.ParseFloat(string(m[1]), 64); err == nil {
				value = &f
			}
		}
		if value != nil {
			out = append(out, map[string]any{"MetricName": d.name, "Value": *value, "Timestamp": end.UTC().Format(time.RFC3339)})
		}
	}
	return out, nil
}
