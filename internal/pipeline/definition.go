// Package pipeline reads SageMaker Pipelines definitions (schema 2020-12-01,
// exactly as the SageMaker Python SDK's pipeline.definition() writes them),
// builds their DAG, resolves references ({"Get": ...}, Std:Join,
// Std:JsonGet) and evaluates conditions. It is pure: no I/O beyond what the
// caller passes in.
package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// SchemaVersion is the definition schema version Bridge reads.
const SchemaVersion = "2020-12-01"

// Step types.
const (
	TypeProcessing    = "Processing"
	TypeTraining      = "Training"
	TypeCondition     = "Condition"
	TypeRegisterModel = "RegisterModel"
	TypeFail          = "Fail"
	TypeModel         = "Model"
)

// LocalTypes are the step types Bridge's local executor runs.
var LocalTypes = []string{TypeProcessing, TypeTraining, TypeCondition, TypeRegisterModel, TypeFail, TypeModel}

// sageMakerOnlyTypes are SageMaker step types a definition may hold (it can
// still run with --on sagemaker) that the local executor does not run.
var sageMakerOnlyTypes = []string{"Transform", "Tuning", "Callback", "Lambda", "QualityCheck", "ClarifyCheck", "EMR", "EMRServerless", "AutoML", "NotebookJob"}

// Parameter is a pipeline parameter.
type Parameter struct {
	Name         string   `json:"Name"`
	Type         string   `json:"Type"` // String, Integer, Float, Boolean
	DefaultValue any      `json:"DefaultValue,omitempty"`
	EnumValues   []string `json:"EnumValues,omitempty"`
}

// PropertyFile names a JSON file in a Processing step's output.
type PropertyFile struct {
	PropertyFileName string `json:"PropertyFileName"`
	OutputName       string `json:"OutputName"`
	FilePath         string `json:"FilePath"`
}

// CacheConfig is a step's cache configuration.
type CacheConfig struct {
	Enabled     bool   `json:"Enabled"`
	ExpireAfter string `json:"ExpireAfter,omitempty"` // ISO 8601 duration
}

// Step is one step of a definition. Steps nested in a Condition step's
// IfSteps/ElseSteps are flattened into Definition.Steps with Parent and
// Branch set.
type Step struct {
	Name          string         `json:"Name"`
	Type          string         `json:"Type"`
	Arguments     map[string]any `json:"Arguments,omitempty"`
	DependsOn     []string       `json:"DependsOn,omitempty"`
	PropertyFiles []PropertyFile `json:"PropertyFiles,omitempty"`
	CacheConfig   *CacheConfig   `json:"CacheConfig,omitempty"`
	DisplayName   string         `json:"DisplayName,omitempty"`
	Description   string         `json:"Description,omitempty"`

	// Parent is the Condition step whose IfSteps ("If") or ElseSteps
	// ("Else") hold this step; empty for top-level steps.
	Parent string `json:"-"`
	Branch string `json:"-"`
	// IfSteps and ElseSteps name the branch steps of a Condition step.
	IfSteps   []string `json:"-"`
	ElseSteps []string `json:"-"`
}

// Definition is a parsed pipeline definition.
type Definition struct {
	Version    string
	Metadata   map[string]any
	Parameters []Parameter
	// Steps holds every step, nested ones included, in definition order.
	Steps []*Step
	// Source names the file the definition came from (for errors).
	Source string

	byName map[string]*Step
	params map[string]*Parameter
}

// Step returns the step called name, or nil.
func (d *Definition) Step(name string) *Step { return d.byName[name] }

// Parameter returns the parameter called name, or nil.
func (d *Definition) Parameter(name string) *Parameter { return d.params[name] }

// Error is a definition error naming where it is.
type Error struct {
	File  string
	Step  string
	Field string
	Err   error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Step != "" {
		fmt.Fprintf(&b, ": step %s", e.Step)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": %s", e.Field)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Parse reads a definition from JSON. source names the file in errors.
func Parse(data []byte, source string) (*Definition, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, &Error{File: source, Err: fmt.Errorf("malformed JSON: %s", jsonErrorPosition(data, err))}
	}
	if dec.More() {
		return nil, &Error{File: source, Err: errors.New("malformed JSON: trailing data after the definition")}
	}
	return fromMap(raw, source)
}

// jsonErrorPosition adds a line and column to a JSON syntax error.
func jsonErrorPosition(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return err.Error()
	}
	line, col := 1, 1
	for i := int64(0); i < off && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("line %d, column %d: %v", line, col, err)
}

func fromMap(raw map[string]any, source string) (*Definition, error) {
	fail := func(step, field string, format string, args ...any) error {
		return &Error{File: source, Step: step, Field: field, Err: fmt.Errorf(format, args...)}
	}
	d := &Definition{Source: source, byName: map[string]*Step{}, params: map[string]*Parameter{}}
	for k := range raw {
		switch k {
		case "Version", "Metadata", "Parameters", "Steps", "PipelineExperimentConfig", "MlflowConfig":
			// MlflowConfig is written (often as null) by SDK v3's
			// pipeline.definition(); it only matters on SageMaker.
		default:
			return nil, fail("", k, "unknown top-level field (want Version, Metadata, Parameters, PipelineExperimentConfig, MlflowConfig, Steps)")
		}
	}
	v, _ := raw["Version"].(string)
	if v == "" {
		return nil, fail("", "Version", "missing (want %q)", SchemaVersion)
	}
	if v != SchemaVersion {
		return nil, fail("", "Version", "%q is not supported (want %q)", v, SchemaVersion)
	}
	d.Version = v
	d.Metadata, _ = raw["Metadata"].(map[string]any)
	if ps, ok := raw["Parameters"]; ok && ps != nil {
		list, ok := ps.([]any)
		if !ok {
			return nil, fail("", "Parameters", "want a list")
		}
		for i, p := range list {
			field := fmt.Sprintf("Parameters[%d]", i)
			m, ok := p.(map[string]any)
			if !ok {
				return nil, fail("", field, "want an object")
			}
			var prm Parameter
			prm.Name, _ = m["Name"].(string)
			prm.Type, _ = m["Type"].(string)
			if prm.Name == "" {
				return nil, fail("", field+".Name", "missing")
			}
			field = "Parameters." + prm.Name
			if d.params[prm.Name] != nil {
				return nil, fail("", field, "defined twice")
			}
			switch prm.Type {
			case "String", "Integer", "Float", "Boolean":
			default:
				return nil, fail("", field+".Type", "%q: want String, Integer, Float or Boolean", prm.Type)
			}
			if dv, ok := m["DefaultValue"]; ok && dv != nil {
				val, err := coerceParam(prm, dv)
				if err != nil {
					return nil, fail("", field+".DefaultValue", "%v", err)
				}
				prm.DefaultValue = val
			}
			if ev, ok := m["EnumValues"].([]any); ok {
				for _, e := range ev {
					prm.EnumValues = append(prm.EnumValues, fmt.Sprint(e))
				}
			}
			d.Parameters = append(d.Parameters, prm)
			d.params[prm.Name] = &d.Parameters[len(d.Parameters)-1]
		}
		// re-point the index after appends moved the slice
		for i := range d.Parameters {
			d.params[d.Parameters[i].Name] = &d.Parameters[i]
		}
	}
	steps, ok := raw["Steps"].([]any)
	if !ok {
		return nil, fail("", "Steps", "missing or not a list")
	}
	if len(steps) == 0 {
		return nil, fail("", "Steps", "no steps")
	}
	if err := d.addSteps(steps, "Steps", "", ""); err != nil {
		return nil, err
	}
	if err := d.check(); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Definition) addSteps(list []any, field, parent, branch string) error {
	for i, s := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		m, ok := s.(map[string]any)
		if !ok {
			return &Error{File: d.Source, Field: f, Err: errors.New("want a step object")}
		}
		st, err := d.parseStep(m, f)
		if err != nil {
			return err
		}
		st.Parent, st.Branch = parent, branch
		if d.byName[st.Name] != nil {
			return &Error{File: d.Source, Step: st.Name, Field: "Name", Err: errors.New("two steps have this name")}
		}
		d.byName[st.Name] = st
		d.Steps = append(d.Steps, st)
		if st.Type == TypeCondition {
			for _, br := range []string{"IfSteps", "ElseSteps"} {
				raw, ok := st.Arguments[br]
				if !ok || raw == nil {
					continue
				}
				sub, ok := raw.([]any)
				if !ok {
					return &Error{File: d.Source, Step: st.Name, Field: "Arguments." + br, Err: errors.New("want a list of steps")}
				}
				if err := d.addSteps(sub, st.Name+".Arguments."+br, st.Name, strings.TrimSuffix(br, "Steps")); err != nil {
					return err
				}
				for _, x := range sub {
					if name, _ := x.(map[string]any)["Name"].(string); name != "" {
						if br == "IfSteps" {
							st.IfSteps = append(st.IfSteps, name)
						} else {
							st.ElseSteps = append(st.ElseSteps, name)
						}
					}
				}
			}
		}
	}
	return nil
}

func (d *Definition) parseStep(m map[string]any, field string) (*Step, error) {
	st := &Step{}
	st.Name, _ = m["Name"].(string)
	if st.Name == "" {
		return nil, &Error{File: d.Source, Field: field + ".Name", Err: errors.New("missing")}
	}
	fail := func(f string, format string, args ...any) error {
		return &Error{File: d.Source, Step: st.Name, Field: f, Err: fmt.Errorf(format, args...)}
	}
	st.Type, _ = m["Type"].(string)
	if st.Type == "" {
		return nil, fail("Type", "missing")
	}
	if !slices.Contains(LocalTypes, st.Type) && !slices.Contains(sageMakerOnlyTypes, st.Type) {
		return nil, fail("Type", "step type %q is not a SageMaker Pipelines step type (Bridge runs %s locally)", st.Type, strings.Join(LocalTypes, ", "))
	}
	if a, ok := m["Arguments"]; ok && a != nil {
		st.Arguments, ok = a.(map[string]any)
		if !ok {
			return nil, fail("Arguments", "want an object")
		}
	} else if st.Type != TypeFail && slices.Contains(LocalTypes, st.Type) {
		return nil, fail("Arguments", "missing")
	}
	if dep, ok := m["DependsOn"]; ok && dep != nil {
		list, ok := dep.([]any)
		if !ok {
			return nil, fail("DependsOn", "want a list of step names")
		}
		for i, x := range list {
			s, ok := x.(string)
			if !ok || s == "" {
				return nil, fail(fmt.Sprintf("DependsOn[%d]", i), "want a step name")
			}
			st.DependsOn = append(st.DependsOn, s)
		}
	}
	if pf, ok := m["PropertyFiles"]; ok && pf != nil {
		b, _ := json.Marshal(pf)
		if err := json.Unmarshal(b, &st.PropertyFiles); err != nil {
			return nil, fail("PropertyFiles", "want a list of {PropertyFileName, OutputName, FilePath}")
		}
		for i, p := range st.PropertyFiles {
			if p.PropertyFileName == "" || p.OutputName == "" || p.FilePath == "" {
				return nil, fail(fmt.Sprintf("PropertyFiles[%d]", i), "needs PropertyFileName, OutputName and FilePath")
			}
		}
	}
	if cc, ok := m["CacheConfig"]; ok && cc != nil {
		b, _ := json.Marshal(cc)
		st.CacheConfig = &CacheConfig{}
		if err := json.Unmarshal(b, st.CacheConfig); err != nil {
			return nil, fail("CacheConfig", "want {Enabled, ExpireAfter}")
		}
		if st.CacheConfig.ExpireAfter != "" {
			if _, err := ParseISODuration(st.CacheConfig.ExpireAfter); err != nil {
				return nil, fail("CacheConfig.ExpireAfter", "%v", err)
			}
		}
	}
	if rp, ok := m["RetryPolicies"]; ok && rp != nil {
		if err := checkRetryPolicies(rp); err != nil {
			return nil, fail("RetryPolicies", "%v", err)
		}
	}
	st.DisplayName, _ = m["DisplayName"].(string)
	st.Description, _ = m["Description"].(string)
	return st, nil
}

// check validates what needs the whole definition: references, the
// arguments each step type needs, and the DAG.
func (d *Definition) check() error {
	for _, st := range d.Steps {
		if err := d.checkArguments(st); err != nil {
			return err
		}
		for i, dep := range st.DependsOn {
			if d.byName[dep] == nil {
				return &Error{File: d.Source, Step: st.Name, Field: fmt.Sprintf("DependsOn[%d]", i), Err: fmt.Errorf("no step named %q", dep)}
			}
		}
		var err error
		walkRefs(st.Arguments, "Arguments", func(field string, ref Ref) bool {
			err = d.checkRef(st, field, ref)
			return err == nil
		})
		if err != nil {
			return err
		}
	}
	_, err := d.Graph()
	return err
}

func (d *Definition) checkRef(st *Step, field string, ref Ref) error {
	fail := func(format string, args ...any) error {
		return &Error{File: d.Source, Step: st.Name, Field: field, Err: fmt.Errorf(format, args...)}
	}
	switch ref.Kind {
	case RefParameter:
		if d.params[ref.Name] == nil {
			return fail("reference %s: no parameter named %q", ref.Expr, ref.Name)
		}
	case RefExecution:
		if !executionVariables[ref.Name] {
			return fail("reference %s: unknown execution variable %q", ref.Expr, ref.Name)
		}
	case RefStep, RefPropertyFile:
		other := d.byName[ref.Name]
		if other == nil {
			return fail("reference %s: no step named %q", ref.Expr, ref.Name)
		}
		if other == st {
			return fail("reference %s: a step cannot use its own properties", ref.Expr)
		}
		if ref.Kind == RefPropertyFile {
			found := false
			for _, pf := range other.PropertyFiles {
				found = found || pf.PropertyFileName == ref.Path
			}
			if !found {
				return fail("reference %s: step %s has no property file %q", ref.Expr, ref.Name, ref.Path)
			}
		}
	case RefInvalid:
		return fail("%v", ref.Err)
	}
	return nil
}

func (d *Definition) checkArguments(st *Step) error {
	need := func(path ...string) error {
		var cur any = st.Arguments
		for i, p := range path {
			m, ok := cur.(map[string]any)
			if !ok || m[p] == nil {
				return &Error{File: d.Source, Step: st.Name, Field: "Arguments." + strings.Join(path[:i+1], "."), Err: errors.New("missing")}
			}
			cur = m[p]
		}
		return nil
	}
	var checks [][]string
	switch st.Type {
	case TypeProcessing:
		checks = [][]string{{"AppSpecification", "ImageUri"}}
	case TypeTraining:
		checks = [][]string{{"AlgorithmSpecification", "TrainingImage"}, {"OutputDataConfig", "S3OutputPath"}}
	case TypeCondition:
		checks = [][]string{{"Conditions"}}
	case TypeRegisterModel:
		checks = [][]string{{"ModelPackageGroupName"}, {"InferenceSpecification", "Containers"}}
	case TypeModel:
		checks = [][]string{{"PrimaryContainer"}}
	}
	for _, c := range checks {
		if err := need(c...); err != nil {
			return err
		}
	}
	if st.Type == TypeCondition {
		conds, ok := st.Arguments["Conditions"].([]any)
		if !ok {
			return &Error{File: d.Source, Step: st.Name, Field: "Arguments.Conditions", Err: errors.New("want a list of conditions")}
		}
		for i, c := range conds {
			if err := checkCondition(c); err != nil {
				return &Error{File: d.Source, Step: st.Name, Field: fmt.Sprintf("Arguments.Conditions[%d]", i), Err: err}
			}
		}
	}
	return nil
}

// CheckLocal reports the first step the local executor cannot run, naming
// it and its type; such a definition can still run with --on sagemaker.
func (d *Definition) CheckLocal() error {
	for _, st := range d.Steps {
		if !slices.Contains(LocalTypes, st.Type) {
			return &Error{File: d.Source, Step: st.Name, Field: "Type",
				Err: fmt.Errorf("step type %s is not supported by the local executor (it runs %s; use --on sagemaker)", st.Type, strings.Join(LocalTypes, ", "))}
		}
	}
	return nil
}

// retryExceptionTypes are the exception types a retry policy can name.
var retryExceptionTypes = []string{"Step.SERVICE_FAULT", "Step.THROTTLING",
	"SageMaker.JOB_INTERNAL_ERROR", "SageMaker.CAPACITY_ERROR", "SageMaker.RESOURCE_LIMIT"}

// checkRetryPolicies checks a step's RetryPolicies as the SDK writes them
// ({ExceptionType, IntervalSeconds, BackoffRate, MaxAttempts |
// ExpireAfterMin}). They only matter on SageMaker: the local executor has
// none of the service faults they retry.
func checkRetryPolicies(v any) error {
	list, ok := v.([]any)
	if !ok {
		return errors.New("want a list of retry policies")
	}
	for i, x := range list {
		p, ok := x.(map[string]any)
		if !ok {
			return fmt.Errorf("[%d]: want an object", i)
		}
		types, ok := p["ExceptionType"].([]any)
		if !ok || len(types) == 0 {
			return fmt.Errorf("[%d].ExceptionType: want a list of %s", i, strings.Join(retryExceptionTypes, ", "))
		}
		for j, t := range types {
			if s, _ := t.(string); !slices.Contains(retryExceptionTypes, s) {
				return fmt.Errorf("[%d].ExceptionType[%d] %v: want one of %s", i, j, t, strings.Join(retryExceptionTypes, ", "))
			}
		}
		_, attempts := p["MaxAttempts"]
		_, expire := p["ExpireAfterMin"]
		if attempts == expire {
			return fmt.Errorf("[%d]: give exactly one of MaxAttempts and ExpireAfterMin", i)
		}
		for _, k := range []string{"MaxAttempts", "ExpireAfterMin", "IntervalSeconds", "BackoffRate"} {
			if raw, ok := p[k]; ok {
				n, isNum := number(raw)
				if _, isStr := raw.(string); isStr || !isNum || n < 0 || (k != "BackoffRate" && n < 1) {
					return fmt.Errorf("[%d].%s %v: want a positive number", i, k, raw)
				}
			}
		}
	}
	return nil
}
