package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// RefKind says what a {"Get": ...} reference points at.
type RefKind int

// Reference kinds.
const (
	RefInvalid RefKind = iota
	RefParameter
	RefExecution
	RefStep         // Steps.<Name>.<property path>
	RefPropertyFile // Steps.<Name>.PropertyFiles.<File>, inside Std:JsonGet
)

// Ref is one reference found in a step's arguments.
type Ref struct {
	Kind RefKind
	Expr string // the Get string
	Name string // parameter, execution variable or step name
	Path string // property path (RefStep) or property file name
	Err  error  // RefInvalid
}

var executionVariables = map[string]bool{
	"StartDateTime": true, "CurrentDateTime": true, "PipelineName": true, "PipelineArn": true,
	"PipelineExecutionId": true, "PipelineExecutionArn": true, "TrainingJobName": true, "ProcessingJobName": true,
}

// ParseRef parses the string of a {"Get": ...} expression.
func ParseRef(get string) Ref {
	r := Ref{Expr: get}
	head, rest, _ := strings.Cut(get, ".")
	switch head {
	case "Parameters":
		r.Kind, r.Name = RefParameter, rest
	case "Execution":
		r.Kind, r.Name = RefExecution, rest
	case "Steps":
		name, path, _ := strings.Cut(rest, ".")
		r.Kind, r.Name, r.Path = RefStep, name, path
		if strings.HasPrefix(path, "PropertyFiles.") {
			r.Kind, r.Path = RefPropertyFile, strings.TrimPrefix(path, "PropertyFiles.")
		}
		if path == "" {
			r.Kind, r.Err = RefInvalid, fmt.Errorf("reference %q: want Steps.<step>.<property>", get)
		}
	default:
		r.Kind, r.Err = RefInvalid, fmt.Errorf("reference %q: want Parameters.<name>, Execution.<variable> or Steps.<step>.<property>", get)
	}
	if r.Name == "" && r.Kind != RefInvalid {
		r.Kind, r.Err = RefInvalid, fmt.Errorf("reference %q: missing name", get)
	}
	return r
}

// walkRefs calls fn for every reference under v with the field path where
// it is; fn returns false to stop.
func walkRefs(v any, field string, fn func(field string, r Ref) bool) bool {
	switch x := v.(type) {
	case map[string]any:
		if g, ok := x["Get"]; ok && len(x) == 1 {
			s, ok := g.(string)
			if !ok {
				return fn(field, Ref{Kind: RefInvalid, Err: errors.New(`"Get" wants a string`)})
			}
			return fn(field, ParseRef(s))
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "IfSteps" || k == "ElseSteps" {
				continue // nested steps are steps of their own
			}
			if !walkRefs(x[k], field+"."+k, fn) {
				return false
			}
		}
	case []any:
		for i, e := range x {
			if !walkRefs(e, fmt.Sprintf("%s[%d]", field, i), fn) {
				return false
			}
		}
	}
	return true
}

// StepRefs returns the names of steps whose properties or property files the
// step's arguments use.
func StepRefs(st *Step) []string {
	seen := map[string]bool{}
	var out []string
	walkRefs(st.Arguments, "Arguments", func(_ string, r Ref) bool {
		if (r.Kind == RefStep || r.Kind == RefPropertyFile) && !seen[r.Name] {
			seen[r.Name] = true
			out = append(out, r.Name)
		}
		return true
	})
	return out
}

// Env is what resolving a step's arguments needs.
type Env struct {
	Params    map[string]any
	Execution map[string]any
	// Properties returns a finished step's properties document (the shape of
	// its Describe*Job response).
	Properties func(step string) (map[string]any, bool)
	// PropertyFile returns the parsed JSON of a step's property file.
	PropertyFile func(step, file string) (any, error)
	// ReadJSON returns the parsed JSON object at a URI (Std:JsonGet on an
	// S3Uri, the form the SDK writes for @step function outputs).
	ReadJSON func(uri string) (any, error)
}

// Resolve replaces every expression in v with its value. field names v in
// errors.
func (e Env) Resolve(v any, field string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			if g, ok := x["Get"]; ok {
				s, _ := g.(string)
				val, err := e.get(ParseRef(s))
				if err != nil {
					return nil, fmt.Errorf("%s: %w", field, err)
				}
				return val, nil
			}
			if j, ok := x["Std:Join"]; ok {
				return e.join(j, field)
			}
			if j, ok := x["Std:JsonGet"]; ok {
				return e.jsonGet(j, field)
			}
		}
		out := make(map[string]any, len(x))
		for k, sub := range x {
			if k == "IfSteps" || k == "ElseSteps" {
				continue
			}
			r, err := e.Resolve(sub, field+"."+k)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, sub := range x {
			r, err := e.Resolve(sub, fmt.Sprintf("%s[%d]", field, i))
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

func (e Env) get(r Ref) (any, error) {
	switch r.Kind {
	case RefParameter:
		v, ok := e.Params[r.Name]
		if !ok {
			return nil, fmt.Errorf("%s: no such parameter", r.Expr)
		}
		return v, nil
	case RefExecution:
		v, ok := e.Execution[r.Name]
		if !ok {
			return nil, fmt.Errorf("%s: no such execution variable", r.Expr)
		}
		return v, nil
	case RefStep:
		props, ok := e.Properties(r.Name)
		if !ok {
			return nil, fmt.Errorf("%s: step %s has not run", r.Expr, r.Name)
		}
		v, err := Lookup(props, r.Path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Expr, err)
		}
		return v, nil
	case RefPropertyFile:
		return nil, fmt.Errorf("%s: a property file is only read through Std:JsonGet", r.Expr)
	}
	return nil, r.Err
}

func (e Env) join(arg any, field string) (any, error) {
	m, ok := arg.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: Std:Join wants {On, Values}", field)
	}
	on, _ := m["On"].(string)
	vals, ok := m["Values"].([]any)
	if !ok {
		return nil, fmt.Errorf("%s: Std:Join.Values: want a list", field)
	}
	parts := make([]string, len(vals))
	for i, v := range vals {
		r, err := e.Resolve(v, fmt.Sprintf("%s.Std:Join.Values[%d]", field, i))
		if err != nil {
			return nil, err
		}
		parts[i] = Stringify(r)
	}
	return strings.Join(parts, on), nil
}

func (e Env) jsonGet(arg any, field string) (any, error) {
	m, ok := arg.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: Std:JsonGet wants {PropertyFile, Path} or {S3Uri, Path}", field)
	}
	path, _ := m["Path"].(string)
	// A JSONPath root ("$.a.b") names the same value as "a.b".
	if p, ok := strings.CutPrefix(path, "$"); ok {
		path = strings.TrimPrefix(p, ".")
	}
	if path == "" {
		return nil, fmt.Errorf("%s: Std:JsonGet.Path: missing", field)
	}
	if s3, ok := m["S3Uri"]; ok {
		r, err := e.Resolve(s3, field+".Std:JsonGet.S3Uri")
		if err != nil {
			return nil, err
		}
		uri := Stringify(r)
		if e.ReadJSON == nil {
			return nil, fmt.Errorf("%s: Std:JsonGet.S3Uri: reading %s is not supported here", field, uri)
		}
		doc, err := e.ReadJSON(uri)
		if err != nil {
			return nil, fmt.Errorf("%s: Std:JsonGet.S3Uri: %w", field, err)
		}
		v, err := Lookup(doc, path)
		if err != nil {
			return nil, fmt.Errorf("%s: Std:JsonGet path %q in %s: %w", field, path, uri, err)
		}
		return v, nil
	}
	var ref Ref
	switch pf := m["PropertyFile"].(type) {
	case map[string]any:
		s, _ := pf["Get"].(string)
		ref = ParseRef(s)
	default:
		return nil, fmt.Errorf("%s: Std:JsonGet.PropertyFile: want {\"Get\": \"Steps.<step>.PropertyFiles.<name>\"}", field)
	}
	if ref.Kind != RefPropertyFile {
		return nil, fmt.Errorf("%s: Std:JsonGet.PropertyFile %q: want Steps.<step>.PropertyFiles.<name>", field, ref.Expr)
	}
	doc, err := e.PropertyFile(ref.Name, ref.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	v, err := Lookup(doc, path)
	if err != nil {
		return nil, fmt.Errorf("%s: Std:JsonGet path %q in property file %s of step %s: %w", field, path, ref.Path, ref.Name, err)
	}
	return v, nil
}

// Stringify renders a resolved value the way SageMaker does when it needs a
// string (Std:Join, environment variables, arguments).
func Stringify(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

var segRE = regexp.MustCompile(`^([^.\[\]]*)((?:\[[^\]]*\])*)$`)

// Lookup follows a property path ("ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri",
// "regression_metrics.mse.value", "a.b[0]") through a JSON document. A
// ['name'] index on a list picks the element whose *Name field (OutputName,
// ChannelName, InputName ...) is name.
func Lookup(doc any, path string) (any, error) {
	cur := doc
	for _, seg := range splitPath(path) {
		m := segRE.FindStringSubmatch(seg)
		if m == nil {
			return nil, fmt.Errorf("bad path segment %q", seg)
		}
		if m[1] != "" {
			obj, ok := cur.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%q: not an object", m[1])
			}
			v, ok := obj[m[1]]
			if !ok {
				return nil, fmt.Errorf("no field %q", m[1])
			}
			cur = v
		}
		for _, idx := range regexp.MustCompile(`\[([^\]]*)\]`).FindAllStringSubmatch(m[2], -1) {
			key := idx[1]
			if len(key) >= 2 && (key[0] == '\'' || key[0] == '"') {
				key = key[1 : len(key)-1]
				switch c := cur.(type) {
				case map[string]any:
					v, ok := c[key]
					if !ok {
						return nil, fmt.Errorf("no key %q", key)
					}
					cur = v
				case []any:
					found := false
					for _, el := range c {
						if em, ok := el.(map[string]any); ok {
							for k, v := range em {
								if strings.HasSuffix(k, "Name") && v == key {
									cur, found = el, true
								}
							}
						}
						if found {
							break
						}
					}
					if !found {
						return nil, fmt.Errorf("no element named %q", key)
					}
				default:
					return nil, fmt.Errorf("[%q]: not a list or object", key)
				}
				continue
			}
			n, err := strconv.Atoi(key)
			list, ok := cur.([]any)
			if err != nil || !ok {
				return nil, fmt.Errorf("[%s]: not a list index", key)
			}
			if n < 0 {
				n += len(list)
			}
			if n < 0 || n >= len(list) {
				return nil, fmt.Errorf("[%s]: index out of range (%d elements)", key, len(list))
			}
			cur = list[n]
		}
	}
	return cur, nil
}

// splitPath splits on dots outside brackets.
func splitPath(p string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range p {
		switch c {
		case '[':
			depth++
		case ']':
			depth--
		case '.':
			if depth == 0 {
				out = append(out, p[start:i])
				start = i + 1
			}
		}
	}
	return append(out, p[start:])
}

var isoRE = regexp.MustCompile(`^P?(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// ParseISODuration parses an ISO 8601 duration such as P30D or PT1H30M
// (CacheConfig.ExpireAfter). As SageMaker accepts them, letters may be lower
// case and the leading P may be left out ("30d", "T16m", "30dT5h", "p30d").
// Years are 365 days and months 30.
func ParseISODuration(s string) (time.Duration, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	m := isoRE.FindStringSubmatch(u)
	if m == nil || strings.TrimPrefix(u, "P") == "" || strings.HasSuffix(u, "T") {
		return 0, fmt.Errorf("%q is not an ISO 8601 duration (for example P30D, PT1H or 30d)", s)
	}
	units := []time.Duration{365 * 24 * time.Hour, 30 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute}
	var d time.Duration
	for i, u := range units {
		if m[i+1] != "" {
			n, _ := strconv.Atoi(m[i+1])
			d += time.Duration(n) * u
		}
	}
	if m[7] != "" {
		f, _ := strconv.ParseFloat(m[7], 64)
		d += time.Duration(f * float64(time.Second))
	}
	return d, nil
}
