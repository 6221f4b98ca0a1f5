package awsfake

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Step caching as SageMaker Pipelines documents it ("Default cache key
// attributes by pipeline step type"): a step with CacheConfig.Enabled is
// not run when an earlier execution of the same pipeline ran the same step
// successfully, within ExpireAfter, with the same cache key attributes; it
// succeeds at once with that run's metadata and a CacheHitResult naming it.
// The fake resolves parameter and execution-id references in the key
// attributes; references to other steps' properties compare as written.

// cacheableTypes are the step types whose results SageMaker caches, with
// the arguments that make up their key.
var cacheableTypes = map[string][]string{
	"Processing": {"AppSpecification", "Environment", "ProcessingInputs"},
	"Training": {"AlgorithmSpecification", "CheckpointConfig", "DebugHookConfig", "DebugRuleConfigurations",
		"Environment", "HyperParameters", "InputDataConfig"},
	"Transform": {"DataProcessing", "Environment", "ModelName", "TransformInput"},
	"Tuning":    {"HyperParameterTuningJobConfig", "TrainingJobDefinition", "TrainingJobDefinitions"},
}

var isoDurationRE = regexp.MustCompile(`^P?(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

// isoDuration parses ExpireAfter as SageMaker takes it (P30D, PT1H, 30d,
// T16m); ok is false for an empty or unreadable value (no expiry).
func isoDuration(s string) (time.Duration, bool) {
	u := strings.ToUpper(strings.TrimSpace(s))
	m := isoDurationRE.FindStringSubmatch(u)
	if m == nil || strings.TrimPrefix(u, "P") == "" || strings.HasSuffix(u, "T") {
		return 0, false
	}
	units := []time.Duration{365 * 24 * time.Hour, 30 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second}
	var d time.Duration
	for i, unit := range units {
		if m[i+1] != "" {
			n, _ := strconv.Atoi(m[i+1])
			d += time.Duration(n) * unit
		}
	}
	return d, true
}

// cacheKey is a step's key attributes with parameters and the execution
// id substituted.
func cacheKey(ex *plExecution, s *plStep) string {
	id := ex.arn[strings.LastIndex(ex.arn, "/")+1:]
	var resolve func(v any) any
	resolve = func(v any) any {
		switch t := v.(type) {
		case map[string]any:
			if g, ok := t["Get"].(string); ok && len(t) == 1 {
				if name, ok := strings.CutPrefix(g, "Parameters."); ok {
					return ex.params[name]
				}
				if g == "Execution.PipelineExecutionId" {
					return id
				}
				return t
			}
			out := map[string]any{}
			for k, x := range t {
				out[k] = resolve(x)
			}
			return out
		case []any:
			out := make([]any, len(t))
			for i, x := range t {
				out[i] = resolve(x)
			}
			return out
		}
		return v
	}
	key := map[string]any{}
	for _, k := range cacheableTypes[s.typ] {
		if v, ok := s.args[k]; ok {
			key[k] = resolve(v)
		}
	}
	b, _ := json.Marshal(key)
	return string(b)
}

// cacheSource is the newest earlier execution whose run of the step can be
// reused, or nil.
func (st *pipelineState) cacheSource(ex *plExecution, s *plStep, now time.Time) *plExecution {
	if !s.cache {
		return nil
	}
	want := cacheKey(ex, s)
	var best *plExecution
	for _, other := range st.executions {
		if other == ex || other.pipeline != ex.pipeline || other.seq > ex.seq {
			continue
		}
		prev := other.byName[s.name]
		if prev == nil || prev.status != StepSucceeded || prev.cachedArn != "" || prev.typ != s.typ {
			continue
		}
		if s.expire > 0 && now.Sub(prev.end) > s.expire {
			continue
		}
		if cacheKey(other, prev) != want {
			continue
		}
		if best == nil || other.seq > best.seq {
			best = other
		}
	}
	return best
}
