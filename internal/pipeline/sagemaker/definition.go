// Package sagemaker runs a SageMaker Pipelines definition (schema
// 2020-12-01) on SageMaker itself: it uploads the local files the
// definition refers to into the default bucket sagemaker-{region}-{account},
// creates or updates the pipeline, starts an execution with the given
// parameters and follows it step by step until it ends, stopping it when
// the caller gives up.
//
// The definition is read as plain JSON here (only the parts this package
// needs: Parameters, Steps with their nested IfSteps/ElseSteps, and the
// fields that can name local files); everything else is passed to
// SageMaker unchanged.
package sagemaker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// SchemaVersion is the definition schema version this package reads.
const SchemaVersion = "2020-12-01"

// Parameter is one declared pipeline parameter.
type Parameter struct {
	Name    string
	Type    string // String, Integer, Float or Boolean
	Default string // as SageMaker would print it; empty when none
}

// Definition is a parsed pipeline definition.
type Definition struct {
	doc        map[string]any
	Parameters []Parameter
	steps      []map[string]any // every step, nested ones included
	stepTypes  map[string]string
}

// ParseDefinition parses a definition's JSON and checks the parts this
// package relies on.
func ParseDefinition(b []byte) (*Definition, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // keep numbers exactly as written
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse definition: %w", err)
	}
	if v, _ := doc["Version"].(string); v != SchemaVersion {
		return nil, fmt.Errorf("definition Version %q: want %q (SageMaker Pipelines definition schema)", doc["Version"], SchemaVersion)
	}
	d := &Definition{doc: doc, stepTypes: map[string]string{}}
	params, _ := doc["Parameters"].([]any)
	seen := map[string]bool{}
	for i, raw := range params {
		p, _ := raw.(map[string]any)
		name, _ := p["Name"].(string)
		typ, _ := p["Type"].(string)
		if name == "" {
			return nil, fmt.Errorf("definition Parameters[%d]: no Name", i)
		}
		if seen[name] {
			return nil, fmt.Errorf("definition Parameters[%d]: parameter %q declared twice", i, name)
		}
		seen[name] = true
		switch typ {
		case "String", "Integer", "Float", "Boolean":
		default:
			return nil, fmt.Errorf("definition parameter %q: Type %q: want String, Integer, Float or Boolean", name, typ)
		}
		def := ""
		if v, ok := p["DefaultValue"]; ok && v != nil {
			def = fmt.Sprint(v)
		}
		d.Parameters = append(d.Parameters, Parameter{Name: name, Type: typ, Default: def})
	}
	steps, ok := doc["Steps"].([]any)
	if !ok || len(steps) == 0 {
		return nil, fmt.Errorf("definition has no Steps")
	}
	if err := d.collect(steps, "Steps"); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Definition) collect(steps []any, where string) error {
	for i, raw := range steps {
		s, ok := raw.(map[string]any)
		name, _ := s["Name"].(string)
		typ, _ := s["Type"].(string)
		if !ok || name == "" || typ == "" {
			return fmt.Errorf("definition %s[%d]: want an object with Name and Type", where, i)
		}
		if _, dup := d.stepTypes[name]; dup {
			return fmt.Errorf("definition %s[%d]: step name %q used twice", where, i, name)
		}
		d.stepTypes[name] = typ
		d.steps = append(d.steps, s)
		if typ == "Condition" {
			args, _ := s["Arguments"].(map[string]any)
			for _, k := range []string{"IfSteps", "ElseSteps"} {
				if nested, ok := args[k].([]any); ok {
					if err := d.collect(nested, fmt.Sprintf("step %q Arguments.%s", name, k)); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// StepType returns the type of a step ("" when there is no such step).
func (d *Definition) StepType(name string) string { return d.stepTypes[name] }

// StepNames lists every step, nested ones included, in definition order.
func (d *Definition) StepNames() []string {
	out := make([]string, len(d.steps))
	for i, s := range d.steps {
		out[i], _ = s["Name"].(string)
	}
	return out
}

// JSON serialises the (possibly rewritten) definition.
func (d *Definition) JSON() ([]byte, error) {
	return json.Marshal(d.doc)
}

// ResolveParameters checks command-line overrides against the declared
// parameters and returns the values to start the execution with, in
// declaration order: every override, converted to SageMaker's spelling
// (Booleans as true/false), plus the values of defaults (parameters named
// in defaults that the definition declares and that are not overridden).
func (d *Definition) ResolveParameters(overrides, defaults map[string]string) ([]Parameter, error) {
	byName := map[string]Parameter{}
	for _, p := range d.Parameters {
		byName[p.Name] = p
	}
	var unknown []string
	for name := range overrides {
		if _, ok := byName[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("unknown parameter %s: the definition declares %s", quoteList(unknown), d.declared())
	}
	var out []Parameter
	for _, p := range d.Parameters {
		v, ok := overrides[p.Name]
		if !ok {
			if v, ok = defaults[p.Name]; !ok {
				continue
			}
		}
		norm, err := convert(p, v)
		if err != nil {
			return nil, err
		}
		out = append(out, Parameter{Name: p.Name, Type: p.Type, Default: norm})
	}
	return out, nil
}

func (d *Definition) declared() string {
	if len(d.Parameters) == 0 {
		return "no parameters"
	}
	parts := make([]string, len(d.Parameters))
	for i, p := range d.Parameters {
		parts[i] = p.Name + " (" + p.Type + ")"
	}
	return strings.Join(parts, ", ")
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// convert checks a value against a parameter's type and returns it as
// SageMaker expects it.
func convert(p Parameter, v string) (string, error) {
	switch p.Type {
	case "Integer":
		if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
			return "", fmt.Errorf("parameter %s is an Integer: %q is not a whole number", p.Name, v)
		}
		return strings.TrimSpace(v), nil
	case "Float":
		if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return "", fmt.Errorf("parameter %s is a Float: %q is not a number", p.Name, v)
		}
		return strings.TrimSpace(v), nil
	case "Boolean":
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return "", fmt.Errorf("parameter %s is a Boolean: %q is not true or false", p.Name, v)
		}
		return strconv.FormatBool(b), nil
	}
	return v, nil
}

// applyModelPackageGroup sets ModelPackageGroupName on RegisterModel steps
// that have none (MODEL_PACKAGE_GROUP_NAME). It reports whether it changed
// anything.
func (d *Definition) applyModelPackageGroup(group string) bool {
	changed := false
	for _, s := range d.steps {
		if s["Type"] != "RegisterModel" {
			continue
		}
		args, _ := s["Arguments"].(map[string]any)
		if args == nil {
			args = map[string]any{}
			s["Arguments"] = args
		}
		if v, ok := args["ModelPackageGroupName"]; !ok || v == "" || v == nil {
			args["ModelPackageGroupName"] = group
			changed = true
		}
	}
	return changed
}
