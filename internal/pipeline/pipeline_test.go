package pipeline

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func readExample(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../examples/sts/pipeline.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSDKDefinition(t *testing.T) {
	d, err := Parse(readExample(t), "pipeline.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Steps) != 7 || len(d.Parameters) != 8 {
		t.Fatalf("%d steps, %d parameters", len(d.Steps), len(d.Parameters))
	}
	reg := d.Step("RegisterSTSModel-RegisterModel")
	if reg == nil || reg.Parent != "CheckMSESTSEvaluation" || reg.Branch != "If" {
		t.Fatalf("nested RegisterModel step: %+v", reg)
	}
	if f := d.Step("STSMSEAboveThreshold"); f == nil || f.Branch != "Else" {
		t.Fatalf("nested Fail step: %+v", f)
	}
	g, err := d.Graph()
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, n := range g.Order {
		pos[n] = i
	}
	for _, pair := range [][2]string{{"GenerateSTSData", "PreprocessSTSData"}, {"PreprocessSTSData", "TrainSTSModel"},
		{"TrainSTSModel", "EvaluateSTSModel"}, {"EvaluateSTSModel", "CheckMSESTSEvaluation"}, {"CheckMSESTSEvaluation", "RegisterSTSModel-RegisterModel"}} {
		if pos[pair[0]] >= pos[pair[1]] {
			t.Errorf("%s must come before %s in %v", pair[0], pair[1], g.Order)
		}
	}
	for _, f := range []string{"text", "dot", "mermaid"} {
		out, err := Render(d, f)
		if err != nil || !strings.Contains(out, "TrainSTSModel") {
			t.Errorf("Render %s: %v\n%s", f, err, out)
		}
	}
}

// step builds a one-step definition around args for the bad-input table.
func def(steps string, params string) string {
	if params == "" {
		params = "[]"
	}
	return `{"Version": "2020-12-01", "Parameters": ` + params + `, "Steps": ` + steps + `}`
}

const img = `"AppSpecification": {"ImageUri": "x/sagemaker-scikit-learn:1.2-1-cpu-py3"}`

func TestBadDefinitionsNameFileStepAndField(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		want       []string
	}{
		{"malformed JSON", "{\"Version\": \"2020-12-01\",\n \"Steps\": [}", []string{"bad.json", "malformed JSON", "line 2"}},
		{"wrong version", `{"Version": "2019-01-01", "Steps": []}`, []string{"Version", "2020-12-01"}},
		{"unknown step type", def(`[{"Name": "T", "Type": "Tunning", "Arguments": {}}]`, ""), []string{"step T", "Type", `"Tunning" is not a SageMaker Pipelines step type`}},
		{"dangling step reference", def(`[{"Name": "A", "Type": "Processing", "Arguments": {`+img+`, "ProcessingInputs": [{"S3Input": {"S3Uri": {"Get": "Steps.Nope.ProcessingOutputConfig.Outputs['x'].S3Output.S3Uri"}}}]}}]`, ""),
			[]string{"step A", "Arguments.ProcessingInputs[0].S3Input.S3Uri", `no step named "Nope"`}},
		{"dangling parameter", def(`[{"Name": "A", "Type": "Processing", "Arguments": {`+img+`, "Environment": {"X": {"Get": "Parameters.Missing"}}}}]`, ""),
			[]string{"step A", "Arguments.Environment.X", `no parameter named "Missing"`}},
		{"dangling DependsOn", def(`[{"Name": "A", "Type": "Processing", "DependsOn": ["B"], "Arguments": {`+img+`}}]`, ""), []string{"step A", "DependsOn[0]", `"B"`}},
		{"cycle", def(`[{"Name": "A", "Type": "Processing", "DependsOn": ["B"], "Arguments": {`+img+`}}, {"Name": "B", "Type": "Processing", "Arguments": {`+img+`, "Environment": {"X": {"Get": "Steps.A.ProcessingJobName"}}}}]`, ""),
			[]string{"dependency cycle", "A → B → A"}},
		{"missing property file", def(`[{"Name": "A", "Type": "Processing", "Arguments": {`+img+`}}, {"Name": "C", "Type": "Condition", "Arguments": {"Conditions": [{"Type": "Equals", "LeftValue": {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.A.PropertyFiles.Report"}, "Path": "x"}}, "RightValue": 1}]}}]`, ""),
			[]string{"step C", "Conditions[0].LeftValue", `no property file "Report"`}},
		{"unknown condition", def(`[{"Name": "C", "Type": "Condition", "Arguments": {"Conditions": [{"Type": "Like", "LeftValue": 1, "RightValue": 1}]}}]`, ""), []string{"step C", "Arguments.Conditions[0]", `"Like"`}},
		{"missing image", def(`[{"Name": "A", "Type": "Processing", "Arguments": {}}]`, ""), []string{"step A", "Arguments.AppSpecification", "missing"}},
		{"duplicate names", def(`[{"Name": "A", "Type": "Fail"}, {"Name": "A", "Type": "Fail"}]`, ""), []string{"step A", "two steps"}},
		{"bad parameter default", def(`[{"Name": "A", "Type": "Fail"}]`, `[{"Name": "N", "Type": "Integer", "DefaultValue": "ten"}]`), []string{"Parameters.N.DefaultValue", "Integer"}},
		{"retry policy without a bound", def(`[{"Name": "A", "Type": "Processing", "RetryPolicies": [{"ExceptionType": ["Step.THROTTLING"], "IntervalSeconds": 1, "BackoffRate": 2.0}], "Arguments": {`+img+`}}]`, ""),
			[]string{"step A", "RetryPolicies", "exactly one of MaxAttempts and ExpireAfterMin"}},
		{"retry policy with an unknown exception", def(`[{"Name": "A", "Type": "Processing", "RetryPolicies": [{"ExceptionType": ["Step.OOPS"], "MaxAttempts": 3}], "Arguments": {`+img+`}}]`, ""),
			[]string{"step A", "RetryPolicies", "[0].ExceptionType[0] Step.OOPS"}},
		{"bad ExpireAfter", def(`[{"Name": "A", "Type": "Processing", "CacheConfig": {"Enabled": true, "ExpireAfter": "30 days"}, "Arguments": {`+img+`}}]`, ""), []string{"step A", "CacheConfig.ExpireAfter"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.json), "bad.json")
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "bad.json") {
				t.Errorf("error %q does not start with the file name", err)
			}
		})
	}
}

// A SageMaker step type the local executor does not run parses (the
// definition can go to SageMaker) and CheckLocal names it.
func TestSageMakerOnlyStepType(t *testing.T) {
	d, err := Parse([]byte(def(`[{"Name": "T", "Type": "Tuning", "Arguments": {"HyperParameterTuningJobConfig": {}}}]`, "")), "tune.json")
	if err != nil {
		t.Fatal(err)
	}
	err = d.CheckLocal()
	if err == nil || !strings.Contains(err.Error(), "tune.json: step T: Type: step type Tuning is not supported by the local executor") {
		t.Fatalf("CheckLocal = %v", err)
	}
}

func TestParamValues(t *testing.T) {
	d, err := Parse(readExample(t), "pipeline.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.ParamValues(map[string]string{"Rows": "50", "MseThreshold": "4.5", "ModelApprovalStatus": "Rejected"})
	if err != nil {
		t.Fatal(err)
	}
	if got["Rows"] != int64(50) || got["MseThreshold"] != 4.5 || got["ModelApprovalStatus"] != "Rejected" || got["ProcessingInstanceCount"] != int64(1) {
		t.Fatalf("values: %#v", got)
	}
	for _, tc := range []struct {
		in   map[string]string
		want string
	}{
		{map[string]string{"Nope": "1"}, `unknown parameter "Nope"`},
		{map[string]string{"Rows": "many"}, "parameter Rows: value \"many\": want an Integer"},
		{map[string]string{"MseThreshold": "low"}, "want a Float"},
	} {
		if _, err := d.ParamValues(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParamValues(%v) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestEvaluateConditions(t *testing.T) {
	cmp := func(typ string, l, r any) map[string]any {
		return map[string]any{"Type": typ, "LeftValue": l, "RightValue": r}
	}
	for _, tc := range []struct {
		cond any
		want bool
	}{
		{cmp("Equals", 1.0, json.Number("1")), true},
		{cmp("Equals", "a", "b"), false},
		{cmp("GreaterThan", 2.0, 1.0), true},
		{cmp("GreaterThan", 1.0, 1.0), false},
		{cmp("GreaterThanOrEqualTo", 1.0, 1.0), true},
		{cmp("LessThan", 0.5, 1.0), true},
		{cmp("LessThan", 1.0, 1.0), false},
		{cmp("LessThanOrEqualTo", 6.0, 6.0), true},
		{cmp("LessThanOrEqualTo", 6.01, 6.0), false},
		{map[string]any{"Type": "In", "QueryValue": "b", "Values": []any{"a", "b"}}, true},
		{map[string]any{"Type": "In", "QueryValue": "c", "Values": []any{"a", "b"}}, false},
		{map[string]any{"Type": "Not", "Condition": cmp("Equals", 1.0, 2.0)}, true},
		{map[string]any{"Type": "Or", "Conditions": []any{cmp("Equals", 1.0, 2.0), cmp("Equals", 2.0, 2.0)}}, true},
		{map[string]any{"Type": "Or", "Conditions": []any{cmp("Equals", 1.0, 2.0)}}, false},
		{map[string]any{"Type": "And", "Conditions": []any{cmp("Equals", 1.0, 1.0), cmp("Equals", 2.0, 3.0)}}, false},
	} {
		if err := checkCondition(tc.cond); err != nil {
			t.Fatalf("%v: %v", tc.cond, err)
		}
		got, err := Evaluate([]any{tc.cond})
		if err != nil || got != tc.want {
			t.Errorf("%v = %v, %v; want %v", tc.cond, got, err, tc.want)
		}
	}
	if _, err := Evaluate([]any{cmp("LessThan", "abc", 1.0)}); err == nil {
		t.Error("ordering a string and a number: want an error")
	}
}

func TestResolve(t *testing.T) {
	props := map[string]any{"ProcessingOutputConfig": map[string]any{"Outputs": []any{
		map[string]any{"OutputName": "train", "S3Output": map[string]any{"S3Uri": "s3://b/train"}},
		map[string]any{"OutputName": "evaluation", "S3Output": map[string]any{"S3Uri": "s3://b/eval"}},
	}}}
	env := Env{
		Params:     map[string]any{"N": int64(3)},
		Execution:  map[string]any{"PipelineExecutionId": "abc"},
		Properties: func(s string) (map[string]any, bool) { return props, s == "P" },
		PropertyFile: func(step, file string) (any, error) {
			return map[string]any{"regression_metrics": map[string]any{"mse": map[string]any{"value": 2.5}}, "list": []any{1.0, 2.0}}, nil
		},
	}
	in := map[string]any{
		"a": map[string]any{"Get": "Steps.P.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"},
		"b": map[string]any{"Std:Join": map[string]any{"On": "/", "Values": []any{map[string]any{"Get": "Execution.PipelineExecutionId"}, map[string]any{"Get": "Parameters.N"}, "x"}}},
		"c": map[string]any{"Std:JsonGet": map[string]any{"PropertyFile": map[string]any{"Get": "Steps.P.PropertyFiles.R"}, "Path": "regression_metrics.mse.value"}},
		"d": map[string]any{"Std:JsonGet": map[string]any{"PropertyFile": map[string]any{"Get": "Steps.P.PropertyFiles.R"}, "Path": "list[1]"}},
		"e": map[string]any{"Get": "Steps.P.ProcessingOutputConfig.Outputs[0].S3Output.S3Uri"},
		"f": map[string]any{"Std:JsonGet": map[string]any{"PropertyFile": map[string]any{"Get": "Steps.P.PropertyFiles.R"}, "Path": "$.regression_metrics.mse.value"}},
	}
	out, err := env.Resolve(in, "Arguments")
	if err != nil {
		t.Fatal(err)
	}
	m := out.(map[string]any)
	if m["a"] != "s3://b/eval" || m["b"] != "abc/3/x" || m["c"] != 2.5 || m["d"] != 2.0 || m["e"] != "s3://b/train" || m["f"] != 2.5 {
		t.Fatalf("resolved: %#v", m)
	}
	bad := map[string]any{"x": map[string]any{"Std:JsonGet": map[string]any{"PropertyFile": map[string]any{"Get": "Steps.P.PropertyFiles.R"}, "Path": "regression_metrics.rmse.value"}}}
	if _, err := env.Resolve(bad, "Arguments"); err == nil || !strings.Contains(err.Error(), `no field "rmse"`) || !strings.Contains(err.Error(), "Arguments.x") {
		t.Errorf("bad JsonGet path: %v", err)
	}
}

func TestCompileYAML(t *testing.T) {
	src := `
parameters:
  Threshold: {type: Float, default: 6.0}
  Bucket: {default: my-bucket}
steps:
  - name: Evaluate
    type: Processing
    cache: P7D
    property_files:
      Report: {output: evaluation, path: evaluation.json}
    arguments:
      AppSpecification:
        ImageUri: 141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3
        ContainerEntrypoint: [python3, /opt/ml/processing/input/code/evaluate.py]
      ProcessingOutputConfig:
        Outputs:
          - OutputName: evaluation
            S3Output: {S3Uri: "s3://${Parameters.Bucket}/eval", LocalPath: /opt/ml/processing/evaluation}
  - name: Check
    type: Condition
    arguments:
      Conditions:
        - Type: LessThanOrEqualTo
          LeftValue: ${json:Evaluate.Report:regression_metrics.mse.value}
          RightValue: ${Parameters.Threshold}
    if:
      - {name: Good, type: Fail, arguments: {ErrorMessage: fine}}
    else:
      - {name: Bad, type: Fail, arguments: {ErrorMessage: "mse above ${Parameters.Threshold}"}}
`
	js, err := CompileYAML([]byte(src), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(js, "p.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	if d.Step("Good").Parent != "Check" || d.Step("Evaluate").CacheConfig.ExpireAfter != "P7D" || d.Parameter("Bucket").Type != "String" {
		t.Fatalf("compiled: %s", js)
	}
	if !strings.Contains(string(js), `"Std:Join"`) || !strings.Contains(string(js), `"Std:JsonGet"`) {
		t.Fatalf("references not compiled: %s", js)
	}
	for _, bad := range []string{"steps: [", "steps:\n  - name: A\n    typo: 1\n"} {
		if _, err := CompileYAML([]byte(bad), "p.yaml"); err == nil || !strings.Contains(err.Error(), "p.yaml: malformed YAML") {
			t.Errorf("CompileYAML(%q) = %v", bad, err)
		}
	}
}

func TestParseISODuration(t *testing.T) {
	// The SDK's and SageMaker's documented examples included: lower case,
	// and the leading P left out.
	for in, want := range map[string]float64{"P30D": 30 * 24, "PT1H30M": 1.5, "P1W": 168, "PT36S": 0.01,
		"p30d": 30 * 24, "30d": 30 * 24, "T12H": 12, "T16m": 16.0 / 60, "30dT5h": 30*24 + 5, "5y": 5 * 365 * 24, "P4DT12H": 4*24 + 12} {
		d, err := ParseISODuration(in)
		if err != nil || d.Hours() != want {
			t.Errorf("%s = %v, %v; want %vh", in, d, err, want)
		}
	}
	for _, bad := range []string{"", "P", "PT", "T", "P1.5D", "30 days", "PD", "1H"} {
		if _, err := ParseISODuration(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

// A definition in the shape SDK v3's pipeline.definition() writes: the
// top-level MlflowConfig and PipelineExperimentConfig as null, retry
// policies, display names, a lower-case ExpireAfter, Not with "Condition",
// Or, In, execution variables and a Condition step's Outcome.
func TestParseSDKv3Definition(t *testing.T) {
	b, err := os.ReadFile("testdata/sdk_v3_definition.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(b, "v3.json")
	if err != nil {
		t.Fatal(err)
	}
	prep := d.Step("Prep")
	if prep == nil || prep.DisplayName != "Prepare" || prep.CacheConfig == nil || prep.CacheConfig.ExpireAfter != "p30d" {
		t.Fatalf("Prep: %+v", prep)
	}
	g, err := d.Graph()
	if err != nil {
		t.Fatal(err)
	}
	if deps := g.Deps["After"]; len(deps) != 1 || deps[0].From != "Check" {
		t.Errorf("After depends on %+v", deps)
	}
	if l := d.Step("Later"); l == nil || l.Parent != "Check" || l.Branch != "If" {
		t.Errorf("Later: %+v", l)
	}
	params, err := d.ParamValues(nil)
	if err != nil {
		t.Fatal(err)
	}
	env := Env{Params: params, Execution: map[string]any{"StartDateTime": "2026-01-01T00:00:00Z"},
		Properties: func(string) (map[string]any, bool) { return nil, false },
		PropertyFile: func(step, file string) (any, error) {
			return map[string]any{"rows": json.Number("4")}, nil
		}}
	conds, err := env.Resolve(d.Step("Check").Arguments["Conditions"], "Arguments.Conditions")
	if err != nil {
		t.Fatal(err)
	}
	ok, err := Evaluate(conds.([]any))
	if err != nil || !ok {
		t.Errorf("Evaluate = %v, %v; want true (4 > 6.0 is false, Mode in [fast full])", ok, err)
	}
}
