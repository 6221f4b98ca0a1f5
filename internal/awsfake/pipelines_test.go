package awsfake_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/bridgeops/bridge/internal/awsfake"
)

const plRole = "arn:aws:iam::123456789012:role/pipelines"

// plDef is a definition with a parameter, two processing steps (the second
// depends on the first through a Get reference), and a condition with a
// RegisterModel step and a Fail step.
const plDef = `{"Version":"2020-12-01","Parameters":[{"Name":"Threshold","Type":"Float","DefaultValue":6.0},{"Name":"Count","Type":"Integer","DefaultValue":1}],
"Steps":[
 {"Name":"Prep","Type":"Processing","Arguments":{}},
 {"Name":"Eval","Type":"Processing","Arguments":{"ProcessingInputs":[{"InputName":"m","S3Input":{"S3Uri":{"Get":"Steps.Prep.ProcessingOutputConfig.Outputs['o'].S3Output.S3Uri"}}}]}},
 {"Name":"Check","Type":"Condition","Arguments":{"Conditions":[{"Type":"LessThanOrEqualTo","LeftValue":{"Std:JsonGet":{"PropertyFile":{"Get":"Steps.Eval.PropertyFiles.R"},"Path":"mse"}},"RightValue":{"Get":"Parameters.Threshold"}}],
  "IfSteps":[{"Name":"Register","Type":"RegisterModel","Arguments":{"ModelPackageGroupName":"Group"}}],
  "ElseSteps":[{"Name":"TooHigh","Type":"Fail","Arguments":{"ErrorMessage":{"Std:Join":{"On":" ","Values":["mse above",{"Get":"Parameters.Threshold"}]}}}}]}}
]}`

func createPipeline(t *testing.T, c clients, name string) string {
	t.Helper()
	out, err := c.sm.CreatePipeline(context.Background(), &sagemaker.CreatePipelineInput{PipelineName: aws.String(name),
		PipelineDefinition: aws.String(plDef), RoleArn: aws.String(plRole)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.PipelineArn)
}

// describeUntilEnd describes the execution until it ends and returns every
// status seen.
func describeUntilEnd(t *testing.T, c clients, arn string) []string {
	t.Helper()
	var seen []string
	for i := 0; i < 100; i++ {
		d, err := c.sm.DescribePipelineExecution(context.Background(), &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		s := string(d.PipelineExecutionStatus)
		if len(seen) == 0 || seen[len(seen)-1] != s {
			seen = append(seen, s)
		}
		switch d.PipelineExecutionStatus {
		case smtypes.PipelineExecutionStatusSucceeded, smtypes.PipelineExecutionStatusFailed, smtypes.PipelineExecutionStatusStopped:
			return seen
		}
	}
	t.Fatalf("execution %s did not end: %v", arn, seen)
	return nil
}

func steps(t *testing.T, c clients, arn string) map[string]smtypes.PipelineExecutionStep {
	t.Helper()
	out := map[string]smtypes.PipelineExecutionStep{}
	pg := sagemaker.NewListPipelineExecutionStepsPaginator(c.sm, &sagemaker.ListPipelineExecutionStepsInput{PipelineExecutionArn: aws.String(arn), MaxResults: aws.Int32(2)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.PipelineExecutionSteps {
			out[aws.ToString(s.StepName)] = s
		}
	}
	return out
}

func TestPipelineCreateUpdateDescribe(t *testing.T) {
	_, c := start(t, awsfake.Options{}, "eu-west-1")
	ctx := context.Background()
	arn := createPipeline(t, c, "My-Pipeline")
	if arn != "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/my-pipeline" {
		t.Fatalf("arn %s", arn)
	}
	for _, tc := range []struct {
		name string
		call func() error
		code string
		msg  string
	}{
		{"duplicate name (other case)", func() error {
			_, err := c.sm.CreatePipeline(ctx, &sagemaker.CreatePipelineInput{PipelineName: aws.String("MY-PIPELINE"), PipelineDefinition: aws.String(plDef), RoleArn: aws.String(plRole)})
			return err
		}, "ValidationException", "already exists"},
		{"bad name", func() error {
			_, err := c.sm.CreatePipeline(ctx, &sagemaker.CreatePipelineInput{PipelineName: aws.String("my_pipeline"), PipelineDefinition: aws.String(plDef), RoleArn: aws.String(plRole)})
			return err
		}, "ValidationException", "pipelineName"},
		{"bad role", func() error {
			_, err := c.sm.CreatePipeline(ctx, &sagemaker.CreatePipelineInput{PipelineName: aws.String("p2"), PipelineDefinition: aws.String(plDef), RoleArn: aws.String("pipelines")})
			return err
		}, "ValidationException", "roleArn"},
		{"bad definition version", func() error {
			_, err := c.sm.CreatePipeline(ctx, &sagemaker.CreatePipelineInput{PipelineName: aws.String("p2"), PipelineDefinition: aws.String(`{"Version":"2019-01-01","Steps":[]}`), RoleArn: aws.String(plRole)})
			return err
		}, "ValidationException", "version"},
		{"unknown step type", func() error {
			_, err := c.sm.CreatePipeline(ctx, &sagemaker.CreatePipelineInput{PipelineName: aws.String("p2"), PipelineDefinition: aws.String(`{"Version":"2020-12-01","Steps":[{"Name":"A","Type":"Magic"}]}`), RoleArn: aws.String(plRole)})
			return err
		}, "ValidationException", "unknown type 'Magic'"},
		{"update missing", func() error {
			_, err := c.sm.UpdatePipeline(ctx, &sagemaker.UpdatePipelineInput{PipelineName: aws.String("nope"), PipelineDefinition: aws.String(plDef)})
			return err
		}, "ResourceNotFound", "does not exist"},
		{"describe missing", func() error {
			_, err := c.sm.DescribePipeline(ctx, &sagemaker.DescribePipelineInput{PipelineName: aws.String("nope")})
			return err
		}, "ResourceNotFound", "does not exist"},
		{"start missing", func() error {
			_, err := c.sm.StartPipelineExecution(ctx, &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String("nope")})
			return err
		}, "ResourceNotFound", "does not exist"},
		{"unknown parameter", func() error {
			_, err := c.sm.StartPipelineExecution(ctx, &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String("my-pipeline"),
				PipelineParameters: []smtypes.Parameter{{Name: aws.String("Nope"), Value: aws.String("1")}}})
			return err
		}, "ValidationException", "'Nope' is not defined"},
		{"wrong parameter type", func() error {
			_, err := c.sm.StartPipelineExecution(ctx, &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String("my-pipeline"),
				PipelineParameters: []smtypes.Parameter{{Name: aws.String("Count"), Value: aws.String("two")}}})
			return err
		}, "ValidationException", "not a valid Integer"},
		{"describe missing execution", func() error {
			_, err := c.sm.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn + "/execution/aaaaaaaaaaaa")})
			return err
		}, "ResourceNotFound", "does not exist"},
		{"malformed execution ARN", func() error {
			_, err := c.sm.ListPipelineExecutionSteps(ctx, &sagemaker.ListPipelineExecutionStepsInput{PipelineExecutionArn: aws.String("my-pipeline/aaaaaaaaaaaa")})
			return err
		}, "ValidationException", "pipelineExecutionArn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if code(err) != tc.code || !strings.Contains(fmt.Sprint(err), tc.msg) {
				t.Fatalf("error %v, want %s with %q", err, tc.code, tc.msg)
			}
		})
	}
	up, err := c.sm.UpdatePipeline(ctx, &sagemaker.UpdatePipelineInput{PipelineName: aws.String(arn), PipelineDescription: aws.String("v2")})
	if err != nil || aws.ToInt64(up.PipelineVersionId) != 2 {
		t.Fatalf("update by ARN: %v %v", up, err)
	}
	d, err := c.sm.DescribePipeline(ctx, &sagemaker.DescribePipelineInput{PipelineName: aws.String("my-PIPELINE")})
	if err != nil || aws.ToString(d.PipelineName) != "My-Pipeline" || aws.ToString(d.PipelineDescription) != "v2" ||
		aws.ToString(d.RoleArn) != plRole || d.PipelineStatus != smtypes.PipelineStatusActive || aws.ToString(d.PipelineDefinition) != plDef {
		t.Fatalf("describe %+v %v", d, err)
	}
	// Idempotent create: the same token returns the same pipeline.
	tok := strings.Repeat("t", 32)
	in := &sagemaker.CreatePipelineInput{PipelineName: aws.String("idem"), PipelineDefinition: aws.String(plDef), RoleArn: aws.String(plRole), ClientRequestToken: aws.String(tok)}
	a, err1 := c.sm.CreatePipeline(ctx, in)
	b, err2 := c.sm.CreatePipeline(ctx, in)
	if err1 != nil || err2 != nil || aws.ToString(a.PipelineArn) != aws.ToString(b.PipelineArn) {
		t.Fatalf("idempotent create: %v %v", err1, err2)
	}
}

func TestPipelineExecutionLifecycle(t *testing.T) {
	for _, tc := range []struct {
		name     string
		outcome  func(awsfake.PipelineStep) awsfake.StepOutcome
		params   []smtypes.Parameter
		status   string
		steps    map[string]string
		failStep string
		failMsg  string
	}{
		{name: "succeeds through the if branch", status: "Succeeded",
			steps: map[string]string{"Prep": "Succeeded", "Eval": "Succeeded", "Check": "Succeeded", "Register": "Succeeded"}},
		{name: "else branch fails with the Fail step's message",
			outcome: func(s awsfake.PipelineStep) awsfake.StepOutcome {
				return awsfake.StepOutcome{ConditionFalse: s.Name == "Check"}
			},
			params: []smtypes.Parameter{{Name: aws.String("Threshold"), Value: aws.String("2.5")}},
			status: "Failed", steps: map[string]string{"Prep": "Succeeded", "Eval": "Succeeded", "Check": "Succeeded", "TooHigh": "Failed"},
			failStep: "TooHigh", failMsg: "mse above 2.5"},
		{name: "a failing job stops the run",
			outcome: func(s awsfake.PipelineStep) awsfake.StepOutcome {
				if s.Name == "Prep" {
					return awsfake.StepOutcome{FailureReason: "ClientError: boom"}
				}
				return awsfake.StepOutcome{}
			},
			status: "Failed", steps: map[string]string{"Prep": "Failed"}, failStep: "Prep", failMsg: "ClientError: boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, c := start(t, awsfake.Options{}, "eu-west-1")
			f.SetPipelineBehaviour(awsfake.PipelineBehaviour{Outcome: tc.outcome})
			createPipeline(t, c, "p")
			out, err := c.sm.StartPipelineExecution(context.Background(), &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String("p"), PipelineParameters: tc.params})
			if err != nil {
				t.Fatal(err)
			}
			arn := aws.ToString(out.PipelineExecutionArn)
			if !strings.HasPrefix(arn, "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/p/execution/") {
				t.Fatalf("execution arn %s", arn)
			}
			seen := describeUntilEnd(t, c, arn)
			if want := "[Executing " + tc.status + "]"; fmt.Sprint(seen) != want {
				t.Errorf("statuses %v, want %s", seen, want)
			}
			got := steps(t, c, arn)
			gotStatus := map[string]string{}
			for n, s := range got {
				gotStatus[n] = string(s.StepStatus)
				if s.StartTime == nil || s.EndTime == nil || s.Metadata == nil {
					t.Errorf("step %s: times/metadata missing: %+v", n, s)
				}
			}
			if fmt.Sprint(gotStatus) != fmt.Sprint(tc.steps) {
				t.Errorf("steps %v, want %v", gotStatus, tc.steps)
			}
			if tc.failStep != "" && aws.ToString(got[tc.failStep].FailureReason) != tc.failMsg {
				t.Errorf("failure %q, want %q", aws.ToString(got[tc.failStep].FailureReason), tc.failMsg)
			}
			if s, ok := got["Prep"]; ok && s.StepStatus == "Succeeded" && (s.Metadata.ProcessingJob == nil || !strings.Contains(aws.ToString(s.Metadata.ProcessingJob.Arn), ":processing-job/")) {
				t.Errorf("processing metadata %+v", s.Metadata)
			}
			if s, ok := got["Check"]; ok && s.Metadata.Condition == nil {
				t.Errorf("condition metadata missing")
			}
			if s, ok := got["Register"]; ok && (s.Metadata.RegisterModel == nil || !strings.Contains(aws.ToString(s.Metadata.RegisterModel.Arn), ":model-package/group/1")) {
				t.Errorf("register metadata %+v", s.Metadata)
			}
			if s, ok := got["TooHigh"]; ok && (s.Metadata.Fail == nil || aws.ToString(s.Metadata.Fail.ErrorMessage) != tc.failMsg) {
				t.Errorf("fail metadata %+v", s.Metadata)
			}
			ex, _ := f.Execution(arn)
			if ex.Status != tc.status {
				t.Errorf("fake status %s", ex.Status)
			}
		})
	}
}

// TestPipelineStepsAdvanceInOrder checks the phase order one describe at a
// time: a step is Starting, then Executing, then done, and a dependent
// step starts only after its dependency succeeded.
func TestPipelineStepsAdvanceInOrder(t *testing.T) {
	_, c := start(t, awsfake.Options{}, "us-east-1")
	createPipeline(t, c, "p")
	out, err := c.sm.StartPipelineExecution(context.Background(), &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String("p")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.PipelineExecutionArn)
	var trace []string
	for i := 0; i < 7; i++ {
		if _, err := c.sm.DescribePipelineExecution(context.Background(), &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
		st := steps(t, c, arn)
		trace = append(trace, fmt.Sprintf("%s/%s", st["Prep"].StepStatus, st["Eval"].StepStatus))
	}
	want := "[Starting/ Executing/ Succeeded/Starting Succeeded/Executing Succeeded/Succeeded Succeeded/Succeeded Succeeded/Succeeded]"
	if fmt.Sprint(trace) != want {
		t.Fatalf("trace %v\nwant  %s", trace, want)
	}
}

func TestPipelineStopAndConflicts(t *testing.T) {
	clock := awsfake.NewManualClock()
	f, c := start(t, awsfake.Options{Clock: clock.Now}, "eu-west-1")
	f.SetPipelineBehaviour(awsfake.PipelineBehaviour{StepPhase: time.Minute, MaxRunningExecutions: 1})
	ctx := context.Background()
	createPipeline(t, c, "p")
	out, err := c.sm.StartPipelineExecution(ctx, &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String("p")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.PipelineExecutionArn)
	// The clock drives the execution: nothing moves until it advances.
	for i := 0; i < 3; i++ {
		c.sm.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)})
	}
	if ex, _ := f.Execution(arn); ex.Steps["Prep"] != "" {
		t.Fatalf("steps moved without the clock: %v", ex.Steps)
	}
	clock.Advance(2 * time.Minute) // Starting, then Executing
	if st := steps(t, c, arn); st["Prep"].StepStatus != smtypes.StepStatusExecuting {
		t.Fatalf("after two phases: %v", st["Prep"].StepStatus)
	}
	if _, err := c.sm.StartPipelineExecution(ctx, &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String("p")}); code(err) != "ResourceLimitExceeded" {
		t.Errorf("second concurrent execution: %v", err)
	}
	if _, err := c.sm.DeletePipeline(ctx, &sagemaker.DeletePipelineInput{PipelineName: aws.String("p")}); code(err) != "ConflictException" {
		t.Errorf("delete with a running execution: %v", err)
	}
	tok := strings.Repeat("s", 40)
	for i := 0; i < 2; i++ { // the retry with the same token is idempotent
		if _, err := c.sm.StopPipelineExecution(ctx, &sagemaker.StopPipelineExecutionInput{PipelineExecutionArn: aws.String(arn), ClientRequestToken: aws.String(tok)}); err != nil {
			t.Fatalf("stop %d: %v", i, err)
		}
	}
	d, _ := c.sm.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)})
	if d.PipelineExecutionStatus != smtypes.PipelineExecutionStatusStopping || steps(t, c, arn)["Prep"].StepStatus != smtypes.StepStatusStopping {
		t.Fatalf("after stop: %s", d.PipelineExecutionStatus)
	}
	clock.Advance(time.Minute)
	d, _ = c.sm.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)})
	st := steps(t, c, arn)
	if d.PipelineExecutionStatus != smtypes.PipelineExecutionStatusStopped || st["Prep"].StepStatus != smtypes.StepStatusStopped || len(st) != 1 {
		t.Fatalf("after a phase: %s %v", d.PipelineExecutionStatus, st)
	}
	if _, err := c.sm.StopPipelineExecution(ctx, &sagemaker.StopPipelineExecutionInput{PipelineExecutionArn: aws.String(arn)}); code(err) != "ConflictException" {
		t.Errorf("stop of a stopped execution: %v", err)
	}
	if _, err := c.sm.DeletePipeline(ctx, &sagemaker.DeletePipelineInput{PipelineName: aws.String("p")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.sm.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)}); code(err) != "ResourceNotFound" {
		t.Errorf("execution of a deleted pipeline: %v", err)
	}
}

func TestPipelineListsPaginate(t *testing.T) {
	_, c := start(t, awsfake.Options{}, "eu-west-1")
	ctx := context.Background()
	for i := 0; i < 7; i++ {
		createPipeline(t, c, fmt.Sprintf("pl-%d", i))
	}
	createPipeline(t, c, "other")
	var names []string
	pg := sagemaker.NewListPipelinesPaginator(c.sm, &sagemaker.ListPipelinesInput{PipelineNamePrefix: aws.String("PL-"), SortBy: smtypes.SortPipelinesByName,
		SortOrder: smtypes.SortOrderAscending, MaxResults: aws.Int32(3)})
	pages := 0
	for pg.HasMorePages() {
		p, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, s := range p.PipelineSummaries {
			names = append(names, aws.ToString(s.PipelineName))
		}
	}
	if pages != 3 || fmt.Sprint(names) != "[pl-0 pl-1 pl-2 pl-3 pl-4 pl-5 pl-6]" {
		t.Errorf("%d pages: %v", pages, names)
	}
	if _, err := c.sm.ListPipelines(ctx, &sagemaker.ListPipelinesInput{MaxResults: aws.Int32(101)}); code(err) != "ValidationException" {
		t.Errorf("MaxResults 101: %v", err)
	}
	if _, err := c.sm.ListPipelines(ctx, &sagemaker.ListPipelinesInput{NextToken: aws.String("garbage")}); code(err) != "ValidationException" {
		t.Errorf("bad token: %v", err)
	}

	var started []string
	for i := 0; i < 5; i++ {
		out, err := c.sm.StartPipelineExecution(ctx, &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String("pl-0")})
		if err != nil {
			t.Fatal(err)
		}
		started = append([]string{aws.ToString(out.PipelineExecutionArn)}, started...) // newest first
	}
	var listed []string
	ep := sagemaker.NewListPipelineExecutionsPaginator(c.sm, &sagemaker.ListPipelineExecutionsInput{PipelineName: aws.String("PL-0"), MaxResults: aws.Int32(2)})
	for ep.HasMorePages() {
		p, err := ep.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range p.PipelineExecutionSummaries {
			listed = append(listed, aws.ToString(s.PipelineExecutionArn))
			if s.PipelineExecutionStatus != smtypes.PipelineExecutionStatusExecuting {
				t.Errorf("summary %+v", s)
			}
		}
	}
	if fmt.Sprint(listed) != fmt.Sprint(started) {
		t.Errorf("executions newest first:\n%v\nwant\n%v", listed, started)
	}
	if _, err := c.sm.ListPipelineExecutions(ctx, &sagemaker.ListPipelineExecutionsInput{PipelineName: aws.String("nope")}); code(err) != "ResourceNotFound" {
		t.Errorf("executions of a missing pipeline: %v", err)
	}
}

func TestPipelineCallsAuthorised(t *testing.T) {
	f, c := start(t, awsfake.Options{}, "eu-west-1")
	mark := f.Mark()
	arn := createPipeline(t, c, "P")
	out, err := c.sm.StartPipelineExecution(context.Background(), &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String("P")})
	if err != nil {
		t.Fatal(err)
	}
	steps(t, c, aws.ToString(out.PipelineExecutionArn))
	var got []string
	for _, call := range f.CallsSince(mark) {
		for _, a := range call.Authz {
			got = append(got, a.Action+" "+a.Resource)
		}
	}
	want := []string{"sagemaker:CreatePipeline " + arn, "iam:PassRole " + plRole, "sagemaker:StartPipelineExecution " + arn,
		"sagemaker:ListPipelineExecutionSteps " + aws.ToString(out.PipelineExecutionArn)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("authorisations\n%v\nwant\n%v", got, want)
	}
}
