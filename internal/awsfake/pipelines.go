package awsfake

// SageMaker Pipelines: CreatePipeline, UpdatePipeline, DescribePipeline,
// DeletePipeline, ListPipelines, StartPipelineExecution,
// DescribePipelineExecution, ListPipelineExecutions,
// ListPipelineExecutionSteps and StopPipelineExecution, as the SageMaker API
// reference documents them:
//
//   - pipeline names are case-insensitive, match
//     [a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}, and ARNs are lower-cased;
//     CreatePipeline of an existing name answers ValidationException
//     "... already exists" (the SageMaker Python SDK's upsert relies on this
//     text), UpdatePipeline, DescribePipeline, StartPipelineExecution and
//     friends of a missing pipeline or execution answer ResourceNotFound;
//   - ClientRequestToken (32..128 characters) makes CreatePipeline,
//     StartPipelineExecution and StopPipelineExecution idempotent;
//   - an execution is Executing, then Succeeded, Failed, or Stopping →
//     Stopped after StopPipelineExecution; its steps go Starting →
//     Executing → Succeeded|Failed (Stopping → Stopped when stopped) in
//     dependency order (DependsOn and Get references to Steps.X), Condition
//     steps gate their IfSteps/ElseSteps, a Fail step fails with its
//     ErrorMessage, and after a failure no further step starts;
//   - ListPipelineExecutionSteps reports Metadata per step type
//     (ProcessingJob, TrainingJob, Condition, RegisterModel, Model, Fail,
//     TransformJob, TuningJob, Lambda);
//   - lists take MaxResults (1..100, default 10) and NextToken;
//   - StopPipelineExecution of an execution that has ended and
//     DeletePipeline with a running execution answer ConflictException;
//     StartPipelineExecution beyond the concurrent-execution quota answers
//     ResourceLimitExceeded.
//
// Executions advance one phase per DescribePipelineExecution call, or, with
// PipelineBehaviour.StepPhase set, one phase per StepPhase of the fake's
// clock. PipelineBehaviour.Outcome decides how each step ends.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Pipeline execution statuses (PipelineExecutionStatus) and step statuses
// (StepStatus), as SageMaker spells them.
const (
	ExecutionExecuting = "Executing"
	ExecutionStopping  = "Stopping"
	ExecutionStopped   = "Stopped"
	ExecutionFailed    = "Failed"
	ExecutionSucceeded = "Succeeded"

	StepStarting  = "Starting"
	StepExecuting = "Executing"
	StepStopping  = "Stopping"
	StepStopped   = "Stopped"
	StepFailed    = "Failed"
	StepSucceeded = "Succeeded"
)

// ExecutionStepFailure is the FailureReason of an execution one of whose
// steps failed.
const ExecutionStepFailure = "Step failure: One or multiple steps failed."

// DefaultMaxRunningExecutions is the fake's quota of concurrently running
// executions per account (SageMaker's default service quota).
const DefaultMaxRunningExecutions = 200

// PipelineStep is what an outcome hook learns about a step that is about to
// end.
type PipelineStep struct {
	Pipeline     string            // pipeline name as created
	ExecutionArn string            // execution ARN
	Name, Type   string            // step name and type (Processing, Training, ...)
	Arguments    map[string]any    // the step's Arguments as in the definition
	Parameters   map[string]string // the execution's parameter values (defaults applied)
}

// StepOutcome is how a step ends.
type StepOutcome struct {
	// FailureReason, when not empty, makes the step fail with it.
	FailureReason string
	// ConditionFalse makes a Condition step evaluate to False, so its
	// ElseSteps run instead of its IfSteps.
	ConditionFalse bool
}

// PipelineBehaviour configures how pipeline executions progress.
type PipelineBehaviour struct {
	// Outcome decides how each step ends (default: every step succeeds,
	// every condition is True, Fail steps fail with their ErrorMessage).
	// It runs with the fake's lock held, so it must not call the fake.
	Outcome func(PipelineStep) StepOutcome
	// StepPhase is how long each step phase (Starting, Executing,
	// Stopping) lasts on the fake's clock; zero means one phase per
	// DescribePipelineExecution call.
	StepPhase time.Duration
	// MaxRunningExecutions is the account's quota of running executions
	// (default DefaultMaxRunningExecutions).
	MaxRunningExecutions int
}

type plPipeline struct {
	name, arn         string
	definition        string
	role              string
	description       string
	display           string
	version           int64
	created, modified time.Time
	lastRun           time.Time
	seq               int
	token             string
}

type plStep struct {
	name, typ string
	args      map[string]any
	deps      []string
	gate      string // condition step that gates this one ("" = none)
	branch    bool   // the gate's outcome this step needs
	status    string // "" until started
	start     time.Time
	end       time.Time
	failure   string
	metadata  map[string]any
	outcome   string // Condition steps: "True" or "False"
	order     int    // start order, for sorting
	display   string
	desc      string
	cache     bool          // CacheConfig.Enabled
	expire    time.Duration // CacheConfig.ExpireAfter (0: none)
	cachedArn string        // CacheHitResult.SourcePipelineExecutionArn
}

type plExecution struct {
	arn, pipeline string // pipeline key (lower-case name)
	pipelineArn   string
	status        string
	failure       string
	display       string
	description   string
	version       int64
	params        map[string]string
	steps         []*plStep
	byName        map[string]*plStep
	created       time.Time
	modified      time.Time
	lastTick      time.Time
	seq           int
	started       int
	startToken    string
	stopToken     string
}

type pipelineState struct {
	pipelines  map[string]*plPipeline // by lower-case name
	executions map[string]*plExecution
	tokens     map[string]string // start token -> execution ARN
	behaviour  PipelineBehaviour
	seq        int
}

func (st *pipelineState) init() {
	st.pipelines = map[string]*plPipeline{}
	st.executions = map[string]*plExecution{}
	st.tokens = map[string]string{}
}

// SetPipelineBehaviour changes how pipeline executions progress from now on.
func (s *Server) SetPipelineBehaviour(b PipelineBehaviour) {
	s.mu.Lock()
	s.pl.behaviour = b
	s.mu.Unlock()
}

// pipelineOps are the emulated SageMaker Pipelines operations.
var pipelineOps = map[string]bool{
	"CreatePipeline": true, "UpdatePipeline": true, "DescribePipeline": true, "DeletePipeline": true,
	"ListPipelines": true, "StartPipelineExecution": true, "DescribePipelineExecution": true,
	"ListPipelineExecutions": true, "ListPipelineExecutionSteps": true, "StopPipelineExecution": true,
}

var (
	pipelineNameRE = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$`)
	roleArnRE      = regexp.MustCompile(`^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
	paramNameRE    = regexp.MustCompile(`^[A-Za-z0-9\-_]*$`)
	executionArnRE = regexp.MustCompile(`^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:pipeline/([^/]+)/execution/([^/]+)$`)
	// executionArnPatternRE is the API's pattern for PipelineExecutionArn.
	executionArnPatternRE = regexp.MustCompile(`^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:pipeline/.*/execution/.*$`)
	pipelineArnRE         = regexp.MustCompile(`^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:pipeline/([^/]+)$`)
)

// pipelineKey turns a pipeline name or ARN into the state key.
func pipelineKey(nameOrArn string) string {
	if m := pipelineArnRE.FindStringSubmatch(nameOrArn); m != nil {
		return strings.ToLower(m[1])
	}
	return strings.ToLower(nameOrArn)
}

// pipelineAuthz records the authorisations of a pipeline operation.
func (p sagemakerProtocol) pipelineAuthz(rc *reqCtx, op string, req map[string]any) {
	str := func(k string) string { s, _ := req[k].(string); return s }
	action := "sagemaker:" + op
	switch op {
	case "CreatePipeline", "UpdatePipeline", "DescribePipeline", "DeletePipeline", "StartPipelineExecution", "ListPipelineExecutions":
		rc.authz(action, p.arn(rc, "pipeline", pipelineKey(str("PipelineName"))))
		if role := str("RoleArn"); role != "" && (op == "CreatePipeline" || op == "UpdatePipeline") {
			rc.authz("iam:PassRole", role)
		}
	case "DescribePipelineExecution", "ListPipelineExecutionSteps", "StopPipelineExecution":
		rc.authz(action, strings.ToLower(str("PipelineExecutionArn")))
	default: // ListPipelines
		rc.authz(action, "*")
	}
}

func resourceNotFound(format string, args ...any) *apiError {
	return errorf(400, "ResourceNotFound", format, args...)
}

// handlePipeline serves one pipeline operation (the server lock is held).
func (p sagemakerProtocol) handlePipeline(rc *reqCtx, req map[string]any, now time.Time) (any, *apiError) {
	st := &p.s.pl
	str := func(k string) string { s, _ := req[k].(string); return s }
	switch rc.call.Operation {
	case "DescribePipelineExecution", "ListPipelineExecutionSteps", "StopPipelineExecution":
		if arn := str("PipelineExecutionArn"); len(arn) > 2048 || !executionArnPatternRE.MatchString(arn) {
			return nil, validationf("1 validation error detected: Value '%s' at 'pipelineExecutionArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:pipeline\\/.*\\/execution\\/.*$", arn)
		}
	}
	switch rc.call.Operation {
	case "CreatePipeline":
		return p.createPipeline(rc, req, now)
	case "UpdatePipeline":
		pl := st.pipelines[pipelineKey(str("PipelineName"))]
		if pl == nil {
			return nil, resourceNotFound("Pipeline '%s' does not exist.", p.arn(rc, "pipeline", str("PipelineName")))
		}
		if _, set := req["PipelineDefinition"]; set {
			if err := checkDefinition(str("PipelineDefinition")); err != nil {
				return nil, err
			}
			pl.definition = str("PipelineDefinition")
		}
		if role := str("RoleArn"); role != "" {
			if !roleArnRE.MatchString(role) {
				return nil, validationf("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$", role)
			}
			pl.role = role
		}
		if _, set := req["PipelineDescription"]; set {
			pl.description = str("PipelineDescription")
		}
		if _, set := req["PipelineDisplayName"]; set {
			pl.display = str("PipelineDisplayName")
		}
		pl.version++
		pl.modified = now
		return map[string]any{"PipelineArn": pl.arn, "PipelineVersionId": pl.version}, nil
	case "DescribePipeline":
		pl := st.pipelines[pipelineKey(str("PipelineName"))]
		if pl == nil {
			return nil, resourceNotFound("Pipeline '%s' does not exist.", p.arn(rc, "pipeline", str("PipelineName")))
		}
		out := map[string]any{"PipelineArn": pl.arn, "PipelineName": pl.name, "PipelineDisplayName": pl.display,
			"PipelineDefinition": pl.definition, "RoleArn": pl.role, "PipelineStatus": "Active",
			"CreationTime": epoch(pl.created), "LastModifiedTime": epoch(pl.modified)}
		if pl.description != "" {
			out["PipelineDescription"] = pl.description
		}
		if !pl.lastRun.IsZero() {
			out["LastRunTime"] = epoch(pl.lastRun)
		}
		return out, nil
	case "DeletePipeline":
		key := pipelineKey(str("PipelineName"))
		pl := st.pipelines[key]
		if pl == nil {
			return nil, resourceNotFound("Pipeline '%s' does not exist.", p.arn(rc, "pipeline", str("PipelineName")))
		}
		for _, ex := range st.executions {
			st.tick(p, ex, now)
			if ex.pipeline == key && !executionEnded(ex.status) {
				return nil, errorf(400, "ConflictException", "Pipeline '%s' has running executions; stop them with StopPipelineExecution first.", pl.arn)
			}
		}
		for arn, ex := range st.executions {
			if ex.pipeline == key {
				delete(st.executions, arn)
			}
		}
		delete(st.pipelines, key)
		return map[string]any{"PipelineArn": pl.arn}, nil
	case "ListPipelines":
		return p.listPipelines(req)
	case "StartPipelineExecution":
		return p.startExecution(rc, req, now)
	case "DescribePipelineExecution":
		ex := st.executions[strings.ToLower(str("PipelineExecutionArn"))]
		if ex == nil {
			return nil, resourceNotFound("Pipeline execution '%s' does not exist.", str("PipelineExecutionArn"))
		}
		st.advanceOnDescribe(p, ex, now)
		out := map[string]any{"PipelineArn": ex.pipelineArn, "PipelineExecutionArn": ex.arn,
			"PipelineExecutionStatus": ex.status, "PipelineExecutionDisplayName": ex.display,
			"CreationTime": epoch(ex.created), "LastModifiedTime": epoch(ex.modified), "PipelineVersionId": ex.version}
		if ex.failure != "" {
			out["FailureReason"] = ex.failure
		}
		if ex.description != "" {
			out["PipelineExecutionDescription"] = ex.description
		}
		return out, nil
	case "ListPipelineExecutions":
		return p.listExecutions(rc, req, now)
	case "ListPipelineExecutionSteps":
		return p.listSteps(req, now)
	case "StopPipelineExecution":
		ex := st.executions[strings.ToLower(str("PipelineExecutionArn"))]
		if ex == nil {
			return nil, resourceNotFound("Pipeline execution '%s' does not exist.", str("PipelineExecutionArn"))
		}
		if err := checkToken(str("ClientRequestToken")); err != nil {
			return nil, err
		}
		st.tick(p, ex, now)
		if ex.stopToken != "" && ex.stopToken == str("ClientRequestToken") {
			return map[string]any{"PipelineExecutionArn": ex.arn}, nil // idempotent retry
		}
		if ex.status != ExecutionExecuting {
			return nil, errorf(400, "ConflictException", "Pipeline execution '%s' is %s and cannot be stopped.", ex.arn, ex.status)
		}
		ex.stopToken = str("ClientRequestToken")
		ex.status, ex.modified, ex.lastTick = ExecutionStopping, now, now
		for _, s := range ex.steps {
			if s.status == StepStarting || s.status == StepExecuting {
				s.status = StepStopping
			}
		}
		return map[string]any{"PipelineExecutionArn": ex.arn}, nil
	}
	return nil, errorf(400, "UnknownOperationException", "Unknown operation %s", rc.call.Operation)
}

func checkToken(tok string) *apiError {
	if len(tok) < 32 || len(tok) > 128 {
		return validationf("1 validation error detected: Value '%s' at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 128 and greater than or equal to 32", tok)
	}
	return nil
}

// knownStepTypes are the step types of definition schema 2020-12-01.
var knownStepTypes = map[string]bool{
	"Processing": true, "Training": true, "Transform": true, "Tuning": true, "Condition": true,
	"RegisterModel": true, "Model": true, "CreateModel": true, "Fail": true, "Lambda": true,
	"Callback": true, "QualityCheck": true, "ClarifyCheck": true, "EMR": true, "AutoML": true,
}

// definition is the part of a pipeline definition the fake reads.
type definition struct {
	Version    string
	Parameters []struct {
		Name         string
		Type         string
		DefaultValue any
	}
	Steps []defStep
}

type defStep struct {
	Name        string
	Type        string
	Arguments   map[string]any
	DependsOn   []string
	DisplayName string
	Description string
	CacheConfig *struct {
		Enabled     bool
		ExpireAfter string
	}
}

// checkDefinition validates a definition as CreatePipeline does.
func checkDefinition(doc string) *apiError {
	if doc == "" {
		return validationf("Either PipelineDefinition or PipelineDefinitionS3Location must be specified.")
	}
	var d definition
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return validationf("Unable to parse pipeline definition: %v", err)
	}
	if d.Version != "2020-12-01" {
		return validationf("Unsupported pipeline definition version '%s'.", d.Version)
	}
	seen := map[string]bool{}
	var walk func(steps []defStep) *apiError
	walk = func(steps []defStep) *apiError {
		for _, s := range steps {
			if s.Name == "" || seen[s.Name] {
				return validationf("Invalid pipeline definition: step names must be unique and non-empty ('%s').", s.Name)
			}
			seen[s.Name] = true
			if !knownStepTypes[s.Type] {
				return validationf("Invalid pipeline definition: step '%s' has unknown type '%s'.", s.Name, s.Type)
			}
			for _, k := range []string{"IfSteps", "ElseSteps"} {
				if nested := nestedSteps(s.Arguments, k); len(nested) > 0 {
					if err := walk(nested); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	if err := walk(d.Steps); err != nil {
		return err
	}
	for _, prm := range d.Parameters {
		switch prm.Type {
		case "String", "Integer", "Float", "Boolean":
		default:
			return validationf("Invalid pipeline definition: parameter '%s' has unknown type '%s'.", prm.Name, prm.Type)
		}
	}
	return nil
}

func nestedSteps(args map[string]any, key string) []defStep {
	raw, ok := args[key]
	if !ok {
		return nil
	}
	b, _ := json.Marshal(raw)
	var out []defStep
	json.Unmarshal(b, &out)
	return out
}

func (p sagemakerProtocol) createPipeline(rc *reqCtx, req map[string]any, now time.Time) (any, *apiError) {
	st := &p.s.pl
	str := func(k string) string { s, _ := req[k].(string); return s }
	name := str("PipelineName")
	if !pipelineNameRE.MatchString(name) {
		return nil, validationf("1 validation error detected: Value '%s' at 'pipelineName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}", name)
	}
	if err := checkToken(str("ClientRequestToken")); err != nil {
		return nil, err
	}
	if pl := st.pipelines[strings.ToLower(name)]; pl != nil {
		if pl.token == str("ClientRequestToken") {
			return map[string]any{"PipelineArn": pl.arn}, nil // idempotent retry
		}
		return nil, validationf("Pipeline names must be unique within an AWS account and region. Pipeline with name (%s) already exists.", name)
	}
	role := str("RoleArn")
	if !roleArnRE.MatchString(role) {
		return nil, validationf("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$", role)
	}
	def := str("PipelineDefinition")
	if loc, ok := req["PipelineDefinitionS3Location"].(map[string]any); ok && def == "" {
		b, _ := loc["Bucket"].(string)
		k, _ := loc["ObjectKey"].(string)
		o, _, found := p.s.s3.object("s3://" + b + "/" + k)
		if !found {
			return nil, validationf("Could not read the pipeline definition at s3://%s/%s.", b, k)
		}
		def = string(o.data)
	}
	if err := checkDefinition(def); err != nil {
		return nil, err
	}
	st.seq++
	pl := &plPipeline{name: name, arn: p.arn(rc, "pipeline", name), definition: def, role: role,
		description: str("PipelineDescription"), display: str("PipelineDisplayName"), version: 1,
		created: now, modified: now, seq: st.seq, token: str("ClientRequestToken")}
	if pl.display == "" {
		pl.display = name
	}
	st.pipelines[strings.ToLower(name)] = pl
	return map[string]any{"PipelineArn": pl.arn}, nil
}

func executionEnded(status string) bool {
	return status == ExecutionSucceeded || status == ExecutionFailed || status == ExecutionStopped
}

const idChars = "abcdefghijklmnopqrstuvwxyz0123456789"

func (p sagemakerProtocol) startExecution(rc *reqCtx, req map[string]any, now time.Time) (any, *apiError) {
	st := &p.s.pl
	str := func(k string) string { s, _ := req[k].(string); return s }
	key := pipelineKey(str("PipelineName"))
	pl := st.pipelines[key]
	if pl == nil {
		return nil, resourceNotFound("Pipeline '%s' does not exist.", p.arn(rc, "pipeline", str("PipelineName")))
	}
	tok := str("ClientRequestToken")
	if err := checkToken(tok); err != nil {
		return nil, err
	}
	if arn, ok := st.tokens[tok]; ok {
		return map[string]any{"PipelineExecutionArn": arn}, nil // idempotent retry
	}
	var d definition
	json.Unmarshal([]byte(pl.definition), &d)
	params := map[string]string{}
	types := map[string]string{}
	for _, prm := range d.Parameters {
		types[prm.Name] = prm.Type
		switch v := prm.DefaultValue.(type) {
		case string:
			params[prm.Name] = v
		case float64:
			params[prm.Name] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			params[prm.Name] = strconv.FormatBool(v)
		}
	}
	list, _ := req["PipelineParameters"].([]any)
	if len(list) > 200 {
		return nil, validationf("1 validation error detected: Value at 'pipelineParameters' failed to satisfy constraint: Member must have length less than or equal to 200")
	}
	given := map[string]bool{}
	for _, it := range list {
		m, _ := it.(map[string]any)
		name, _ := m["Name"].(string)
		value, _ := m["Value"].(string)
		if name == "" || len(name) > 256 || !paramNameRE.MatchString(name) || len(value) > 2500 {
			return nil, validationf("1 validation error detected: Value '%s' at 'pipelineParameters.member.name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[A-Za-z0-9\\-_]*$", name)
		}
		typ, ok := types[name]
		if !ok {
			return nil, validationf("Parameter '%s' is not defined in the pipeline definition of '%s'.", name, pl.arn)
		}
		if given[name] {
			return nil, validationf("Parameter '%s' is given more than once.", name)
		}
		given[name] = true
		if !valueHasType(value, typ) {
			return nil, validationf("Value '%s' of parameter '%s' is not a valid %s.", value, name, typ)
		}
		params[name] = value
	}
	max := st.behaviour.MaxRunningExecutions
	if max <= 0 {
		max = DefaultMaxRunningExecutions
	}
	running := 0
	for _, ex := range st.executions {
		st.tick(p, ex, now)
		if !executionEnded(ex.status) {
			running++
		}
	}
	if running >= max {
		return nil, errorf(400, "ResourceLimitExceeded", "The account-level service limit 'Maximum number of concurrent pipeline executions' is %d, with current utilization of %d executions.", max, running)
	}
	id := make([]byte, 12)
	for i := range id {
		id[i] = idChars[p.s.rng.Intn(len(idChars))]
	}
	st.seq++
	ex := &plExecution{arn: pl.arn + "/execution/" + string(id), pipeline: key, pipelineArn: pl.arn,
		status: ExecutionExecuting, display: str("PipelineExecutionDisplayName"), description: str("PipelineExecutionDescription"),
		version: pl.version, params: params, byName: map[string]*plStep{}, created: now, modified: now, lastTick: now,
		seq: st.seq, startToken: tok}
	if ex.display == "" {
		ex.display = "execution-" + strconv.FormatInt(now.UnixMilli(), 10)
	}
	addSteps(ex, d.Steps, "", false)
	st.executions[ex.arn] = ex
	st.tokens[tok] = ex.arn
	pl.lastRun = now
	return map[string]any{"PipelineExecutionArn": ex.arn}, nil
}

func valueHasType(v, typ string) bool {
	switch typ {
	case "Integer":
		_, err := strconv.ParseInt(v, 10, 64)
		return err == nil
	case "Float":
		_, err := strconv.ParseFloat(v, 64)
		return err == nil
	case "Boolean":
		return v == "true" || v == "false"
	}
	return true
}

// addSteps adds steps (and the branches of condition steps) to ex.
func addSteps(ex *plExecution, steps []defStep, gate string, branch bool) {
	for _, s := range steps {
		ps := &plStep{name: s.Name, typ: s.Type, args: s.Arguments, gate: gate, branch: branch, display: s.DisplayName, desc: s.Description}
		if c := s.CacheConfig; c != nil && c.Enabled && cacheableTypes[s.Type] != nil {
			ps.cache = true
			ps.expire, _ = isoDuration(c.ExpireAfter)
		}
		deps := map[string]bool{}
		for _, d := range s.DependsOn {
			deps[d] = true
		}
		var args map[string]any
		if s.Type == "Condition" {
			args = map[string]any{"Conditions": s.Arguments["Conditions"]}
		} else {
			args = s.Arguments
		}
		collectStepRefs(args, deps)
		delete(deps, s.Name)
		for d := range deps {
			ps.deps = append(ps.deps, d)
		}
		sort.Strings(ps.deps)
		ex.steps = append(ex.steps, ps)
		ex.byName[s.Name] = ps
		if s.Type == "Condition" {
			addSteps(ex, nestedSteps(s.Arguments, "IfSteps"), s.Name, true)
			addSteps(ex, nestedSteps(s.Arguments, "ElseSteps"), s.Name, false)
		}
	}
}

// collectStepRefs finds {"Get": "Steps.X..."} references (also inside
// Std:JsonGet's PropertyFile references) in v.
func collectStepRefs(v any, into map[string]bool) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if s, ok := x.(string); ok && (k == "Get" || k == "PropertyFile") {
				if rest, ok := strings.CutPrefix(s, "Steps."); ok {
					name, _, _ := strings.Cut(rest, ".")
					into[name] = true
				}
				continue
			}
			collectStepRefs(x, into)
		}
	case []any:
		for _, x := range t {
			collectStepRefs(x, into)
		}
	}
}

// advanceOnDescribe moves an execution on: one phase per call, or by the
// clock.
func (st *pipelineState) advanceOnDescribe(p sagemakerProtocol, ex *plExecution, now time.Time) {
	if st.behaviour.StepPhase > 0 {
		st.tick(p, ex, now)
		return
	}
	st.phase(p, ex, now)
}

// tick applies the phases the clock has run through (clock mode only).
func (st *pipelineState) tick(p sagemakerProtocol, ex *plExecution, now time.Time) {
	d := st.behaviour.StepPhase
	if d <= 0 {
		return
	}
	for i := 0; i < 10000 && !executionEnded(ex.status) && !now.Before(ex.lastTick.Add(d)); i++ {
		ex.lastTick = ex.lastTick.Add(d)
		st.phase(p, ex, ex.lastTick)
	}
}

// phase moves every step of an execution one phase on.
func (st *pipelineState) phase(p sagemakerProtocol, ex *plExecution, now time.Time) {
	if executionEnded(ex.status) {
		return
	}
	ex.modified = now
	if ex.status == ExecutionStopping {
		for _, s := range ex.steps {
			if s.status == StepStopping || s.status == StepStarting || s.status == StepExecuting {
				s.status, s.end, s.failure = StepStopped, now, "Step was stopped by a StopPipelineExecution request."
			}
		}
		ex.status = ExecutionStopped
		return
	}
	failed := false
	for _, s := range ex.steps {
		if s.status == StepFailed {
			failed = true
		}
	}
	for _, s := range ex.steps {
		switch s.status {
		case StepStarting:
			if src := st.cacheSource(ex, s, now); src != nil {
				// A cache hit: the earlier run's result, at once.
				s.status, s.end, s.cachedArn = StepSucceeded, now, src.arn
				s.metadata = src.byName[s.name].metadata
				continue
			}
			s.status = StepExecuting
			s.metadata = p.stepMetadata(ex, s)
		case StepExecuting:
			st.finish(p, ex, s, now)
			if s.status == StepFailed {
				failed = true
			}
		}
	}
	// Steps whose dependencies are now done start; after a failure no
	// further step starts.
	for _, s := range ex.steps {
		if s.status == "" && !failed && st.ready(ex, s) {
			ex.started++
			s.status, s.start, s.order = StepStarting, now, ex.started
		}
	}
	active, pending := false, false
	for _, s := range ex.steps {
		switch {
		case s.status == StepStarting || s.status == StepExecuting:
			active = true
		case s.status == "" && st.ready(ex, s):
			pending = true
		}
	}
	switch {
	case active:
	case failed:
		ex.status, ex.failure = ExecutionFailed, ExecutionStepFailure
	case !pending:
		ex.status = ExecutionSucceeded
	}
}

// ready reports whether a step that has not started may start: its
// dependencies succeeded and its condition gate took its branch.
func (st *pipelineState) ready(ex *plExecution, s *plStep) bool {
	if s.gate != "" {
		g := ex.byName[s.gate]
		if g == nil || g.status != StepSucceeded || (g.outcome == "True") != s.branch {
			return false
		}
	}
	for _, d := range s.deps {
		ds := ex.byName[d]
		if ds == nil || ds.status != StepSucceeded {
			return false
		}
	}
	return true
}

// finish ends an executing step as the outcome hook says.
func (st *pipelineState) finish(p sagemakerProtocol, ex *plExecution, s *plStep, now time.Time) {
	var out StepOutcome
	if st.behaviour.Outcome != nil {
		out = st.behaviour.Outcome(PipelineStep{Pipeline: p.s.pl.pipelines[ex.pipeline].nameOr(ex.pipeline), ExecutionArn: ex.arn,
			Name: s.name, Type: s.typ, Arguments: s.args, Parameters: ex.params})
	}
	s.end = now
	switch {
	case out.FailureReason != "":
		s.status, s.failure = StepFailed, out.FailureReason
	case s.typ == "Fail":
		s.status, s.failure = StepFailed, failMessage(s.args, ex.params)
		s.metadata = map[string]any{"Fail": map[string]any{"ErrorMessage": s.failure}}
	default:
		if reason := p.missingInputs(s); reason != "" {
			s.status, s.failure = StepFailed, reason
			return
		}
		if s.typ == "RegisterModel" {
			arn, reason := p.registerFromStep(ex, s, now)
			if reason != "" {
				s.status, s.failure = StepFailed, reason
				return
			}
			s.metadata = map[string]any{"RegisterModel": map[string]any{"Arn": arn}}
		}
		s.status = StepSucceeded
		if s.typ == "Condition" {
			s.outcome = "True"
			if out.ConditionFalse {
				s.outcome = "False"
			}
			s.metadata = map[string]any{"Condition": map[string]any{"Outcome": s.outcome}}
		}
	}
}

func (pl *plPipeline) nameOr(def string) string {
	if pl == nil {
		return def
	}
	return pl.name
}

// failMessage resolves a Fail step's ErrorMessage: a string, a parameter
// reference, or Std:Join of those.
func failMessage(args map[string]any, params map[string]string) string {
	var resolve func(v any) string
	resolve = func(v any) string {
		switch t := v.(type) {
		case string:
			return t
		case float64, bool:
			return fmt.Sprint(t)
		case map[string]any:
			if g, ok := t["Get"].(string); ok {
				if name, ok := strings.CutPrefix(g, "Parameters."); ok {
					return params[name]
				}
				return g
			}
			if t["Std:Join"] != nil {
				j, _ := t["Std:Join"].(map[string]any)
				on, _ := j["On"].(string)
				vals, _ := j["Values"].([]any)
				parts := make([]string, len(vals))
				for i, x := range vals {
					parts[i] = resolve(x)
				}
				return strings.Join(parts, on)
			}
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	if args == nil || args["ErrorMessage"] == nil {
		return ""
	}
	return resolve(args["ErrorMessage"])
}

// missingInputs checks that the plain s3:// inputs of a processing or
// training step exist in the fake's S3, as the job would when it
// downloads them.
func (p sagemakerProtocol) missingInputs(s *plStep) string {
	var uris []string
	switch s.typ {
	case "Processing":
		ins, _ := s.args["ProcessingInputs"].([]any)
		for _, in := range ins {
			m, _ := in.(map[string]any)
			s3in, _ := m["S3Input"].(map[string]any)
			if u, ok := s3in["S3Uri"].(string); ok {
				uris = append(uris, u)
			}
		}
	case "Training":
		chans, _ := s.args["InputDataConfig"].([]any)
		for _, c := range chans {
			m, _ := c.(map[string]any)
			ds, _ := m["DataSource"].(map[string]any)
			s3ds, _ := ds["S3DataSource"].(map[string]any)
			if u, ok := s3ds["S3Uri"].(string); ok {
				uris = append(uris, u)
			}
		}
		if hp, ok := s.args["HyperParameters"].(map[string]any); ok {
			if sd, ok := hp["sagemaker_submit_directory"].(string); ok {
				var u string
				if json.Unmarshal([]byte(sd), &u) != nil {
					u = sd
				}
				uris = append(uris, u)
			}
		}
	}
	for _, u := range uris {
		if !strings.HasPrefix(u, "s3://") {
			return fmt.Sprintf("ClientError: Invalid S3 URI '%s': want s3://bucket/key.", u)
		}
		if !p.s.s3.prefixExists(u) {
			return fmt.Sprintf("ClientError: Failed to download data. No S3 objects found under S3 URL \"%s\".", u)
		}
	}
	return ""
}

// prefixExists reports whether some object's key starts with the key of
// an s3://bucket/key URL.
func (st *s3State) prefixExists(u string) bool {
	rest, _ := strings.CutPrefix(u, "s3://")
	bucket, key, _ := strings.Cut(rest, "/")
	b := st.buckets[bucket]
	if b == nil {
		return false
	}
	for k := range b.objects {
		if strings.HasPrefix(k, key) {
			return true
		}
	}
	return false
}

// stepMetadata is the Metadata SageMaker reports for a step once its job
// exists.
func (p sagemakerProtocol) stepMetadata(ex *plExecution, s *plStep) map[string]any {
	m := executionArnRE.FindStringSubmatch(ex.arn)
	region, account := DefaultRegion, p.s.opts.Account
	if parts := strings.Split(ex.arn, ":"); len(parts) > 4 {
		region = parts[3]
	}
	id := ""
	if m != nil {
		id = m[2]
	}
	job := strings.ToLower(fmt.Sprintf("pipelines-%s-%s", id, s.name))
	if len(job) > 63 {
		job = job[:63]
	}
	arn := func(kind, name string) string {
		return fmt.Sprintf("arn:aws:sagemaker:%s:%s:%s/%s", region, account, kind, name)
	}
	switch s.typ {
	case "Processing":
		return map[string]any{"ProcessingJob": map[string]any{"Arn": arn("processing-job", job)}}
	case "Training":
		return map[string]any{"TrainingJob": map[string]any{"Arn": arn("training-job", job)}}
	case "Transform":
		return map[string]any{"TransformJob": map[string]any{"Arn": arn("transform-job", job)}}
	case "Tuning":
		return map[string]any{"TuningJob": map[string]any{"Arn": arn("hyper-parameter-tuning-job", job)}}
	case "Model", "CreateModel":
		return map[string]any{"Model": map[string]any{"Arn": arn("model", job)}}
	case "RegisterModel":
		group, _ := s.args["ModelPackageGroupName"].(string)
		if g, ok := s.args["ModelPackageGroupName"].(map[string]any); ok {
			if ref, _ := g["Get"].(string); strings.HasPrefix(ref, "Parameters.") {
				group = ex.params[strings.TrimPrefix(ref, "Parameters.")]
			}
		}
		if group == "" {
			group = "default"
		}
		// The version the package will get (registerFromStep creates it
		// when the step ends).
		next := 1
		if g := p.s.sm.pk().groups[strings.ToLower(groupName(group))]; g != nil {
			next = g.lastVersion + 1
		}
		return map[string]any{"RegisterModel": map[string]any{"Arn": arn("model-package", strings.ToLower(groupName(group))+"/"+strconv.Itoa(next))}}
	case "Lambda":
		fn, _ := s.args["FunctionArn"].(string)
		return map[string]any{"Lambda": map[string]any{"Arn": fn}}
	}
	return nil
}

// pageBounds validates MaxResults (1..100, default 10).
func pageSize(req map[string]any) (int, *apiError) {
	max := 10
	if v, ok := req["MaxResults"].(float64); ok {
		max = int(v)
		if max < 1 || max > 100 {
			return 0, validationf("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100 and greater than or equal to 1", max)
		}
	}
	return max, nil
}

// seqToken is a NextToken: the ordering key of the last item returned and
// the request it belongs to.
type seqToken struct {
	Key string `json:"k"`
	Seq int    `json:"s"`
	Sig string `json:"q"`
}

type pageItem struct {
	key string // sort key
	seq int    // tie-break, unique
	row map[string]any
}

// paginate sorts items, resumes after a NextToken and cuts a page.
func paginate(items []pageItem, req map[string]any, sig string) ([]map[string]any, string, *apiError) {
	max, err := pageSize(req)
	if err != nil {
		return nil, "", err
	}
	desc := true
	if o, _ := req["SortOrder"].(string); o == "Ascending" {
		desc = false
	} else if o != "" && o != "Descending" {
		return nil, "", validationf("1 validation error detected: Value '%s' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [Ascending, Descending]", o)
	}
	less := func(a, b pageItem) bool {
		if a.key != b.key {
			return a.key < b.key
		}
		return a.seq < b.seq
	}
	sort.Slice(items, func(i, j int) bool {
		if desc {
			return less(items[j], items[i])
		}
		return less(items[i], items[j])
	})
	start := 0
	if tok, _ := req["NextToken"].(string); tok != "" {
		raw, e := base64.RawURLEncoding.DecodeString(tok)
		var t seqToken
		if e != nil || json.Unmarshal(raw, &t) != nil || t.Sig != sig {
			return nil, "", validationf("Invalid pagination token.")
		}
		last := pageItem{key: t.Key, seq: t.Seq}
		start = len(items)
		for i, it := range items {
			if desc && less(it, last) || !desc && less(last, it) {
				start = i
				break
			}
		}
	}
	end := start + max
	next := ""
	if end < len(items) {
		last := items[end-1]
		b, _ := json.Marshal(seqToken{Key: last.key, Seq: last.seq, Sig: sig})
		next = base64.RawURLEncoding.EncodeToString(b)
	} else {
		end = len(items)
	}
	rows := []map[string]any{}
	for _, it := range items[start:end] {
		rows = append(rows, it.row)
	}
	return rows, next, nil
}

// timeKey sorts times as strings.
func timeKey(t time.Time) string { return fmt.Sprintf("%020d", t.UnixNano()) }

func timeFilter(req map[string]any, t time.Time) bool {
	if v, ok := req["CreatedAfter"].(float64); ok && !t.After(time.UnixMilli(int64(v*1000))) {
		return false
	}
	if v, ok := req["CreatedBefore"].(float64); ok && !t.Before(time.UnixMilli(int64(v*1000))) {
		return false
	}
	return true
}

func (p sagemakerProtocol) listPipelines(req map[string]any) (any, *apiError) {
	st := &p.s.pl
	prefix, _ := req["PipelineNamePrefix"].(string)
	sortBy, _ := req["SortBy"].(string)
	if sortBy != "" && sortBy != "Name" && sortBy != "CreationTime" {
		return nil, validationf("1 validation error detected: Value '%s' at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set: [Name, CreationTime]", sortBy)
	}
	var items []pageItem
	for _, pl := range st.pipelines {
		if !strings.HasPrefix(strings.ToLower(pl.name), strings.ToLower(prefix)) || !timeFilter(req, pl.created) {
			continue
		}
		row := map[string]any{"PipelineArn": pl.arn, "PipelineName": pl.name, "PipelineDisplayName": pl.display,
			"RoleArn": pl.role, "CreationTime": epoch(pl.created), "LastModifiedTime": epoch(pl.modified)}
		if pl.description != "" {
			row["PipelineDescription"] = pl.description
		}
		if !pl.lastRun.IsZero() {
			row["LastExecutionTime"] = epoch(pl.lastRun)
		}
		key := timeKey(pl.created)
		if sortBy == "Name" {
			key = strings.ToLower(pl.name)
		}
		items = append(items, pageItem{key: key, seq: pl.seq, row: row})
	}
	sig := fmt.Sprintf("ListPipelines|%s|%s|%v|%v|%v", prefix, sortBy, req["SortOrder"], req["CreatedAfter"], req["CreatedBefore"])
	rows, next, err := paginate(items, req, sig)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"PipelineSummaries": rows}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (p sagemakerProtocol) listExecutions(rc *reqCtx, req map[string]any, now time.Time) (any, *apiError) {
	st := &p.s.pl
	name, _ := req["PipelineName"].(string)
	key := pipelineKey(name)
	if st.pipelines[key] == nil {
		return nil, resourceNotFound("Pipeline '%s' does not exist.", p.arn(rc, "pipeline", name))
	}
	sortBy, _ := req["SortBy"].(string)
	if sortBy != "" && sortBy != "CreationTime" && sortBy != "PipelineExecutionArn" {
		return nil, validationf("1 validation error detected: Value '%s' at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set: [CreationTime, PipelineExecutionArn]", sortBy)
	}
	var items []pageItem
	for _, ex := range st.executions {
		if ex.pipeline != key || !timeFilter(req, ex.created) {
			continue
		}
		st.tick(p, ex, now)
		row := map[string]any{"PipelineExecutionArn": ex.arn, "StartTime": epoch(ex.created),
			"PipelineExecutionStatus": ex.status, "PipelineExecutionDisplayName": ex.display}
		if ex.failure != "" {
			row["PipelineExecutionFailureReason"] = ex.failure
		}
		if ex.description != "" {
			row["PipelineExecutionDescription"] = ex.description
		}
		k := timeKey(ex.created)
		if sortBy == "PipelineExecutionArn" {
			k = ex.arn
		}
		items = append(items, pageItem{key: k, seq: ex.seq, row: row})
	}
	sig := fmt.Sprintf("ListPipelineExecutions|%s|%s|%v|%v|%v", key, sortBy, req["SortOrder"], req["CreatedAfter"], req["CreatedBefore"])
	rows, next, err := paginate(items, req, sig)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"PipelineExecutionSummaries": rows}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (p sagemakerProtocol) listSteps(req map[string]any, now time.Time) (any, *apiError) {
	st := &p.s.pl
	arn, _ := req["PipelineExecutionArn"].(string)
	ex := st.executions[strings.ToLower(arn)]
	if ex == nil {
		return nil, resourceNotFound("Pipeline execution '%s' does not exist.", arn)
	}
	st.tick(p, ex, now)
	var items []pageItem
	for _, s := range ex.steps {
		if s.status == "" {
			continue
		}
		row := map[string]any{"StepName": s.name, "StepStatus": s.status, "StartTime": epoch(s.start), "AttemptCount": 1}
		if !s.end.IsZero() {
			row["EndTime"] = epoch(s.end)
		}
		if s.failure != "" {
			row["FailureReason"] = s.failure
		}
		if s.display != "" {
			row["StepDisplayName"] = s.display
		}
		if s.desc != "" {
			row["StepDescription"] = s.desc
		}
		if s.cachedArn != "" {
			row["CacheHitResult"] = map[string]any{"SourcePipelineExecutionArn": s.cachedArn}
		}
		if s.metadata != nil {
			row["Metadata"] = s.metadata
		} else {
			row["Metadata"] = map[string]any{}
		}
		items = append(items, pageItem{key: timeKey(s.start), seq: s.order, row: row})
	}
	rows, next, err := paginate(items, req, "ListPipelineExecutionSteps|"+ex.arn+"|"+fmt.Sprint(req["SortOrder"]))
	if err != nil {
		return nil, err
	}
	out := map[string]any{"PipelineExecutionSteps": rows}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

// Inspection for tests.

// PipelineInfo is a snapshot of one fake pipeline.
type PipelineInfo struct {
	Name, Arn, Role, Definition string
	Version                     int64
}

// Pipeline returns a pipeline by name (any case).
func (s *Server) Pipeline(name string) (PipelineInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pl := s.pl.pipelines[strings.ToLower(name)]
	if pl == nil {
		return PipelineInfo{}, false
	}
	return PipelineInfo{Name: pl.name, Arn: pl.arn, Role: pl.role, Definition: pl.definition, Version: pl.version}, true
}

// ExecutionInfo is a snapshot of one fake pipeline execution.
type ExecutionInfo struct {
	Arn, Status, FailureReason string
	Parameters                 map[string]string
	Steps                      map[string]string // step name -> status ("" = not started)
}

// Execution returns an execution by ARN.
func (s *Server) Execution(arn string) (ExecutionInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ex := s.pl.executions[strings.ToLower(arn)]
	if ex == nil {
		return ExecutionInfo{}, false
	}
	info := ExecutionInfo{Arn: ex.arn, Status: ex.status, FailureReason: ex.failure, Parameters: map[string]string{}, Steps: map[string]string{}}
	for k, v := range ex.params {
		info.Parameters[k] = v
	}
	for _, st := range ex.steps {
		info.Steps[st.name] = st.status
	}
	return info, true
}

// S3Object returns the content of an object in the fake's S3.
func (s *Server) S3Object(bucket, key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, _, ok := s.s3.object("s3://" + bucket + "/" + key)
	return o.data, ok
}
