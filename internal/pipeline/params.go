package pipeline

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ParamValues turns command-line values (Name=Value strings already split)
// into typed parameter values, filling defaults. It rejects unknown names,
// values of the wrong type and parameters without a value.
func (d *Definition) ParamValues(given map[string]string) (map[string]any, error) {
	out := map[string]any{}
	names := make([]string, 0, len(given))
	for k := range given {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		p := d.params[k]
		if p == nil {
			known := make([]string, 0, len(d.Parameters))
			for _, q := range d.Parameters {
				known = append(known, q.Name)
			}
			return nil, fmt.Errorf("%s: unknown parameter %q (parameters: %s)", d.Source, k, strings.Join(known, ", "))
		}
		v, err := coerceParam(*p, given[k])
		if err != nil {
			return nil, fmt.Errorf("%s: parameter %s: %w", d.Source, k, err)
		}
		out[k] = v
	}
	for _, p := range d.Parameters {
		if _, ok := out[p.Name]; ok {
			continue
		}
		if p.DefaultValue == nil {
			return nil, fmt.Errorf("%s: parameter %s has no default: give it with -p %s=VALUE", d.Source, p.Name, p.Name)
		}
		out[p.Name] = p.DefaultValue
	}
	for _, p := range d.Parameters {
		if len(p.EnumValues) == 0 {
			continue
		}
		s := fmt.Sprint(out[p.Name])
		ok := false
		for _, e := range p.EnumValues {
			ok = ok || e == s
		}
		if !ok {
			return nil, fmt.Errorf("%s: parameter %s: %q is not one of %s", d.Source, p.Name, s, strings.Join(p.EnumValues, ", "))
		}
	}
	return out, nil
}

// coerceParam converts v (a string from the command line, or a JSON value)
// to the parameter's type: string, int64, float64 or bool.
func coerceParam(p Parameter, v any) (any, error) {
	s := ""
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = x.String()
	case bool:
		if p.Type == "Boolean" {
			return x, nil
		}
		s = strconv.FormatBool(x)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case int:
		s = strconv.Itoa(x)
	case int64:
		s = strconv.FormatInt(x, 10)
	default:
		return nil, fmt.Errorf("value %v: want a %s", v, p.Type)
	}
	switch p.Type {
	case "String":
		if _, isStr := v.(string); !isStr {
			if _, isNum := v.(json.Number); isNum {
				return nil, fmt.Errorf("value %s: want a String (quote it)", s)
			}
		}
		return s, nil
	case "Integer":
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("value %q: want an Integer", s)
		}
		return n, nil
	case "Float":
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("value %q: want a Float", s)
		}
		return f, nil
	case "Boolean":
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("value %q: want a Boolean (true or false)", s)
		}
		return b, nil
	}
	return nil, fmt.Errorf("unknown parameter type %q", p.Type)
}
