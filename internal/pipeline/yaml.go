package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// The YAML authoring form: the same model as the JSON definition, written
// for people:
//
//	parameters:
//	  Threshold: {type: Float, default: 6.0}
//	steps:
//	  - name: Evaluate
//	    type: Processing
//	    depends_on: [Train]
//	    cache: P30D                # or true
//	    property_files:
//	      Report: {output: evaluation, path: evaluation.json}
//	    arguments: { ...the SageMaker request, as in JSON... }
//	  - name: Check
//	    type: Condition
//	    arguments:
//	      Conditions: [...]
//	    if: [ ...steps... ]
//	    else: [ ...steps... ]
//
// In any string, ${Parameters.X}, ${Steps.S.Property} and ${Execution.V}
// are references: a string that is only a reference becomes {"Get": ...},
// one mixing text and references becomes Std:Join. ${json:Step.File:path}
// is Std:JsonGet on a property file.
type yamlDef struct {
	Parameters yaml.Node      `yaml:"parameters"`
	Steps      []yamlStep     `yaml:"steps"`
	Metadata   map[string]any `yaml:"metadata"`
}

type yamlStep struct {
	Name          string                       `yaml:"name"`
	Type          string                       `yaml:"type"`
	DependsOn     []string                     `yaml:"depends_on"`
	Cache         any                          `yaml:"cache"`
	PropertyFiles map[string]map[string]string `yaml:"property_files"`
	Arguments     map[string]any               `yaml:"arguments"`
	If            []yamlStep                   `yaml:"if"`
	Else          []yamlStep                   `yaml:"else"`
	Description   string                       `yaml:"description"`
}

// CompileYAML turns the YAML authoring form into definition JSON.
func CompileYAML(data []byte, source string) ([]byte, error) {
	var y yamlDef
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&y); err != nil {
		return nil, &Error{File: source, Err: fmt.Errorf("malformed YAML: %v", err)}
	}
	out := map[string]any{"Version": SchemaVersion, "Metadata": map[string]any{}}
	if y.Metadata != nil {
		out["Metadata"] = y.Metadata
	}
	var params []any
	if y.Parameters.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(y.Parameters.Content); i += 2 {
			name := y.Parameters.Content[i].Value
			var p struct {
				Type    string   `yaml:"type"`
				Default any      `yaml:"default"`
				Enum    []string `yaml:"enum"`
			}
			if err := y.Parameters.Content[i+1].Decode(&p); err != nil {
				return nil, &Error{File: source, Field: "parameters." + name, Err: err}
			}
			if p.Type == "" {
				p.Type = "String"
			}
			m := map[string]any{"Name": name, "Type": p.Type}
			if p.Default != nil {
				m["DefaultValue"] = p.Default
			}
			if len(p.Enum) > 0 {
				m["EnumValues"] = p.Enum
			}
			params = append(params, m)
		}
	} else if y.Parameters.Kind != 0 {
		return nil, &Error{File: source, Field: "parameters", Err: errors.New("want a map of name: {type, default}")}
	}
	out["Parameters"] = params
	steps, err := compileSteps(y.Steps, source)
	if err != nil {
		return nil, err
	}
	out["Steps"] = steps
	return json.Marshal(out)
}

func compileSteps(list []yamlStep, source string) ([]any, error) {
	var out []any
	for _, s := range list {
		m := map[string]any{"Name": s.Name, "Type": s.Type}
		args := map[string]any{}
		for k, v := range s.Arguments {
			args[k] = interpolate(v)
		}
		if len(s.If) > 0 || len(s.Else) > 0 {
			ifs, err := compileSteps(s.If, source)
			if err != nil {
				return nil, err
			}
			elses, err := compileSteps(s.Else, source)
			if err != nil {
				return nil, err
			}
			args["IfSteps"], args["ElseSteps"] = ifs, elses
		}
		m["Arguments"] = args
		if len(s.DependsOn) > 0 {
			m["DependsOn"] = s.DependsOn
		}
		if s.Description != "" {
			m["Description"] = s.Description
		}
		switch c := s.Cache.(type) {
		case nil:
		case bool:
			m["CacheConfig"] = map[string]any{"Enabled": c}
		case string:
			m["CacheConfig"] = map[string]any{"Enabled": true, "ExpireAfter": c}
		default:
			return nil, &Error{File: source, Step: s.Name, Field: "cache", Err: errors.New("want true, false or an ISO 8601 duration such as P30D")}
		}
		if len(s.PropertyFiles) > 0 {
			names := make([]string, 0, len(s.PropertyFiles))
			for n := range s.PropertyFiles {
				names = append(names, n)
			}
			sort.Strings(names)
			var pfs []any
			for _, n := range names {
				pf := s.PropertyFiles[n]
				pfs = append(pfs, map[string]any{"PropertyFileName": n, "OutputName": pf["output"], "FilePath": pf["path"]})
			}
			m["PropertyFiles"] = pfs
		}
		out = append(out, m)
	}
	return out, nil
}

var refRE = regexp.MustCompile(`\$\{([^}]+)\}`)

// interpolate turns ${...} references in strings into expressions.
func interpolate(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, sub := range x {
			out[k] = interpolate(sub)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, sub := range x {
			out[i] = interpolate(sub)
		}
		return out
	case string:
		locs := refRE.FindAllStringSubmatchIndex(x, -1)
		if len(locs) == 0 {
			return x
		}
		expr := func(ref string) any {
			if rest, ok := strings.CutPrefix(ref, "json:"); ok {
				// json:Step.File:path
				sf, path, _ := strings.Cut(rest, ":")
				step, file, _ := strings.Cut(sf, ".")
				return map[string]any{"Std:JsonGet": map[string]any{
					"PropertyFile": map[string]any{"Get": "Steps." + step + ".PropertyFiles." + file}, "Path": path}}
			}
			return map[string]any{"Get": ref}
		}
		if len(locs) == 1 && locs[0][0] == 0 && locs[0][1] == len(x) {
			return expr(x[locs[0][2]:locs[0][3]])
		}
		var vals []any
		last := 0
		for _, l := range locs {
			if l[0] > last {
				vals = append(vals, x[last:l[0]])
			}
			vals = append(vals, expr(x[l[2]:l[3]]))
			last = l[1]
		}
		if last < len(x) {
			vals = append(vals, x[last:])
		}
		return map[string]any{"Std:Join": map[string]any{"On": "", "Values": vals}}
	}
	return v
}
